// OpenMP / OpenBLAS thread-count helpers (see par.h).
#include "predictor/par.h"

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

int pred_threads(int requested) {
#ifdef _OPENMP
  if (requested > 0) return requested;
  int t = omp_get_max_threads();
  return t > 0 ? t : 1;
#else
  (void)requested;
  return 1;
#endif
}

int pred_blas_serial(int nworkers) {
  int saved = openblas_get_num_threads();
  if (nworkers > 1 && saved != 1) openblas_set_num_threads(1);
  return saved;
}

void pred_blas_restore(int saved) {
  if (openblas_get_num_threads() != saved) openblas_set_num_threads(saved);
}
