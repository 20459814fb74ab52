// The in-process dispatcher with --jobs > 1 (pnas/dispatch/pool.c, worker threads):
//  1. real children through the submit / wait-any API with 3 threads, the same cell submitted
//     twice back to back (trained once, the copy cached) and later again (cached): the records
//     equal those of --jobs 1 bit for bit; a pool closed with children pending drops them;
//  2. a simulated trainer (pool_set_trainer) that runs out of memory when another child
//     trains at the same time: such a child is not recorded but trains again alone (then it
//     succeeds), a child that also runs out of memory alone is recorded as failed with its
//     reason, nothing ever trains next to a child that runs alone, and the pool reports the
//     largest child memory.
// usage: test_pool_jobs WORK_DIR (needs the Fashion-MNIST dataset, as every search test)
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "pnas/dispatch/pool.h"
#include "pnas/dispatch/eval.h"
#include "tests/check.h"


// a, a, b, c, b, d, a, e, f: 6 distinct cells, 3 of them repeated.
static const char *const CELLS[] = {"0:sep3x3,1:max3x3", "1:max3x3,0:sep3x3", "0:identity,0:identity",
                                    "1:sep3x3,1:sep3x3", "0:identity,0:identity",
                                    "0:max3x3,1:identity", "0:sep3x3,1:max3x3",
                                    "1:identity,1:max3x3", "0:sep3x3,0:sep3x3"};
#define NCELLS 9
#define NDISTINCT 6

static void base_config(search_config *cfg, int jobs) {
  search_config_default(cfg);
  snprintf(cfg->strategy, sizeof cfg->strategy, "random");
  snprintf(cfg->ops, sizeof cfg->ops, "sep3x3,max3x3,identity");
  snprintf(cfg->device, sizeof cfg->device, "cpu");
  cfg->N = 1, cfg->F = 4, cfg->train_subset = 200, cfg->val_subset = 100, cfg->threads = 2;
  cfg->batch = 32;
  cfg->jobs = jobs;
}

// Keeps the pool full and collects every result by ticket. 0 ok, -1 with err.
static int drive(dispatch_pool *p, const space_cell *cells, int n, store_record *out, int *cached,
                 char *err, size_t errlen) {
  int cap = pool_capacity(p), submitted = 0, got = 0;
  int seen[64] = {0};
  while (got < n) {
    while (submitted < n && pool_pending(p) < cap) {
      if (pool_submit(p, &cells[submitted], cells[submitted].nblocks, 0.5 + submitted,
                          submitted, err, errlen))
        return -1;
      submitted++;
    }
    store_record r;
    int c, t;
    int rc = pool_wait(p, &r, &c, &t, err, errlen);
    if (rc < 0) return -1;
    CHECK(rc == 1 && t >= 0 && t < n && !seen[t], "wait gave %d, ticket %d", rc, t);
    if (rc != 1 || t < 0 || t >= n || seen[t]) return -1;
    seen[t] = 1;
    out[t] = r;
    cached[t] = c;
    got++;
  }
  return 0;
}

static int real_children(const char *work, char *err, size_t errlen) {
  space_cell cells[NCELLS];
  for (int i = 0; i < NCELLS; i++)
    if (space_parse(CELLS[i], &cells[i], err, errlen)) return -1;
  store_record out[2][NCELLS];
  int cached[2][NCELLS];
  for (int pass = 0; pass < 2; pass++) {
    int jobs = pass == 0 ? 3 : 1;
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/real-jobs%d", work, jobs);
    search_config cfg;
    base_config(&cfg, jobs);
    search_ctx *s;
    if (search_ctx_open(&s, &cfg, dir, 0, 0, err, errlen)) return -1;
    dispatch_pool *p;
    if (pool_open(&p, s, err, errlen)) return -1;
    CHECK(pool_capacity(p) == jobs, "capacity %d with --jobs %d", pool_capacity(p), jobs);
    if (drive(p, cells, NCELLS, out[pass], cached[pass], err, errlen)) return -1;
    CHECK(pool_pending(p) == 0, "%d still pending", pool_pending(p));
    for (int i = 0; i < NCELLS; i++) {
      space_cell canon = cells[i];
      space_canon(&canon);
      CHECK(out[pass][i].hash == space_hash(&canon), "ticket %d came back with another cell", i);
      int first = 1;
      for (int k = 0; k < i; k++)
        if (space_hash(&cells[k]) == space_hash(&cells[i])) first = 0;
      CHECK(cached[pass][i] == !first, "jobs %d: child %d (%s) cached=%d", jobs, i, CELLS[i],
            cached[pass][i]);
      CHECK(out[pass][i].ok, "child %d failed: %s", i, out[pass][i].reason);
    }
    CHECK(store_count(search_ctx_store(s)) == NDISTINCT, "jobs %d: store holds %d records", jobs,
          store_count(search_ctx_store(s)));
    if (jobs > 1) {
      CHECK(pool_max_memory(p) > 0, "no child memory measured");
      // Two more children submitted and never waited for: dropped by close.
      space_cell extra[2];
      if (space_parse("0:sep3x3,1:sep3x3", &extra[0], err, errlen) ||
          space_parse("0:max3x3,0:max3x3", &extra[1], err, errlen))
        return -1;
      for (int i = 0; i < 2; i++)
        if (pool_submit(p, &extra[i], 1, NAN, 100 + i, err, errlen)) return -1;
      pool_close(p);
      CHECK(store_count(search_ctx_store(s)) == NDISTINCT, "closing committed dropped children");
      store_record r2[2];
      int c2[2];
      if (dispatch_eval_batch(s, extra, 2, 1, NULL, r2, c2, err, errlen)) return -1;
      CHECK(c2[0] == 0 && c2[1] == 0 && r2[0].ok && r2[1].ok, "extra children");
      CHECK(store_count(search_ctx_store(s)) == NDISTINCT + 2, "store holds %d records",
            store_count(search_ctx_store(s)));
    } else {
      pool_close(p);
    }
    search_ctx_close(s);
  }
  for (int i = 0; i < NCELLS; i++) {
    const store_record *a = &out[0][i], *b = &out[1][i];
    CHECK(a->val_acc == b->val_acc && a->val_top5 == b->val_top5 && a->seed == b->seed &&
              a->examples == b->examples && a->ok == b->ok && a->params == b->params,
          "child %d (%s): --jobs 3 gave %.17g, --jobs 1 %.17g", i, CELLS[i], a->val_acc,
          b->val_acc);
  }
  return 0;
}

// ---- simulated out-of-memory ----
static const char *BIG = "0:sep3x3,1:sep3x3";  // out of memory next to another child only
static const char *HUGE = "1:max3x3,1:max3x3"; // out of memory even alone
static pthread_mutex_t fmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fcv = PTHREAD_COND_INITIALIZER;
static int active, starts, big_calls, huge_calls, crowded_alone, total_calls;
static uint64_t big_hash, huge_hash;

static void fake_train(search_ctx *s, struct kn_device *dev, int threads, const space_cell *c,
                       int level, double predicted, store_record *out, size_t *memory_bytes) {
  uint64_t h = space_hash(c);
  pthread_mutex_lock(&fmu);
  int first_big = h == big_hash && big_calls == 0, first_huge = h == huge_hash && huge_calls == 0;
  int again = (h == big_hash && big_calls > 0) || (h == huge_hash && huge_calls > 0);
  big_calls += h == big_hash;
  huge_calls += h == huge_hash;
  total_calls++;
  int crowded = active > 0, my_start = ++starts;
  active++;
  pthread_cond_broadcast(&fcv);
  // The first try of the big children waits (up to 2 s) for company, so they do run crowded.
  if (first_big || first_huge) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2;
    while (active < 2 && pthread_cond_timedwait(&fcv, &fmu, &until) == 0) {
    }
  }
  pthread_mutex_unlock(&fmu);
  struct timespec nap = {0, 30 * 1000 * 1000};
  nanosleep(&nap, NULL);
  pthread_mutex_lock(&fmu);
  crowded = crowded || starts != my_start || active > 1;
  if (again && crowded) crowded_alone++;
  active--;
  pthread_mutex_unlock(&fmu);
  memset(out, 0, sizeof *out);
  out->cell = *c;
  out->hash = h;
  out->settings = search_ctx_settings(s);
  out->level = level;
  out->predicted = predicted;
  snprintf(out->strategy, sizeof out->strategy, "%s", search_ctx_config(s)->strategy);
  snprintf(out->device, sizeof out->device, "fake");
  out->val_top5 = NAN;
  *memory_bytes = 1000 + (size_t)(h % 97);
  if (h == huge_hash) *memory_bytes = 5000;
  if ((h == big_hash && crowded) || h == huge_hash) {
    snprintf(out->reason, sizeof out->reason, "%s",
             h == big_hash ? "out of GPU memory: cuda: out of memory in cudaMalloc at x.c:1"
                           : "out of cuda memory for the training state");
    return;
  }
  out->ok = 1;
  out->val_acc = (double)(h % 1000) / 1000.0;
}

static int simulated_oom(const char *work, char *err, size_t errlen) {
  const char *names[] = {"0:sep3x3,0:sep3x3", "0:sep3x3,1:sep3x3", "1:max3x3,1:max3x3",
                         "0:identity,1:max3x3", "0:max3x3,1:identity", "1:identity,1:sep3x3",
                         "0:identity,0:identity", "0:max3x3,0:max3x3"};
  enum { N = 8 };
  space_cell cells[N];
  for (int i = 0; i < N; i++) {
    if (space_parse(names[i], &cells[i], err, errlen)) return -1;
    space_canon(&cells[i]);
  }
  space_cell b;
  if (space_parse(BIG, &b, err, errlen)) return -1;
  space_canon(&b);
  big_hash = space_hash(&b);
  if (space_parse(HUGE, &b, err, errlen)) return -1;
  space_canon(&b);
  huge_hash = space_hash(&b);
  char dir[1200];
  snprintf(dir, sizeof dir, "%s/oom", work);
  search_config cfg;
  base_config(&cfg, 3);
  search_ctx *s;
  if (search_ctx_open(&s, &cfg, dir, 0, 0, err, errlen)) return -1;
  pool_set_trainer(fake_train);
  dispatch_pool *p;
  if (pool_open(&p, s, err, errlen)) return -1;
  pool_set_trainer(NULL);
  store_record out[N];
  int cached[N];
  if (drive(p, cells, N, out, cached, err, errlen)) return -1;
  CHECK(pool_max_memory(p) == 5000, "max memory %zu", pool_max_memory(p));
  pool_close(p);
  CHECK(big_calls == 2, "the big child trained %d times, want 2 (crowded, then alone)",
        big_calls);
  CHECK(huge_calls == 2, "the huge child trained %d times, want 2", huge_calls);
  CHECK(crowded_alone == 0, "%d children trained next to one that must run alone", crowded_alone);
  CHECK(total_calls == N + 2, "%d trainings for %d children", total_calls, N);
  CHECK(store_count(search_ctx_store(s)) == N, "store holds %d records, want %d",
        store_count(search_ctx_store(s)), N);
  for (int i = 0; i < N; i++) {
    uint64_t h = space_hash(&cells[i]);
    if (h == huge_hash)
      CHECK(!out[i].ok && strstr(out[i].reason, "out of cuda memory"),
            "huge child: ok %d, reason '%s'", out[i].ok, out[i].reason);
    else
      CHECK(out[i].ok, "child %s: reason '%s'", names[i], out[i].reason);
  }
  for (int i = 0; i < store_count(search_ctx_store(s)); i++) {
    const store_record *r = store_get(search_ctx_store(s), i);
    CHECK(r->ok || r->hash == huge_hash, "recorded failure: %s", r->reason);
  }
  search_ctx_close(s);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: test_pool_jobs WORK_DIR\n");
    return 2;
  }
  char err[1024], work[1100];
  mkdir(argv[1], 0755);
  snprintf(work, sizeof work, "%s/run.XXXXXX", argv[1]);
  if (!mkdtemp(work)) {
    fprintf(stderr, "test_pool_jobs: cannot create a directory under %s\n", argv[1]);
    return 1;
  }
  if (real_children(work, err, sizeof err) || simulated_oom(work, err, sizeof err)) {
    fprintf(stderr, "test_pool_jobs: %s (runs kept in %s)\n", err, work);
    return 1;
  }
  printf("test_pool_jobs: %s\n", check_failures ? "FAILED" : "ok");
  if (!check_failures) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
    if (system(cmd) != 0) fprintf(stderr, "test_pool_jobs: could not remove %s\n", work);
  }
  return check_failures ? 1 : 0;
}
