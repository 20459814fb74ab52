// Report statistics (see report_core.h): runs are read with store_read_log (read-only: a torn
// tail is ignored, never cut) and search_config_load; curves are over models in log order, so
// a child copied from a shared cache counts where this run asked for it, with its full cost.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pnas/report/report_core.h"
#include "predictor/rank.h"

// Whether record x of a run of configuration c is one of the run's answers: a trained cell of B
// blocks (the size the search answers with), or for --strategy prune a network within the run's
// --max-params/--max-mult-adds (its wide base network, trained to rank channels, is over them
// and only a cost).
static int candidate(const search_config *c, const store_record *x) {
  if (!report_offered(c, x)) return 0;
  return !strcmp(c->strategy, "prune") || x->cell.nblocks == c->max_blocks;
}

int report_offered(const search_config *c, const store_record *x) {
  return x->ok && (strcmp(c->strategy, "prune") || search_config_fits(c, x->params, x->mult_adds));
}

static void run_free(report_run *r) {
  free(r->recs);
  free(r->best1);
  free(r->top5);
  free(r->ex);
  memset(r, 0, sizeof *r);
}

int report_load_run(report_run *r, const char *dir, char *err, size_t errlen) {
  memset(r, 0, sizeof *r);
  snprintf(r->dir, sizeof r->dir, "%s", dir);
  char e[1024], path[1200];
  if (search_config_load(&r->cfg, dir, e, sizeof e)) {
    snprintf(err, errlen, "%s: %s", dir, e);
    return -1;
  }
  snprintf(path, sizeof path, "%s/%s", dir, STORE_LOG_NAME);
  long torn;
  if (store_read_log(path, 0, &r->recs, &r->n, &torn, e, sizeof e)) {
    snprintf(err, errlen, "%s", e);
    return -1;
  }
  if (torn >= 0)
    fprintf(stderr, "pnas report: %s: a torn last record at offset %ld is ignored\n", path, torn);
  if (r->n == 0) {
    snprintf(err, errlen, "%s: the results log holds no models yet", dir);
    run_free(r);
    return -1;
  }
  r->best1 = malloc(sizeof *r->best1 * (size_t)r->n);
  r->top5 = malloc(sizeof *r->top5 * (size_t)r->n);
  r->ex = malloc(sizeof *r->ex * (size_t)r->n);
  if (!r->best1 || !r->top5 || !r->ex) {
    run_free(r);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  double top[REPORT_TOPK]; // descending
  int ntop = 0;
  int64_t ex = 0;
  r->wall = r->n ? r->recs[r->n - 1].elapsed : NAN;
  for (int k = 0; k < r->n; k++) {
    const store_record *x = &r->recs[k];
    ex += x->examples;
    r->seconds += x->seconds;
    // Accuracy counts only cells of B blocks, the size the search answers with; the cost
    // (models, examples) counts everything, PNAS's smaller cells included (paper, Table 4).
    if (candidate(&r->cfg, x)) {
      double a = x->val_acc;
      int i = -1;
      if (ntop < REPORT_TOPK) i = ntop++;
      else if (a > top[REPORT_TOPK - 1]) i = REPORT_TOPK - 1;
      if (i >= 0) {
        top[i] = a;
        for (; i > 0 && top[i] > top[i - 1]; i--) {
          double t = top[i];
          top[i] = top[i - 1];
          top[i - 1] = t;
        }
      }
    }
    double s = 0;
    for (int i = 0; i < ntop; i++) s += top[i];
    r->best1[k] = ntop ? top[0] : NAN;
    // The mean of the 5 best is defined once 5 exist (an average of fewer would fall as the
    // 2nd..5th arrive and fake progress).
    r->top5[k] = ntop >= REPORT_TOPK ? s / ntop : NAN;
    r->ex[k] = ex;
  }
  return 0;
}

static const char *const KNOWN[] = {"pnas", "rl", "random", "evolution", "prune"};

// Whether two runs are seeds of one experiment: the same strategy, training settings, space,
// block count and strategy flags; only the seed (and where children train) may differ.
static int same_config(const search_config *a, const search_config *b) {
  search_config x = *a, y = *b;
  x.seed = y.seed = 0;
  x.threads = y.threads = x.jobs = y.jobs = x.workers = y.workers = 0;
  memset(x.device, 0, sizeof x.device), memset(y.device, 0, sizeof y.device);
  memset(x.cache_dir, 0, sizeof x.cache_dir), memset(y.cache_dir, 0, sizeof y.cache_dir);
  memset(x.data_dir, 0, sizeof x.data_dir), memset(y.data_dir, 0, sizeof y.data_dir);
  char sx[2048], sy[2048];
  search_settings_string(&x, sx, sizeof sx);
  search_settings_string(&y, sy, sizeof sy);
  return !strcmp(sx, sy) && !strcmp(x.strategy, y.strategy) && !strcmp(x.ops, y.ops) &&
         !strcmp(x.space, y.space) &&
         x.max_blocks == y.max_blocks && x.beam == y.beam && x.budget_models == y.budget_models &&
         x.population == y.population && x.sample == y.sample && x.rl_lr == y.rl_lr &&
         x.rl_entropy == y.rl_entropy && x.rl_batch == y.rl_batch &&
         !strcmp(x.predictor, y.predictor) && x.members == y.members &&
         x.pred_epochs == y.pred_epochs && !strcmp(x.select, y.select) && x.kappa == y.kappa &&
         x.explore == y.explore && x.per_parent == y.per_parent && x.max_params == y.max_params &&
         x.max_mult_adds == y.max_mult_adds && !strcmp(x.cell, y.cell) &&
         x.prune_width == y.prune_width && x.prune_l1 == y.prune_l1;
}

static int group_index(report *rep, const char *name) {
  for (int g = 0; g < rep->ngroups; g++)
    if (!strcmp(rep->groups[g].name, name)) return g;
  return -1;
}

static void stats(const double *v, int n, double *mean, double *lo, double *hi) {
  double s = 0, a = INFINITY, b = -INFINITY;
  for (int i = 0; i < n; i++) {
    if (isnan(v[i])) { // a seed without a B-block model yet: no point here
      *mean = *lo = *hi = NAN;
      return;
    }
    s += v[i];
    if (v[i] < a) a = v[i];
    if (v[i] > b) b = v[i];
  }
  *mean = n ? s / n : NAN;
  *lo = n ? a : NAN;
  *hi = n ? b : NAN;
}

static int build_group(report *rep, report_group *g) {
  int L = -1;
  int64_t X = -1;
  for (int i = 0; i < g->nruns; i++) {
    const report_run *r = &rep->runs[g->runs[i]];
    if (L < 0 || r->n < L) L = r->n;
    if (X < 0 || r->ex[r->n - 1] < X) X = r->ex[r->n - 1];
  }
  g->L = L;
  size_t nL = (size_t)L, nG = REPORT_GRID;
  g->m1 = malloc(sizeof(double) * nL * 7);
  g->gx = malloc(sizeof(double) * nG * 7);
  double *v1 = malloc(sizeof(double) * (size_t)g->nruns * 3);
  if (!g->m1 || !g->gx || !v1) {
    free(v1);
    return -1;
  }
  g->lo1 = g->m1 + nL, g->hi1 = g->lo1 + nL, g->m5 = g->hi1 + nL, g->lo5 = g->m5 + nL,
  g->hi5 = g->lo5 + nL, g->mex = g->hi5 + nL;
  double *v5 = v1 + g->nruns, *vx = v5 + g->nruns;
  for (int k = 0; k < L; k++) {
    for (int i = 0; i < g->nruns; i++) {
      const report_run *r = &rep->runs[g->runs[i]];
      v1[i] = r->best1[k];
      v5[i] = r->top5[k];
      vx[i] = (double)r->ex[k];
    }
    stats(v1, g->nruns, &g->m1[k], &g->lo1[k], &g->hi1[k]);
    stats(v5, g->nruns, &g->m5[k], &g->lo5[k], &g->hi5[k]);
    double lo, hi;
    stats(vx, g->nruns, &g->mex[k], &lo, &hi);
  }
  // Against examples: value at x = the run's curve after its last model that ends by x.
  g->G = (int)nG;
  g->gm1 = g->gx + nG, g->glo1 = g->gm1 + nG, g->ghi1 = g->glo1 + nG, g->gm5 = g->ghi1 + nG,
  g->glo5 = g->gm5 + nG, g->ghi5 = g->glo5 + nG;
  for (int j = 0; j < g->G; j++) {
    double x = (double)X * (j + 1) / g->G;
    g->gx[j] = x;
    int have = 1;
    for (int i = 0; i < g->nruns && have; i++) {
      const report_run *r = &rep->runs[g->runs[i]];
      int k = -1;
      while (k + 1 < r->n && (double)r->ex[k + 1] <= x) k++;
      if (k < 0) have = 0;
      else v1[i] = r->best1[k], v5[i] = r->top5[k];
    }
    if (!have) {
      g->gm1[j] = g->glo1[j] = g->ghi1[j] = g->gm5[j] = g->glo5[j] = g->ghi5[j] = NAN;
      continue;
    }
    stats(v1, g->nruns, &g->gm1[j], &g->glo1[j], &g->ghi1[j]);
    stats(v5, g->nruns, &g->gm5[j], &g->glo5[j], &g->ghi5[j]);
  }
  free(v1);
  g->best_run = g->best_rec = -1;
  g->any_run = g->any_rec = -1;
  for (int i = 0; i < g->nruns; i++) {
    const report_run *r = &rep->runs[g->runs[i]];
    for (int k = 0; k < r->n; k++) {
      if (report_offered(&r->cfg, &r->recs[k]) &&
          search_record_better(&r->recs[k],
                               g->any_run < 0 ? NULL : &rep->runs[g->any_run].recs[g->any_rec]))
        g->any_run = g->runs[i], g->any_rec = k;
      if (!candidate(&r->cfg, &r->recs[k])) continue;
      if (g->best_run < 0 ||
          r->recs[k].val_acc > rep->runs[g->best_run].recs[g->best_rec].val_acc)
        g->best_run = g->runs[i], g->best_rec = k;
    }
  }
  return 0;
}

static report_reach reach(const report *rep, const report_group *g, const double *mean,
                          double target, int top5) {
  report_reach out = {0, 0, NAN, 0};
  if (!isfinite(target)) return out;
  const double eps = 1e-12; // the PNAS mean curve ends exactly at the target
  for (int k = 0; k < g->L; k++)
    if (mean[k] >= target - eps) {
      out.reached = 1;
      out.models = k + 1;
      out.examples = g->mex[k];
      break;
    }
  for (int i = 0; i < g->nruns; i++) {
    const report_run *r = &rep->runs[g->runs[i]];
    const double *c = top5 ? r->top5 : r->best1;
    for (int k = 0; k < r->n; k++)
      if (c[k] >= target - eps) {
        out.seeds_reaching++;
        break;
      }
  }
  return out;
}

static int build_ranks(report *rep) {
  int cap = 16;
  rep->ranks = malloc(sizeof *rep->ranks * (size_t)cap);
  if (!rep->ranks) return -1;
  for (int i = 0; i < rep->nruns; i++) {
    const report_run *r = &rep->runs[i];
    if (strcmp(r->cfg.strategy, "pnas")) continue;
    float *p = malloc(sizeof *p * (size_t)r->n), *a = malloc(sizeof *a * (size_t)r->n);
    if (!p || !a) {
      free(p), free(a);
      return -1;
    }
    for (int b = 2; b <= SPACE_MAX_BLOCKS; b++) {
      int n = 0;
      for (int k = 0; k < r->n; k++) {
        const store_record *x = &r->recs[k];
        if (x->level == b && x->ok && isfinite(x->predicted)) {
          p[n] = (float)x->predicted;
          a[n++] = (float)x->val_acc;
        }
      }
      if (n == 0) continue;
      if (rep->nranks == cap) {
        cap *= 2;
        report_rank *nr = realloc(rep->ranks, sizeof *nr * (size_t)cap);
        if (!nr) {
          free(p), free(a);
          return -1;
        }
        rep->ranks = nr;
      }
      rep->ranks[rep->nranks++] = (report_rank){i, b, n, n >= 2 ? rank_spearman(p, a, n) : NAN,
                                                n >= 2 ? rank_kendall_tau_b(p, a, n) : NAN};
    }
    free(p), free(a);
  }
  return 0;
}

int report_build(report *rep, const char *const *dirs, int ndirs, char *err, size_t errlen) {
  memset(rep, 0, sizeof *rep);
  rep->pnas_group = -1;
  rep->target1 = rep->target5 = NAN;
  rep->runs = calloc((size_t)ndirs, sizeof *rep->runs);
  rep->groups = calloc((size_t)ndirs, sizeof *rep->groups);
  if (!rep->runs || !rep->groups) goto oom;
  for (int i = 0; i < ndirs; i++) {
    if (report_load_run(&rep->runs[i], dirs[i], err, errlen)) {
      report_release(rep);
      return -1;
    }
    rep->nruns++;
  }
  // Groups: the runs of one strategy under one configuration (settings, space, B, strategy
  // flags) are its seeds; the same strategy under other settings is another group (pnas.2...),
  // never pooled. Known strategies first, in a fixed order, then any other name.
  for (int i = 0; i < rep->nruns; i++) rep->runs[i].group = -1;
  for (int pass = 0; pass < 2; pass++)
    for (int q = 0; q < (pass ? rep->nruns : (int)(sizeof KNOWN / sizeof KNOWN[0])); q++) {
      const char *name = pass ? rep->runs[q].cfg.strategy : KNOWN[q];
      for (int i = 0; i < rep->nruns; i++) {
        if (rep->runs[i].group >= 0 || strcmp(rep->runs[i].cfg.strategy, name)) continue;
        int same = 0; // groups of this strategy so far
        for (int g = 0; g < rep->ngroups; g++)
          same += !strcmp(rep->runs[rep->groups[g].runs[0]].cfg.strategy, name);
        report_group *g = &rep->groups[rep->ngroups];
        if (same) snprintf(g->name, sizeof g->name, "%.12s.%d", name, same + 1);
        else snprintf(g->name, sizeof g->name, "%.15s", name);
        g->runs = malloc(sizeof *g->runs * (size_t)rep->nruns);
        if (!g->runs) goto oom;
        for (int j = i; j < rep->nruns; j++)
          if (rep->runs[j].group < 0 && same_config(&rep->runs[i].cfg, &rep->runs[j].cfg))
            g->runs[g->nruns++] = j, rep->runs[j].group = rep->ngroups;
        rep->ngroups++;
      }
    }
  for (int g = 0; g < rep->ngroups; g++)
    if (build_group(rep, &rep->groups[g])) goto oom;
  rep->pnas_group = group_index(rep, "pnas");
  if (rep->pnas_group >= 0) {
    const report_group *p = &rep->groups[rep->pnas_group];
    rep->target1 = p->m1[p->L - 1];
    rep->target5 = p->m5[p->L - 1];
  }
  size_t ng = rep->ngroups > 0 ? (size_t)rep->ngroups : 1;
  rep->reach1 = calloc(ng, sizeof *rep->reach1);
  rep->reach5 = calloc(ng, sizeof *rep->reach5);
  if (!rep->reach1 || !rep->reach5) goto oom;
  for (int g = 0; g < rep->ngroups; g++) {
    rep->reach1[g] = reach(rep, &rep->groups[g], rep->groups[g].m1, rep->target1, 0);
    rep->reach5[g] = reach(rep, &rep->groups[g], rep->groups[g].m5, rep->target5, 1);
  }
  if (build_ranks(rep)) goto oom;
  return 0;
oom:
  report_release(rep);
  snprintf(err, errlen, "out of memory");
  return -1;
}

void report_release(report *rep) {
  for (int i = 0; i < rep->nruns; i++) run_free(&rep->runs[i]);
  for (int g = 0; g < rep->ngroups; g++) {
    free(rep->groups[g].runs);
    free(rep->groups[g].m1);
    free(rep->groups[g].gx);
  }
  free(rep->runs);
  free(rep->groups);
  free(rep->reach1);
  free(rep->reach5);
  free(rep->ranks);
  memset(rep, 0, sizeof *rep);
  rep->pnas_group = -1;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

void report_boot(const double *x, int nx, const double *y, int ny, double *lo, double *hi) {
  enum { NB = 2000 };
  *lo = *hi = NAN;
  if (nx < REPORT_MIN_BOOT || (y && ny < REPORT_MIN_BOOT)) return;
  static double v[NB];
  space_rng r;
  space_rng_seed(&r, 20261203);
  for (int b = 0; b < NB; b++) {
    double sx = 0, sy = 0;
    for (int i = 0; i < nx; i++) sx += x[space_rng_below(&r, nx)];
    if (y)
      for (int i = 0; i < ny; i++) sy += y[space_rng_below(&r, ny)];
    v[b] = sx / nx - (y ? sy / ny : 0);
  }
  qsort(v, NB, sizeof *v, cmp_double);
  *lo = v[(int)(0.025 * NB)];
  *hi = v[(int)(0.975 * NB) - 1];
}
