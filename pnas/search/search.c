// The search harness: run context (store + dataset + trainer settings), the evaluator that
// never trains a cell twice under the same settings, and the progress line. Strategies
// (strategy_*.c) only decide which cells to evaluate.
#include "pnas/search/search.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "kernels/backend.h"
#include "pnas/search/table.h"
#include "pnas/child/trainer.h"
#include "searchspace/cost.h"

struct search_ctx {
  search_config cfg;
  store *st;
  store *cache; // optional shared cache (another run directory's store), may be NULL
  int cache_writes; // 1: new results are appended to the cache too (compare's own cache)
  int retry_below;  // resume: failed-out-of-memory records with seq below this train again
  int new_run;      // the store was created by this open (not a resume): see search_ctx_discard
  const pnas_table *table; // optional: every child answered from this table (never trained)
  const char *fit_cache;   // optional: shared fitted predictors (search_ctx_set_fit_cache)
  uint32_t ops;
  uint64_t settings;
  data_kind kind;
  data_set full, train, val;
  cost_config cost;
  // where children train (--device): backend name, its opened device (NULL on the CPU), label
  const char *backend;
  kn_device *dev;
  kn_device *xdev[SEARCH_MAX_JOBS]; // --jobs: the other pool threads' devices, kept across pools
  char devname[32];
  // progress
  int tty;
  int level, levels, todo, done, cached, future;
  double level_t0, child_seconds;
  double fit_seconds; // PNAS: predictor fits + scoring so far (search_progress_fit) ...
  int fits;           // ... and how many
  double best;
  double rank;
  int live_open;
  double t_open;       // now_s() when this context opened
  double elapsed_base; // resume: the run's elapsed wall seconds before this process (records)
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

const search_config *search_ctx_config(const search_ctx *s) { return &s->cfg; }
store *search_ctx_store(search_ctx *s) { return s->st; }
uint32_t search_ctx_ops(const search_ctx *s) { return s->ops; }
uint64_t search_ctx_settings(const search_ctx *s) { return s->settings; }
const char *search_ctx_backend(const search_ctx *s) { return s->backend; }
kn_device *search_ctx_device(search_ctx *s) { return s->dev; }
kn_device **search_ctx_device_slot(search_ctx *s, int k) {
  if (k <= 0) return &s->dev;
  return k <= SEARCH_MAX_JOBS ? &s->xdev[k - 1] : NULL;
}

// --device cpu|cuda|auto. auto: the GPU when one works, else the CPU, said once on stderr;
// cuda: an error saying why when there is no usable GPU. The device is opened once here and
// lent to every child (cuDNN's algorithm choices are reused across children).
static int choose_device(search_ctx *s, const search_config *cfg, char *err, size_t errlen) {
  s->backend = "cpu";
  snprintf(s->devname, sizeof s->devname, "cpu");
  if (!strcmp(cfg->device, "cpu")) return 0;
  if (cfg->workers > 0) {
    // Rank 0 trains nothing: each worker rank opens its own GPU (local rank mod the node's GPUs,
    // pnas/dispatch/mpi_worker.c) with this --device, or trains on the CPU where there is none (auto) or
    // fails the job with the reason (cuda).
    fprintf(stderr, "pnas: MPI workers train children (--device %s: one GPU per worker where "
                    "there are GPUs)\n", cfg->device);
    return 0;
  }
  const kn_backend *be = kn_backend_by_name("cuda");
  char msg[512];
  if (!be) {
    snprintf(msg, sizeof msg, "this build has no CUDA backend (no CUDA toolkit with cuDNN at "
                              "configure time, or -DPNAS_WITH_CUDA=OFF)");
  } else if (be->dev_open(&s->dev, msg, sizeof msg) == 0) {
    s->backend = be->name;
    snprintf(s->devname, sizeof s->devname, "%s", be->dev_name(s->dev));
    fprintf(stderr, "pnas: training children on %s\n", msg);
    return 0;
  }
  if (!strcmp(cfg->device, "cuda")) {
    snprintf(err, errlen, "--device cuda: %s", msg);
    return -1;
  }
  // Once per process: pnas compare opens one search per strategy and seed.
  static int said;
  if (!said++) fprintf(stderr, "pnas: training children on the CPU (%s)\n", msg);
  return 0;
}

// After a failed data load: what the user can do about it, appended to err.
static void data_fail_hint(search_ctx *s, const char *run_dir, char *err, size_t errlen) {
  char why[1024];
  snprintf(why, sizeof why, "%s", err);
  if (!run_dir) return;
  if (s->new_run)
    pnas_seterr(err, errlen, "%s\n  nothing was left in %s: fix --data/--dataset and start the "
                             "search again (the same --run is free)", why, run_dir);
  else if (store_count(s->st) == 0)
    pnas_seterr(err, errlen, "%s\n  %s holds no trained children yet: start it again as a new "
                             "search with the right --data/--dataset and --run %s",
                why, run_dir, run_dir);
  else
    pnas_seterr(err, errlen, "%s\n  a resume reads the data from where the search started (%s, "
                             "saved in %s/config.msgpack): put the data back there to continue",
                why, s->cfg.data_dir[0] ? s->cfg.data_dir : "the dataset's default location",
                run_dir);
}

static int ctx_open(search_ctx **out, const search_config *cfg, const char *run_dir, int resume,
                    int salvage, int load_data, char *err, size_t errlen) {
  if (search_config_check(cfg, err, errlen)) return -1;
  search_ctx *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  s->cfg = *cfg;
  s->t_open = now_s();
  s->best = NAN;
  s->rank = NAN;
  s->tty = isatty(STDERR_FILENO);
  space_parse_ops(cfg->ops, &s->ops, err, errlen);
  char settings[2048];
  search_settings_string(cfg, settings, sizeof settings);
  s->settings = store_settings_hash(settings);
  if (choose_device(s, cfg, err, errlen)) {
    free(s);
    return -1;
  }
  // Under MPI the worker ranks are the parallelism: each trains one child at a time.
  if (cfg->workers > 0 && cfg->jobs > 1)
    fprintf(stderr, "pnas: --jobs %d ignored under MPI (each worker rank trains one child at a "
                    "time; start more ranks instead)\n", cfg->jobs);
  // run_dir NULL: a worker rank's context (pnas/dispatch/mpi_worker.c), which trains but has no store.
  if (run_dir && store_open(run_dir, !resume, salvage, &s->st, err, errlen)) {
    free(s);
    return -1;
  }
  s->new_run = run_dir && !resume;
  for (int i = 0; run_dir && i < store_count(s->st); i++) {
    double e = store_get(s->st, i)->elapsed;
    if (isfinite(e) && e > s->elapsed_base) s->elapsed_base = e;
  }
  if (run_dir && !resume && search_config_save(cfg, run_dir, err, errlen)) {
    char why[1024];
    snprintf(why, sizeof why, "%s", err);
    pnas_seterr(err, errlen, "%s\n  nothing was left in %s: fix that and start the search again",
                why, run_dir);
    search_ctx_discard(s);
    return -1;
  }
  // A resumed run must train under the settings its records were measured with; a config that
  // disagrees (edited, or damaged without breaking its msgpack) would silently retrain
  // everything under new settings into the same log. (--strategy prune's records carry settings
  // derived from the config's, with its base width, L1 and seed: it finds them itself.)
  for (int i = 0; run_dir && resume && strcmp(s->cfg.strategy, "prune") && i < store_count(s->st); i++)
    if (store_get(s->st, i)->settings != s->settings) {
      snprintf(err, errlen,
               "%s/config.msgpack does not match the results log: record %d was trained under "
               "other training settings (settings hash %016llx, config gives %016llx); the "
               "config was edited or damaged",
               run_dir, i, (unsigned long long)store_get(s->st, i)->settings,
               (unsigned long long)s->settings);
      search_ctx_close(s);
      return -1;
    }
  // A child that ran out of memory may fit now (another device, fewer --jobs, memory freed):
  // a resume trains the children recorded so again, once each; other failures are kept.
  if (run_dir && resume && load_data) {
    int oom = 0;
    for (int i = 0; i < store_count(s->st); i++) {
      const store_record *r = store_get(s->st, i);
      if (!r->ok && search_reason_is_oom(r->reason) && store_find(s->st, r->hash, r->settings) == r)
        oom++;
    }
    s->retry_below = store_count(s->st);
    if (oom)
      fprintf(stderr, "pnas: %d child%s failed out of memory last time: training %s again "
                      "(other failures are kept)\n",
              oom, oom == 1 ? "" : "ren", oom == 1 ? "it" : "them");
  }
  data_kind_from_name(cfg->dataset, &s->kind);
  if (!load_data) {
    // A replay from a benchmark table trains nothing: only the image shape (for the cost model).
    s->full = (data_set){.n = 0, .c = s->kind == DATA_CIFAR10 ? 3 : 1,
                         .h = s->kind == DATA_CIFAR10 ? 32 : 28,
                         .w = s->kind == DATA_CIFAR10 ? 32 : 28, .classes = 10};
    s->cost = (cost_config){.N = cfg->N, .F = cfg->F, .in_c = s->full.c, .in_h = s->full.h,
                            .in_w = s->full.w, .classes = s->full.classes,
                            .stem = COST_STEM_CIFAR, .stem_mult = 3};
    *out = s;
    return 0;
  }
  if (data_load(s->kind, cfg->data_dir[0] ? cfg->data_dir : NULL, 1, &s->full, err, errlen) ||
      (s->full.n <= DATA_VAL_SIZE &&
       pnas_seterr(err, errlen, "dataset has %d training images; need more than %d (validation)",
                   s->full.n, DATA_VAL_SIZE))) {
    data_fail_hint(s, run_dir, err, errlen);
    search_ctx_discard(s);
    return -1;
  }
  int ntrain = s->full.n - DATA_VAL_SIZE;
  // A subset larger than the data is the whole of it: said once (a new search, not a worker).
  if (run_dir && !resume && cfg->train_subset > ntrain)
    fprintf(stderr, "pnas: warning: --train-subset %d is more than the %d training images of %s "
                    "(the last %d are validation): training on all %d\n",
            cfg->train_subset, ntrain, cfg->dataset, DATA_VAL_SIZE, ntrain);
  if (run_dir && !resume && cfg->val_subset > DATA_VAL_SIZE)
    fprintf(stderr, "pnas: warning: --val-subset %d is more than the %d validation images of "
                    "%s: validating on all %d\n",
            cfg->val_subset, DATA_VAL_SIZE, cfg->dataset, DATA_VAL_SIZE);
  s->train = data_view(&s->full, 0, cfg->train_subset > 0 && cfg->train_subset < ntrain
                                        ? cfg->train_subset
                                        : ntrain);
  s->val = data_view(&s->full, ntrain, cfg->val_subset > 0 && cfg->val_subset < DATA_VAL_SIZE
                                           ? cfg->val_subset
                                           : DATA_VAL_SIZE);
  s->cost = (cost_config){.N = cfg->N, .F = cfg->F, .in_c = s->full.c, .in_h = s->full.h,
                          .in_w = s->full.w, .classes = s->full.classes,
                          .stem = COST_STEM_CIFAR, .stem_mult = 3};
  *out = s;
  return 0;
}

int search_ctx_open(search_ctx **out, const search_config *cfg, const char *run_dir, int resume,
                    int salvage, char *err, size_t errlen) {
  return ctx_open(out, cfg, run_dir, resume, salvage, 1, err, errlen);
}

int search_ctx_open_replay(search_ctx **out, const search_config *cfg, const char *run_dir,
                           int resume, const struct pnas_table_s *t, char *err, size_t errlen) {
  if (ctx_open(out, cfg, run_dir, resume, 0, 0, err, errlen)) return -1;
  if (search_ctx_set_table(*out, t, err, errlen)) {
    search_ctx_close(*out);
    *out = NULL;
    return -1;
  }
  return 0;
}

int search_ctx_is_replay(const search_ctx *s) { return s->table != NULL; }
void search_ctx_set_fit_cache(search_ctx *s, const char *dir) {
  s->fit_cache = dir && dir[0] ? dir : NULL;
}
const char *search_ctx_fit_cache(const search_ctx *s) { return s->fit_cache; }

void search_ctx_discard(search_ctx *s) {
  if (!s) return;
  if (s->new_run && s->st && store_count(s->st) == 0) {
    // A start that failed before any child was recorded: take back what it created (the
    // config, then the store's log, lock and, when it made it, the directory).
    char path[1200];
    snprintf(path, sizeof path, "%s/config.msgpack", store_dir(s->st));
    unlink(path);
    store_discard(s->st);
    s->st = NULL;
  }
  search_ctx_close(s);
}

void search_ctx_close(search_ctx *s) {
  if (!s) return;
  search_progress_done(s);
  store_close(s->st);
  store_close(s->cache);
  data_release(&s->full);
  if (s->dev) kn_backend_by_name(s->backend)->dev_close(s->dev);
  for (int k = 0; k < SEARCH_MAX_JOBS; k++)
    if (s->xdev[k]) kn_backend_by_name(s->backend)->dev_close(s->xdev[k]);
  free(s);
}

int search_ctx_set_cache(search_ctx *s, const char *dir, int writes, char *err, size_t errlen) {
  store_close(s->cache);
  s->cache = NULL;
  s->cache_writes = writes;
  return writes ? store_open(dir, 1, 0, &s->cache, err, errlen)
                : store_open_readonly(dir, &s->cache, err, errlen);
}

int search_ctx_set_table(search_ctx *s, const pnas_table *t, char *err, size_t errlen) {
  if (t && t->settings != s->settings) {
    snprintf(err, errlen, "the table %s was measured under other training settings than this "
                          "search's", t->dir);
    return -1;
  }
  s->table = t;
  return 0;
}

int search_reason_is_oom(const char *why) {
  for (const char *o = strstr(why, "out of "); o; o = strstr(o + 1, "out of ")) {
    const char *m = strstr(o, "memory");
    if (m && m - o <= 24) return 1;
  }
  return 0;
}

int search_record_better(const store_record *a, const store_record *b) {
  if (!a->ok) return 0;
  if (!b || !b->ok) return 1;
  if (a->val_acc != b->val_acc) return a->val_acc > b->val_acc;
  return a->hash < b->hash;
}

int search_within_budget(search_ctx *s, const space_cell *c) {
  if (!s->cfg.max_params && !s->cfg.max_mult_adds) return 1;
  cost_result r;
  char err[128];
  if (cost_network(c, &s->cost, &r, err, sizeof err)) return 0;
  return search_config_fits(&s->cfg, r.params, r.mult_adds);
}

static uint64_t child_seed(uint64_t train_seed, uint64_t hash) {
  uint64_t z = train_seed ^ (hash * 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return (z ^ (z >> 31)) & 0x7fffffffffffffffULL;
}

static void fmt_time(double s, char *buf, size_t n) {
  if (!isfinite(s) || s < 0) snprintf(buf, n, "?");
  else if (s < 60) snprintf(buf, n, "%.0fs", s);
  else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
  else snprintf(buf, n, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

static void progress_line(search_ctx *s, const store_record *r, int cached) {
  if (s->table) return; // a replay from a table: thousands of runs in seconds, no progress
  double avg = s->done > s->cached ? s->child_seconds / (s->done - s->cached) : NAN;
  int left = s->todo - s->done;
  // Later levels of a PNAS search train `beam` children each.
  if (!strcmp(s->cfg.strategy, "pnas") && s->level < s->levels)
    left += (s->levels - s->level) * s->cfg.beam;
  left += s->future;
  char eta[32], best[32], rank[32];
  // Children training at once: the worker ranks under MPI, else --jobs (never more than are left).
  int par = s->cfg.workers > 0 ? s->cfg.workers : s->cfg.jobs;
  if (par > left) par = left;
  if (par < 1) par = 1;
  double eta_s = isfinite(avg) ? avg * left / par : NAN;
  // PNAS also fits and scores once per level still to come, and refits at the end: at the mean
  // time of the fits so far (none yet at level 1).
  if (isfinite(eta_s) && s->fits > 0 && !strcmp(s->cfg.strategy, "pnas") && s->levels > 1)
    eta_s += (s->levels - s->level + 1) * (s->fit_seconds / s->fits);
  fmt_time(eta_s, eta, sizeof eta);
  if (isfinite(s->best)) snprintf(best, sizeof best, "%.4f", s->best);
  else snprintf(best, sizeof best, "-");
  if (isfinite(s->rank)) snprintf(rank, sizeof rank, "%.2f", s->rank);
  else snprintf(rank, sizeof rank, "-");
  // Levels mean something for PNAS and table builds (cells grow a block per level); the
  // baselines sample full-size cells, so their line counts models.
  char where[64];
  int leveled = !strcmp(s->cfg.strategy, "pnas") || !strcmp(s->cfg.strategy, "table");
  if (leveled)
    snprintf(where, sizeof where, "level %d/%d child %d/%d", s->level, s->levels, s->done, s->todo);
  else
    snprintf(where, sizeof where, "%s model %d/%d", s->cfg.strategy, s->done, s->todo);
  if (s->tty) {
    if (leveled)
      fprintf(stderr, "\r\033[K%s  ETA %s  best %s  rank-corr %s", where, eta, best, rank);
    else
      fprintf(stderr, "\r\033[K%s  ETA %s  best %s", where, eta, best);
    s->live_open = 1;
  } else if (r) {
    char text[SPACE_TEXT_MAX];
    space_format(&r->cell, text, sizeof text);
    if (r->ok)
      fprintf(stderr, "%s %s acc %.4f %.1fs%s  best %s ETA %s\n", where, text, r->val_acc,
              r->seconds, cached ? " (cached)" : "", best, eta);
    else
      fprintf(stderr, "%s %s FAILED: %s%s\n", where, text, r->reason, cached ? " (cached)" : "");
  }
  fflush(stderr);
}

void search_progress_level(search_ctx *s, int level, int levels, int todo) {
  s->level = level;
  s->levels = levels;
  s->todo = todo;
  s->done = 0;
  s->cached = 0;
  s->child_seconds = 0;
  s->level_t0 = now_s();
  progress_line(s, NULL, 0);
}

void search_progress_set_rank(search_ctx *s, double spearman) { s->rank = spearman; }
void search_progress_future(search_ctx *s, int children) { s->future = children; }
void search_progress_fit(search_ctx *s, double seconds) {
  s->fit_seconds += seconds;
  s->fits++;
}

void search_progress_done(search_ctx *s) {
  if (s->live_open) {
    fputc('\n', stderr);
    s->live_open = 0;
  }
}

// Progress bookkeeping for one finished child (trained, or answered by a store).
static void child_done(search_ctx *s, const store_record *r, int cached) {
  s->done++;
  if (cached) s->cached++;
  else s->child_seconds += r->seconds;
  if (r->ok && (!isfinite(s->best) || r->val_acc > s->best)) s->best = r->val_acc;
  progress_line(s, r, cached);
}

int search_lookup(search_ctx *s, const space_cell *c, int level, double predicted,
                  store_record *out, char *err, size_t errlen) {
  uint64_t hash = space_hash(c);
  const store_record *hit = store_find(s->st, hash, s->settings);
  if (hit && !hit->ok && hit->seq < s->retry_below && search_reason_is_oom(hit->reason))
    return 0; // out of memory before this resume: train it again (see ctx_open)
  if (hit) {
    *out = *hit;
    child_done(s, out, 1);
    return 1;
  }
  const store_record *shared = s->cache ? store_find(s->cache, hash, s->settings) : NULL;
  if (s->table) {
    shared = table_find(s->table, hash);
    if (!shared) {
      char text[SPACE_TEXT_MAX];
      space_format(c, text, sizeof text);
      snprintf(err, errlen, "cell %s (level %d) is not in the table %s", text, c->nblocks,
               s->table->dir);
      return -1;
    }
  }
  if (shared) {
    // Trained by another run of the same comparison: copy it, cost included.
    store_record r = *shared;
    snprintf(r.strategy, sizeof r.strategy, "%s", s->cfg.strategy);
    r.level = level;
    r.predicted = predicted;
    r.from_cache = 1;
    r.elapsed = search_ctx_elapsed(s);
    if (store_append(s->st, &r, err, errlen)) return -1;
    *out = r;
    child_done(s, out, 1);
    return 1;
  }
  return 0;
}

void search_train_record(search_ctx *s, const space_cell *c, int level, double predicted,
                         store_record *out) {
  search_train_record_dev(s, s->dev, 0, c, level, predicted, out, NULL);
}

static void train_record(search_ctx *s, kn_device *dev, int threads, const space_cell *c,
                         int level, double predicted, const search_variant *v, store_record *out,
                         size_t *memory_bytes);

void search_train_variant(search_ctx *s, const space_cell *c, const search_variant *v,
                          store_record *out) {
  train_record(s, s->dev, 0, c, c->nblocks, NAN, v, out, NULL);
}

const cost_config *search_ctx_cost(const search_ctx *s) { return &s->cost; }

// Reads s (never writes it): pool threads call this concurrently (pnas/dispatch/pool.c).
void search_train_record_dev(search_ctx *s, kn_device *dev, int threads, const space_cell *c,
                             int level, double predicted, store_record *out,
                             size_t *memory_bytes) {
  train_record(s, dev, threads, c, level, predicted, NULL, out, memory_bytes);
}

static void train_record(search_ctx *s, kn_device *dev, int threads, const space_cell *c,
                         int level, double predicted, const search_variant *v, store_record *out,
                         size_t *memory_bytes) {
  uint64_t hash = space_hash(c);
  store_record r;
  memset(&r, 0, sizeof r);
  r.cell = *c;
  r.hash = hash;
  r.settings = v ? v->settings : s->settings;
  r.level = level;
  snprintf(r.strategy, sizeof r.strategy, "%s", s->cfg.strategy);
  r.predicted = predicted;
  r.seed = v && v->seed ? v->seed : child_seed((uint64_t)s->cfg.train_seed, hash);
  r.val_top5 = NAN;
  cost_result cr;
  char cerr[128];
  cost_config cc = s->cost;
  if (v) cc.F = v->F, cc.widths = v->widths;
  if (cost_network(c, &cc, &cr, cerr, sizeof cerr) == 0) {
    r.params = cr.params;
    r.mult_adds = cr.mult_adds;
  }
  train_config tc;
  train_config_default(&tc);
  tc.N = s->cfg.N;
  tc.F = v ? v->F : s->cfg.F;
  if (v) {
    tc.widths = v->widths;
    tc.l1_bn = v->l1;
    tc.on_trained = v->on_trained;
    tc.on_trained_user = v->user;
  }
  tc.epochs = s->cfg.epochs;
  tc.batch = s->cfg.batch;
  tc.lr = s->cfg.lr;
  tc.momentum = s->cfg.momentum;
  tc.weight_decay = s->cfg.weight_decay;
  tc.seed = r.seed;
  if (threads > 0) tc.threads = threads;
  else if (s->cfg.threads > 0) tc.threads = s->cfg.threads;
  tc.backend = s->backend;
  tc.device = dev;
  tc.kind = s->kind;
  tc.verbose = 0;
  train_result tr;
  double t0 = now_s();
  int rc = train_child(&tc, c, &s->train, &s->val, NULL, &tr);
  r.seconds = now_s() - t0;
  if (memory_bytes) *memory_bytes = tr.memory_bytes;
  snprintf(r.device, sizeof r.device, "%s",
           dev && dev != s->dev ? kn_backend_by_name(s->backend)->dev_name(dev) : s->devname);
  if (rc == 0 && tr.ok) {
    r.ok = 1;
    r.val_acc = tr.val_acc;
    r.val_top5 = tr.val_top5;
    r.examples = tr.examples;
  } else {
    r.ok = 0;
    r.val_acc = 0;
    r.examples = tr.examples;
    snprintf(r.reason, sizeof r.reason, "%s", tr.reason[0] ? tr.reason : "training failed");
  }
  *out = r;
}

double search_ctx_elapsed(const search_ctx *s) { return s->elapsed_base + now_s() - s->t_open; }

int search_commit(search_ctx *s, store_record *r, char *err, size_t errlen) {
  r->elapsed = search_ctx_elapsed(s);
  if (store_append(s->st, r, err, errlen)) return -1;
  if (s->cache && s->cache_writes) {
    store_record copy = *r;
    if (store_append(s->cache, &copy, err, errlen)) return -1;
  }
  child_done(s, r, 0);
  return 0;
}

int search_eval(search_ctx *s, const space_cell *cell, int level, double predicted,
                store_record *out, int *cached, char *err, size_t errlen) {
  space_cell c = *cell;
  space_canon(&c);
  int found = search_lookup(s, &c, level, predicted, out, err, errlen);
  if (found < 0) return -1;
  *cached = found;
  if (found) return 0;
  store_record r;
  search_train_record(s, &c, level, predicted, &r);
  if (search_commit(s, &r, err, errlen)) return -1;
  *out = r;
  return 0;
}
