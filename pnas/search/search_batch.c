// Batch evaluation of independent children (one PNAS level, one RL minibatch), on top of the
// dispatcher in pnas/dispatch/pool.c: in one process they are evaluated in order; under MPI they are
// handed to worker ranks as these become free, and the call returns when the whole batch is done.
#include <math.h>
#include <stdio.h>

#include "pnas/dispatch/pool.h"
#include "pnas/search/search.h"

int search_eval_batch(search_ctx *s, const space_cell *cells, int n, int level,
                      const double *predicted, store_record *out, int *cached, char *err,
                      size_t errlen) {
  mpi_pool *p;
  if (mpi_pool_open(&p, s, err, errlen)) return -1;
  int rc = 0;
  for (int i = 0; i < n && !rc; i++)
    rc = mpi_pool_submit(p, &cells[i], level, predicted ? predicted[i] : NAN, i, err, errlen);
  for (int k = 0; k < n && !rc; k++) {
    store_record r;
    int c, ticket;
    int got = mpi_pool_wait(p, &r, &c, &ticket, err, errlen);
    if (got < 0) rc = -1;
    else if (got == 0 || ticket < 0 || ticket >= n) {
      snprintf(err, errlen, "internal error: batch of %d children lost one", n);
      rc = -1;
    } else {
      out[ticket] = r;
      cached[ticket] = c;
    }
  }
  mpi_pool_close(p);
  return rc;
}
