// Helpers for the predictor tests (the checks are tests/check.h's): PTEST_END ends main, and
// random cells.
#ifndef PNAS_TESTS_PREDICTOR_PTEST_H
#define PNAS_TESTS_PREDICTOR_PTEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "searchspace/cell.h"
#include "tests/check.h"

#define PTEST_END()                                                                          \
  do {                                                                                       \
    if (check_failures) fprintf(stderr, "%d check(s) failed\n", check_failures);             \
    else printf("ok\n");                                                                     \
    return check_failures ? 1 : 0;                                                           \
  } while (0)

// Random valid cells with 1..maxb blocks (uniform block count).
static inline void ptest_random_cells(space_cell *c, int n, int minb, int maxb, space_rng *r) {
  for (int i = 0; i < n; i++)
    space_sample(&c[i], minb + space_rng_below(r, maxb - minb + 1), SPACE_PNAS_MASK, r);
}

#endif
