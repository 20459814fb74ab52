// `pnas predictor retrain|eval`: refit the surrogate on every measured child of a run and
// report rank correlation by level (paper protocol: fit on levels <= b, test on level b+1), or
// evaluate a saved predictor file against a run's measurements.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pnas/cli/cli.h"
#include "pnas/search/search.h"
#include "pnas/search/table.h"
#include "predictor/predictor.h"
#include "predictor/rank.h"

static const char USAGE[] =
    "usage: pnas predictor retrain --run DIR [--model mlp|lstm|ridge] [--members M] [--epochs E]\n"
    "                              [--seed s] [--topk k] [--threads t] [--json] [--out FILE]\n"
    "                              [--salvage]\n"
    "       pnas predictor eval --run DIR --model FILE [--topk k] [--threads t] [--json]\n"
    "                           [--salvage]\n"
    "retrain: per level b, fit on the run's cells with <= b blocks and test on the cells with\n"
    "b+1 blocks (Spearman, Kendall tau-b, precision@k); then fit on everything and save to\n"
    "FILE (default predictor-retrained-<model>.msgpack in the current directory; never into\n"
    "the run).\n"
    "eval: score every measured cell of the run with a saved predictor, per level; rows at\n"
    "depths the predictor was fitted on ('fitted') are pooled apart from deeper, held-out rows;\n"
    "precision@k only where k < cells.\n"
    "--salvage: read past corrupt records in the run's results log (with a warning), in memory\n"
    "only: the run is never changed (`pnas search --resume DIR --salvage` repairs it).\n"
    "       pnas predictor eval --table DIR [--model mlp|lstm|ridge] [--members M] [--epochs E]\n"
    "                           [--seeds S] [--dump FILE] [--threads t] [--json]\n"
    "eval --table: the paper's Table 1 setting on a benchmark table: fit on every cell of\n"
    "levels <= b exactly as a PNAS search with seed k fits its level-b predictor (k = 1..S [5]),\n"
    "score every cell of level b+1: Spearman, Kendall, precision@K of the true top K (K = 8,\n"
    "32; only where K < cells), the mean true accuracy of the top-K picks against the level\n"
    "mean, next to the table's noise ceiling. --dump FILE: seed 1's predictions as TSV.\n"
    "examples:\n"
    "  pnas predictor retrain --run runs/a --model mlp --out a-mlp.msgpack\n"
    "  pnas predictor eval --run runs/a --model a-mlp.msgpack --salvage\n"
    "  pnas predictor eval --table data/tables/fm-3ops-b2 --model mlp --seeds 5\n";

// The successfully measured children of a run (all records with ok = 1). salvage: skip corrupt
// records (store_read_log only reads: the run is not changed).
static int load_run(const char *dir, int salvage, space_cell **cells, float **acc, int *n,
                    char *err, size_t errlen) {
  char path[1100];
  snprintf(path, sizeof path, "%s/results.log", dir);
  store_record *recs;
  int nr;
  long torn;
  if (store_read_log(path, salvage, &recs, &nr, &torn, err, errlen)) return -1;
  *cells = malloc(sizeof **cells * (size_t)(nr ? nr : 1));
  *acc = malloc(sizeof **acc * (size_t)(nr ? nr : 1));
  if (!*cells || !*acc) {
    free(recs), free(*cells), free(*acc);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  int k = 0;
  for (int i = 0; i < nr; i++)
    if (recs[i].ok) (*cells)[k] = recs[i].cell, (*acc)[k++] = (float)recs[i].val_acc;
  free(recs);
  *n = k;
  if (k < 2) {
    snprintf(err, errlen, "%s: only %d measured children; need at least 2", dir, k);
    free(*cells), free(*acc);
    return -1;
  }
  return 0;
}

static int retrain(const char *run, int salvage, const char *model, const char *out_path,
                   int members, int epochs, int64_t seed, int topk, int threads, int json) {
  char err[1024];
  int kind = pred_kind_from_name(model);
  if (kind < 0) {
    fprintf(stderr, "pnas predictor: unknown --model '%s' (lstm, mlp, ridge)\n", model);
    return 2;
  }
  space_cell *cells;
  float *acc;
  int n;
  if (load_run(run, salvage, &cells, &acc, &n, err, sizeof err)) {
    fprintf(stderr, "pnas predictor retrain: %s\n", err);
    return 1;
  }
  pred_fit_config cfg;
  pred_fit_config_default(&cfg, (pred_kind)kind);
  cfg.members = members;
  if (epochs > 0) cfg.epochs = epochs;
  cfg.seed = (uint64_t)seed;
  cfg.threads = threads;
  cfg.lr = 0; // paper schedule by level
  pred_level_eval ev[SPACE_MAX_BLOCKS];
  int nev = 0;
  if (pred_protocol_eval(cells, acc, n, &cfg, topk, ev, SPACE_MAX_BLOCKS, &nev, err, sizeof err)) {
    fprintf(stderr, "pnas predictor retrain: %s\n", err);
    free(cells), free(acc);
    return 1;
  }
  // Never into the run directory: a run holds what its search wrote, nothing else.
  char out[1200];
  if (out_path) snprintf(out, sizeof out, "%s", out_path);
  else snprintf(out, sizeof out, "predictor-retrained-%s.msgpack", model);
  if (pred_fit_and_save(cells, acc, n, &cfg, out, err, sizeof err)) {
    fprintf(stderr, "pnas predictor retrain: %s\n", err);
    free(cells), free(acc);
    return 1;
  }
  if (json) {
    printf("{\"model\": \"%s\", \"members\": %d, \"cells\": %d, \"saved\": \"%s\", \"levels\": [",
           model, members, n, out);
    for (int i = 0; i < nev; i++)
      printf("%s{\"train_level\": %d, \"test_level\": %d, \"ntrain\": %d, \"ntest\": %d, "
             "\"spearman\": %.6f, \"kendall\": %.6f, \"k\": %d, \"precision_at_k\": %.6f, "
             "\"fit_seconds\": %.3f}",
             i ? ", " : "", ev[i].train_level, ev[i].train_level + 1, ev[i].ntrain, ev[i].ntest,
             ev[i].spearman, ev[i].kendall, ev[i].k, ev[i].prec_at_k, ev[i].seconds);
    printf("]}\n");
  } else {
    printf("%s ensemble (%d members) on %d measured cells of %s\n", model, members, n, run);
    printf("%-9s %-8s %7s %7s %9s %9s %12s %8s\n", "fit on", "test on", "ntrain", "ntest",
           "spearman", "kendall", "precision@k", "fit s");
    for (int i = 0; i < nev; i++)
      printf("b<=%-6d b=%-6d %7d %7d %9.3f %9.3f %9.3f@%-3d %7.1f\n", ev[i].train_level,
             ev[i].train_level + 1, ev[i].ntrain, ev[i].ntest, ev[i].spearman, ev[i].kendall,
             ev[i].prec_at_k, ev[i].k, ev[i].seconds);
    if (!nev) printf("(the run has a single level: nothing to test on; fitted anyway)\n");
    printf("saved %s\n", out);
  }
  free(cells), free(acc);
  return 0;
}

static int eval(const char *run, int salvage, const char *model_path, int topk, int threads,
                int json) {
  char err[1024];
  pred_ensemble *e;
  if (pred_ensemble_load(&e, model_path, err, sizeof err)) {
    fprintf(stderr, "pnas predictor eval: %s\n", err);
    return 1;
  }
  space_cell *cells;
  float *acc;
  int n;
  if (load_run(run, salvage, &cells, &acc, &n, err, sizeof err)) {
    fprintf(stderr, "pnas predictor eval: %s\n", err);
    pred_ensemble_free(e);
    return 1;
  }
  float *pred = malloc(sizeof *pred * (size_t)n), *a = malloc(sizeof *a * (size_t)n),
        *p = malloc(sizeof *p * (size_t)n);
  int rc = 1;
  if (!pred || !a || !p) {
    fprintf(stderr, "pnas predictor eval: out of memory\n");
    goto out;
  }
  if (pred_ensemble_predict(e, cells, n, pred, NULL, threads, err, sizeof err)) {
    fprintf(stderr, "pnas predictor eval: %s\n", err);
    goto out;
  }
  // Rows at depths the predictor was fitted on are not held out (a search's level-b predictor
  // was fitted on this run's cells of <= b blocks): they are reported apart from deeper rows,
  // and never pooled with them.
  uint32_t dops;
  int dblocks = 0, dcells = 0;
  int known = pred_ensemble_domain(e, &dops, &dblocks, &dcells) == 0;
  if (!known)
    fprintf(stderr, "pnas predictor eval: %s does not record what it was fitted on (written by "
                    "an older pnas): rows it was fitted on cannot be told from held-out ones\n",
            model_path);
  if (json)
    printf("{\"model\": \"%s\", \"run\": \"%s\", \"fitted_max_blocks\": %d, \"levels\": [",
           model_path, run, known ? dblocks : 0);
  else {
    printf("%s on %s\n", model_path, run);
    if (known)
      printf("(fitted on %d cells of <= %d blocks: rows of <= %d blocks are not held out; "
             "precision@k only where k < cells)\n", dcells, dblocks, dblocks);
    printf("%-9s %6s %-9s %9s %9s %12s %9s\n", "level", "cells", "rows", "spearman", "kendall",
           "precision@k", "mean|err|");
  }
  int first = 1;
  // Levels 1..B, then the pooled groups: -1 = every held-out row (deeper than the fit), -2 =
  // every row at fitted depths; with an unknown domain, 0 = all rows.
  int groups[SPACE_MAX_BLOCKS + 2], ng = 0;
  for (int l = 1; l <= SPACE_MAX_BLOCKS; l++) groups[ng++] = l;
  if (known) groups[ng++] = -1, groups[ng++] = -2;
  else groups[ng++] = 0;
  for (int gi = 0; gi < ng; gi++) {
    int lvl = groups[gi];
    int m = 0;
    double mae = 0;
    for (int i = 0; i < n; i++) {
      int nb = cells[i].nblocks;
      int in = lvl > 0 ? nb == lvl : lvl == 0 ? 1 : lvl == -1 ? nb > dblocks : nb <= dblocks;
      if (in) {
        a[m] = acc[i], p[m++] = pred[i];
        mae += fabs((double)pred[i] - acc[i]);
      }
    }
    if (m < 2) continue;
    const char *rows = !known ? "unknown" : (lvl > 0 ? lvl <= dblocks : lvl == -2) ? "fitted" : "held-out";
    double sp = rank_spearman(p, a, m), kt = rank_kendall_tau_b(p, a, m);
    int has_pk = topk < m; // precision@k of k cells out of k is always 1: not reported
    double pk = has_pk ? rank_precision_at_k(a, p, m, topk) : NAN;
    char name[16];
    if (lvl > 0) snprintf(name, sizeof name, "%d", lvl);
    else snprintf(name, sizeof name, "%s", lvl == 0 ? "all" : lvl == -1 ? "all>" : "all<=");
    if (lvl < 0) snprintf(name + strlen(name), sizeof name - strlen(name), "%d", dblocks);
    if (json) {
      printf("%s{\"level\": ", first ? "" : ", ");
      if (lvl > 0) printf("%d", lvl);
      else printf("\"%s\"", lvl == 0 ? "all" : lvl == -1 ? "held_out" : "fitted");
      printf(", \"cells\": %d, \"rows\": \"%s\", \"spearman\": %.6f, \"kendall\": %.6f, "
             "\"k\": %d, \"precision_at_k\": ", m, rows, sp, kt, topk);
      if (has_pk) printf("%.6f", pk);
      else printf("null");
      printf(", \"mae\": %.6f}", mae / m);
    } else {
      char pks[24];
      if (has_pk) snprintf(pks, sizeof pks, "%.3f@%d", pk, topk);
      else snprintf(pks, sizeof pks, "-");
      printf("%-9s %6d %-9s %9.3f %9.3f %12s %9.4f\n", name, m, rows, sp, kt, pks, mae / m);
    }
    first = 0;
  }
  if (json) printf("]}\n");
  rc = 0;
out:
  free(pred), free(a), free(p), free(cells), free(acc);
  pred_ensemble_free(e);
  return rc;
}

// Mean true accuracy of the k cells with the highest predictions.
static double topk_truth(const float *truth, const float *pred, int n, int k) {
  int *idx = malloc(sizeof *idx * (size_t)n);
  if (!idx) return NAN;
  for (int i = 0; i < n; i++) idx[i] = i;
  // Partial selection sort by prediction (descending; ties by index): k is small.
  double s = 0;
  for (int j = 0; j < k; j++) {
    int b = j;
    for (int i = j + 1; i < n; i++)
      if (pred[idx[i]] > pred[idx[b]]) b = i;
    int t = idx[j];
    idx[j] = idx[b];
    idx[b] = t;
    s += truth[idx[j]];
  }
  free(idx);
  return s / k;
}

#define EVAL_NK 2
static const int EVAL_K[EVAL_NK] = {8, 32};

static int eval_table(const char *dir, const char *model, int members, int epochs, int seeds,
                      const char *dump, int threads, int json) {
  char err[1024];
  int kind = pred_kind_from_name(model);
  if (kind < 0) {
    fprintf(stderr, "pnas predictor eval: unknown --model '%s' (lstm, mlp, ridge)\n", model);
    return 2;
  }
  pnas_table *t;
  if (table_load(dir, &t, err, sizeof err)) {
    fprintf(stderr, "pnas predictor eval: --table: %s\n", err);
    return 1;
  }
  int n = t->n, rc = 1;
  space_cell *cells = malloc(sizeof *cells * (size_t)(n + 1));
  float *acc = malloc(sizeof *acc * (size_t)(n + 1)), *pred = malloc(sizeof *pred * (size_t)(n + 1));
  float *tp = malloc(sizeof *tp * (size_t)(n + 1)), *ta = malloc(sizeof *ta * (size_t)(n + 1));
  double *stat = malloc(sizeof *stat * (size_t)(seeds * (2 + 2 * EVAL_NK) + 1));
  FILE *df = NULL;
  if (!cells || !acc || !pred || !tp || !ta || !stat) {
    fprintf(stderr, "pnas predictor eval: out of memory\n");
    goto out;
  }
  if (dump && !(df = fopen(dump, "w"))) {
    fprintf(stderr, "pnas predictor eval: cannot create %s\n", dump);
    goto out;
  }
  if (df) fprintf(df, "cell\tlevel\tval_acc\tpredicted\n");
  if (json) printf("{\"table\":\"%s\",\"model\":\"%s\",\"members\":%d,\"seeds\":%d,\"levels\":[",
                   dir, model, members, seeds);
  else
    printf("%s ensemble (%d members) on the table %s, predictor seeds 1..%d: mean [min, max]\n",
           model, members, dir, seeds);
  for (int b = 1; b < t->levels; b++) {
    // Training set: every ok cell with <= b blocks; test set: every ok cell with b + 1.
    int ntr = 0, nte = 0;
    for (int i = 0; i < n; i++)
      if (t->rec[i].ok && t->rec[i].cell.nblocks <= b)
        cells[ntr] = t->rec[i].cell, acc[ntr++] = (float)t->rec[i].val_acc;
    space_cell *test = cells + ntr;
    float *tacc = acc + ntr;
    double lmean = 0;
    for (int i = 0; i < n; i++)
      if (t->rec[i].ok && t->rec[i].cell.nblocks == b + 1) {
        test[nte] = t->rec[i].cell;
        tacc[nte] = (float)t->rec[i].val_acc;
        lmean += tacc[nte++];
      }
    if (ntr < 2 || nte < 2) continue;
    lmean /= nte;
    for (int k = 0; k < seeds; k++) {
      pred_fit_config pc;
      pred_fit_config_default(&pc, (pred_kind)kind);
      pc.members = members;
      if (epochs > 0) pc.epochs = epochs;
      pc.lr = pred_lr_for_level(b);
      pc.seed = (uint64_t)(k + 1) * 1000003ULL + (uint64_t)b; // as strategy_pnas.c, seed k+1
      pc.threads = threads;
      pred_ensemble *e = pred_ensemble_new();
      if (!e || pred_ensemble_fit(e, cells, acc, ntr, &pc, err, sizeof err) != PRED_OK ||
          pred_ensemble_predict(e, test, nte, pred, NULL, threads, err, sizeof err) != PRED_OK) {
        fprintf(stderr, "pnas predictor eval: level %d seed %d: %s\n", b, k + 1,
                e ? err : "out of memory");
        pred_ensemble_free(e);
        goto out;
      }
      pred_ensemble_free(e);
      for (int i = 0; df && k == 0 && i < nte; i++) {
        char text[SPACE_TEXT_MAX];
        space_format(&test[i], text, sizeof text);
        fprintf(df, "%s\t%d\t%.6f\t%.9g\n", text, b + 1, tacc[i], pred[i]);
      }
      double *st = stat + (size_t)k * (2 + 2 * EVAL_NK);
      st[0] = rank_spearman(pred, tacc, nte);
      st[1] = rank_kendall_tau_b(pred, tacc, nte);
      for (int q = 0; q < EVAL_NK; q++) {
        int K = EVAL_K[q];
        st[2 + 2 * q] = K < nte ? rank_precision_at_k(tacc, pred, nte, K) : NAN;
        st[3 + 2 * q] = K < nte ? topk_truth(tacc, pred, nte, K) : NAN;
      }
    }
    // Mean, min, max over seeds of each figure.
    const int NS = 2 + 2 * EVAL_NK;
    double mean[2 + 2 * EVAL_NK], lo[2 + 2 * EVAL_NK], hi[2 + 2 * EVAL_NK];
    for (int f = 0; f < NS; f++) {
      mean[f] = 0, lo[f] = INFINITY, hi[f] = -INFINITY;
      for (int k = 0; k < seeds; k++) {
        double v = stat[(size_t)k * NS + f];
        mean[f] += v / seeds;
        if (v < lo[f]) lo[f] = v;
        if (v > hi[f]) hi[f] = v;
      }
    }
    table_noise nz = {0};
    int have_nz = t->nrep > 0 && table_noise_ceiling(t, 0, b + 1, &nz) == 0;
    if (json) {
      printf("%s{\"train_levels\":\"1..%d\",\"test_level\":%d,\"ntrain\":%d,\"ntest\":%d,"
             "\"level_mean\":%.6f",
             b > 1 ? "," : "", b, b + 1, ntr, nte, lmean);
      static const char *const NAMES[] = {"spearman", "kendall", "precision_at_8",
                                          "top8_mean_acc", "precision_at_32", "top32_mean_acc"};
      for (int f = 0; f < NS; f++)
        if (isfinite(mean[f]))
          printf(",\"%s\":{\"mean\":%.6f,\"min\":%.6f,\"max\":%.6f}", NAMES[f], mean[f], lo[f],
                 hi[f]);
        else
          printf(",\"%s\":null", NAMES[f]);
      if (have_nz)
        printf(",\"noise_ceiling\":{\"n\":%d,\"spearman\":%.6f,\"kendall\":%.6f}", nz.n,
               nz.spearman, nz.kendall);
      printf("}");
    } else {
      printf("fit on levels 1..%d (%d cells), test on level %d (%d cells, mean accuracy %.4f):\n",
             b, ntr, b + 1, nte, lmean);
      printf("  Spearman %.3f [%.3f, %.3f]   Kendall %.3f [%.3f, %.3f]\n", mean[0], lo[0], hi[0],
             mean[1], lo[1], hi[1]);
      for (int q = 0; q < EVAL_NK; q++) {
        if (!isfinite(mean[2 + 2 * q])) {
          printf("  precision@%d: not defined (%d test cells)\n", EVAL_K[q], nte);
          continue;
        }
        printf("  precision@%d %.3f [%.3f, %.3f]   mean accuracy of the top %d picks %.4f "
               "[%.4f, %.4f] (level mean %.4f, %+.4f)\n",
               EVAL_K[q], mean[2 + 2 * q], lo[2 + 2 * q], hi[2 + 2 * q], EVAL_K[q],
               mean[3 + 2 * q], lo[3 + 2 * q], hi[3 + 2 * q], lmean, mean[3 + 2 * q] - lmean);
      }
      if (have_nz)
        printf("  noise ceiling (a second training seed on %d level-%d cells): Spearman %.3f, "
               "Kendall %.3f\n", nz.n, b + 1, nz.spearman, nz.kendall);
      else
        printf("  noise ceiling: the table has no repeated level-%d cells\n", b + 1);
    }
  }
  if (json) printf("]}\n");
  rc = 0;
  if (df && (fflush(df) || ferror(df) || fclose(df))) {
    fprintf(stderr, "pnas predictor eval: write error on %s\n", dump);
    rc = 1;
  }
  df = NULL;
  if (fflush(stdout) || ferror(stdout)) {
    fprintf(stderr, "pnas predictor eval: cannot write to standard output\n");
    rc = 1;
  }
out:
  if (df) fclose(df);
  free(cells), free(acc), free(pred), free(tp), free(ta), free(stat);
  table_free(t);
  return rc;
}

int cmd_predictor(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(USAGE, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const char *sub = argv[1], *run = NULL, *model = NULL, *table = NULL, *dump = NULL;
  const char *out = NULL;
  int members = 5, epochs = 0, topk = 10, threads = 0, json = 0, seeds = 5, salvage = 0;
  int64_t seed = 1;
  arg_spec specs[] = {
      {"run", ARG_STR, &run, 0, -1, NULL},         {"model", ARG_STR, &model, 0, -1, NULL},
      {"members", ARG_INT, &members, 1, 50, NULL}, {"epochs", ARG_INT, &epochs, 0, 100000, NULL},
      {"seed", ARG_I64, &seed, 0, 9e18, NULL},     {"topk", ARG_INT, &topk, 1, 100000, NULL},
      {"threads", ARG_INT, &threads, 0, 1024, NULL}, {"json", ARG_FLAG, &json, 0, -1, NULL},
      {"table", ARG_STR, &table, 0, -1, NULL},      {"seeds", ARG_INT, &seeds, 1, 1000, NULL},
      {"dump", ARG_STR, &dump, 0, -1, NULL},        {"out", ARG_STR, &out, 0, -1, NULL},
      {"salvage", ARG_FLAG, &salvage, 0, -1, NULL},
  };
  int rc = args_parse("pnas predictor", USAGE, argc, argv, 2, specs,
                      sizeof specs / sizeof specs[0], NULL, 0, NULL);
  if (rc == 3) return 0;
  if (rc) return rc;
  if (table && !strcmp(sub, "eval")) {
    if (run) {
      fprintf(stderr, "pnas predictor eval: give --run or --table, not both\n");
      return 2;
    }
    if (salvage) {
      fprintf(stderr, "pnas predictor eval: --salvage reads a damaged --run; a --table is read "
                      "as it is\n");
      return 2;
    }
    if (members < 2 && strcmp(model ? model : "mlp", "ridge")) {
      fprintf(stderr, "pnas predictor eval: --members must be at least 2\n");
      return 2;
    }
    return eval_table(table, model ? model : "mlp", members, epochs, seeds, dump, threads, json);
  }
  if (!run) {
    fprintf(stderr, "pnas predictor %s: --run DIR is required\n", sub);
    return 2;
  }
  if (!strcmp(sub, "retrain")) {
    if (members < 2 && strcmp(model ? model : "mlp", "ridge")) {
      fprintf(stderr, "pnas predictor retrain: --members must be at least 2\n");
      return 2;
    }
    return retrain(run, salvage, model ? model : "mlp", out, members, epochs, seed, topk, threads,
                   json);
  }
  if (!strcmp(sub, "eval")) {
    if (!model) {
      fprintf(stderr, "pnas predictor eval: --model FILE is required\n");
      return 2;
    }
    return eval(run, salvage, model, topk, threads, json);
  }
  fprintf(stderr, "pnas predictor: unknown subcommand '%s' (retrain, eval)\n", sub);
  return 2;
}
