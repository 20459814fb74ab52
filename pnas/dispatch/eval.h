// The evaluator strategies call (pnas/dispatch): children go to the in-process search_eval, to
// the threads of --jobs J, or to the worker ranks of an MPI job, through the pool (pool.h).
// It does not choose cells (strategies do) and does not train (pnas/search and pnas/child do).
#ifndef PNAS_DISPATCH_EVAL_H
#define PNAS_DISPATCH_EVAL_H

#include <stddef.h>

#include "pnas/search/search.h"

// One child, as search_eval (out, *cached, the same statuses); on rank 0 of an MPI job it is
// trained by a worker rank (rank 0 never trains).
int dispatch_eval(search_ctx *s, const space_cell *c, int level, double predicted,
                  store_record *out, int *cached, char *err, size_t errlen);

// Evaluates n children that do not depend on each other (one PNAS level, one RL minibatch):
// out[i] / cached[i] as search_eval. In one process they run in order (--jobs J > 1: J at once
// on threads); under MPI they are handed out to worker ranks as they become free. predicted may
// be NULL. 0 ok, -1 as search_eval.
int dispatch_eval_batch(search_ctx *s, const space_cell *cells /* (n) */, int n, int level,
                        const double *predicted /* (n) or NULL */, store_record *out /* (n) */,
                        int *cached /* (n) */, char *err, size_t errlen);

#endif
