// Tiny check macros and helpers for the predictor tests: a failed CHECK prints file:line and
// the expression, counts a failure, and the test's main returns non-zero.
#ifndef PNAS_TESTS_PREDICTOR_PTEST_H
#define PNAS_TESTS_PREDICTOR_PTEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "searchspace/cell.h"

static int ptest_failures = 0;

#define CHECK(cond)                                                                          \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
      ptest_failures++;                                                                      \
    }                                                                                        \
  } while (0)

#define CHECK_NEAR(got, want, tol)                                                           \
  do {                                                                                       \
    double g_ = (got), w_ = (want);                                                          \
    if (!(fabs(g_ - w_) <= (tol))) {                                                         \
      fprintf(stderr, "%s:%d: %s = %.9g, want %.9g (tol %g)\n", __FILE__, __LINE__, #got, g_, \
              w_, (double)(tol));                                                            \
      ptest_failures++;                                                                      \
    }                                                                                        \
  } while (0)

#define PTEST_END()                                                                          \
  do {                                                                                       \
    if (ptest_failures) fprintf(stderr, "%d check(s) failed\n", ptest_failures);             \
    else printf("ok\n");                                                                     \
    return ptest_failures ? 1 : 0;                                                           \
  } while (0)

// Random valid cells with 1..maxb blocks (uniform block count).
static inline void ptest_random_cells(space_cell *c, int n, int minb, int maxb, space_rng *r) {
  for (int i = 0; i < n; i++)
    space_sample(&c[i], minb + space_rng_below(r, maxb - minb + 1), SPACE_ALL_OPS, r);
}

#endif
