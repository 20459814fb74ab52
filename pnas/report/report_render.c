// Report output (see report_core.h): curve tables (.tsv) and a gnuplot script (plots.gp) run by
// gnuplot into SVG figures, Graphviz drawings of each strategy's best cell (pnas/report/show.h), and
// report.md (figures referenced next to it) plus a self-contained report.html (every SVG
// inlined, its ids prefixed so several SVGs can share one page). Nothing is fetched from the
// network; the only programs run are gnuplot and dot.
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "pnas/report/report_core.h"
#include "predictor/rank.h"
#include "pnas/report/show.h"

static const char *colour(const char *name, int g) {
  if (!strcmp(name, "pnas")) return "#d62728";
  if (!strcmp(name, "rl")) return "#1f77b4";
  if (!strcmp(name, "random")) return "#7f7f7f";
  if (!strcmp(name, "evolution")) return "#2ca02c";
  static const char *more[] = {"#9467bd", "#8c564b", "#e377c2", "#17becf"};
  return more[g % 4];
}

// ---- small tables written as Markdown or HTML ----
#define TBL_COLS 12
#define TBL_CELL SPACE_TEXT_MAX // a NASNet pair's text is up to ~610 characters
typedef struct {
  int ncol, nrows, cap;
  const char *head[TBL_COLS];
  char (*cell)[TBL_COLS][TBL_CELL];
} tbl;

static int tbl_row(tbl *t, ...) {
  if (t->nrows == t->cap) {
    int nc = t->cap ? 2 * t->cap : 16;
    void *p = realloc(t->cell, sizeof *t->cell * (size_t)nc);
    if (!p) return -1;
    t->cell = p;
    t->cap = nc;
  }
  va_list ap;
  va_start(ap, t);
  for (int c = 0; c < t->ncol; c++)
    snprintf(t->cell[t->nrows][c], TBL_CELL, "%s", va_arg(ap, const char *));
  va_end(ap);
  t->nrows++;
  return 0;
}

static void html_escape(FILE *f, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '&': fputs("&amp;", f); break;
    case '"': fputs("&quot;", f); break;
    default: fputc(*s, f);
    }
  }
}

static void md_escape(FILE *f, const char *s) {
  for (; *s; s++) {
    if (*s == '|') fputs("\\|", f);
    else fputc(*s, f);
  }
}

static void tbl_md(FILE *f, const tbl *t) {
  for (int c = 0; c < t->ncol; c++) fprintf(f, "| %s ", t->head[c]);
  fputs("|\n", f);
  for (int c = 0; c < t->ncol; c++) fputs(c ? "| ---: " : "| --- ", f);
  fputs("|\n", f);
  for (int r = 0; r < t->nrows; r++) {
    for (int c = 0; c < t->ncol; c++) {
      fputs("| ", f);
      md_escape(f, t->cell[r][c]);
      fputc(' ', f);
    }
    fputs("|\n", f);
  }
  fputc('\n', f);
}

static void tbl_html(FILE *f, const tbl *t) {
  fputs("<table>\n<thead><tr>", f);
  for (int c = 0; c < t->ncol; c++) {
    fputs("<th>", f);
    html_escape(f, t->head[c]);
    fputs("</th>", f);
  }
  fputs("</tr></thead>\n<tbody>\n", f);
  for (int r = 0; r < t->nrows; r++) {
    fputs("<tr>", f);
    for (int c = 0; c < t->ncol; c++) {
      fputs(c ? "<td class=\"n\">" : "<td>", f);
      html_escape(f, t->cell[r][c]);
      fputs("</td>", f);
    }
    fputs("</tr>\n", f);
  }
  fputs("</tbody>\n</table>\n", f);
}

static void tbl_free(tbl *t) { free(t->cell); }

// Accuracy or "-" when undefined (no B-block model).
static const char *fmt_acc(char *buf, double a) {
  if (isfinite(a)) snprintf(buf, TBL_CELL, "%.4f", a);
  else snprintf(buf, TBL_CELL, "-");
  return buf;
}

static const char *fmt(char *buf, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  vsnprintf(buf, TBL_CELL, f, ap);
  va_end(ap);
  return buf;
}

// ---- figures ----
typedef struct {
  int64_t size;
  double acc;
} size_acc;

static int by_size(const void *a, const void *b) {
  const size_acc *x = a, *y = b;
  if (x->size != y->size) return x->size < y->size ? -1 : 1;
  return (x->acc < y->acc) - (x->acc > y->acc); // larger accuracy first at equal size
}

// The Pareto front of a group's trained models over size (by 0: params, 1: mult-adds): the
// models more accurate than every smaller one, in size order, as a step line (a prune run's
// over-budget base network is left out).
static int write_pareto(const report *rep, const report_group *G, int by, FILE *f) {
  int n = 0;
  for (int i = 0; i < G->nruns; i++) n += rep->runs[G->runs[i]].n;
  size_acc *v = malloc(sizeof *v * (size_t)(n ? n : 1));
  if (!v) return -1;
  n = 0;
  for (int i = 0; i < G->nruns; i++) {
    const report_run *r = &rep->runs[G->runs[i]];
    for (int k = 0; k < r->n; k++) {
      const store_record *x = &r->recs[k];
      if (report_offered(&r->cfg, x)) v[n++] = (size_acc){by ? x->mult_adds : x->params, x->val_acc};
    }
  }
  qsort(v, (size_t)n, sizeof *v, by_size);
  fprintf(f, "# %s: Pareto front over %s: size  val_acc\n", G->name, by ? "mult-adds" : "params");
  double best = -1;
  for (int i = 0; i < n; i++)
    if (v[i].acc > best) {
      best = v[i].acc;
      fprintf(f, "%lld\t%.6f\n", (long long)v[i].size, v[i].acc);
    }
  free(v);
  return 0;
}

// Whether any trained model of the report carries the predictor's score.
static int have_predictions(const report *rep) {
  for (int i = 0; i < rep->nruns; i++)
    for (int k = 0; k < rep->runs[i].n; k++)
      if (rep->runs[i].recs[k].ok && isfinite(rep->runs[i].recs[k].predicted)) return 1;
  return 0;
}

static int write_curves(const report *rep, const char *dir, char *err, size_t errlen) {
  char path[1400];
  for (int g = 0; g < rep->ngroups; g++) {
    const report_group *G = &rep->groups[g];
    snprintf(path, sizeof path, "%s/curve-%s-models.tsv", dir, G->name);
    FILE *f = fopen(path, "w");
    if (!f) goto fail;
    fprintf(f, "# %s, %d seed(s): models  best_top1_mean min max  mean_top5_mean min max  "
               "examples_mean\n",
            G->name, G->nruns);
    for (int k = 0; k < G->L; k++)
      if (isfinite(G->m1[k]))
        fprintf(f, "%d\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%.0f\n", k + 1, G->m1[k], G->lo1[k],
              G->hi1[k], G->m5[k], G->lo5[k], G->hi5[k], G->mex[k]);
    if (fclose(f)) goto fail;
    snprintf(path, sizeof path, "%s/curve-%s-examples.tsv", dir, G->name);
    f = fopen(path, "w");
    if (!f) goto fail;
    fprintf(f, "# %s, %d seed(s): examples_millions  best_top1_mean min max  mean_top5_mean min "
               "max\n",
            G->name, G->nruns);
    for (int j = 0; j < G->G; j++)
      if (isfinite(G->gm1[j]))
        fprintf(f, "%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\n", G->gx[j] / 1e6, G->gm1[j],
                G->glo1[j], G->ghi1[j], G->gm5[j], G->glo5[j], G->ghi5[j]);
    if (fclose(f)) goto fail;
    // Every trained model of the group: size, accuracy, level, prediction (size figures and
    // predicted against measured).
    snprintf(path, sizeof path, "%s/points-%s.tsv", dir, G->name);
    f = fopen(path, "w");
    if (!f) goto fail;
    fprintf(f, "# %s: params  mult_adds  val_acc  level  predicted (nan: none)\n", G->name);
    for (int i = 0; i < G->nruns; i++) {
      const report_run *r = &rep->runs[G->runs[i]];
      for (int k = 0; k < r->n; k++)
        if (r->recs[k].ok)
          fprintf(f, "%lld\t%lld\t%.6f\t%d\t%.6f\n", (long long)r->recs[k].params,
                  (long long)r->recs[k].mult_adds, r->recs[k].val_acc, r->recs[k].level,
                  r->recs[k].predicted);
    }
    if (fclose(f)) goto fail;
    for (int i = 0; i < G->nruns; i++) { // best so far against cumulative training seconds
      const report_run *r = &rep->runs[G->runs[i]];
      snprintf(path, sizeof path, "%s/seconds-%s-%d.tsv", dir, G->name, i + 1);
      f = fopen(path, "w");
      if (!f) goto fail;
      fprintf(f, "# %s seed %lld: training_seconds (cumulative)  best_top1\n", G->name,
              (long long)r->cfg.seed);
      double t = 0;
      for (int k = 0; k < r->n; k++) {
        t += r->recs[k].seconds;
        if (isfinite(r->best1[k])) fprintf(f, "%.3f\t%.6f\n", t, r->best1[k]);
      }
      if (fclose(f)) goto fail;
    }
    for (int by = 0; by < 2; by++) { // the Pareto front: no smaller model is as accurate
      snprintf(path, sizeof path, "%s/pareto-%s-%s.tsv", dir, G->name, by ? "madds" : "params");
      f = fopen(path, "w");
      if (!f) goto fail;
      if (write_pareto(rep, G, by, f)) {
        fclose(f);
        goto fail;
      }
      if (fclose(f)) goto fail;
    }
  }
  return 0;
fail:
  snprintf(err, errlen, "cannot write %s: %s", path, pnas_strerror(errno));
  return -1;
}

static const char *FIGS[4][4] = {
    // file, x kind, column of the mean (min, max follow), y label
    {"fig-top1-models.svg", "models", "2", "best validation accuracy so far (top-1)"},
    {"fig-top5-models.svg", "models", "5", "mean of the 5 best validation accuracies so far"},
    {"fig-top1-examples.svg", "examples", "2", "best validation accuracy so far (top-1)"},
    {"fig-top5-examples.svg", "examples", "5", "mean of the 5 best validation accuracies so far"},
};

// "2.30x fewer" / "1.50x more" (never a bare ratio below 1): r = the strategy's count over
// PNAS's. bound: the strategy never reached the target, r is a lower bound.
static void times_words(char *buf, size_t n, double r, int is_pnas, int bound) {
  if (is_pnas) snprintf(buf, n, "-");
  else if (!isfinite(r) || r <= 0) snprintf(buf, n, "?");
  else if (bound) {
    if (r >= 1) snprintf(buf, n, "> %.2fx fewer", r);
    else snprintf(buf, n, "not determined");
  } else if (r >= 1) snprintf(buf, n, "%.2fx fewer", r);
  else snprintf(buf, n, "%.2fx more", 1 / r);
}

// Whether group G has a point on figure i (the mean of the 5 best is undefined until a run has
// 5 cells of B blocks), and whether figure i has any line at all.
static int fig_has(const report_group *G, int i) {
  const double *v = atoi(FIGS[i][2]) == 5 ? G->m5 : G->m1;
  for (int k = 0; k < G->L; k++)
    if (isfinite(v[k])) return 1;
  return 0;
}
static int fig_defined(const report *rep, int i) {
  for (int g = 0; g < rep->ngroups; g++)
    if (fig_has(&rep->groups[g], i)) return 1;
  return 0;
}

// A sentence for figure i when a strategy has no line on it (or none has): 1 when written.
static int fig_note(const report *rep, int i, char *buf, size_t n) {
  if (atoi(FIGS[i][2]) != 5 || !strcmp(FIGS[i][1], "examples")) return 0; // said once, by models
  int len = 0, missing = 0;
  for (int g = 0; g < rep->ngroups; g++)
    if (!fig_has(&rep->groups[g], i) && (size_t)len < n)
      len += snprintf(buf + len, n - (size_t)len, "%s%s", missing++ ? ", " : "",
                      rep->groups[g].name);
  if (!missing) return 0;
  if ((size_t)len < n)
    snprintf(buf + len, n - (size_t)len, ": fewer than %d cells of B blocks in %s, so no mean of "
             "the %d best (not drawn%s).", REPORT_TOPK, missing > 1 ? "each run" : "a run",
             REPORT_TOPK, fig_defined(rep, i) ? "" : "; no figure");
  return 1;
}

static int write_gnuplot(const report *rep, const char *dir, char *err, size_t errlen) {
  char path[1400];
  snprintf(path, sizeof path, "%s/plots.gp", dir);
  FILE *f = fopen(path, "w");
  if (!f) {
    snprintf(err, errlen, "cannot write %s: %s", path, pnas_strerror(errno));
    return -1;
  }
  fprintf(f, "# Figures of report.md / report.html: run `gnuplot plots.gp` in this folder.\n"
             "set terminal svg size 720,420 font 'sans,12' background rgb 'white'\n"
             "set grid lc rgb '#dddddd'\nset key left top\nset border lc rgb '#444444'\n");
  for (int i = 0; i < 4; i++) {
    if (!fig_defined(rep, i)) continue; // a statistic is drawn only where it is defined
    int col = atoi(FIGS[i][2]);
    // Against models: the whole run from model 1 (a PNAS curve starts where its first B-block
    // cell is, after its smaller cells), whole numbers on the axis.
    if (!strcmp(FIGS[i][1], "models")) {
      int maxl = 1;
      for (int g = 0; g < rep->ngroups; g++)
        if (rep->groups[g].L > maxl) maxl = rep->groups[g].L;
      fprintf(f, "\nset xrange [1:%d]\nset format x '%%.0f'\n%s", maxl > 1 ? maxl : 2,
              maxl <= 12 ? "set xtics 1\n" : "set xtics autofreq\n");
    } else {
      fprintf(f, "\nset autoscale x\nset format x '%%g'\nset xtics autofreq\n");
    }
    fprintf(f, "set output '%s'\nset xlabel '%s'\nset ylabel '%s'\nplot ", FIGS[i][0],
            !strcmp(FIGS[i][1], "models") ? "models trained" : "examples processed (millions)",
            FIGS[i][3]);
    // Spread bands (min..max over seeds) first, then the mean lines on top of all bands.
    const char *sep = "";
    for (int g = 0; g < rep->ngroups; g++) {
      const report_group *G = &rep->groups[g];
      if (G->nruns < 2 || !fig_has(G, i)) continue;
      fprintf(f, "%s'curve-%s-%s.tsv' using 1:%d:%d with filledcurves fs transparent solid 0.15 "
                 "noborder lc rgb '%s' notitle",
              sep, G->name, FIGS[i][1], col + 1, col + 2, colour(G->name, g));
      sep = ", \\\n     ";
    }
    for (int g = 0; g < rep->ngroups; g++) {
      const report_group *G = &rep->groups[g];
      if (!fig_has(G, i)) continue;
      fprintf(f, "%s'curve-%s-%s.tsv' using 1:%d with lines lw 2 lc rgb '%s' title '%s (%d seed%s)'",
              sep, G->name, FIGS[i][1], col, colour(G->name, g), G->name, G->nruns,
              G->nruns > 1 ? "s" : "");
      sep = ", \\\n     ";
    }
    fputc('\n', f);
  }
  // Best so far against training seconds, one line per run (seconds are not aligned across
  // seeds, so no mean).
  fputs("\nset autoscale x\nset xtics autofreq\nset format x '%g'\nset output 'fig-seconds.svg'\n"
        "set xlabel 'training seconds (cumulative; cached children at their original cost)'\n"
        "set ylabel 'best validation accuracy so far (top-1)'\nset key right bottom\nplot ", f);
  const char *sep = "";
  for (int g = 0; g < rep->ngroups; g++) {
    const report_group *G = &rep->groups[g];
    for (int i = 0; i < G->nruns; i++) {
      fprintf(f, "%s'seconds-%s-%d.tsv' using 1:2 with lines lw 1.5 lc rgb '%s' ", sep, G->name,
              i + 1, colour(G->name, g));
      if (i == 0) fprintf(f, "title '%s (each seed)'", G->name);
      else fputs("notitle", f);
      sep = ", \\\n     ";
    }
  }
  // Every trained model's accuracy by the size of its cell (strip plot, strategies side by side).
  int maxb = 1;
  for (int i = 0; i < rep->nruns; i++) {
    if (rep->runs[i].cfg.max_blocks > maxb) maxb = rep->runs[i].cfg.max_blocks;
    for (int k = 0; k < rep->runs[i].n; k++) // a prune run's cell has its own size
      if (rep->runs[i].recs[k].cell.nblocks > maxb) maxb = rep->runs[i].recs[k].cell.nblocks;
  }
  fprintf(f, "\nset xrange [0.5:%.1f]\nset xtics 1\nset format x '%%.0f'\nset output "
             "'fig-levels.svg'\nset xlabel 'blocks in the cell (level)'\nset ylabel 'validation "
             "accuracy (top-1)'\nset key left top\nplot ", maxb + 0.5);
  sep = "";
  for (int g = 0; g < rep->ngroups; g++) {
    double off = rep->ngroups > 1 ? 0.3 * ((double)g / (rep->ngroups - 1) - 0.5) : 0;
    fprintf(f, "%s'points-%s.tsv' using ($4 + %.3f):3 with points pt 7 ps 0.5 lc rgb '%s' title "
               "'%s'", sep, rep->groups[g].name, off, colour(rep->groups[g].name, g),
            rep->groups[g].name);
    sep = ", \\\n     ";
  }
  // Accuracy against size: every trained model (points) and each strategy's Pareto front.
  fputs("\nset autoscale x\nset xtics autofreq\nset format x '%g'\n", f);
  for (int by = 0; by < 2; by++) {
    int64_t lo = INT64_MAX, hi = 0; // one size only: give the log axis a decade around it
    for (int i = 0; i < rep->nruns; i++)
      for (int k = 0; k < rep->runs[i].n; k++)
        if (rep->runs[i].recs[k].ok) {
          int64_t v = by ? rep->runs[i].recs[k].mult_adds : rep->runs[i].recs[k].params;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
    if (hi > 0 && lo == hi) fprintf(f, "\nset xrange [%lld:%lld]", (long long)(lo / 2 > 0 ? lo / 2 : 1), (long long)(hi * 2));
    else fputs("\nset autoscale x", f);
    fprintf(f, "\nset output 'fig-%s.svg'\nset logscale x\nset xlabel '%s (search-time network, "
               "log scale)'\nset ylabel 'validation accuracy (top-1)'\nset key right bottom\nplot ",
            by ? "madds" : "params", by ? "multiply-adds per image" : "parameters");
    const char *sep = "";
    for (int g = 0; g < rep->ngroups; g++) {
      const report_group *G = &rep->groups[g];
      fprintf(f, "%s'points-%s.tsv' using %d:3 with points pt 7 ps 0.5 lc rgb '%s' title '%s "
                 "(every model)', \\\n     'pareto-%s-%s.tsv' using 1:2 with steps lw 2 lc rgb "
                 "'%s' title '%s Pareto front'",
              sep, G->name, by ? 2 : 1, colour(G->name, g), G->name, G->name,
              by ? "madds" : "params", colour(G->name, g), G->name);
      sep = ", \\\n     ";
    }
    fputs("\nunset logscale x\nset key left top\n", f);
  }
  // Predicted against measured accuracy, per level (the children PNAS chose to train).
  if (have_predictions(rep)) {
    // One range on both axes (the diagonal is the perfect predictor), around every point.
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < rep->nruns; i++)
      for (int k = 0; k < rep->runs[i].n; k++) {
        const store_record *r = &rep->runs[i].recs[k];
        if (!r->ok || !isfinite(r->predicted)) continue;
        lo = fmin(lo, fmin(r->predicted, r->val_acc)), hi = fmax(hi, fmax(r->predicted, r->val_acc));
      }
    double pad = fmax(0.01, 0.05 * (hi - lo));
    fprintf(f, "\nset xrange [%.4f:%.4f]\nset yrange [%.4f:%.4f]", lo - pad, hi + pad, lo - pad,
            hi + pad);
    fprintf(f, "\nset output 'fig-predicted.svg'\nset xlabel 'predicted accuracy (when chosen)'\n"
               "set ylabel 'measured validation accuracy'\nset key outside right top\nplot x with lines dt 2 lc rgb '#888888' "
               "title 'predicted = measured'");
    for (int g = 0; g < rep->ngroups; g++) {
      const report_group *G = &rep->groups[g];
      if (strncmp(G->name, "pnas", 4)) continue;
      for (int b = 2; b <= SPACE_MAX_BLOCKS; b++) {
        int any = 0;
        for (int i = 0; i < G->nruns && !any; i++) {
          const report_run *r = &rep->runs[G->runs[i]];
          for (int k = 0; k < r->n && !any; k++)
            any = r->recs[k].ok && r->recs[k].level == b && isfinite(r->recs[k].predicted);
        }
        if (any)
          fprintf(f, ", \\\n     'points-%s.tsv' using ($4 == %d ? $5 : 1/0):3 with points pt %d ps 0.8 "
                     "title '%s level %d'",
                  G->name, b, 5 + b, G->name, b);
      }
    }
    fputs("\nset key inside left top\nset autoscale x\nset autoscale y\n", f);
  }
  fprintf(f, "unset output\n");
  if (fclose(f)) {
    snprintf(err, errlen, "cannot write %s: %s", path, pnas_strerror(errno));
    return -1;
  }
  return 0;
}

// Runs `prog args...` in dir; 0 when it exits 0.
int report_run_in(const char *dir, char *const argv[], char *err, size_t errlen) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(err, errlen, "cannot start %s: %s", argv[0], pnas_strerror(errno));
    return -1;
  }
  if (pid == 0) {
    if (chdir(dir)) _exit(126);
    // Its messages (gnuplot's warnings about flat ranges, say) go to DIR/<prog>.log, not to
    // the user's terminal; a failure quotes the log's last line.
    char log[300];
    snprintf(log, sizeof log, "%s.log", argv[0]);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
    if (fd >= 0) dup2(fd, 1), dup2(fd, 2), close(fd);
    execvp(argv[0], argv);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) {
      snprintf(err, errlen, "waiting for %s: %s", argv[0], pnas_strerror(errno));
      return -1;
    }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    char path[1400], last[240] = "";
    snprintf(path, sizeof path, "%s/%s.log", dir, argv[0]);
    FILE *lf = fopen(path, "r");
    if (lf) {
      char line[240];
      while (fgets(line, sizeof line, lf))
        if (line[0] != '\n') snprintf(last, sizeof last, "%s", line);
      fclose(lf);
      last[strcspn(last, "\n")] = 0;
    }
    snprintf(err, errlen, "%s failed (exit status %d)%s%s (all of it in %s)", argv[0],
             WIFEXITED(st) ? WEXITSTATUS(st) : -1, last[0] ? ": " : "", last, path);
    return -1;
  }
  return 0;
}

// Appends an SVG file to f without its XML prolog, with ids and references prefixed by pfx.
static int inline_svg(FILE *f, const char *path, const char *pfx, char *err, size_t errlen) {
  void *data;
  size_t len;
  if (store_read_file(path, &data, &len, err, errlen)) return -1;
  char *s = data;
  char *start = NULL;
  for (size_t i = 0; i + 4 <= len; i++)
    if (!memcmp(s + i, "<svg", 4)) {
      start = s + i;
      break;
    }
  if (!start) {
    snprintf(err, errlen, "%s: no <svg> element", path);
    free(data);
    return -1;
  }
  const char *end = s + len;
  for (const char *p = start; p < end;) {
    static const char *pats[] = {" id=\"", " id='", "\tid=\"", "\tid='", "\nid=\"", "\nid='",
                                 "href=\"#", "href='#", "url(#"};
    int hit = -1;
    for (int k = 0; k < 9; k++) {
      size_t n = strlen(pats[k]);
      if ((size_t)(end - p) >= n && !memcmp(p, pats[k], n)) {
        hit = k;
        break;
      }
    }
    if (hit >= 0) {
      size_t n = strlen(pats[hit]);
      fwrite(p, 1, n, f);
      fputs(pfx, f);
      p += n;
    } else {
      fputc(*p++, f);
    }
  }
  free(data);
  return 0;
}

static void settings_line(const search_config *c, char *buf, size_t n) {
  snprintf(buf, n,
           "dataset %s, train subset %d, val subset %d; children N=%d F=%d, %d epoch(s), "
           "batch %d, lr %g, momentum %g, weight decay %g; %s of %d blocks over ops %s",
           c->dataset, c->train_subset, c->val_subset, c->N, c->F, c->epochs, c->batch, c->lr,
           c->momentum, c->weight_decay,
           search_config_pairs(c) ? "NASNet's space: normal + reduction cell pairs, each" : "cells",
           c->max_blocks, c->ops);
}

static const char *run_name(const report_run *r) {
  const char *s = strrchr(r->dir, '/');
  return s && s[1] ? s + 1 : r->dir;
}

// Each run's best top-1 after k + 1 models (runs without a B-block cell by then left out).
static int final_values(const report *rep, const report_group *G, int k, double *v, int max) {
  int n = 0;
  for (int i = 0; i < G->nruns && n < max; i++) {
    const report_run *r = &rep->runs[G->runs[i]];
    if (k < r->n && isfinite(r->best1[k])) v[n++] = r->best1[k];
  }
  return n;
}

// One sentence per baseline: PNAS against it at the same number of models (the fewer of the
// two groups' shortest runs), the difference of the means over seeds with a 95% bootstrap
// interval, and what that shows.
static void write_verdict(const report *rep, char *buf, size_t n) {
  int len = 0;
  buf[0] = 0;
  if (rep->pnas_group < 0) return;
  const report_group *P = &rep->groups[rep->pnas_group];
  for (int g = 0; g < rep->ngroups && (size_t)len < n; g++) {
    const report_group *G = &rep->groups[g];
    if (g == rep->pnas_group) continue;
    int k = (P->L < G->L ? P->L : G->L) - 1;
    double vp[256], vg[256], lo, hi;
    int np = final_values(rep, P, k, vp, 256), ng = final_values(rep, G, k, vg, 256);
    if (!np || !ng) continue;
    double mp = 0, mg = 0;
    for (int i = 0; i < np; i++) mp += vp[i] / np;
    for (int i = 0; i < ng; i++) mg += vg[i] / ng;
    report_boot(vp, np, vg, ng, &lo, &hi);
    const char *says = !isfinite(lo)        ? "too few seeds to judge (an interval needs 5 per side)"
                       : lo > 0             ? "PNAS better"
                       : hi < 0             ? "PNAS worse"
                                            : "no difference shown at this number of seeds";
    len += snprintf(buf + len, n - (size_t)len,
                    "%sAfter %d models: PNAS %.4f (%d seed%s) vs %s %.4f (%d seed%s): difference "
                    "%+.4f",
                    len ? " " : "", k + 1, mp, np, np == 1 ? "" : "s", G->name, mg, ng,
                    ng == 1 ? "" : "s", mp - mg);
    if ((size_t)len < n && isfinite(lo))
      len += snprintf(buf + len, n - (size_t)len, " [%+.4f, %+.4f]", lo, hi);
    if ((size_t)len < n) len += snprintf(buf + len, n - (size_t)len, ": %s.", says);
  }
}

static const char FROM_CACHE[] =
    "From cache: models this run did not train because another run had trained the same cell "
    "under the same settings (the comparison's shared cache, a --cache, or a benchmark table); "
    "their examples and training seconds are counted at the original training's cost, so each "
    "strategy's cost is what its models would have cost alone. Wall seconds: the run's own "
    "time when its last model was recorded, everything included (predictor fits, data "
    "loading, waiting on the cache), summed over the processes that ran it; '-' for runs "
    "written before pnas recorded it.";

int report_write(const report *rep, const char *out_dir, char *err, size_t errlen) {
  tbl runs = {11, 0, 0, {"run", "strategy", "seed", "models", "failed", "from cache", "examples",
                         "train seconds", "wall seconds", "best top-1", "mean top-5"}, NULL};
  tbl sum = {12, 0, 0, {"strategy", "seeds", "models", "best top-1 (mean)", "95% CI (bootstrap)",
                        "min", "max", "mean top-5 (mean)", "min .. max", "train s per seed",
                        "wall s per seed", "from cache"},
             NULL};
  tbl reach = {8, 0, 0, {"strategy", "target", "models needed", "PNAS needs (models)",
                         "examples needed", "PNAS needs (examples)", "seeds reaching it",
                         "models run"}, NULL};
  tbl ranks = {6, 0, 0, {"PNAS run", "level", "children trained", "Spearman", "Kendall tau-b",
                         "significant at 5% from"}, NULL};
  tbl best = {9, 0, 0, {"strategy", "which", "run", "cell", "blocks", "val top-1", "params",
                        "mult-adds", "found at model"}, NULL};
  // An existing directory is fine; a symbolic link loop or a file of that name is not.
  struct stat od;
  if (mkdir(out_dir, 0755) && (errno != EEXIST || stat(out_dir, &od) || !S_ISDIR(od.st_mode))) {
    snprintf(err, errlen, "cannot create %s: %s", out_dir,
             errno == EEXIST ? "it exists and is not a directory" : pnas_strerror(errno));
    goto fail;
  }
  char gp[1024];
  if (show_find_on_path("gnuplot", gp, sizeof gp)) {
    snprintf(err, errlen, "gnuplot not found on PATH (Debian package gnuplot-nox); the report's "
                          "figures need it");
    goto fail;
  }
  if (write_curves(rep, out_dir, err, errlen) || write_gnuplot(rep, out_dir, err, errlen))
    goto fail;
  char *gargv[] = {"gnuplot", "plots.gp", NULL};
  if (report_run_in(out_dir, gargv, err, errlen)) goto fail;
  // Best cell drawings.
  char path[1400], buf[TBL_CELL], b2[TBL_CELL], b3[TBL_CELL], b4[TBL_CELL], b5[TBL_CELL],
      b6[TBL_CELL], b7[TBL_CELL], b8[TBL_CELL];
  int have_dot = 1;
  char dot_err[512] = "";
  for (int g = 0; g < rep->ngroups; g++) {
    const report_group *G = &rep->groups[g];
    if (G->best_run < 0) continue;
    snprintf(path, sizeof path, "%s/best-%s.svg", out_dir, G->name);
    if (show_write_svg(&rep->runs[G->best_run].recs[G->best_rec].cell, path, dot_err,
                       sizeof dot_err)) {
      have_dot = 0;
      fprintf(stderr, "pnas report: no cell drawings: %s\n", dot_err);
      break;
    }
  }
  // Tables.
  int mixed = 0;
  char s0[2048], si[2048];
  search_settings_string(&rep->runs[0].cfg, s0, sizeof s0);
  for (int i = 0; i < rep->nruns; i++) {
    const report_run *r = &rep->runs[i];
    int failed = 0, cached = 0;
    char bw[TBL_CELL];
    for (int k = 0; k < r->n; k++) failed += !r->recs[k].ok, cached += r->recs[k].from_cache;
    search_settings_string(&r->cfg, si, sizeof si);
    mixed |= strcmp(s0, si) != 0 || r->cfg.max_blocks != rep->runs[0].cfg.max_blocks ||
             strcmp(r->cfg.ops, rep->runs[0].cfg.ops) != 0;
    if (tbl_row(&runs, run_name(r), rep->groups[r->group].name,
                fmt(buf, "%lld", (long long)r->cfg.seed),
                fmt(b2, "%d", r->n), fmt(b3, "%d", failed), fmt(b8, "%d", cached),
                fmt(b4, "%lld", (long long)r->ex[r->n - 1]), fmt(b5, "%.0f", r->seconds),
                isfinite(r->wall) ? fmt(bw, "%.0f", r->wall) : "-", fmt_acc(b6, r->best1[r->n - 1]), fmt_acc(b7, r->top5[r->n - 1])))
      goto oom;
  }
  for (int g = 0; g < rep->ngroups; g++) {
    const report_group *G = &rep->groups[g];
    int k = G->L - 1;
    double v[256], lo, hi, secs = 0, wall = 0;
    int nv = final_values(rep, G, k, v, 256), models = 0, cached = 0;
    report_boot(v, nv, NULL, 0, &lo, &hi);
    for (int i = 0; i < G->nruns; i++) {
      const report_run *r = &rep->runs[G->runs[i]];
      secs += r->seconds;
      wall += r->wall; // NaN when any run lacks it: then "-"
      models += r->n;
      for (int j = 0; j < r->n; j++) cached += r->recs[j].from_cache;
    }
    char ci[48], b9[TBL_CELL], b10[TBL_CELL];
    if (isfinite(lo)) snprintf(ci, sizeof ci, "[%.4f, %.4f]", lo, hi);
    else snprintf(ci, sizeof ci, "- (%d seed%s)", nv, nv == 1 ? "" : "s");
    if (tbl_row(&sum, G->name, fmt(buf, "%d", G->nruns), fmt(b2, "%d", G->L),
                fmt_acc(b3, G->m1[k]), ci, fmt_acc(b4, G->lo1[k]), fmt_acc(b5, G->hi1[k]),
                fmt_acc(b6, G->m5[k]),
                isfinite(G->lo5[k]) ? fmt(b7, "%.4f .. %.4f", G->lo5[k], G->hi5[k]) : "-",
                fmt(b9, "%.0f", secs / G->nruns),
                isfinite(wall) ? fmt(b10, "%.0f", wall / G->nruns) : "-",
                fmt(b8, "%d of %d", cached, models)))
      goto oom;
  }
  char verdict[4096];
  write_verdict(rep, verdict, sizeof verdict);
  if (rep->pnas_group >= 0 && isfinite(rep->target1)) {
    for (int t = 0; t < 2; t++) {
      const report_reach *R = t ? rep->reach5 : rep->reach1;
      const report_reach *P = &R[rep->pnas_group];
      double target = t ? rep->target5 : rep->target1;
      if (!isfinite(target)) continue; // PNAS has no mean of 5 (fewer than 5 B-block cells)
      for (int g = 0; g < rep->ngroups; g++) {
        const report_group *G = &rep->groups[g];
        const report_reach *x = &R[g];
        if (x->reached) {
          fmt(b2, "%d", x->models), fmt(b4, "%.3g M", x->examples / 1e6);
          times_words(b3, sizeof b3, (double)x->models / P->models, g == rep->pnas_group, 0);
          times_words(b5, sizeof b5, x->examples / P->examples, g == rep->pnas_group, 0);
        } else {
          fmt(b2, "not reached (> %d)", G->L), fmt(b4, "> %.3g M", G->mex[G->L - 1] / 1e6);
          times_words(b3, sizeof b3, (double)G->L / P->models, 0, 1);
          times_words(b5, sizeof b5, G->mex[G->L - 1] / P->examples, 0, 1);
        }
        if (tbl_row(&reach, G->name, fmt(buf, "%s %.4f", t ? "mean top-5" : "top-1", target), b2,
                    b3, b4, b5, fmt(b6, "%d of %d", x->seeds_reaching, G->nruns),
                    fmt(b7, "%d", G->L)))
          goto oom;
      }
    }
  }
  for (int i = 0; i < rep->nranks; i++) {
    const report_rank *k = &rep->ranks[i];
    double crit = rank_spearman_critical(k->n);
    char b5[48];
    if (isnan(crit)) snprintf(b5, sizeof b5, "never (%d children)", k->n);
    else snprintf(b5, sizeof b5, "|rho| >= %.2f", crit);
    if (tbl_row(&ranks, run_name(&rep->runs[k->run]), fmt(buf, "%d", k->level),
                fmt(b2, "%d", k->n), fmt(b3, "%.3f", k->spearman), fmt(b4, "%.3f", k->kendall), b5))
      goto oom;
  }
  // Mean per level over seeds.
  for (int b = 2; b <= SPACE_MAX_BLOCKS; b++) {
    double ss = 0, sk = 0;
    int n = 0;
    for (int i = 0; i < rep->nranks; i++)
      if (rep->ranks[i].level == b && isfinite(rep->ranks[i].spearman) &&
          isfinite(rep->ranks[i].kendall))
        ss += rep->ranks[i].spearman, sk += rep->ranks[i].kendall, n++;
    if (n > 1 && tbl_row(&ranks, fmt(buf, "mean of %d runs", n), fmt(b2, "%d", b), "",
                         fmt(b3, "%.3f", ss / n), fmt(b4, "%.3f", sk / n), ""))
      goto oom;
  }
  // Each strategy's best B-block cell (its answer) and, when a cell of another size of its runs
  // is better, that one too (a smaller cell can be the better one).
  for (int g = 0; g < rep->ngroups; g++) {
    const report_group *G = &rep->groups[g];
    for (int w = 0; w < 2; w++) {
      int run = w ? G->any_run : G->best_run, rec = w ? G->any_rec : G->best_rec;
      if (run < 0) continue;
      const store_record *r = &rep->runs[run].recs[rec];
      if (w && G->best_run >= 0 &&
          !(r->val_acc > rep->runs[G->best_run].recs[G->best_rec].val_acc))
        continue; // the B-block best is the best overall
      char text[SPACE_TEXT_MAX], which[32];
      space_format(&r->cell, text, sizeof text);
      snprintf(which, sizeof which, "%s", w ? "best overall" : "best of B blocks");
      if (tbl_row(&best, G->name, which, run_name(&rep->runs[run]), text,
                  fmt(buf, "%d", r->cell.nblocks), fmt(b2, "%.4f", r->val_acc),
                  fmt(b3, "%lld", (long long)r->params), fmt(b4, "%lld", (long long)r->mult_adds),
                  fmt(b8, "%d", rec + 1)))
        goto oom;
    }
  }
  char settings[1200];
  settings_line(&rep->runs[0].cfg, settings, sizeof settings);
  static const char DEF_TOP5[] =
      "Accuracy counts only cells of B blocks (the size each search answers with); models and "
      "examples count every trained model, PNAS's smaller cells included (as the paper's "
      "Table 4). \"Mean top-5\" is the mean validation top-1 accuracy of the 5 best models trained so far "
      "(defined once 5 exist: an average of fewer would fall as they arrive), as in the PNAS "
      "paper; it is not top-5 classification accuracy.";
  static const char DEF_SIZE[] =
      "Every trained model (points; all levels, so PNAS's small cells too) and each strategy's "
      "Pareto front: the models more accurate than every smaller one of that strategy. Sizes are "
      "of the search-time network (the run's N and F), by the cost model. Data: "
      "`points-<strategy>.tsv`, `pareto-<strategy>-params.tsv`, `pareto-<strategy>-madds.tsv`.";
  static const char DEF_LEVELS[] =
      "Every trained model by the number of blocks in its cell, strategies side by side: PNAS's "
      "level-1 cells (all of them), its picks at each later level, and the baselines' cells of B "
      "blocks. Then each run's best accuracy so far against its cumulative training seconds "
      "(one line per seed; cached children count at their original cost). Data: "
      "`seconds-<strategy>-<k>.tsv`.";
  static const char DEF_PRED[] =
      "Each child PNAS trained, at the score the predictor gave it when it was chosen (fitted on "
      "the levels below), against its measured accuracy, by level; the dashed line is a perfect "
      "predictor. These are the predictor's top picks only, so the cloud is narrow by "
      "construction.";
  static const char DEF_REACH[] =
      "Target: PNAS's accuracy, the value its mean-over-seeds curve ends at. \"Models needed\" is "
      "the first point where a strategy's mean-over-seeds curve reaches the target; \"PNAS "
      "needs\" compares it with PNAS's own number: \"2.30x fewer\" means the strategy needed "
      "2.3 times PNAS's models, \"1.50x more\" that PNAS needed 1.5 times the strategy's; where "
      "a strategy never reached the target, only a bound is known. \"Seeds reaching it\" "
      "counts the individual runs whose own curve gets there. Examples = training images "
      "processed (steps x batch), summed over the models, cached children included at their "
      "original cost.";

  // ---- report.md ----
  snprintf(path, sizeof path, "%s/report.md", out_dir);
  FILE *f = fopen(path, "w");
  if (!f) goto io;
  fprintf(f, "# Search strategy comparison\n\n%d runs: %s.\n\nSettings: %s.\n\n", rep->nruns,
          "each strategy's seeds are listed below", settings);
  if (mixed) {
    fprintf(f, "**Warning: the runs were not all trained under the same settings, space and "
               "block count; the comparison is not like-for-like.**\n\n");
    // Runs of one strategy under other settings are separate groups, never pooled as seeds.
    for (int g = 0; g < rep->ngroups; g++) {
      char sg[1200];
      settings_line(&rep->runs[rep->groups[g].runs[0]].cfg, sg, sizeof sg);
      if (strcmp(sg, settings) || strchr(rep->groups[g].name, '.'))
        fprintf(f, "- `%s` (%d run%s): %s.\n", rep->groups[g].name, rep->groups[g].nruns,
                rep->groups[g].nruns > 1 ? "s" : "", sg);
    }
    fputc('\n', f);
  }
  fprintf(f, "## Runs\n\n");
  tbl_md(f, &runs);
  fprintf(f, "%s\n\n", FROM_CACHE);
  fprintf(f, "## Final accuracy per strategy (over seeds)\n\n");
  tbl_md(f, &sum);
  if (verdict[0]) fprintf(f, "**Verdict.** %s\n\n", verdict);
  fprintf(f, "## Best-so-far accuracy\n\nLines: mean over seeds; shaded bands: min to max over seeds. "
             "%s\n\n",
          DEF_TOP5);
  for (int i = 0; i < 4; i++) {
    char why[256];
    if (fig_note(rep, i, why, sizeof why)) fprintf(f, "%s\n\n", why);
    if (fig_defined(rep, i)) fprintf(f, "![%s](%s)\n\n", FIGS[i][3], FIGS[i][0]);
  }
  fprintf(f, "Curve data: `curve-<strategy>-models.tsv`, `curve-<strategy>-examples.tsv`; "
             "figures: `gnuplot plots.gp`.\n\n");
  fprintf(f, "## Accuracy against size\n\n%s\n\n![%s](fig-params.svg)\n\n![%s](fig-madds.svg)\n\n",
          DEF_SIZE, "accuracy against parameters", "accuracy against multiply-adds");
  fprintf(f, "## Accuracy by cell size, and against training time\n\n%s\n\n![%s](fig-levels.svg)\n\n"
             "![%s](fig-seconds.svg)\n\n",
          DEF_LEVELS, "accuracy of every model by blocks", "best so far against training seconds");
  if (have_predictions(rep))
    fprintf(f, "## Predicted against measured accuracy (PNAS)\n\n%s\n\n![%s](fig-predicted.svg)\n\n",
            DEF_PRED, "predicted against measured accuracy");
  fprintf(f, "## Models needed to reach PNAS's accuracy\n\n");
  if (reach.nrows) {
    fprintf(f, "%s\n\n", DEF_REACH);
    tbl_md(f, &reach);
  } else {
    fprintf(f, "No PNAS run with a B-block cell among the inputs: nothing to compare against.\n\n");
  }
  fprintf(f, "## Predictor rank correlation (PNAS)\n\nPer level b >= 2: the ensemble's "
             "predictions (fitted on levels < b) against the measured accuracy of the children "
             "it chose to train. These are the predictor's own top picks, few and alike, so the "
             "figure says little: the last column gives the |rho| that random order reaches in "
             "only 5%% of cases for that many children (never, for 4 or fewer). Judge a predictor "
             "with `pnas predictor eval` or on a benchmark table.\n\n");
  if (ranks.nrows) tbl_md(f, &ranks);
  else fprintf(f, "No PNAS level with predictions among the inputs.\n\n");
  fprintf(f, "## Best cell of each strategy\n\n");
  tbl_md(f, &best);
  if (have_dot)
    for (int g = 0; g < rep->ngroups; g++)
      if (rep->groups[g].best_run >= 0)
        fprintf(f, "**%s**\n\n![best %s cell](best-%s.svg)\n\n", rep->groups[g].name,
                rep->groups[g].name, rep->groups[g].name);
  if (!have_dot) fprintf(f, "(No drawings: %s.)\n\n", dot_err);
  fprintf(f, "Params and mult-adds are of the search-time child network (N=%d, F=%d) by the "
             "cost model.\n",
          rep->runs[0].cfg.N, rep->runs[0].cfg.F);
  if (fclose(f)) goto io;

  // ---- report.html ----
  snprintf(path, sizeof path, "%s/report.html", out_dir);
  f = fopen(path, "w");
  if (!f) goto io;
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>pnas: search strategy comparison</title>\n<style>\n"
        "body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}\n"
        "table{border-collapse:collapse;margin:1em 0;font-size:14px}\n"
        "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}\n"
        "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
        "th{background:#f3f3f3}\nfigure{margin:1em 0}\n"
        "figure svg{max-width:100%;height:auto}\n.warn{color:#b00;font-weight:bold}\n"
        "</style>\n</head>\n<body>\n<h1>Search strategy comparison</h1>\n",
        f);
  fprintf(f, "<p>%d runs. Settings: ", rep->nruns);
  html_escape(f, settings);
  fputs(".</p>\n", f);
  if (mixed)
    fputs("<p class=\"warn\">The runs were not all trained under the same settings, space and "
          "block count; the comparison is not like-for-like.</p>\n",
          f);
  fputs("<h2>Runs</h2>\n", f);
  tbl_html(f, &runs);
  fputs("<p>", f), html_escape(f, FROM_CACHE), fputs("</p>\n", f);
  fputs("<h2>Final accuracy per strategy (over seeds)</h2>\n", f);
  tbl_html(f, &sum);
  if (verdict[0]) {
    fputs("<p><b>Verdict.</b> ", f);
    html_escape(f, verdict);
    fputs("</p>\n", f);
  }
  fputs("<h2>Best-so-far accuracy</h2>\n<p>Lines: mean over seeds; shaded bands: min to max over seeds. ",
        f);
  html_escape(f, DEF_TOP5);
  fputs("</p>\n", f);
  for (int i = 0; i < 4; i++) {
    char pfx[16], why[256];
    if (fig_note(rep, i, why, sizeof why)) {
      fputs("<p>", f);
      html_escape(f, why);
      fputs("</p>\n", f);
    }
    if (!fig_defined(rep, i)) continue;
    snprintf(pfx, sizeof pfx, "f%d-", i + 1);
    snprintf(path, sizeof path, "%s/%s", out_dir, FIGS[i][0]);
    fputs("<figure>\n", f);
    if (inline_svg(f, path, pfx, err, errlen)) {
      fclose(f);
      goto fail;
    }
    fputs("\n<figcaption>", f);
    html_escape(f, FIGS[i][3]);
    fprintf(f, " against %s</figcaption>\n</figure>\n",
            !strcmp(FIGS[i][1], "models") ? "models trained" : "examples processed");
  }
  {
    // Accuracy against size, and predicted against measured (when there are predictions).
    static const char *const XF[5][3] = {
        {"fig-params.svg", "x1-", "accuracy against parameters, with each strategy's Pareto front"},
        {"fig-madds.svg", "x2-", "accuracy against multiply-adds, with each strategy's Pareto front"},
        {"fig-levels.svg", "x3-", "accuracy of every trained model by blocks in its cell"},
        {"fig-seconds.svg", "x4-", "best accuracy so far against cumulative training seconds"},
        {"fig-predicted.svg", "x5-", "predicted against measured accuracy of PNAS's children"}};
    static const char *const XH[5] = {"Accuracy against size", NULL,
                                      "Accuracy by cell size, and against training time", NULL,
                                      "Predicted against measured accuracy (PNAS)"};
    const char *const XD[5] = {DEF_SIZE, NULL, DEF_LEVELS, NULL, DEF_PRED};
    for (int i = 0; i < 5; i++) {
      if (i == 4 && !have_predictions(rep)) break;
      if (XH[i]) {
        fprintf(f, "<h2>%s</h2>\n<p>", XH[i]);
        html_escape(f, XD[i]);
        fputs("</p>\n", f);
      }
      snprintf(path, sizeof path, "%s/%s", out_dir, XF[i][0]);
      fputs("<figure>\n", f);
      if (inline_svg(f, path, XF[i][1], err, errlen)) {
        fclose(f);
        goto fail;
      }
      fputs("\n<figcaption>", f);
      html_escape(f, XF[i][2]);
      fputs("</figcaption>\n</figure>\n", f);
    }
  }
  fputs("<h2>Models needed to reach PNAS's accuracy</h2>\n", f);
  if (reach.nrows) {
    fputs("<p>", f);
    html_escape(f, DEF_REACH);
    fputs("</p>\n", f);
    tbl_html(f, &reach);
  } else {
    fputs("<p>No PNAS run with a B-block cell among the inputs: nothing to compare against.</p>\n", f);
  }
  fputs("<h2>Predictor rank correlation (PNAS)</h2>\n<p>Per level b &gt;= 2: the ensemble's "
        "predictions (fitted on levels &lt; b) against the measured accuracy of the children it "
        "chose to train. These are the predictor's own top picks, few and alike, so the figure "
        "says little: the last column gives the |rho| that random order reaches in only 5% of "
        "cases for that many children (never, for 4 or fewer). Judge a predictor with "
        "<code>pnas predictor eval</code> or on a benchmark table.</p>\n",
        f);
  if (ranks.nrows) tbl_html(f, &ranks);
  else fputs("<p>No PNAS level with predictions among the inputs.</p>\n", f);
  fputs("<h2>Best cell of each strategy</h2>\n", f);
  tbl_html(f, &best);
  if (have_dot) {
    for (int g = 0; g < rep->ngroups; g++) {
      if (rep->groups[g].best_run < 0) continue;
      char pfx[24];
      snprintf(pfx, sizeof pfx, "c%d-", g + 1);
      snprintf(path, sizeof path, "%s/best-%s.svg", out_dir, rep->groups[g].name);
      fprintf(f, "<figure>\n");
      if (inline_svg(f, path, pfx, err, errlen)) {
        fclose(f);
        goto fail;
      }
      fprintf(f, "\n<figcaption>best %s cell</figcaption>\n</figure>\n", rep->groups[g].name);
    }
  } else {
    fputs("<p>(No drawings: ", f);
    html_escape(f, dot_err);
    fputs(".)</p>\n", f);
  }
  fprintf(f, "<p>Params and mult-adds are of the search-time child network (N=%d, F=%d) by the "
             "cost model.</p>\n</body>\n</html>\n",
          rep->runs[0].cfg.N, rep->runs[0].cfg.F);
  if (fclose(f)) goto io;
  tbl_free(&runs), tbl_free(&sum), tbl_free(&reach), tbl_free(&ranks), tbl_free(&best);
  return 0;
io:
  snprintf(err, errlen, "cannot write %s: %s", path, pnas_strerror(errno));
  goto fail;
oom:
  snprintf(err, errlen, "out of memory");
fail:
  tbl_free(&runs), tbl_free(&sum), tbl_free(&reach), tbl_free(&ranks), tbl_free(&best);
  return -1;
}
