// The comparison of strategies replayed against a benchmark table (see report_core.h):
// best-so-far curves with 95% bootstrap bands over seeds, the answer's regret and percentile in
// the table, models needed to reach the table's top 1/2/5/10% with intervals, and a verdict.
// Every interval is a percentile bootstrap over seeds (2,000 resamples, fixed RNG seed), so the
// report is a deterministic function of the runs.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "pnas/report/report_core.h"
#include "pnas/report/show.h"
#include "pnas/search/table.h"

#define NBOOT 2000
#define NQ 4
static const double TOPQ[NQ] = {0.01, 0.02, 0.05, 0.10};

typedef struct {
  double *bsf;   // (L) best-so-far after k+1 models (-1 until the first ok model)
  double *ex;    // (L) examples after k+1 models
  double *sec;   // (L) training seconds after k+1 models (the table's measured seconds)
  int L;
} tr_run;

typedef struct {
  const char *name;
  tr_run *runs;  // (S)
  int S, L;      // L: shortest run
  double *mean, *lo, *hi;     // (L) mean best-so-far and its band
  double *mex;                // (L) mean examples
  double fin_mean, fin_lo, fin_hi;         // answer after its own budget
  double atp_mean, atp_lo, atp_hi;         // best after the PNAS budget
  double reg_mean, reg_lo, reg_hi;         // regret
  double ats_mean, ats_lo, ats_hi;         // best within PNAS's mean training seconds
  double sec_mean;                         // mean training seconds of a whole run
  double top_mean;                         // mean "top x%" of the answer
  double reach[NQ], reach_lo[NQ], reach_hi[NQ];
  int reached[NQ];                         // seeds reaching
  double *rs[NQ];                          // (S) models to reach (censored: L + 1)
} tr_group;

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double q) { // sorts v
  qsort(v, (size_t)n, sizeof *v, cmp_d);
  double pos = q * (n - 1);
  int i = (int)pos;
  return i + 1 < n ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[i];
}

// Percentile bootstrap of the mean of x (n values): lo, hi at 2.5% / 97.5%.
static void boot_mean(const double *x, int n, space_rng *r, double *boot, double *lo,
                      double *hi) {
  for (int b = 0; b < NBOOT; b++) {
    double s = 0;
    for (int i = 0; i < n; i++) s += x[space_rng_below(r, n)];
    boot[b] = s / n;
  }
  *lo = pct(boot, NBOOT, 0.025);
  *hi = pct(boot, NBOOT, 0.975);
}

static double mean_of(const double *x, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += x[i];
  return n ? s / n : NAN;
}

static int load_run(const char *dir, tr_run *r, char *err, size_t errlen) {
  char path[1200];
  snprintf(path, sizeof path, "%s/%s", dir, STORE_LOG_NAME);
  store_record *rec;
  int n;
  long torn;
  if (store_read_log(path, 0, &rec, &n, &torn, err, errlen)) return -1;
  r->L = n;
  r->bsf = malloc(sizeof *r->bsf * (size_t)(n ? n : 1));
  r->ex = malloc(sizeof *r->ex * (size_t)(n ? n : 1));
  r->sec = malloc(sizeof *r->sec * (size_t)(n ? n : 1));
  if (!r->bsf || !r->ex || !r->sec) {
    free(rec);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  double best = -1, ex = 0, sec = 0;
  for (int i = 0; i < n; i++) {
    if (rec[i].ok && rec[i].val_acc > best) best = rec[i].val_acc;
    ex += (double)rec[i].examples;
    sec += rec[i].seconds;
    r->bsf[i] = best;
    r->ex[i] = ex;
    r->sec[i] = sec;
  }
  free(rec);
  if (n == 0) {
    snprintf(err, errlen, "%s holds no models", dir);
    return -1;
  }
  return 0;
}

static void group_free(tr_group *g) {
  for (int i = 0; g->runs && i < g->S; i++) {
    free(g->runs[i].bsf);
    free(g->runs[i].ex);
    free(g->runs[i].sec);
  }
  free(g->runs);
  free(g->mean);
  free(g->lo);
  free(g->hi);
  free(g->mex);
  for (int q = 0; q < NQ; q++) free(g->rs[q]);
}

// Ratio of mean models-to-reach (other / pnas) with a bootstrap interval.
static void boot_ratio(const tr_group *o, const tr_group *p, int q, space_rng *r, double *boot,
                       double *ratio, double *lo, double *hi) {
  *ratio = mean_of(o->rs[q], o->S) / mean_of(p->rs[q], p->S);
  for (int b = 0; b < NBOOT; b++) {
    double so = 0, sp = 0;
    for (int i = 0; i < o->S; i++) so += o->rs[q][space_rng_below(r, o->S)];
    for (int i = 0; i < p->S; i++) sp += p->rs[q][space_rng_below(r, p->S)];
    boot[b] = (so / o->S) / (sp / p->S);
  }
  *lo = pct(boot, NBOOT, 0.025);
  *hi = pct(boot, NBOOT, 0.975);
}

// "2.3x fewer" / "2.3x more" / "as many": never a bare ratio below 1. ratio = other / pnas.
static void fewer_more(double ratio, double lo, double hi, char *buf, size_t n) {
  if (ratio >= 1.005)
    snprintf(buf, n, "%.2fx fewer (95%% CI %.2f-%.2fx)", ratio, lo, hi);
  else if (ratio <= 0.995)
    snprintf(buf, n, "%.2fx more (95%% CI %.2f-%.2fx)", 1 / ratio, 1 / hi, 1 / lo);
  else
    snprintf(buf, n, "as many (95%% CI %.2f-%.2fx)", lo, hi);
}

static int write_svg(const char *out_dir, const tr_group *G, int ng, char *err, size_t errlen) {
  char gp[1024];
  if (show_find_on_path("gnuplot", gp, sizeof gp)) return 0; // figures are optional here
  char path[1300];
  snprintf(path, sizeof path, "%s/table-curves.gp", out_dir);
  FILE *f = fopen(path, "w");
  if (!f) {
    snprintf(err, errlen, "cannot create %s: %s", path, pnas_strerror(errno));
    return -1;
  }
  for (int pass = 0; pass < 2; pass++) {
    fprintf(f, "set terminal svg size 760,460 dynamic font 'sans,12'\n"
               "set output '%s'\nset key bottom right\nset grid\n"
               "set xlabel '%s'\nset ylabel 'best validation accuracy so far (mean over seeds)'\n"
               "set title 'best so far, mean and 95%% bootstrap band over seeds'\n",
            pass ? "table-curves-examples.svg" : "table-curves.svg",
            pass ? "examples processed (mean over seeds)" : "models trained");
    fprintf(f, "plot ");
    for (int g = 0; g < ng; g++) {
      int mc = 4 + 4 * g, xc = pass ? mc + 3 : 1; // mean, lo, hi, examples columns
      fprintf(f, "%s'table-curves.tsv' using %d:%d:%d every ::0::%d with filledcurves "
                 "fs transparent solid 0.2 noborder lc %d notitle, "
                 "'table-curves.tsv' using %d:%d every ::0::%d with lines lw 2 lc %d title '%s'",
              g ? ", " : "", xc, mc + 1, mc + 2, G[g].L - 1, g + 1, xc, mc,
              G[g].L - 1, g + 1, G[g].name);
    }
    fprintf(f, "\n");
  }
  if (fclose(f)) {
    snprintf(err, errlen, "write error on %s", path);
    return -1;
  }
  char *argv[] = {"gnuplot", "table-curves.gp", NULL};
  return report_run_in(out_dir, argv, err, errlen);
}

int report_table_write(const pnas_table *t, const char (*names)[16], int ng, int seeds,
                       const char *const *run_dirs, int pnas_budget, const char *out_dir,
                       char *err, size_t errlen) {
  int rc = -1;
  tr_group *G = calloc((size_t)ng, sizeof *G);
  double *boot = malloc(sizeof *boot * NBOOT);
  double *acc = malloc(sizeof *acc * (size_t)(t->n + 1));
  double *tmp = malloc(sizeof *tmp * (size_t)(seeds + 1));
  FILE *md = NULL, *js = NULL, *tv = NULL;
  if (!G || !boot || !acc || !tmp) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  // The table: optimum and the top-q thresholds over every ok cell.
  int nok = 0;
  for (int i = 0; i < t->n; i++)
    if (t->rec[i].ok) acc[nok++] = t->rec[i].val_acc;
  if (nok == 0) {
    snprintf(err, errlen, "the table %s has no trained cell", t->dir);
    goto out;
  }
  qsort(acc, (size_t)nok, sizeof *acc, cmp_d);
  double opt = acc[nok - 1], thr[NQ];
  int thr_cells[NQ];
  for (int q = 0; q < NQ; q++) {
    int k = (int)ceil(TOPQ[q] * nok); // the k best cells
    if (k < 1) k = 1;
    thr[q] = acc[nok - k];
    thr_cells[q] = 0;
    for (int i = 0; i < nok; i++) thr_cells[q] += acc[i] >= thr[q];
  }
  space_rng r;
  space_rng_seed(&r, 20261203);
  int pg = -1;
  for (int g = 0; g < ng; g++) {
    tr_group *g_ = &G[g];
    g_->name = names[g];
    if (!strcmp(names[g], "pnas")) pg = g;
    g_->S = seeds;
    g_->runs = calloc((size_t)seeds, sizeof *g_->runs);
    if (!g_->runs) {
      snprintf(err, errlen, "out of memory");
      goto out;
    }
    g_->L = 1 << 30;
    for (int k = 0; k < seeds; k++) {
      if (load_run(run_dirs[g * seeds + k], &g_->runs[k], err, errlen)) goto out;
      if (g_->runs[k].L < g_->L) g_->L = g_->runs[k].L;
    }
    int L = g_->L;
    g_->mean = malloc(sizeof(double) * (size_t)L);
    g_->lo = malloc(sizeof(double) * (size_t)L);
    g_->hi = malloc(sizeof(double) * (size_t)L);
    g_->mex = malloc(sizeof(double) * (size_t)L);
    for (int q = 0; q < NQ; q++) g_->rs[q] = malloc(sizeof(double) * (size_t)seeds);
    if (!g_->mean || !g_->lo || !g_->hi || !g_->mex || !g_->rs[NQ - 1]) {
      snprintf(err, errlen, "out of memory");
      goto out;
    }
    for (int k = 0; k < L; k++) {
      for (int i = 0; i < seeds; i++) tmp[i] = g_->runs[i].bsf[k];
      g_->mean[k] = mean_of(tmp, seeds);
      boot_mean(tmp, seeds, &r, boot, &g_->lo[k], &g_->hi[k]);
      for (int i = 0; i < seeds; i++) tmp[i] = g_->runs[i].ex[k];
      g_->mex[k] = mean_of(tmp, seeds);
    }
    // The answer after its own budget, its regret and its place in the table.
    double top = 0;
    for (int i = 0; i < seeds; i++) {
      const tr_run *x = &g_->runs[i];
      tmp[i] = x->bsf[x->L - 1];
      int above = 0;
      for (int j = 0; j < nok; j++) above += acc[j] > tmp[i];
      top += 100.0 * (above + 1) / nok;
    }
    g_->top_mean = top / seeds;
    g_->fin_mean = mean_of(tmp, seeds);
    boot_mean(tmp, seeds, &r, boot, &g_->fin_lo, &g_->fin_hi);
    for (int i = 0; i < seeds; i++) tmp[i] = opt - tmp[i];
    g_->reg_mean = mean_of(tmp, seeds);
    boot_mean(tmp, seeds, &r, boot, &g_->reg_lo, &g_->reg_hi);
    // Models to reach each threshold (censored at L + 1 when a run never does).
    for (int q = 0; q < NQ; q++) {
      g_->reached[q] = 0;
      for (int i = 0; i < seeds; i++) {
        const tr_run *x = &g_->runs[i];
        int k = 0;
        while (k < x->L && x->bsf[k] < thr[q]) k++;
        g_->rs[q][i] = k + 1;
        g_->reached[q] += k < x->L;
      }
      g_->reach[q] = mean_of(g_->rs[q], seeds);
      memcpy(tmp, g_->rs[q], sizeof *tmp * (size_t)seeds);
      boot_mean(tmp, seeds, &r, boot, &g_->reach_lo[q], &g_->reach_hi[q]);
    }
  }
  int P = pnas_budget;
  // Compute: PNAS's mean training seconds (its level-1 models are cheaper than deeper ones).
  double Psec = NAN;
  if (pg >= 0) {
    for (int i = 0; i < seeds; i++) tmp[i] = G[pg].runs[i].sec[G[pg].runs[i].L - 1];
    Psec = mean_of(tmp, seeds);
  }
  for (int g = 0; g < ng; g++) {
    tr_group *g_ = &G[g];
    for (int i = 0; i < seeds; i++) tmp[i] = g_->runs[i].sec[g_->runs[i].L - 1];
    g_->sec_mean = mean_of(tmp, seeds);
    g_->ats_mean = g_->ats_lo = g_->ats_hi = NAN;
    if (pg >= 0) {
      for (int i = 0; i < seeds; i++) {
        const tr_run *x = &g_->runs[i];
        int k = 0;
        while (k + 1 < x->L && x->sec[k + 1] <= Psec) k++;
        tmp[i] = x->sec[k] <= Psec || k == 0 ? x->bsf[k] : -1;
      }
      g_->ats_mean = mean_of(tmp, seeds);
      boot_mean(tmp, seeds, &r, boot, &g_->ats_lo, &g_->ats_hi);
    }
    for (int i = 0; i < seeds; i++) {
      const tr_run *x = &g_->runs[i];
      tmp[i] = x->bsf[(P < x->L ? P : x->L) - 1];
    }
    g_->atp_mean = mean_of(tmp, seeds);
    boot_mean(tmp, seeds, &r, boot, &g_->atp_lo, &g_->atp_hi);
  }
  // Outputs.
  char path[1300];
  snprintf(path, sizeof path, "%s/table-curves.tsv", out_dir);
  tv = fopen(path, "w");
  snprintf(path, sizeof path, "%s/table-report.md", out_dir);
  md = fopen(path, "w");
  snprintf(path, sizeof path, "%s/table-report.json", out_dir);
  js = fopen(path, "w");
  if (!tv || !md || !js) {
    snprintf(err, errlen, "cannot create the report files in %s: %s", out_dir, pnas_strerror(errno));
    goto out;
  }
  int Lmax = 0;
  for (int g = 0; g < ng; g++) Lmax = G[g].L > Lmax ? G[g].L : Lmax;
  fprintf(tv, "# models\tunused\tunused");
  for (int g = 0; g < ng; g++)
    fprintf(tv, "\t%s_mean\t%s_lo\t%s_hi\t%s_examples", G[g].name, G[g].name, G[g].name,
            G[g].name);
  fputc('\n', tv);
  for (int k = 0; k < Lmax; k++) {
    fprintf(tv, "%d\t0\t0", k + 1);
    for (int g = 0; g < ng; g++) {
      if (k < G[g].L)
        fprintf(tv, "\t%.6f\t%.6f\t%.6f\t%.0f", G[g].mean[k], G[g].lo[k], G[g].hi[k],
                G[g].mex[k]);
      else
        fprintf(tv, "\tNaN\tNaN\tNaN\tNaN");
    }
    fputc('\n', tv);
  }
  // Markdown.
  fprintf(md, "# Strategies replayed against the table %s\n\n", t->dir);
  fprintf(md, "Table: %d cells (%d trained ok), ops %s, levels 1..%d, optimum %.4f. Every "
              "strategy is answered from the table (nothing trains); %d seeds per strategy "
              "(seeds 1..%d); PNAS trains %d models; intervals are 95%% percentile bootstraps "
              "over seeds (%d resamples).\n\n",
          t->n, nok, t->cfg.ops, t->levels, opt, seeds, seeds, P, NBOOT);
  fprintf(md, "| strategy | models | best after %d models | best after own budget | regret | "
              "answer's place in the table |\n| --- | ---: | ---: | ---: | ---: | ---: |\n", P);
  for (int g = 0; g < ng; g++)
    fprintf(md, "| %s | %d | %.4f [%.4f, %.4f] | %.4f [%.4f, %.4f] | %.4f [%.4f, %.4f] | top "
                "%.2f%% |\n",
            G[g].name, G[g].L, G[g].atp_mean, G[g].atp_lo, G[g].atp_hi, G[g].fin_mean,
            G[g].fin_lo, G[g].fin_hi, G[g].reg_mean, G[g].reg_lo, G[g].reg_hi, G[g].top_mean);
  if (pg >= 0) {
    fprintf(md, "\nAt equal compute (the table's measured training seconds; a 1-block child trains "
                "faster than a 2-block one): best within PNAS's mean %.1f s of training:\n\n"
                "| strategy | mean s per run | best within %.1f s |\n| --- | ---: | ---: |\n",
            Psec, Psec);
    for (int g = 0; g < ng; g++)
      fprintf(md, "| %s | %.1f | %.4f [%.4f, %.4f] |\n", G[g].name, G[g].sec_mean, G[g].ats_mean,
              G[g].ats_lo, G[g].ats_hi);
  }
  fprintf(md, "\nModels needed to reach the table's top cells (mean over seeds; a run that never "
              "reaches counts as its length + 1, so a mean with unreached seeds is a lower "
              "bound):\n\n| strategy |");
  for (int q = 0; q < NQ; q++)
    fprintf(md, " top %g%% (>= %.4f, %d cells) |", TOPQ[q] * 100, thr[q], thr_cells[q]);
  fprintf(md, "\n| --- |");
  for (int q = 0; q < NQ; q++) fprintf(md, " ---: |");
  fputc('\n', md);
  for (int g = 0; g < ng; g++) {
    fprintf(md, "| %s |", G[g].name);
    for (int q = 0; q < NQ; q++)
      fprintf(md, " %s%.1f [%.1f, %.1f], %d/%d reach |", G[g].reached[q] < seeds ? ">=" : "",
              G[g].reach[q], G[g].reach_lo[q], G[g].reach_hi[q], G[g].reached[q], seeds);
    fputc('\n', md);
  }
  // PNAS against each baseline.
  fprintf(js, "{\"table\":\"%s\",\"cells\":%d,\"optimum\":%.6f,\"seeds\":%d,\"pnas_budget\":%d,"
              "\"thresholds\":[",
          t->dir, t->n, opt, seeds, P);
  for (int q = 0; q < NQ; q++)
    fprintf(js, "%s{\"top\":%g,\"accuracy\":%.6f,\"cells\":%d}", q ? "," : "", TOPQ[q], thr[q],
            thr_cells[q]);
  fprintf(js, "],\"strategies\":[");
  for (int g = 0; g < ng; g++) {
    fprintf(js, "%s{\"name\":\"%s\",\"models\":%d,\"best_at_pnas_budget\":[%.6f,%.6f,%.6f],"
                "\"best\":[%.6f,%.6f,%.6f],\"regret\":[%.6f,%.6f,%.6f],\"top_percent\":%.4f,"
                "\"seconds\":%.3f,\"best_within_pnas_seconds\":",
            g ? "," : "", G[g].name, G[g].L, G[g].atp_mean, G[g].atp_lo, G[g].atp_hi,
            G[g].fin_mean, G[g].fin_lo, G[g].fin_hi, G[g].reg_mean, G[g].reg_lo, G[g].reg_hi,
            G[g].top_mean, G[g].sec_mean);
    if (isfinite(G[g].ats_mean))
      fprintf(js, "[%.6f,%.6f,%.6f]", G[g].ats_mean, G[g].ats_lo, G[g].ats_hi);
    else
      fprintf(js, "null");
    fprintf(js, ",\"reach\":[");
    for (int q = 0; q < NQ; q++)
      fprintf(js, "%s{\"mean\":%.4f,\"lo\":%.4f,\"hi\":%.4f,\"reached\":%d}", q ? "," : "",
              G[g].reach[q], G[g].reach_lo[q], G[g].reach_hi[q], G[g].reached[q]);
    fprintf(js, "]}");
  }
  fprintf(js, "],\"pnas_vs\":[");
  char verdict[8192];
  int vn = 0;
  if (pg >= 0) {
    fprintf(md, "\nPNAS against each other strategy:\n\n");
    vn += snprintf(verdict + vn, sizeof verdict - (size_t)vn,
                   "Verdict (%d seeds each, table optimum %.4f): after its %d models PNAS's best "
                   "cell averages %.4f (top %.2f%% of the table).",
                   seeds, opt, P, G[pg].atp_mean, G[pg].top_mean);
    int first = 1;
    for (int g = 0; g < ng; g++) {
      if (g == pg) continue;
      // Difference at the PNAS budget: independent bootstrap of both groups.
      double d = G[pg].atp_mean - G[g].atp_mean;
      for (int b = 0; b < NBOOT; b++) {
        double sp = 0, so = 0;
        for (int i = 0; i < seeds; i++) {
          const tr_run *x = &G[pg].runs[space_rng_below(&r, seeds)];
          sp += x->bsf[(P < x->L ? P : x->L) - 1];
          const tr_run *y = &G[g].runs[space_rng_below(&r, seeds)];
          so += y->bsf[(P < y->L ? P : y->L) - 1];
        }
        boot[b] = (sp - so) / seeds;
      }
      double dlo = pct(boot, NBOOT, 0.025), dhi = pct(boot, NBOOT, 0.975);
      fprintf(md, "- vs %s at %d models: PNAS %+.4f (95%% CI %+.4f to %+.4f)%s\n", G[g].name, P,
              d, dlo, dhi,
              dlo > 0 ? ", PNAS better" : dhi < 0 ? ", PNAS worse" : ", not separable");
      fprintf(js, "%s{\"vs\":\"%s\",\"diff_at_pnas_budget\":[%.6f,%.6f,%.6f],\"reach_ratio\":[",
              first ? "" : ",", G[g].name, d, dlo, dhi);
      vn += snprintf(verdict + vn, sizeof verdict - (size_t)vn,
                     " Against %s after the same %d models it is %+.4f (95%% CI %+.4f to "
                     "%+.4f: %s).",
                     G[g].name, P, d, dlo, dhi,
                     dlo > 0 ? "better" : dhi < 0 ? "worse" : "not separable from 0");
      for (int q = 0; q < NQ; q++) {
        double ratio, lo, hi;
        boot_ratio(&G[g], &G[pg], q, &r, boot, &ratio, &lo, &hi);
        // A run that never reaches the threshold counts as its length + 1: a lower bound on
        // what it would need. With censoring only a one-sided statement can be true.
        int pc = G[pg].reached[q] < seeds, oc = G[g].reached[q] < seeds;
        char fm[200], ph[400];
        int cens = pc || oc;
        if (!pc && !oc) {
          fewer_more(ratio, lo, hi, fm, sizeof fm);
          snprintf(ph, sizeof ph, "PNAS needs %s models than %s", fm, G[g].name);
        } else if (!pc && ratio >= 1.005) {
          snprintf(ph, sizeof ph, "PNAS needs at least %.2fx fewer models than %s (%d/%d %s "
                                  "runs never reach it in %d models)", ratio, G[g].name,
                   seeds - G[g].reached[q], seeds, G[g].name, G[g].L);
        } else if (pc && !oc && ratio <= 0.995) {
          snprintf(ph, sizeof ph, "PNAS needs at least %.2fx more models than %s (%d/%d PNAS "
                                  "runs never reach it in their %d models)", 1 / ratio,
                   G[g].name, seeds - G[pg].reached[q], seeds, P);
        } else {
          snprintf(ph, sizeof ph, "not determined against %s (PNAS reaches it in %d/%d runs "
                                  "within its %d models, %s in %d/%d within %d)", G[g].name,
                   G[pg].reached[q], seeds, P, G[g].name, G[g].reached[q], seeds, G[g].L);
        }
        fprintf(md, "  - to reach the top %g%%: %s\n", TOPQ[q] * 100, ph);
        fprintf(js, "%s{\"top\":%g,\"ratio\":%.4f,\"lo\":%.4f,\"hi\":%.4f,\"censored\":%s}",
                q ? "," : "", TOPQ[q], ratio, lo, hi, cens ? "true" : "false");
        if (q == 1)
          vn += snprintf(verdict + vn, sizeof verdict - (size_t)vn,
                         " To reach the table's top 2%%: %s.", ph);
      }
      fprintf(js, "]}");
      first = 0;
    }
    fprintf(md, "\n%s\n", verdict);
  }
  fprintf(js, "]}\n");
  fprintf(md, "\nFigures: table-curves.svg (against models), table-curves-examples.svg "
              "(against examples); data: table-curves.tsv, table-report.json.\n");
  if (pg >= 0) printf("%s\n", verdict);
  for (int g = 0; g < ng; g++)
    printf("  %-10s best after %d models %.4f [%.4f, %.4f]; after its %d: %.4f, regret %.4f, "
           "top %.2f%%\n",
           G[g].name, P, G[g].atp_mean, G[g].atp_lo, G[g].atp_hi, G[g].L, G[g].fin_mean,
           G[g].reg_mean, G[g].top_mean);
  {
    int bad = ferror(tv) | ferror(md) | ferror(js);
    bad |= fclose(tv) != 0;
    bad |= fclose(md) != 0;
    bad |= fclose(js) != 0;
    tv = md = js = NULL;
    if (bad) {
      snprintf(err, errlen, "write error in %s", out_dir);
      goto out;
    }
  }
  if (write_svg(out_dir, G, ng, err, errlen)) goto out;
  rc = 0;
out:
  if (tv) fclose(tv);
  if (md) fclose(md);
  if (js) fclose(js);
  for (int g = 0; G && g < ng; g++) group_free(&G[g]);
  free(G);
  free(boot);
  free(acc);
  free(tmp);
  return rc;
}
