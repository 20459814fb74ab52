// Benchmark of the predictor ensembles (not a test): (1) training time of a 5-member LSTM
// ensemble on the 1,160 cells of a PNAS run (136 one-block + 256 each of 2..5 blocks, synthetic
// targets) for a fixed number of epochs, against the same model in PyTorch on the CPU with the
// same threads, in one invocation (median over repeats, ratio printed); (2) scoring throughput
// for the children of 256 four-block parents (256 x 1176 = 301,056 five-block cells).
// Usage: predictor_bench [--epochs 20] [--batch 32] [--members 5] [--threads 2] [--repeats 3]
//        [--kind lstm|mlp] [--no-torch] [--no-score] [--no-train] [--python /usr/bin/python3]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "predictor/predictor.h"
#include "predictor/tokens.h"

#ifndef PNAS_SOURCE_DIR
#define PNAS_SOURCE_DIR "."
#endif

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_d);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static const double OPQ[SPACE_PNAS_OPS] = {-0.3, 0.5, 0.6, 0.4, 0.2, -0.1, 0.0, 0.3};

static float synth_acc(const space_cell *c, space_rng *r) {
  double q = 0.0;
  for (int k = 0; k < c->nblocks; k++)
    q += OPQ[c->b[k].op1] + OPQ[c->b[k].op2] + 0.2 * (c->b[k].in1 >= 2) + 0.2 * (c->b[k].in2 >= 2);
  return (float)(0.7 + 0.05 * q / (2.0 * c->nblocks) + 0.02 * c->nblocks / 5.0 +
                 0.005 * space_rng_uniform(r));
}

// The 1-minute load average: the figures mean little on a machine busy with other work.
static double loadavg(void) {
  double l = -1.0;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf", &l) != 1) l = -1.0;
    fclose(f);
  }
  return l;
}

static void machine_name(char *buf, size_t n) {
  snprintf(buf, n, "unknown CPU");
  FILE *p = popen("lscpu 2>/dev/null | grep -m1 'Model name' | sed 's/.*: *//'", "r");
  if (!p) return;
  if (fgets(buf, (int)n, p)) buf[strcspn(buf, "\n")] = 0;
  pclose(p);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int epochs = 20, batch = 32, members = 5, threads = 2, repeats = 3, torch = 1, score = 1,
      train = 1;
  const char *kind = "lstm", *python = "/usr/bin/python3";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--epochs") && v) epochs = atoi(v), i++;
    else if (!strcmp(a, "--batch") && v) batch = atoi(v), i++;
    else if (!strcmp(a, "--members") && v) members = atoi(v), i++;
    else if (!strcmp(a, "--threads") && v) threads = atoi(v), i++;
    else if (!strcmp(a, "--repeats") && v) repeats = atoi(v), i++;
    else if (!strcmp(a, "--kind") && v) kind = v, i++;
    else if (!strcmp(a, "--python") && v) python = v, i++;
    else if (!strcmp(a, "--no-torch")) torch = 0;
    else if (!strcmp(a, "--no-score")) score = 0;
    else if (!strcmp(a, "--no-train")) train = 0;
    else {
      fprintf(stderr, "usage: see the header of bench/predictor_bench.c\n");
      return 2;
    }
  }
  if (repeats < 1 || repeats > 50 || epochs < 1 || batch < 1 || members < 1 || threads < 1) {
    fprintf(stderr, "predictor_bench: bad option value\n");
    return 2;
  }
  int k = pred_kind_from_name(kind);
  if (k < 0) {
    fprintf(stderr, "predictor_bench: unknown kind %s\n", kind);
    return 2;
  }
  char cpu[256];
  machine_name(cpu, sizeof cpu);
  printf("machine: %s, %d threads, load average %.2f\n", cpu, threads, loadavg());

  // The 1,160 cells of a beam-256 run: 136 one-block cells, 256 random cells at 2..5 blocks.
  space_rng r;
  space_rng_seed(&r, 99);
  const int n = 136 + 4 * 256;
  space_cell *cells = malloc((size_t)n * sizeof *cells);
  float *acc = malloc((size_t)n * sizeof *acc);
  space_block blocks[136];
  int nb1 = space_blocks_at(1, SPACE_PNAS_MASK, blocks, 136);
  if (nb1 != 136) {
    fprintf(stderr, "predictor_bench: expected 136 one-block cells, got %d\n", nb1);
    return 1;
  }
  for (int i = 0; i < 136; i++) {
    cells[i].nblocks = 1;
    cells[i].b[0] = blocks[i];
  }
  for (int b = 2; b <= 5; b++)
    for (int i = 0; i < 256; i++) space_sample(&cells[136 + (b - 2) * 256 + i], b, SPACE_PNAS_MASK, &r);
  for (int i = 0; i < n; i++) acc[i] = synth_acc(&cells[i], &r);

  pred_fit_config cfg;
  pred_fit_config_default(&cfg, (pred_kind)k);
  cfg.members = members;
  cfg.epochs = epochs;
  cfg.min_steps = 0; // exactly --epochs, as the PyTorch side
  cfg.batch = batch;
  cfg.threads = threads;
  cfg.lr = 0.002f;
  char err[256];
  pred_ensemble *e = pred_ensemble_new();
  if (train) {
    double *t = malloc((size_t)repeats * sizeof *t);
    for (int rep = 0; rep <= repeats; rep++) { // rep 0 = warm-up
      cfg.seed = (uint64_t)rep + 1;
      double t0 = now_s();
      if (pred_ensemble_fit(e, cells, acc, n, &cfg, err, sizeof err)) {
        fprintf(stderr, "predictor_bench: fit: %s\n", err);
        return 1;
      }
      if (rep) t[rep - 1] = now_s() - t0;
    }
    double c_s = median(t, repeats);
    printf("train: %s ensemble of %d, %d cells (%d per member), %d epochs, batch %d\n", kind,
           members, n, n - n / members, epochs, batch);
    printf("  C (pnas):     %8.3f s  (median of %d)\n", c_s, repeats);
    if (torch && k == PRED_LSTM) {
      // Same cells, unified token ids, targets: one cell per line "len t0 t1 ... acc".
      char data[] = "/tmp/pnas_pred_bench_XXXXXX";
      int fd = mkstemp(data);
      FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
      pred_tokens x;
      if (!f || pred_tokens_from_cells(&x, cells, n, SPACE_PNAS_OPS, err, sizeof err)) {
        fprintf(stderr, "predictor_bench: cannot write %s\n", data);
        return 1;
      }
      for (int i = 0; i < n; i++) {
        fprintf(f, "%d", x.len[i]);
        for (int j = 0; j < x.len[i]; j++) fprintf(f, " %d", x.tok[(size_t)i * PRED_MAX_TOKENS + j]);
        fprintf(f, " %.6f\n", acc[i]);
      }
      fclose(f);
      pred_tokens_release(&x);
      char cmd[1024];
      snprintf(cmd, sizeof cmd,
               "%s %s/bench/predictor_bench.py --data %s --epochs %d --batch %d --members %d "
               "--threads %d --repeats %d",
               python, PNAS_SOURCE_DIR, data, epochs, batch, members, threads, repeats);
      FILE *p = popen(cmd, "r");
      double torch_s = -1.0;
      char line[512];
      while (p && fgets(line, sizeof line, p)) {
        if (sscanf(line, "torch_seconds %lf", &torch_s) == 1) continue;
        fputs(line, stdout);
      }
      int st = p ? pclose(p) : -1;
      remove(data);
      if (st != 0 || torch_s <= 0) {
        printf("  PyTorch: failed (exit %d); is torch installed for %s?\n", st, python);
      } else {
        printf("  PyTorch CPU:  %8.3f s  (median of %d, same model, data, epochs, batch)\n",
               torch_s, repeats);
        printf("  speed-up: %.2fx\n", torch_s / c_s);
      }
    }
    free(t);
  }
  if (score) {
    // Scoring: children of 256 four-block parents, 1176 each.
    if (!pred_ensemble_is_fitted(e)) {
      cfg.epochs = 1;
      if (pred_ensemble_fit(e, cells, acc, n, &cfg, err, sizeof err)) {
        fprintf(stderr, "predictor_bench: fit: %s\n", err);
        return 1;
      }
    }
    // Parents: 256 random four-block cells; the call expands and scores (search's API).
    const int np = 256;
    space_cell *par = malloc((size_t)np * sizeof *par);
    for (int p = 0; p < np; p++) space_sample(&par[p], 4, SPACE_PNAS_MASK, &r);
    const int cap = np * 1176;
    space_cell *kids = malloc((size_t)cap * sizeof *kids);
    float *mean = malloc((size_t)cap * sizeof *mean), *sd = malloc((size_t)cap * sizeof *sd);
    double t[50];
    int nk = 0;
    for (int rep = 0; rep <= repeats; rep++) {
      double t0 = now_s();
      if (pred_ensemble_score_children(e, par, np, SPACE_PNAS_MASK, kids, mean, sd, cap, &nk,
                                       threads, err, sizeof err)) {
        fprintf(stderr, "predictor_bench: score: %s\n", err);
        return 1;
      }
      if (rep) t[rep - 1] = now_s() - t0;
    }
    double s = median(t, repeats);
    printf("score: %d children of %d parents, %s ensemble of %d: %.3f s (median of %d), "
           "%.0f cells/s\n",
           nk, np, kind, pred_ensemble_members(e), s, repeats, nk / s);
    free(par);
    free(kids);
    free(mean);
    free(sd);
  }
  printf("load average at the end: %.2f\n", loadavg());
  pred_ensemble_free(e);
  free(cells);
  free(acc);
  return 0;
}
