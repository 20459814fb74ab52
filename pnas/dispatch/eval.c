// The strategies' evaluator (pnas/dispatch/eval.h), on top of the pool (pool.c): in one process
// children are evaluated in order (or on --jobs threads); under MPI they are handed to worker
// ranks as these become free, and a batch returns when all of it is done.
#include "pnas/dispatch/eval.h"

#include <math.h>
#include <stdio.h>

#include "pnas/dispatch/mpi_world.h"
#include "pnas/dispatch/pool.h"

int dispatch_eval(search_ctx *s, const space_cell *c, int level, double predicted,
                  store_record *out, int *cached, char *err, size_t errlen) {
  // Under MPI rank 0 never trains: a single child goes to a worker too.
  if (mpi_world_workers() > 0)
    return dispatch_eval_batch(s, c, 1, level, &predicted, out, cached, err, errlen);
  return search_eval(s, c, level, predicted, out, cached, err, errlen);
}

int dispatch_eval_batch(search_ctx *s, const space_cell *cells, int n, int level,
                        const double *predicted, store_record *out, int *cached, char *err,
                        size_t errlen) {
  dispatch_pool *p;
  if (pool_open(&p, s, err, errlen)) return -1;
  int rc = 0;
  for (int i = 0; i < n && !rc; i++)
    rc = pool_submit(p, &cells[i], level, predicted ? predicted[i] : NAN, i, err, errlen);
  for (int k = 0; k < n && !rc; k++) {
    store_record r;
    int c, ticket;
    int got = pool_wait(p, &r, &c, &ticket, err, errlen);
    if (got < 0) rc = -1;
    else if (got == 0 || ticket < 0 || ticket >= n) {
      snprintf(err, errlen, "internal error: batch of %d children lost one", n);
      rc = -1;
    } else {
      out[ticket] = r;
      cached[ticket] = c;
    }
  }
  pool_close(p);
  return rc;
}
