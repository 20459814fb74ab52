// Rank 0's dispatcher of children to workers, with a submit / wait-any API that strategies may
// use to keep every worker busy (dispatch_eval_batch is built on it). A worker is a worker rank
// under MPI, or, in one process with --jobs J > 1, one of J threads of this process (each with
// its own device on a GPU backend). With neither (no MPI, --jobs 1) the same API evaluates in
// this process, in submission order, with search_eval. It does not choose cells: strategies do.
#ifndef PNAS_MPI_POOL_H
#define PNAS_MPI_POOL_H

#include <stddef.h>

#include "pnas/search/search.h"

typedef struct dispatch_pool dispatch_pool;

// One pool at a time per search (the workers' state lives in it). --jobs J > 1 without MPI
// starts J threads here (joined by close); each opens its own device when children train on a
// device backend (the first borrows the search's). 0 ok, -1 with err.
int pool_open(dispatch_pool **out, search_ctx *s, char *err, size_t errlen);
// Frees the pool. Children still in training are waited for and their results dropped (a later
// evaluation of the same cell trains it again), unless the pool failed: then MPI workers are
// left as they are and mpi_world_finish aborts the job (threads are still joined).
void pool_close(dispatch_pool *p);

// Children that can train at the same time: the number of workers (ranks or threads), 1
// in-process with --jobs 1. An asynchronous strategy keeps this many submitted and calls
// pool_wait for each result.
int pool_capacity(const dispatch_pool *p);
// Submitted and not yet returned by pool_wait.
int pool_pending(const dispatch_pool *p);
// The largest backend memory of a child this pool trained in a thread (train_result's
// memory_bytes), 0 before the first or when the pool has no threads.
size_t pool_max_memory(const dispatch_pool *p);

// Submits one child; ticket is handed back with its result. With workers the store and the
// shared cache are looked up now (a hit is ready at once), a cell already in training waits for
// that result, anything else goes to the next free worker. -1 (err) only when the store cannot
// be written.
int pool_submit(dispatch_pool *p, const space_cell *c, int level, double predicted, int ticket,
                    char *err, size_t errlen);
// Returns one finished child: out / cached as search_eval, its ticket. Without workers that is
// the oldest submitted child (trained now); with workers the oldest that is ready, else the next
// a worker finishes. Only the calling thread reads or writes the store, in the order the results
// arrive. With threads, a child that ran out of memory while others trained next to it is not a
// result: it is queued again and trains alone (only then is out of memory recorded as its
// failure). 1 one returned, 0 nothing pending, -1 error (store write, worker error, MPI failure:
// the search must stop; the log stays intact and resumable).
int pool_wait(dispatch_pool *p, store_record *out, int *cached, int *ticket, char *err,
                  size_t errlen);

// Tests only: the function pool threads train with (NULL: search_train_record_dev), taken by
// the next pool_open. Lets a test simulate out-of-memory failures without a GPU.
typedef void (*pool_trainer)(search_ctx *s, struct kn_device *dev, int threads,
                                 const space_cell *c, int level, double predicted,
                                 store_record *out, size_t *memory_bytes);
void pool_set_trainer(pool_trainer f);

#endif
