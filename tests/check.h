// The test checks every C test uses (one copy, not one per file): CHECK(cond, "fmt", ...) prints
// FAIL file:line: the condition and the message, and counts the failure without stopping;
// CHECK_NEAR compares two numbers within a tolerance; CHECK_DONE() reports and gives main's
// status. The count is check_failures, or the int that CHECK_COUNTER names when it is defined
// before this header (a test function that returns its own count).
#ifndef PNAS_TESTS_CHECK_H
#define PNAS_TESTS_CHECK_H

#include <math.h>
#include <stdio.h>

#ifndef CHECK_COUNTER
#define CHECK_COUNTER check_failures
static int check_failures = 0;
#endif

// The message is optional: CHECK(x) or CHECK(x, "got %d", v) (a string literal first).
#define CHECK(cond, ...)                                                                          \
  do {                                                                                           \
    if (!(cond)) {                                                                               \
      CHECK_COUNTER++;                                                                           \
      fprintf(stderr, "FAIL %s:%d: %s:", __FILE__, __LINE__, #cond);                             \
      fprintf(stderr, " " __VA_ARGS__);                                                          \
      fputc('\n', stderr);                                                                       \
    }                                                                                            \
  } while (0)

#define CHECK_NEAR(got, want, tol)                                                               \
  do {                                                                                           \
    double g_ = (got), w_ = (want);                                                              \
    if (!(fabs(g_ - w_) <= (tol))) {                                                             \
      fprintf(stderr, "FAIL %s:%d: %s = %.9g, want %.9g (tol %g)\n", __FILE__, __LINE__, #got,   \
              g_, w_, (double)(tol));                                                            \
      CHECK_COUNTER++;                                                                           \
    }                                                                                            \
  } while (0)

#define CHECK_DONE()                                                                             \
  (CHECK_COUNTER ? (fprintf(stderr, "%d check(s) failed\n", CHECK_COUNTER), 1)                   \
                 : (printf("all checks passed\n"), 0))

#endif
