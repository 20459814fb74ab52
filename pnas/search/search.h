// The search harness shared by every strategy: configuration (one table drives the CLI flags,
// the saved config.msgpack and the training-settings cache key), the evaluator that trains a
// child or finds it in the store, the progress line, and the strategies' entry points.
// It does not implement training (pnas/child/trainer.c) or predictors (predictor/).
#ifndef PNAS_SEARCH_H
#define PNAS_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"
#include "pnas/store/store.h"
#include "searchspace/cell.h"
#include "searchspace/cost.h"

typedef struct {
  // strategy
  char strategy[16];    // pnas | rl | random | evolution
  int beam;             // PNAS: K children trained per level (>= 2)
  int max_blocks;       // B
  char ops[128];        // operator list ("all" or comma-separated names)
  char space[8];        // pnas (one cell) | nasnet (a normal and a reduction cell, searched
                        // together; DESIGN.md s.1). Not in the cache key: a pair's hash differs.
  int budget_models;    // baselines: models to train (0 = as many as PNAS would: L1 + (B-1)K)
  int population, sample;       // evolution: P, S
  double rl_lr, rl_entropy;     // RL controller: Adam lr, entropy bonus weight
  int rl_batch;                 // RL: cells per controller update
  // --strategy prune [ours defaults]: network slimming of a wide network of one cell
  char cell[SPACE_TEXT_MAX];    // the cell ("" = pnasnet-5, with --space nasnet nasnet-a)
  double prune_width;           // the base network has F x this filters [2]
  double prune_l1;              // lambda of the L1 penalty on BN gammas [1e-4]
  // predictor
  char predictor[8];    // lstm | mlp | ridge
  int members;
  int pred_epochs;      // 0 = predictor default
  // PNAS selection [ours; the paper ranks by the ensemble mean and trains the top K]:
  char select[8];       // mean (paper) | ucb: mean + kappa x the members' spread
  double kappa;
  int per_parent;       // PNAS [ours]: at most this many of a level's picks extend one beam cell
                        // (0: no cap, the paper)
  int explore;          // of the K children per level, this many drawn at random from the rest
  // training of children (the cache key is built from these)
  char dataset[32];
  char data_dir[512];   // "" = default location
  int N, F, epochs, batch;
  double lr, momentum, weight_decay;
  int train_subset, val_subset; // 0 = all
  int64_t train_seed;   // children's training seed = mix(train_seed, cell hash)
  // limits
  int64_t max_params, max_mult_adds; // 0 = no limit
  // run
  int64_t seed;         // the strategy's seed (predictor folds, sampling, controller)
  char cache_dir[512];  // "" = none; else a shared cache store (see search_ctx_set_cache)
  char device[16];      // cpu | cuda | auto
  int threads;          // 0 = all cores
  int jobs;             // children trained at once in this process (1..64; not part of the
                        // training settings; ignored under MPI, where each worker rank trains one)
  // table (pnas table build): cells retrained with other training seeds (the noise ceiling)
  int repeat_seeds, repeat_sample;
  // Set by the caller before search_ctx_open, neither a flag nor saved: the worker ranks of an
  // MPI job that train the children (mpi_world_workers(), pnas/dispatch); 0 = children train in
  // this process. The search layer cannot ask the dispatcher, which sits above it.
  int workers;
} search_config;

void search_config_default(search_config *c);
// 1 when the search is over NASNet's pairs (--space nasnet).
static inline int search_config_pairs(const search_config *c) { return c->space[0] == 'n'; }
// 1 when a network of that size is within --max-params / --max-mult-adds (0 = no limit).
static inline int search_config_fits(const search_config *c, int64_t params, int64_t mult_adds) {
  return (!c->max_params || params <= c->max_params) &&
         (!c->max_mult_adds || mult_adds <= c->max_mult_adds);
}
// --strategy prune's base network filters: F x --prune-width, at least 2.
int search_config_prune_F(const search_config *c);
// Fills specs[] (up to max) with one flag per config field, pointing into c; returns the count.
// Callers append their own flags (--run, --resume ...) and call args_parse.
#include "common/args.h"
int search_config_args(search_config *c, arg_spec *specs, int max);
// 1 when argv[1..argc) holds --name or --name=...
int search_argv_has(int argc, char **argv, const char *name);
// The search preset rule: the 4-operator space is the no-flag default search's only; a command
// line that sets --beam or --max-blocks without --ops searches the paper's 8 operators (said on
// stderr). Call after parsing, for a new search.
void search_config_preset(search_config *c, int argc, char **argv);
// One line naming the strategy, the operator set and its size, B and the beam (every search
// states what it searches at its start).
#include <stdio.h>
void search_config_describe(const search_config *c, FILE *f);
// The flags' help text, one line each.
extern const char SEARCH_FLAGS_HELP[];
// Saves/loads the config as msgpack (config.msgpack in the run directory).
int search_config_save(const search_config *c, const char *dir, char *err, size_t errlen);
int search_config_load(search_config *c, const char *dir, char *err, size_t errlen);
// "dataset=...;N=..;..." - the training settings that make two measurements comparable.
void search_settings_string(const search_config *c, char *buf, size_t n);
// Checks ranges and names (ops, dataset, predictor, strategy). 0 ok, -1 with err.
int search_config_check(const search_config *c, char *err, size_t errlen);

typedef struct search_ctx search_ctx;
struct kn_device; // kernels/backend.h: a device backend's opened state

// Opens the run store (create or resume), loads the dataset, prepares the trainer. run_dir NULL:
// no store (a worker rank that only trains; search_eval must not be called on it).
int search_ctx_open(search_ctx **out, const search_config *cfg, const char *run_dir, int resume,
                    int salvage, char *err, size_t errlen);
void search_ctx_close(search_ctx *s);
// Closes a context whose new run failed to start (search_ctx_open with resume = 0): when no
// record was written, the run's config, log and lock file are removed, and its directory when
// the open created it, so the same command can simply be run again. Otherwise search_ctx_close.
void search_ctx_discard(search_ctx *s);
const search_config *search_ctx_config(const search_ctx *s);
store *search_ctx_store(search_ctx *s);
uint32_t search_ctx_ops(const search_ctx *s);
uint64_t search_ctx_settings(const search_ctx *s);
// Where children train: the backend name ("cpu", or a device backend such as "cuda") and the
// device opened for it by search_ctx_open (NULL on the CPU). The device belongs to one thread at
// a time: the caller's, or an in-process pool thread's while a pool is open (pnas/dispatch/pool.c).
const char *search_ctx_backend(const search_ctx *s);
struct kn_device *search_ctx_device(search_ctx *s);
// Device slot k of the in-process pool's threads (k = 0: the search's own device; 1..
// SEARCH_MAX_JOBS: opened by pool thread k+1 on first use and kept, with their cuDNN plans, for
// every later pool of this search; closed by search_ctx_close). NULL when k is out of range.
#define SEARCH_MAX_JOBS 64
struct kn_device **search_ctx_device_slot(search_ctx *s, int k);

// Shares trained children with other runs: before training, the evaluator also looks in the
// store at dir; a hit is copied into this run's log with its original cost, so every run's
// ledger stays complete. writes = 0 (`pnas search --cache`): dir is another run (or a table)
// that must exist, read only, never locked or appended to. writes = 1 (the strategies of one
// `pnas compare`, which owns dir): dir is created when missing and new results are appended to
// both. 0 ok, -1 with err.
int search_ctx_set_cache(search_ctx *s, const char *dir, int writes, char *err, size_t errlen);

// Answers every child from a benchmark table (pnas/search/table.h) instead of training: a cell the
// table lacks is an error that names it. The table must outlive s and hold s's training settings.
struct pnas_table_s;
int search_ctx_set_table(search_ctx *s, const struct pnas_table_s *t, char *err, size_t errlen);
// search_ctx_open for a replay from table t: no dataset is loaded (nothing trains) and the table
// answers every child. Strategies skip work that only serves later use (the final predictor
// refit of PNAS) when search_ctx_is_replay.
int search_ctx_open_replay(search_ctx **out, const search_config *cfg, const char *run_dir,
                           int resume, const struct pnas_table_s *t, char *err, size_t errlen);
int search_ctx_is_replay(const search_ctx *s);
// A directory of fitted predictors shared between runs (pnas compare --fit-cache DIR): a fit is
// a deterministic function of its inputs (model, members, epochs, learning rate, seed and the
// measured cells), so a fit found there under the hash of those inputs is the fit that would be
// computed. NULL or "" = none. The string must outlive s.
void search_ctx_set_fit_cache(search_ctx *s, const char *dir);
const char *search_ctx_fit_cache(const search_ctx *s);

// 1 when the cell is within --max-params / --max-mult-adds (cost model), else 0.
int search_within_budget(search_ctx *s, const space_cell *c);
// Evaluates one child: returns the stored record when this cell was already measured under the
// same settings (*cached = 1), else trains it, appends the record and returns it. A training
// failure is a recorded result (ok = 0), not an error. -1 only when the store cannot be written
// (then the search must stop; the log stays intact and resumable). In this process only: the
// dispatcher (pnas/dispatch/eval.h) sends children to MPI worker ranks or pool threads.
int search_eval(search_ctx *s, const space_cell *c, int level, double predicted,
                store_record *out, int *cached, char *err, size_t errlen);

// The three steps of search_eval, separately, for the MPI dispatcher (pnas/dispatch/pool.c): c must be
// canonical. search_lookup: 1 (out filled, counted as cached) when the run's store or the shared
// cache has the cell, 0 when it must be trained, -1 when copying a shared hit cannot be written.
// search_train_record: trains it into a record without touching any store (worker ranks).
// search_commit: appends a trained record to the log (and the shared cache) and counts it.
int search_lookup(search_ctx *s, const space_cell *c, int level, double predicted,
                  store_record *out, char *err, size_t errlen);
void search_train_record(search_ctx *s, const space_cell *c, int level, double predicted,
                         store_record *out);
// search_train_record on a given device (NULL on the CPU; for a device backend, one the calling
// thread alone uses) with `threads` CPU threads (0: --threads, as search_train_record).
// memory_bytes (may be NULL) receives the child's backend memory (0 when not built). Safe to
// call from several threads at once: it reads the context (config, dataset, cost model) and
// writes nothing but *out.
void search_train_record_dev(search_ctx *s, struct kn_device *dev, int threads,
                             const space_cell *c, int level, double predicted, store_record *out,
                             size_t *memory_bytes);
int search_commit(search_ctx *s, store_record *r, char *err, size_t errlen);
// A child trained outside the search's recipe (--strategy prune): F filters instead of --F,
// the channel counts w (NULL: unpruned), the L1 penalty l1 on BN gammas, and on_trained (may be
// NULL) handed the trained network (train_config.on_trained). The record's settings are
// `settings` (never the search's own, so the cache never mistakes it for a plain child) and its
// params / mult-adds those of that network. Trains in this process with --threads; no store.
struct net;
typedef struct {
  int F;
  const cost_widths *widths;
  double l1;
  uint64_t settings;
  uint64_t seed; // the training seed (0: --train-seed's per-cell seed, as a plain child)
  void (*on_trained)(void *user, struct net *nt);
  void *user;
} search_variant;
void search_train_variant(search_ctx *s, const space_cell *c, const search_variant *v,
                          store_record *out);
// The cost model of this search's network (dataset shape, --N, --F): copy, then change F or
// widths for a variant.
const cost_config *search_ctx_cost(const search_ctx *s);
// Wall seconds the run has spent: this process's time since the context opened plus, on a
// resume, the largest 'elapsed' of the records found (the time of earlier processes).
double search_ctx_elapsed(const search_ctx *s);

// Progress: a live line on a terminal, one line per finished child otherwise.
void search_progress_level(search_ctx *s, int level, int levels, int todo);
void search_progress_set_rank(search_ctx *s, double spearman);
// Children still to come after the current level (counted into the ETA; 0 by default).
void search_progress_future(search_ctx *s, int children);
// PNAS: wall seconds of one predictor fit and scoring; the ETA adds their mean once per level
// still to come and once for the final refit.
void search_progress_fit(search_ctx *s, double seconds);
void search_progress_done(search_ctx *s); // ends the live line

typedef struct {
  int found;
  store_record best;
  int trained;          // models in this run's log
  int64_t examples;
  double seconds;
} search_result;

// 1 when a is a better answer than b (b may be NULL): ok, higher validation accuracy, and on a
// tie the smaller cell hash, so that the answer never depends on the order records landed in
// the log (completion order with --jobs or MPI workers).
int search_record_better(const store_record *a, const store_record *b);
// 1 when a failure reason says the child ran out of memory ("out of memory ...", "out of GPU
// memory: ...", "out of cuda memory for ...", "net: out of memory allocating ...").
int search_reason_is_oom(const char *why);

#endif
