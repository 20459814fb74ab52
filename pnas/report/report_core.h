// The comparison report: loading run directories (config.msgpack + results.log), per-run
// best-so-far curves, aggregation per strategy over seeds (mean, min, max), the "models needed to
// reach PNAS's accuracy" table and the predictor's rank correlation per level
// (report_stats.c); writing report.md, report.html, gnuplot SVG figures and Graphviz cell
// drawings (report_render.c). It does not run searches (pnas/cli/cmd_compare.c does).
#ifndef PNAS_REPORT_CORE_H
#define PNAS_REPORT_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "pnas/search/search.h"

#define REPORT_TOPK 5      // "mean top-5" = mean validation accuracy of the 5 best models so far
#define REPORT_GRID 120    // points of the curves against examples processed

typedef struct {
  char dir[1024];
  search_config cfg;
  store_record *recs;      // (n) in log order
  int n;
  // Accuracy curves count only ok cells of cfg.max_blocks blocks (what the search answers
  // with); NaN until the first such model. Cost (k, ex) counts every model in the log.
  double *best1;           // (n) best top-1 after k+1 models
  double *top5;            // (n) mean of the REPORT_TOPK best so far (NaN while fewer exist)
  int64_t *ex;             // (n) examples processed after k+1 models
  double seconds;          // training wall seconds of all its models
  double wall;             // the run's wall seconds when its last model was recorded (all
                           // overhead included: predictor fits, data loading); NaN for logs
                           // without 'elapsed'
  int group;               // index of its group (report_build)
} report_run;

typedef struct {
  char name[24];           // the strategy; "pnas.2", "pnas.3"... for runs of the same strategy
                           // under other settings (never pooled as seeds)
  int nruns;
  int *runs;               // (nruns) indices into the runs array
  int L;                   // curves over models: k = 1..L (shortest run of the group)
  double *m1, *lo1, *hi1;  // (L) best top-1: mean / min / max over seeds (NaN while a seed
                           // has no B-block model yet)
  double *m5, *lo5, *hi5;  // (L) mean top-5
  double *mex;             // (L) mean examples after k models
  int G;                   // curves over examples: G points
  double *gx;              // (G) examples
  double *gm1, *glo1, *ghi1, *gm5, *glo5, *ghi5; // (G)
  int best_run, best_rec;  // best B-block record over all its seeds (-1 when none)
  int any_run, any_rec;    // best record of any size over all its seeds (search_record_better)
} report_group;

// Models needed to reach a target accuracy on the mean curve of a group.
typedef struct {
  int reached;             // 1 when the mean curve reaches the target within L models
  int models;              // first k with mean >= target (when reached)
  double examples;         // mean examples after `models` models
  int seeds_reaching;      // runs whose own curve reaches the target
} report_reach;

// Rank correlation of a PNAS run's predictions with the measurements at one level.
typedef struct {
  int run, level, n;
  double spearman, kendall;
} report_rank;

typedef struct {
  report_run *runs;
  int nruns;
  report_group *groups;    // strategies in the order pnas, rl, random, evolution, others
  int ngroups;
  int pnas_group;          // index into groups or -1
  double target1, target5; // PNAS's final mean-curve values (NaN without PNAS runs)
  report_reach *reach1, *reach5; // (ngroups)
  report_rank *ranks;
  int nranks;
} report;

// Loads one run directory. 0 ok, -1 with err.
int report_load_run(report_run *r, const char *dir, char *err, size_t errlen);
// Whether record x is a network the run of configuration c offers: trained ok, and for
// --strategy prune within the run's budget (its wide base network is only a cost).
int report_offered(const search_config *c, const store_record *x);
// Loads every run and computes all statistics. 0 ok, -1 with err.
int report_build(report *rep, const char *const *dirs, int ndirs, char *err, size_t errlen);
void report_release(report *rep);
// 95% percentile bootstrap over seeds (2,000 resamples, fixed RNG seed: deterministic) of the
// mean of x (n values), or of mean(x) - mean(y) resampling each side on its own (y != NULL).
// NAN bounds when a side has fewer than REPORT_MIN_BOOT values (the bootstrap of 2-4 seeds is
// little more than their range).
#define REPORT_MIN_BOOT 5
void report_boot(const double *x, int nx, const double *y, int ny, double *lo, double *hi);

// Writes report.md, report.html, the figures (gnuplot) and cell drawings (Graphviz dot) into
// out_dir (created when missing). 0 ok, -1 with err.
int report_write(const report *rep, const char *out_dir, char *err, size_t errlen);

// Runs argv (a program on PATH) in dir and waits: 0 when it exits 0, else -1 with err.
int report_run_in(const char *dir, char *const argv[], char *err, size_t errlen);

// The comparison of strategies replayed against a benchmark table (pnas compare --table):
// run_dirs[g * seeds + k] is strategy names[g]'s run with seed k + 1. Writes
// OUT/table-report.md, table-report.json, table-curves.tsv and (with gnuplot)
// table-curves.svg / table-curves-examples.svg, and prints the verdict to stdout.
struct pnas_table_s;
int report_table_write(const struct pnas_table_s *t, const char (*names)[16], int ngroups,
                       int seeds, const char *const *run_dirs, int pnas_budget,
                       const char *out_dir, char *err, size_t errlen);

#endif
