// The asynchronous dispatcher API (pnas/dispatch/pool.h) as a strategy would use it: keep
// pool_capacity() children in flight and take results with pool_wait, with the same cell
// submitted twice back to back (trained once, the copy cached) and later again (cached); then a
// pool closed with children still pending (dropped: trained again when asked for again). Run it
// in one process and under `mpirun -np 3`; mpi_search.sh compares the two run directories.
// usage: test_mpi_pool RUN_DIR
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pnas/dispatch/pool.h"
#include "pnas/dispatch/mpi_world.h"
#include "pnas/dispatch/eval.h"
#include "tests/check.h"


// a, a, b, c, b, d, a, e, f: 6 distinct cells, 3 of them repeated.
static const char *const CELLS[] = {"0:sep3x3,1:max3x3", "1:max3x3,0:sep3x3", "0:identity,0:identity",
                                    "1:sep3x3,1:sep3x3", "0:identity,0:identity",
                                    "0:max3x3,1:identity", "0:sep3x3,1:max3x3",
                                    "1:identity,1:max3x3", "0:sep3x3,0:sep3x3"};
#define NCELLS 9
#define NDISTINCT 6

static int run(const char *dir, char *err, size_t errlen) {
  search_config cfg;
  search_config_default(&cfg);
  snprintf(cfg.strategy, sizeof cfg.strategy, "random");
  snprintf(cfg.ops, sizeof cfg.ops, "sep3x3,max3x3,identity");
  cfg.N = 1, cfg.F = 4, cfg.train_subset = 200, cfg.val_subset = 100, cfg.threads = 1;
  cfg.workers = mpi_world_workers();
  search_ctx *s;
  if (search_ctx_open(&s, &cfg, dir, 0, 0, err, errlen)) return -1;
  space_cell cells[NCELLS];
  for (int i = 0; i < NCELLS; i++)
    if (space_parse(CELLS[i], &cells[i], err, errlen)) return -1;
  store_record out[NCELLS];
  int cached[NCELLS], seen[NCELLS] = {0};
  dispatch_pool *p;
  if (pool_open(&p, s, err, errlen)) return -1;
  int cap = pool_capacity(p);
  CHECK(cap == (mpi_world_workers() > 0 ? mpi_world_workers() : 1), "capacity %d", cap);
  int submitted = 0, got = 0;
  while (got < NCELLS) {
    while (submitted < NCELLS && pool_pending(p) < cap) {
      if (pool_submit(p, &cells[submitted], 1, 0.5 + submitted, submitted, err, errlen))
        return -1;
      submitted++;
    }
    store_record r;
    int c, t;
    int rc = pool_wait(p, &r, &c, &t, err, errlen);
    if (rc < 0) return -1;
    CHECK(rc == 1 && t >= 0 && t < NCELLS && !seen[t], "wait gave %d, ticket %d", rc, t);
    if (rc != 1 || t < 0 || t >= NCELLS || seen[t]) break;
    seen[t] = 1;
    out[t] = r;
    cached[t] = c;
    got++;
  }
  CHECK(pool_pending(p) == 0, "%d still pending", pool_pending(p));
  store_record dummy;
  int c, t;
  CHECK(pool_wait(p, &dummy, &c, &t, err, errlen) == 0, "wait on an empty pool");
  for (int i = 0; i < NCELLS; i++) {
    space_cell canon = cells[i];
    space_canon(&canon);
    CHECK(out[i].hash == space_hash(&canon), "ticket %d came back with another cell", i);
    int first = 1;
    for (int k = 0; k < i; k++)
      if (space_hash(&cells[k]) == space_hash(&cells[i])) {
        first = 0;
        CHECK(out[i].val_acc == out[k].val_acc && out[i].seed == out[k].seed,
              "the copy %d of %d differs", i, k);
      }
    CHECK(cached[i] == !first, "child %d (%s) cached=%d", i, CELLS[i], cached[i]);
    CHECK(out[i].ok, "child %d failed: %s", i, out[i].reason);
  }
  CHECK(store_count(search_ctx_store(s)) == NDISTINCT, "store holds %d records, want %d",
        store_count(search_ctx_store(s)), NDISTINCT);
  // Two more children submitted and never waited for: dropped by close (drained under MPI).
  space_cell extra[2];
  if (space_parse("0:sep3x3,1:sep3x3", &extra[0], err, errlen) ||
      space_parse("0:max3x3,0:max3x3", &extra[1], err, errlen))
    return -1;
  for (int i = 0; i < 2; i++)
    if (pool_submit(p, &extra[i], 1, NAN, 100 + i, err, errlen)) return -1;
  pool_close(p);
  CHECK(store_count(search_ctx_store(s)) == NDISTINCT, "closing committed dropped children");
  // The next pool finds every worker idle; the dropped children train now.
  store_record r2[2];
  int c2[2];
  if (dispatch_eval_batch(s, extra, 2, 1, NULL, r2, c2, err, errlen)) return -1;
  CHECK(c2[0] == 0 && c2[1] == 0 && r2[0].ok && r2[1].ok, "extra children");
  CHECK(store_count(search_ctx_store(s)) == NDISTINCT + 2, "store holds %d records",
        store_count(search_ctx_store(s)));
  search_ctx_close(s);
  return 0;
}

int main(int argc, char **argv) {
  int code;
  if (mpi_world_start(&argc, &argv, mpi_worker_run, &code)) return code; // worker ranks train here
  if (argc != 2) {
    fprintf(stderr, "usage: test_mpi_pool RUN_DIR\n");
    return mpi_world_finish(2);
  }
  char err[1024];
  if (run(argv[1], err, sizeof err)) {
    fprintf(stderr, "test_mpi_pool: %s\n", err);
    return mpi_world_finish(1);
  }
  printf("test_mpi_pool (%d worker ranks): %s\n", mpi_world_workers(), check_failures ? "FAILED" : "ok");
  return mpi_world_finish(check_failures ? 1 : 0);
}
