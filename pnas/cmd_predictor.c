// `pnas predictor retrain|eval`: refit the surrogate on every measured child of a run and
// report rank correlation by level (paper protocol: fit on levels <= b, test on level b+1), or
// evaluate a saved predictor file against a run's measurements.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pnas/cli.h"
#include "pnas/search.h"
#include "predictor/predictor.h"
#include "predictor/rank.h"

static const char USAGE[] =
    "usage: pnas predictor retrain --run DIR [--model lstm|mlp|ridge] [--members M] [--epochs E]\n"
    "                              [--seed s] [--topk k] [--threads t] [--json]\n"
    "       pnas predictor eval --run DIR --model FILE [--topk k] [--threads t] [--json]\n"
    "retrain: per level b, fit on the run's cells with <= b blocks and test on the cells with\n"
    "b+1 blocks (Spearman, Kendall tau-b, precision@k); then fit on everything and save to\n"
    "DIR/predictor-retrained-<model>.msgpack.\n"
    "eval: score every measured cell of the run with a saved predictor, per level and overall.\n";

// The successfully measured children of a run (all records with ok = 1).
static int load_run(const char *dir, space_cell **cells, float **acc, int *n, char *err,
                    size_t errlen) {
  char path[1100];
  snprintf(path, sizeof path, "%s/results.log", dir);
  store_record *recs;
  int nr;
  long torn;
  if (store_read_log(path, 0, &recs, &nr, &torn, err, errlen)) return -1;
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

static int retrain(const char *run, const char *model, int members, int epochs, int64_t seed,
                   int topk, int threads, int json) {
  char err[1024];
  int kind = pred_kind_from_name(model);
  if (kind < 0) {
    fprintf(stderr, "pnas predictor: unknown --model '%s' (lstm, mlp, ridge)\n", model);
    return 2;
  }
  space_cell *cells;
  float *acc;
  int n;
  if (load_run(run, &cells, &acc, &n, err, sizeof err)) {
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
  char out[1200];
  snprintf(out, sizeof out, "%s/predictor-retrained-%s.msgpack", run, model);
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

static int eval(const char *run, const char *model_path, int topk, int threads, int json) {
  char err[1024];
  pred_ensemble *e;
  if (pred_ensemble_load(&e, model_path, err, sizeof err)) {
    fprintf(stderr, "pnas predictor eval: %s\n", err);
    return 1;
  }
  space_cell *cells;
  float *acc;
  int n;
  if (load_run(run, &cells, &acc, &n, err, sizeof err)) {
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
  if (json) printf("{\"model\": \"%s\", \"run\": \"%s\", \"levels\": [", model_path, run);
  else
    printf("%s on %s\n%-7s %6s %9s %9s %12s %9s\n", model_path, run, "level", "cells", "spearman",
           "kendall", "precision@k", "mean|err|");
  int first = 1;
  for (int lvl = 0; lvl <= SPACE_MAX_BLOCKS; lvl++) { // 0 = all levels together
    int m = 0;
    double mae = 0;
    for (int i = 0; i < n; i++)
      if (lvl == 0 || cells[i].nblocks == lvl) {
        a[m] = acc[i], p[m++] = pred[i];
        mae += fabs((double)pred[i] - acc[i]);
      }
    if (m < 2) continue;
    int k = topk < m ? topk : m;
    double sp = rank_spearman(p, a, m), kt = rank_kendall_tau_b(p, a, m);
    double pk = rank_precision_at_k(a, p, m, k);
    char lvlname[16];
    if (json)
      printf("%s{\"level\": %s, \"cells\": %d, \"spearman\": %.6f, \"kendall\": %.6f, "
             "\"k\": %d, \"precision_at_k\": %.6f, \"mae\": %.6f}",
             first ? "" : ", ", lvl ? (snprintf(lvlname, sizeof lvlname, "%d", lvl), lvlname) : "\"all\"",
             m, sp, kt, k, pk, mae / m);
    else {
      char name[8];
      snprintf(name, sizeof name, lvl ? "%d" : "all", lvl);
      printf("%-7s %6d %9.3f %9.3f %9.3f@%-3d %9.4f\n", name, m, sp, kt, pk, k, mae / m);
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

int cmd_predictor(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(USAGE, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const char *sub = argv[1], *run = NULL, *model = NULL;
  int members = 5, epochs = 0, topk = 10, threads = 0, json = 0;
  int64_t seed = 1;
  arg_spec specs[] = {
      {"run", ARG_STR, &run, 0, -1, NULL},         {"model", ARG_STR, &model, 0, -1, NULL},
      {"members", ARG_INT, &members, 1, 50, NULL}, {"epochs", ARG_INT, &epochs, 0, 100000, NULL},
      {"seed", ARG_I64, &seed, 0, 9e18, NULL},     {"topk", ARG_INT, &topk, 1, 100000, NULL},
      {"threads", ARG_INT, &threads, 0, 1024, NULL}, {"json", ARG_FLAG, &json, 0, -1, NULL},
  };
  int rc = args_parse("pnas predictor", USAGE, argc, argv, 2, specs,
                      sizeof specs / sizeof specs[0], NULL, 0, NULL);
  if (rc == 3) return 0;
  if (rc) return rc;
  if (!run) {
    fprintf(stderr, "pnas predictor %s: --run DIR is required\n", sub);
    return 2;
  }
  if (!strcmp(sub, "retrain")) {
    if (members < 2 && strcmp(model ? model : "lstm", "ridge")) {
      fprintf(stderr, "pnas predictor retrain: --members must be at least 2\n");
      return 2;
    }
    return retrain(run, model ? model : "lstm", members, epochs, seed, topk, threads, json);
  }
  if (!strcmp(sub, "eval")) {
    if (!model) {
      fprintf(stderr, "pnas predictor eval: --model FILE is required\n");
      return 2;
    }
    return eval(run, model, topk, threads, json);
  }
  fprintf(stderr, "pnas predictor: unknown subcommand '%s' (retrain, eval)\n", sub);
  return 2;
}
