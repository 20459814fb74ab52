// PRED_ASSERT: the always-on assertion of the predictor module (STYLE: a bug is an assert with
// file and line, also in Release builds, unlike <assert.h> under NDEBUG). Only for bugs, never
// for anything a user or a file can cause.
#ifndef PNAS_PREDICTOR_PCHECK_H
#define PNAS_PREDICTOR_PCHECK_H

#include <stdio.h>
#include <stdlib.h>

#define PRED_ASSERT(cond)                                                                    \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      fprintf(stderr, "%s:%d: predictor bug: assertion failed: %s\n", __FILE__, __LINE__,    \
              #cond);                                                                        \
      abort();                                                                               \
    }                                                                                        \
  } while (0)

#endif
