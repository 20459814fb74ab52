// `pnas compare`: runs each listed strategy with seeds 1..S under the same budget and training
// settings, each in OUT/<strategy>-seed<k>/, all sharing trained children through the cache
// store OUT/cache, then writes the comparison report into OUT. Rerunning the same command
// continues: finished runs are replayed from their logs (no training), a killed run resumes.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "pnas/cli/cli.h"
#include "pnas/report/report_core.h"
#include "pnas/search/search.h"
#include "pnas/search/table.h"
#include "pnas/strategies/strategy.h"
#include "pnas/dispatch/mpi_world.h"

static const char USAGE[] =
    "usage: pnas compare --strategies LIST --seeds S [--budget-models M] [search flags] --out DIR\n"
    "Runs every strategy of LIST (default pnas,rl,random,evolution) with seeds 1..S [3], each in\n"
    "DIR/<strategy>-seed<k>/, sharing trained children through DIR/cache, and writes\n"
    "DIR/report.md and DIR/report.html (see `pnas report`). The baselines train M models each\n"
    "(0 = as many as PNAS trains with the same flags). Rerun the same command to continue an\n"
    "interrupted comparison; --threads may change, other flags may not.\n"
    "--strategy, --seed and --cache are set by compare and cannot be given.\n"
    "--table DIR: every strategy is answered from the benchmark table DIR (pnas table build)\n"
    "and nothing trains; the recipe and the operators are the table's (training flags cannot\n"
    "be given), --max-blocks defaults to the table's, the baselines' budget to 4x what PNAS\n"
    "trains (their curves are compared at PNAS's count). Writes DIR/table-report.md with\n"
    "bootstrap intervals over seeds, regret, models needed to reach the table's top cells and\n"
    "a verdict; --jobs J replays J runs at once. --first-seed F: seeds F..F+S-1 [1].\n"
    "--fit-cache DIR: PNAS's fitted predictors shared between comparisons (a fit is found\n"
    "there under the hash of all its inputs, so results are identical; variants that differ\n"
    "only in selection or beam fit once).\n"
    "examples:\n"
    "  pnas compare --ops identity,sep3x3,max3x3 --max-blocks 2 --beam 4 --seeds 3 --out cmp\n"
    "  pnas compare --table data/tables/fm-3ops-b2 --seeds 200 --jobs 2 --out cmp\n";

// The fields that must match for a rerun to continue the same comparison.
static void identity_string(const search_config *c, char *buf, size_t n) {
  char settings[2048];
  search_settings_string(c, settings, sizeof settings);
  snprintf(buf, n,
           "%s|strategy=%s|seed=%lld|B=%d|ops=%s|beam=%d|budget=%d|P=%d|S=%d|rl=%.17g,%.17g,%d|"
           "pred=%s,%d,%d|max=%lld,%lld|select=%s,%.17g,%d",
           settings, c->strategy, (long long)c->seed, c->max_blocks, c->ops, c->beam,
           c->budget_models, c->population, c->sample, c->rl_lr, c->rl_entropy, c->rl_batch,
           c->predictor, c->members, c->pred_epochs, (long long)c->max_params,
           (long long)c->max_mult_adds, c->select, c->kappa, c->explore);
  // Appended only when set, so comparisons made before the flag existed still continue.
  size_t len = strlen(buf);
  if (c->per_parent && len < n) snprintf(buf + len, n - len, "|per-parent=%d", c->per_parent);
}

static int file_exists(const char *dir, const char *name) {
  char p[1400];
  struct stat st;
  snprintf(p, sizeof p, "%s/%s", dir, name);
  return stat(p, &st) == 0;
}

// Runs (or continues) one strategy/seed. 0 ok, 1 failure, 2 usage (flags differ from the run).
static const char *fit_cache_dir = NULL;

static int run_one(const search_config *cfg, const char *run, const char *cache,
                   const pnas_table *table, int quiet, int *models, double *best) {
  char err[1024];
  int resume = file_exists(run, STORE_LOG_NAME);
  if (resume) {
    search_config saved;
    if (search_config_load(&saved, run, err, sizeof err)) {
      fprintf(stderr, "pnas compare: cannot continue %s: %s\n", run, err);
      return 1;
    }
    char a[4096], b[4096];
    identity_string(cfg, a, sizeof a);
    identity_string(&saved, b, sizeof b);
    if (strcmp(a, b)) {
      fprintf(stderr, "pnas compare: %s was started with other flags; rerun the original "
                      "command or choose another --out\n  saved: %s\n  now:   %s\n",
              run, b, a);
      return 2;
    }
  }
  search_config c = *cfg;
  c.workers = mpi_world_workers();
  search_ctx *s;
  if (table ? search_ctx_open_replay(&s, &c, run, resume, table, err, sizeof err)
            : search_ctx_open(&s, &c, run, resume, 0, err, sizeof err)) {
    fprintf(stderr, "pnas compare: %s: %s\n", run, err);
    return 1;
  }
  search_ctx_set_fit_cache(s, fit_cache_dir);
  if (!table && search_ctx_set_cache(s, cache, 1, err, sizeof err)) {
    fprintf(stderr, "pnas compare: %s %s: %s\n", table ? "table" : "cache",
            table ? table->dir : cache, err);
    search_ctx_discard(s);
    return 1;
  }
  if (!quiet)
    fprintf(stderr, "pnas compare: %s seed %lld in %s%s\n", cfg->strategy, (long long)cfg->seed,
            run, resume ? " (continued)" : "");
  search_result res;
  int rc = strategy_run(s, &res, err, sizeof err);
  search_progress_done(s);
  *models = store_count(search_ctx_store(s));
  *best = res.found ? res.best.val_acc : NAN;
  search_ctx_close(s);
  if (rc) {
    fprintf(stderr, "pnas compare: %s: %s (rerun the same command to continue)\n", run, err);
    return 1;
  }
  return 0;
}

// Creates dir unless it is a directory already (a symbolic link loop or a file there is an
// error, said on stderr). 0 ok, -1 error.
static int make_dir(const char *dir) {
  struct stat st;
  if (mkdir(dir, 0755) == 0 || (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)))
    return 0;
  fprintf(stderr, "pnas compare: cannot create %s: %s\n", dir,
          errno == EEXIST ? "it exists and is not a directory" : pnas_strerror(errno));
  return -1;
}

int cmd_compare(int argc, char **argv) {
  search_config cfg;
  search_config_default(&cfg);
  char strategies[128] = "pnas,rl,random,evolution";
  const char *out = NULL, *table_dir = NULL;
  int seeds = 3, first_seed = 1, training_given = 0, blocks_given = 0;
  arg_spec specs[72];
  int n = search_config_args(&cfg, specs, 64);
  int forbidden = 0;
  for (int i = 0; i < n; i++)
    if (!strcmp(specs[i].name, "strategy") || !strcmp(specs[i].name, "seed") ||
        !strcmp(specs[i].name, "cache"))
      specs[i].seen = &forbidden;
  // With --table the recipe and the operators are the table's.
  static const char *const TRAINING[] = {"dataset", "data", "N", "F", "epochs", "batch", "lr",
                                         "momentum", "weight-decay", "train-subset",
                                         "val-subset", "train-seed", "ops"};
  for (int i = 0; i < n; i++) {
    for (size_t k = 0; k < sizeof TRAINING / sizeof TRAINING[0]; k++)
      if (!strcmp(specs[i].name, TRAINING[k])) specs[i].seen = &training_given;
    if (!strcmp(specs[i].name, "max-blocks")) specs[i].seen = &blocks_given;
  }
  specs[n++] = (arg_spec){"strategies", ARG_BUF, strategies, 0, sizeof strategies, NULL};
  specs[n++] = (arg_spec){"seeds", ARG_INT, &seeds, 1, 1000, NULL};
  specs[n++] = (arg_spec){"out", ARG_STR, &out, 0, -1, NULL};
  specs[n++] = (arg_spec){"table", ARG_STR, &table_dir, 0, -1, NULL};
  specs[n++] = (arg_spec){"first-seed", ARG_INT, &first_seed, 1, 1000000000, NULL};
  specs[n++] = (arg_spec){"fit-cache", ARG_STR, &fit_cache_dir, 0, -1, NULL};
  char usage[6000];
  snprintf(usage, sizeof usage, "%s\n%s", USAGE, SEARCH_FLAGS_HELP);
  int rc = args_parse("pnas compare", usage, argc, argv, 1, specs, n, NULL, 0, NULL);
  if (rc == 3) return 0;
  if (rc) return rc;
  if (forbidden) {
    fprintf(stderr, "pnas compare: --strategy, --seed and --cache are set by compare (use "
                    "--strategies and --seeds)\n");
    return 2;
  }
  if (!out) {
    fprintf(stderr, "pnas compare: --out DIR is required\n");
    return 2;
  }
  pnas_table *table = NULL;
  char err[1024];
  if (!table_dir) search_config_preset(&cfg, argc, argv);
  if (table_dir) {
    if (training_given) {
      fprintf(stderr, "pnas compare: with --table the training flags and --ops come from the "
                      "table (%s/config.msgpack)\n", table_dir);
      return 2;
    }
    if (table_load(table_dir, &table, err, sizeof err)) {
      fprintf(stderr, "pnas compare: --table: %s\n", err);
      return 1;
    }
    search_config *tc = &table->cfg;
    memcpy(cfg.dataset, tc->dataset, sizeof cfg.dataset);
    memcpy(cfg.data_dir, tc->data_dir, sizeof cfg.data_dir);
    memcpy(cfg.ops, tc->ops, sizeof cfg.ops);
    cfg.N = tc->N;
    cfg.F = tc->F;
    cfg.epochs = tc->epochs;
    cfg.batch = tc->batch;
    cfg.lr = tc->lr;
    cfg.momentum = tc->momentum;
    cfg.weight_decay = tc->weight_decay;
    cfg.train_subset = tc->train_subset;
    cfg.val_subset = tc->val_subset;
    cfg.train_seed = tc->train_seed;
    if (!blocks_given) cfg.max_blocks = table->levels;
    store_set_durable(0); // replays of a table: rebuilt in seconds, no need to fsync
  }
  // Parse and check the strategy list.
  char names[8][16];
  int ns = 0;
  for (char *tok = strtok(strategies, ","); tok; tok = strtok(NULL, ",")) {
    if (ns == 8 || strlen(tok) >= sizeof names[0]) {
      fprintf(stderr, "pnas compare: bad --strategies (at most 8 names)\n");
      return 2;
    }
    for (int k = 0; k < ns; k++)
      if (!strcmp(names[k], tok)) {
        fprintf(stderr, "pnas compare: strategy '%s' listed twice\n", tok);
        return 2;
      }
    snprintf(names[ns], sizeof names[ns], "%s", tok);
    snprintf(cfg.strategy, sizeof cfg.strategy, "%s", tok);
    if (search_config_check(&cfg, err, sizeof err)) {
      fprintf(stderr, "pnas compare: %s\n", err);
      return 2;
    }
    ns++;
  }
  if (ns == 0) {
    fprintf(stderr, "pnas compare: --strategies is empty\n");
    table_free(table);
    return 2;
  }
  // PNAS's model count: the level-1 cells within budget + (B - 1) x beam.
  int pnas_budget = 0;
  if (table) {
    for (int i = 0; i < table->n; i++)
      pnas_budget += table->rec[i].cell.nblocks == 1;
    pnas_budget += (cfg.max_blocks - 1) * cfg.beam;
    if (cfg.budget_models == 0) cfg.budget_models = 4 * pnas_budget;
  }
  if ((fit_cache_dir && make_dir(fit_cache_dir)) || make_dir(out)) return 1;
  char cache[sizeof cfg.cache_dir];
  if (snprintf(cache, sizeof cache, "%s/cache", out) >= (int)sizeof cache) {
    fprintf(stderr, "pnas compare: --out path too long\n");
    return 2;
  }
  memcpy(cfg.cache_dir, cache, sizeof cache);
  int nruns = ns * seeds;
  char **dirs = calloc((size_t)nruns, sizeof *dirs);
  if (!dirs) {
    fprintf(stderr, "pnas compare: out of memory\n");
    return 1;
  }
  rc = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < ns && !rc; i++)
    for (int k = 0; k < seeds && !rc; k++) {
      char *d = malloc(1200);
      if (!d) {
        rc = 1;
        break;
      }
      snprintf(d, 1200, "%s/%s-seed%d", out, names[i], first_seed + k);
      dirs[(i * seeds) + k] = d;
    }
  // A replay from a table runs --jobs processes at once (each run is independent and
  // deterministic, so the runs are the same whatever the split); training runs one at a time.
  int procs = table && cfg.jobs > 1 ? cfg.jobs : 1;
  pid_t pids[64];
  int np = 0;
  for (int j = 0; j < procs && !rc; j++) {
    pid_t pid = procs > 1 ? fork() : 0;
    if (pid < 0) {
      fprintf(stderr, "pnas compare: fork: %s\n", strerror(errno));
      rc = 1;
      break;
    }
    if (pid > 0) {
      pids[np++] = pid;
      continue;
    }
    int crc = 0;
    for (int r = j; r < nruns && !crc; r += procs) {
      int i = r / seeds, k = r % seeds;
      memcpy(cfg.strategy, names[i], sizeof cfg.strategy);
      cfg.seed = first_seed + k;
      int models;
      double best;
      crc = run_one(&cfg, dirs[r], cache, table, table != NULL, &models, &best);
      if (!crc && !table)
        fprintf(stderr, "pnas compare: %s seed %d done: %d models, best %.4f\n", names[i],
                first_seed + k, models, best);
    }
    if (procs > 1) {
      fflush(NULL);
      _exit(crc);
    }
    rc = crc;
  }
  for (int j = 0; j < np; j++) {
    int st;
    while (waitpid(pids[j], &st, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(st) || WEXITSTATUS(st)) rc = rc ? rc : 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (!rc && table) {
    if (report_table_write(table, (const char(*)[16])names, ns, seeds, (const char *const *)dirs,
                           pnas_budget, out, err, sizeof err)) {
      fprintf(stderr, "pnas compare: report: %s\n", err);
      rc = 1;
    } else {
      printf("comparison of %d runs replayed from %s in %.1f s: %s/table-report.md\n", nruns,
             table->dir, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9, out);
    }
  } else if (!rc) {
    report rep;
    int bad = report_build(&rep, (const char *const *)dirs, nruns, err, sizeof err);
    if (!bad) {
      bad = report_write(&rep, out, err, sizeof err);
      report_release(&rep);
    }
    if (bad) {
      fprintf(stderr, "pnas compare: report: %s (the runs are complete; retry with `pnas report "
                      "%s --out %s`)\n",
              err, out, out);
      rc = 1;
    } else {
      printf("comparison of %d runs done in %.0f s: %s/report.html, %s/report.md\n", nruns,
             (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9, out, out);
    }
  }
  for (int i = 0; i < nruns; i++) free(dirs[i]);
  free(dirs);
  table_free(table);
  return rc;
}
