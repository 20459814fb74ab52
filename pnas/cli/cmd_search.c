// `pnas search` (and plain `pnas [flags]`): runs a strategy in a run directory, resumable.
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pnas/cli/cli.h"
#include "pnas/search/search.h"
#include "pnas/strategies/strategy.h"
#include "pnas/dispatch/mpi_world.h"

static const char USAGE[] =
    "usage: pnas [search] [flags] [--run DIR]\n"
    "       pnas search --resume DIR [--salvage] [--threads t] [--jobs J] [--device D]\n"
    "Runs an architecture search (PNAS by default) and prints the best cell found.\n"
    "With no flags: a small real search on Fashion-MNIST sized for 2 CPU cores.\n"
    "  --run DIR    run directory [runs/<timestamp>]   --resume DIR  continue a killed search\n"
    "  --salvage    on resume, skip corrupt records in the results log (with a warning)\n"
    "examples:\n"
    "  pnas                                          the small default search (2 CPU cores)\n"
    "  pnas --beam 256 --max-blocks 5                the paper's search (8 operators)\n"
    "  pnas --ops identity,sep3x3,max3x3 --max-blocks 2 --beam 8 --run runs/a --jobs 2\n"
    "  pnas search --strategy random --budget-models 50 --cache runs/shared\n"
    "  pnas search --resume runs/a                   continue after a kill or Ctrl-C\n";

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void print_summary(search_ctx *s, const search_result *res, double wall) {
  const search_config *cfg = search_ctx_config(s);
  store *st = search_ctx_store(s);
  int n = store_count(st), ok = 0, nl1 = 0;
  int64_t examples = 0;
  double train_s = 0;
  double *l1 = malloc(sizeof *l1 * (size_t)(n ? n : 1));
  for (int i = 0; i < n; i++) {
    const store_record *r = store_get(st, i);
    ok += r->ok;
    examples += r->examples;
    train_s += r->seconds;
    if (r->ok && r->level == 1 && l1) l1[nl1++] = r->val_acc;
  }
  char text[SPACE_TEXT_MAX];
  space_format(&res->best.cell, text, sizeof text);
  if (!strcmp(cfg->strategy, "prune")) {
    printf("\npruned network of cell %s\n", text);
    printf("  validation accuracy %.4f, params %lld, mult-adds %lld (N=%d, pruned from F=%d)\n",
           res->best.val_acc, (long long)res->best.params, (long long)res->best.mult_adds, cfg->N,
           search_config_prune_F(cfg));
  } else {
    printf("\nbest cell (level %d): %s\n", res->best.level, text);
    printf("  validation accuracy %.4f, params %lld, mult-adds %lld (N=%d F=%d)\n",
           res->best.val_acc, (long long)res->best.params, (long long)res->best.mult_adds, cfg->N,
           cfg->F);
  }
  // The answer is the deepest level's best (the paper's); a shallower cell of the same run may
  // be better (and is smaller): name it too, so the live line's "best" and the summary agree.
  const store_record *over = NULL;
  for (int i = 0; i < n; i++) {
    const store_record *r = store_get(st, i);
    if (r->settings == search_ctx_settings(s) && search_record_better(r, over)) over = r;
  }
  if (over && over->val_acc > res->best.val_acc) {
    char t2[SPACE_TEXT_MAX];
    space_format(&over->cell, t2, sizeof t2);
    printf("best cell overall (level %d): %s\n", over->cell.nblocks, t2);
    printf("  validation accuracy %.4f (%+.4f), params %lld, mult-adds %lld\n", over->val_acc,
           over->val_acc - res->best.val_acc, (long long)over->params,
           (long long)over->mult_adds);
  }
  if (nl1 && l1) {
    qsort(l1, (size_t)nl1, sizeof *l1, cmp_double);
    double med = nl1 % 2 ? l1[nl1 / 2] : 0.5 * (l1[nl1 / 2 - 1] + l1[nl1 / 2]);
    printf("  level-1 cells: median %.4f, best %.4f -> the search's best is %+.4f over the "
           "median\n",
           med, l1[nl1 - 1], res->best.val_acc - med);
  }
  printf("  cost: %d models trained (%d ok), %lld examples, %.0f s training, %.0f s wall\n", n, ok,
         (long long)examples, train_s, wall);
  printf("  run directory: %s\n", store_dir(st));
  if (!strcmp(cfg->strategy, "prune")) // the answer is a pruned network, not a cell
    printf("  pruned channels: %s/pruned-arch.txt (pnas show --arch %s)\n"
           "train it longer:\n  pnas train --arch %s --epochs 20\n",
           store_dir(st), store_dir(st), store_dir(st));
  else
    printf("retrain it at full size:\n  pnas train --cell '%s' --dataset %s --N 3 --F 48 "
           "--epochs 20\n",
           text, cfg->dataset);
  free(l1);
}

// 1 when a and b name the same directory (or, when either is missing, the same path).
static int same_dir(const char *a, const char *b) {
  struct stat sa, sb;
  if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  size_t na = strlen(a), nb = strlen(b);
  while (na > 1 && a[na - 1] == '/') na--;
  while (nb > 1 && b[nb - 1] == '/') nb--;
  return na == nb && !strncmp(a, b, na);
}

// Records in DIR/results.log: -2 when there is no log, -1 when it cannot be read.
static int run_records(const char *dir) {
  char log[1100], err[512];
  struct stat st;
  snprintf(log, sizeof log, "%s/%s", dir, STORE_LOG_NAME);
  if (lstat(log, &st) != 0) return -2;
  store_record *recs = NULL;
  int n = 0;
  if (store_read_log(log, 0, &recs, &n, NULL, err, sizeof err)) return -1;
  free(recs);
  return n;
}

// A path flag saved in config.msgpack is made absolute (against the current directory), so a
// --resume from another working directory finds the same files. 0 ok, -1 when too long.
static int make_absolute(char *path, size_t size) {
  if (!path[0] || path[0] == '/') return 0;
  char cwd[PATH_MAX], abs[PATH_MAX + 600];
  if (!getcwd(cwd, sizeof cwd)) return 0; // keep it as given
  const char *rel = path;
  while (rel[0] == '.' && rel[1] == '/') rel += 2;
  int n = snprintf(abs, sizeof abs, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "",
                   strcmp(rel, ".") ? rel : "");
  if (n < 0 || (size_t)n >= size) return -1;
  memcpy(path, abs, (size_t)n + 1);
  return 0;
}

// What a pnas run directory may hold (a new search writes or replaces these; anything else
// means the directory is someone else's).
static int pnas_file(const char *name) {
  static const char *const PREFIX[] = {".lock", STORE_LOG_NAME, "config.msgpack",
                                       "state.msgpack", "predictor-", "rl-controller.msgpack"};
  for (size_t i = 0; i < sizeof PREFIX / sizeof PREFIX[0]; i++)
    if (!strncmp(name, PREFIX[i], strlen(PREFIX[i]))) return 1;
  return 0;
}

// The first entry of dir that is not a pnas run's file ("" when none), into out.
static void foreign_entry(const char *dir, char *out, size_t n) {
  out[0] = '\0';
  DIR *d = opendir(dir);
  if (!d) return;
  for (struct dirent *e; (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || pnas_file(e->d_name)) continue;
    snprintf(out, n, "%s", e->d_name);
    break;
  }
  closedir(d);
}

// Ctrl-C: say how to continue, then die of the signal as before (the log is crash-safe).
static char interrupt_msg[1400];
static size_t interrupt_len;
static void on_interrupt(int sig) {
  if (write(STDERR_FILENO, interrupt_msg, interrupt_len) < 0) {}
  signal(sig, SIG_DFL);
  raise(sig);
}

static void hint_on_interrupt(const char *run) {
  // Quoted for the shell when it holds anything but plain path characters.
  int plain = 1;
  for (const char *p = run; *p; p++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+,:=@", *p))
      plain = 0;
  int n = snprintf(interrupt_msg, sizeof interrupt_msg,
                   "\npnas: interrupted; the children trained so far are kept. Continue with:\n"
                   "  pnas search --resume %s%s%s\n",
                   plain ? "" : "'", run, plain ? "" : "'");
  if (n < 0 || (size_t)n >= sizeof interrupt_msg || strchr(run, '\'')) return;
  interrupt_len = (size_t)n;
  struct sigaction old;
  // A search started in the background of a script ignores SIGINT: leave it so.
  if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler == SIG_DFL) signal(SIGINT, on_interrupt);
}

int cmd_search(int argc, char **argv) {
  search_config cfg;
  search_config_default(&cfg);
  const char *run = NULL, *resume = NULL;
  int salvage = 0, threads = -1, made_default = 0;
  arg_spec specs[64];
  int n = search_config_args(&cfg, specs, 60);
  // With --resume only where children train may change (--threads, --jobs, --device); any
  // other config flag is refused (the rest comes from the run's config).
  int config_given = 0, jobs_given = 0, device_given = 0;
  for (int i = 0; i < n; i++) {
    if (!strcmp(specs[i].name, "threads")) continue;
    if (!strcmp(specs[i].name, "jobs") || !strcmp(specs[i].name, "jobs-per-gpu"))
      specs[i].seen = &jobs_given;
    else if (!strcmp(specs[i].name, "device"))
      specs[i].seen = &device_given;
    else
      specs[i].seen = &config_given;
  }
  specs[n++] = (arg_spec){"run", ARG_STR, &run, 0, -1, NULL};
  specs[n++] = (arg_spec){"resume", ARG_STR, &resume, 0, -1, NULL};
  specs[n++] = (arg_spec){"salvage", ARG_FLAG, &salvage, 0, -1, NULL};
  char usage[4096];
  snprintf(usage, sizeof usage, "%s\n%s", USAGE, SEARCH_FLAGS_HELP);
  int rc = args_parse("pnas search", usage, argc, argv, 1, specs, n, NULL, 0, NULL);
  if (rc == 3) return 0;
  if (rc) return rc;
  char err[1024];
  if (resume) {
    // Everything but the thread count comes from the run's saved configuration.
    if (config_given || run) {
      fprintf(stderr, "pnas search: --resume takes only --salvage, --threads, --jobs and "
                      "--device (the rest comes from %s/config.msgpack)\n",
              resume);
      return 2;
    }
    threads = cfg.threads;
    int jobs = cfg.jobs;
    char device[sizeof cfg.device];
    snprintf(device, sizeof device, "%s", cfg.device);
    if (search_config_load(&cfg, resume, err, sizeof err)) {
      fprintf(stderr, "pnas search: cannot resume: %s\n", err);
      struct stat st;
      int nrec = run_records(resume);
      if (stat(resume, &st) == 0 && S_ISDIR(st.st_mode) && (nrec == 0 || nrec == -2))
        fprintf(stderr, "  %s holds no trained children (a start that failed?): start a new "
                        "search there instead, with your flags and --run %s\n",
                resume, resume);
      return 1;
    }
    if (threads > 0) cfg.threads = threads;
    if (jobs_given) cfg.jobs = jobs;
    if (device_given) snprintf(cfg.device, sizeof cfg.device, "%s", device);
    if (search_config_check(&cfg, err, sizeof err)) {
      fprintf(stderr, "pnas search: %s\n", err);
      return 2;
    }
    run = resume;
  }
  // The cache is read, never written (records found there are copied into this run's own log):
  // it cannot be the run directory itself.
  if (cfg.cache_dir[0] && run && same_dir(cfg.cache_dir, run)) {
    fprintf(stderr, "pnas search: --cache %s names the run directory itself; a cache is another "
                    "run (or a table) whose records this search reuses: give another directory "
                    "or drop --cache\n",
            cfg.cache_dir);
    return 2;
  }
  if (!resume) {
    search_config_preset(&cfg, argc, argv);
    if (search_config_check(&cfg, err, sizeof err)) {
      fprintf(stderr, "pnas search: %s\n", err);
      return 2;
    }
    if (make_absolute(cfg.data_dir, sizeof cfg.data_dir) ||
        make_absolute(cfg.cache_dir, sizeof cfg.cache_dir)) {
      fprintf(stderr, "pnas search: --data or --cache: the absolute path is too long (at most "
                      "%zu characters)\n",
              sizeof cfg.data_dir - 1);
      return 2;
    }
    if (!run) {
      made_default = 1;
      static char def[64];
      time_t t = time(NULL);
      struct tm tm;
      localtime_r(&t, &tm);
      mkdir("runs", 0755);
      char stamp[40];
      strftime(stamp, sizeof stamp, "runs/%Y%m%d-%H%M%S", &tm);
      // Two searches started in the same second must not share a directory: the name is
      // claimed by creating it (mkdir is atomic); a taken one gets the suffix -2, -3, ...
      snprintf(def, sizeof def, "%s", stamp);
      struct stat taken;
      for (int k = 2; mkdir(def, 0755) && stat(def, &taken) == 0 && k < 10000; k++)
        snprintf(def, sizeof def, "%s-%d", stamp, k);
      run = def;
    }
    // A log without records (a start that failed before its first child, e.g. with an older
    // pnas) holds nothing to continue: the new search takes the directory over.
    int nrec = run_records(run);
    if (nrec == 0) {
      fprintf(stderr, "pnas: %s holds no trained children (an earlier start failed); starting a "
                      "new search there\n",
              run);
    } else if (nrec != -2) {
      fprintf(stderr, "pnas search: %s already holds a search; continue it with "
                      "`pnas search --resume %s` or choose another --run\n",
              run, run);
      return 2;
    } else {
      // No log: the directory must be new, empty or a run's leftovers, never someone else's
      // files (a new search writes and replaces files in it).
      char other[256];
      foreign_entry(run, other, sizeof other);
      if (other[0]) {
        fprintf(stderr, "pnas search: %s is not empty and is not a pnas run directory (%s in it "
                        "is not a pnas file); choose a new or empty directory for --run\n",
                run, other);
        return 2;
      }
    }
  }
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  if (cfg.threads > 0 && ncpu > 0 && cfg.threads > ncpu)
    fprintf(stderr, "pnas: warning: --threads %d is more than the %ld CPUs of this machine; the "
                    "threads will share them (slower, not faster): use --threads %ld or fewer\n",
            cfg.threads, ncpu, ncpu);
  cfg.workers = mpi_world_workers();
  search_ctx *s;
  if (search_ctx_open(&s, &cfg, run, resume != NULL, salvage, err, sizeof err)) {
    fprintf(stderr, "pnas search: %s\n", err);
    if (made_default) rmdir(run); // the name this start claimed (emptied by the failed open)
    return 1;
  }
  if (cfg.cache_dir[0] && search_ctx_set_cache(s, cfg.cache_dir, 0, err, sizeof err)) {
    fprintf(stderr, "pnas search: --cache: %s (a cache is only read: give an existing run "
                    "directory or table)\n",
            err);
    search_ctx_discard(s);
    if (made_default) rmdir(run);
    return 1;
  }
  fprintf(stderr, "pnas: %s search, run directory %s%s\n", cfg.strategy, run,
          resume ? " (resumed)" : "");
  hint_on_interrupt(run);
  if (strcmp(cfg.strategy, "table")) search_config_describe(&cfg, stderr);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  search_result res;
  rc = strategy_run(s, &res, err, sizeof err);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  search_progress_done(s);
  if (rc) {
    fprintf(stderr, "pnas search: %s\n", err);
    search_ctx_close(s);
    return 1;
  }
  if (!strcmp(cfg.strategy, "table")) {
    printf("table %s: %d cells measured; see `pnas table info %s`\n", run,
           store_count(search_ctx_store(s)), run);
    search_ctx_close(s);
    return 0;
  }
  if (res.found)
    print_summary(s, &res, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9);
  search_ctx_close(s);
  return res.found ? 0 : 1;
}
