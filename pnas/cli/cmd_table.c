// `pnas table build|info|export`: benchmark tables (every unique cell of a space trained once,
// see pnas/search/table.h). build runs the table strategy through `pnas search` (same flags, resume,
// --jobs, MPI, progress line); info summarises a table; export writes it as TSV.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pnas/cli/cli.h"
#include "pnas/search/table.h"

static const char USAGE[] =
    "usage: pnas table build --out DIR [--ops LIST --max-blocks B] [child-training flags]\n"
    "                        [--repeat-seeds S --repeat-sample M] [--jobs J --threads T]\n"
    "       pnas table build --resume DIR [--threads T --jobs J --device D]\n"
    "       pnas table info DIR [--json]\n"
    "       pnas table export DIR --format tsv [--out FILE]\n"
    "A table trains every unique cell of levels 1..B once under one recipe (the child-training\n"
    "flags of pnas search; defaults are the search's). DIR is a run directory: a valid --cache\n"
    "for searches with the same recipe, and the ground truth of `pnas compare --table DIR` and\n"
    "`pnas predictor eval --table DIR`. --repeat-seeds S --repeat-sample M trains M cells drawn\n"
    "at random again with S other training seeds (DIR/repeat-<seed>): the noise ceiling.\n"
    "examples:\n"
    "  pnas table info data/tables/fm-3ops-b2\n"
    "  pnas table build --ops identity,sep3x3,max3x3 --max-blocks 2 --out t \\\n"
    "           --repeat-seeds 1 --repeat-sample 100 --jobs 2\n";

static int cmd_table_build(int argc, char **argv) {
  // pnas search --strategy table, with --out as --run.
  char **av = calloc((size_t)argc + 4, sizeof *av);
  if (!av) return 1;
  int n = 0, resume = 0;
  av[n++] = "search";
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(USAGE, stdout);
      free(av);
      return 0;
    }
    if (!strcmp(argv[i], "--resume") || !strncmp(argv[i], "--resume=", 9)) resume = 1;
    if (!strcmp(argv[i], "--strategy") || !strncmp(argv[i], "--strategy=", 11)) {
      fprintf(stderr, "pnas table build: --strategy is not a table flag\n");
      free(av);
      return 2;
    }
    if (!strcmp(argv[i], "--out")) av[n++] = "--run";
    else if (!strncmp(argv[i], "--out=", 6)) {
      static char buf[4200];
      snprintf(buf, sizeof buf, "--run=%s", argv[i] + 6);
      av[n++] = buf;
    } else if (!strcmp(argv[i], "--run") || !strncmp(argv[i], "--run=", 6)) {
      fprintf(stderr, "pnas table build: the table directory is --out DIR\n");
      free(av);
      return 2;
    } else av[n++] = argv[i];
  }
  int has_out = 0;
  for (int i = 1; i < n; i++) has_out |= !strcmp(av[i], "--run") || !strncmp(av[i], "--run=", 6);
  if (!resume && !has_out) {
    fprintf(stderr, "pnas table build: give the table directory with --out DIR\n%s", USAGE);
    free(av);
    return 2;
  }
  if (!resume) {
    av[n++] = "--strategy";
    av[n++] = "table";
  }
  int rc = cmd_search(n, av);
  free(av);
  return rc;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double quantile(const double *sorted, int n, double q) {
  if (n <= 0) return NAN;
  double pos = q * (n - 1);
  int i = (int)pos;
  double f = pos - i;
  return i + 1 < n ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i];
}

static int cmd_table_info(int argc, char **argv) {
  int json = 0, npos = 0;
  const char *pos[1];
  arg_spec specs[] = {{"json", ARG_FLAG, &json, 0, -1, NULL}};
  int rc = args_parse("pnas table info", USAGE, argc, argv, 1, specs, 1, pos, 1, &npos);
  if (rc == 3) return 0;
  if (rc) return rc;
  if (npos != 1) {
    fprintf(stderr, "pnas table info: give one table directory\n");
    return 2;
  }
  char err[1024];
  pnas_table *t;
  if (table_load(pos[0], &t, err, sizeof err)) {
    fprintf(stderr, "pnas table info: %s\n", err);
    return 1;
  }
  double *acc = malloc(sizeof *acc * (size_t)(t->n + 1));
  if (!acc) {
    table_free(t);
    return 1;
  }
  const store_record *best = NULL;
  double secs = 0;
  for (int i = 0; i < t->n; i++) {
    secs += t->rec[i].seconds;
    if (t->rec[i].ok && (!best || t->rec[i].val_acc > best->val_acc)) best = &t->rec[i];
  }
  char text[SPACE_TEXT_MAX];
  if (json) {
    printf("{\"dir\":\"%s\",\"ops\":\"%s\",\"max_blocks\":%d,\"settings\":\"%016llx\",\"cells\":%d,"
           "\"seconds\":%.1f,\"levels\":[",
           t->dir, t->cfg.ops, t->cfg.max_blocks, (unsigned long long)t->settings, t->n, secs);
  } else {
    printf("table %s: ops %s, levels 1..%d, dataset %s, N=%d F=%d, epochs %d, batch %d, lr %g, "
           "train/val images %d/%d, train seed %lld\n",
           t->dir, t->cfg.ops, t->cfg.max_blocks, t->cfg.dataset, t->cfg.N, t->cfg.F,
           t->cfg.epochs, t->cfg.batch, t->cfg.lr, t->cfg.train_subset, t->cfg.val_subset,
           (long long)t->cfg.train_seed);
    printf("%-6s %6s %6s %8s %8s %8s %8s %8s %8s %8s\n", "level", "cells", "failed", "min", "p10",
           "median", "p90", "max", "mean", "sd");
  }
  for (int l = 1; l <= t->levels; l++) {
    int cnt = 0, fail = 0, m = 0;
    double sum = 0, sq = 0;
    const store_record *lb = NULL;
    for (int i = 0; i < t->n; i++) {
      const store_record *r = &t->rec[i];
      if (r->cell.nblocks != l) continue;
      cnt++;
      if (!r->ok) {
        fail++;
        continue;
      }
      acc[m++] = r->val_acc;
      sum += r->val_acc;
      sq += r->val_acc * r->val_acc;
      if (!lb || r->val_acc > lb->val_acc) lb = r;
    }
    qsort(acc, (size_t)m, sizeof *acc, cmp_double);
    double mean = m ? sum / m : NAN, sd = m > 1 ? sqrt(fmax(0, (sq - m * mean * mean) / (m - 1))) : NAN;
    if (lb) space_format(&lb->cell, text, sizeof text);
    else text[0] = '\0';
    if (json)
      printf("%s{\"level\":%d,\"cells\":%d,\"failed\":%d,\"min\":%.6g,\"p10\":%.6g,"
             "\"median\":%.6g,\"p90\":%.6g,\"max\":%.6g,\"mean\":%.6g,\"sd\":%.6g,"
             "\"best\":\"%s\"}",
             l > 1 ? "," : "", l, cnt, fail, m ? acc[0] : NAN, quantile(acc, m, 0.1),
             quantile(acc, m, 0.5), quantile(acc, m, 0.9), m ? acc[m - 1] : NAN, mean, sd, text);
    else {
      printf("%-6d %6d %6d %8.4f %8.4f %8.4f %8.4f %8.4f %8.4f %8.4f\n", l, cnt, fail,
             m ? acc[0] : NAN, quantile(acc, m, 0.1), quantile(acc, m, 0.5),
             quantile(acc, m, 0.9), m ? acc[m - 1] : NAN, mean, sd);
      if (lb) printf("       best: %s %.4f (params %lld)\n", text, lb->val_acc,
                     (long long)lb->params);
    }
  }
  if (best) space_format(&best->cell, text, sizeof text);
  if (json) {
    printf("],\"best\":");
    if (best)
      printf("{\"cell\":\"%s\",\"level\":%d,\"val_acc\":%.6g,\"params\":%lld,\"mult_adds\":%lld}",
             text, best->cell.nblocks, best->val_acc, (long long)best->params,
             (long long)best->mult_adds);
    else
      printf("null");
    printf(",\"repeats\":[");
  } else {
    if (best)
      printf("best cell: %s (level %d) %.4f, params %lld, mult-adds %lld\n", text,
             best->cell.nblocks, best->val_acc, (long long)best->params,
             (long long)best->mult_adds);
    printf("%d cells, %.0f s of training\n", t->n, secs);
    if (!t->nrep) printf("noise ceiling: no repeats (build with --repeat-seeds S --repeat-sample M)\n");
  }
  for (int k = 0; k < t->nrep; k++) {
    if (json) printf("%s{\"train_seed\":%lld,\"cells\":%d,\"by_level\":[", k ? "," : "",
                     (long long)t->rep[k].train_seed, t->rep[k].n);
    for (int l = 0; l <= t->levels; l++) {
      table_noise nz;
      int ok = table_noise_ceiling(t, k, l, &nz) == 0;
      if (json) {
        printf("%s{\"level\":%d,\"n\":%d", l ? "," : "", l, nz.n);
        if (ok)
          printf(",\"spearman\":%.6g,\"kendall\":%.6g,\"mean_abs_diff\":%.6g,\"max_abs_diff\":%.6g",
                 nz.spearman, nz.kendall, nz.mean_abs, nz.max_abs);
        printf("}");
      } else if (ok) {
        char lv[32];
        if (l) snprintf(lv, sizeof lv, "level %d", l);
        else snprintf(lv, sizeof lv, "all levels");
        printf("noise ceiling (train seed %lld vs %lld), %s: %d cells, Spearman %.3f, Kendall "
               "%.3f, mean |diff| %.4f, max |diff| %.4f\n",
               (long long)t->cfg.train_seed, (long long)t->rep[k].train_seed,
               lv, nz.n, nz.spearman,
               nz.kendall, nz.mean_abs, nz.max_abs);
      }
    }
    if (json) printf("]}");
  }
  if (json) printf("]}\n");
  free(acc);
  table_free(t);
  if (fflush(stdout) || ferror(stdout)) {
    fprintf(stderr, "pnas table info: cannot write to standard output\n");
    return 1;
  }
  return 0;
}

static int cmd_table_export(int argc, char **argv) {
  const char *format = NULL, *out = NULL;
  int npos = 0;
  const char *pos[1];
  arg_spec specs[] = {{"format", ARG_STR, &format, 0, -1, NULL},
                      {"out", ARG_STR, &out, 0, -1, NULL}};
  int rc = args_parse("pnas table export", USAGE, argc, argv, 1, specs, 2, pos, 1, &npos);
  if (rc == 3) return 0;
  if (rc) return rc;
  if (npos != 1) {
    fprintf(stderr, "pnas table export: give one table directory\n");
    return 2;
  }
  if (!format || strcmp(format, "tsv")) {
    fprintf(stderr, "pnas table export: --format tsv is the one format\n");
    return 2;
  }
  char err[1024];
  pnas_table *t;
  if (table_load(pos[0], &t, err, sizeof err)) {
    fprintf(stderr, "pnas table export: %s\n", err);
    return 1;
  }
  FILE *f = out ? fopen(out, "w") : stdout;
  if (!f) {
    fprintf(stderr, "pnas table export: cannot create %s: %s\n", out, strerror(errno));
    table_free(t);
    return 1;
  }
  fprintf(f, "cell\tlevel\tval_acc\tparams\tmult_adds\tseconds\tok");
  for (int k = 0; k < t->nrep; k++) fprintf(f, "\tval_acc_seed%lld", (long long)t->rep[k].train_seed);
  fputc('\n', f);
  char text[SPACE_TEXT_MAX];
  for (int i = 0; i < t->n; i++) {
    const store_record *r = &t->rec[i];
    space_format(&r->cell, text, sizeof text);
    fprintf(f, "%s\t%d\t%.6f\t%lld\t%lld\t%.3f\t%d", text, r->cell.nblocks, r->ok ? r->val_acc : NAN,
            (long long)r->params, (long long)r->mult_adds, r->seconds, r->ok);
    for (int k = 0; k < t->nrep; k++) {
      const store_record *x = table_find_repeat(t, k, r->hash);
      if (x && x->ok) fprintf(f, "\t%.6f", x->val_acc);
      else fputc('\t', f);
    }
    fputc('\n', f);
  }
  table_free(t);
  int bad = fflush(f) || ferror(f);
  if (out) bad |= fclose(f) != 0;
  if (bad) {
    fprintf(stderr, "pnas table export: write error on %s\n", out ? out : "standard output");
    return 1;
  }
  return 0;
}

int cmd_table(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(USAGE, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "build")) return cmd_table_build(argc - 1, argv + 1);
  if (!strcmp(argv[1], "info")) return cmd_table_info(argc - 1, argv + 1);
  if (!strcmp(argv[1], "export")) return cmd_table_export(argc - 1, argv + 1);
  fprintf(stderr, "pnas table: unknown subcommand '%s' (build, info, export)\n", argv[1]);
  return 2;
}
