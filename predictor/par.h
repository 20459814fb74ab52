// Threading helpers for the predictors: OpenMP worker count and keeping OpenBLAS serial while
// our own OpenMP threads call it (each worker runs whole small GEMMs; OpenBLAS's pthread pool
// inside two concurrent callers only adds contention at these sizes).
#ifndef PNAS_PREDICTOR_PAR_H
#define PNAS_PREDICTOR_PAR_H

// Number of workers for a request (0 = OpenMP default, 1 without OpenMP).
int pred_threads(int requested);
// Sets OpenBLAS to one thread when nworkers > 1 (callers pass 2 to force it, so results do
// not depend on the thread count) and returns the previous setting (to pass to
// pred_blas_restore). This is process-wide: the predictor is meant to run on the search thread,
// not concurrently with other BLAS users in the same process.
int pred_blas_serial(int nworkers);
void pred_blas_restore(int saved);

#endif
