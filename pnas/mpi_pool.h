// Rank 0's dispatcher of children to worker ranks, with a submit / wait-any API that strategies
// may use to keep every worker busy (search_eval_batch is built on it). Without workers (no MPI,
// or one process) the same API evaluates in this process, in submission order, with search_eval.
// It does not choose cells: strategies do.
#ifndef PNAS_MPI_POOL_H
#define PNAS_MPI_POOL_H

#include <stddef.h>

#include "pnas/search.h"

typedef struct mpi_pool mpi_pool;

// One pool at a time per search (the workers' state lives in it). 0 ok, -1 with err.
int mpi_pool_open(mpi_pool **out, search_ctx *s, char *err, size_t errlen);
// Frees the pool. Children still in training are waited for and their results dropped (a later
// evaluation of the same cell trains it again), unless the pool failed: then the workers are
// left as they are and mpi_world_finish aborts the job.
void mpi_pool_close(mpi_pool *p);

// Children that can train at the same time: the number of workers, 1 in-process. An
// asynchronous strategy keeps this many submitted and calls mpi_pool_wait for each result.
int mpi_pool_capacity(const mpi_pool *p);
// Submitted and not yet returned by mpi_pool_wait.
int mpi_pool_pending(const mpi_pool *p);

// Submits one child; ticket is handed back with its result. Under MPI the store and the shared
// cache are looked up now (a hit is ready at once), a cell already in training waits for that
// result, anything else goes to the next free worker. -1 (err) only when the store cannot be
// written.
int mpi_pool_submit(mpi_pool *p, const space_cell *c, int level, double predicted, int ticket,
                    char *err, size_t errlen);
// Returns one finished child: out / cached as search_eval, its ticket. In-process that is the
// oldest submitted child (trained now); under MPI the oldest that is ready, else the next a worker
// returns. 1 one returned, 0 nothing pending, -1 error (store write, worker error, MPI failure:
// the search must stop; the log stays intact and resumable).
int mpi_pool_wait(mpi_pool *p, store_record *out, int *cached, int *ticket, char *err,
                  size_t errlen);

#endif
