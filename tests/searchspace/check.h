// Minimal test assertions shared by the searchspace tests: CHECK prints file:line and counts.
#ifndef PNAS_TESTS_CHECK_H
#define PNAS_TESTS_CHECK_H
#include <stdio.h>
static int check_failures = 0;
#define CHECK(cond, ...)                                                                          \
  do {                                                                                           \
    if (!(cond)) {                                                                               \
      check_failures++;                                                                          \
      fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);                   \
      fprintf(stderr, __VA_ARGS__);                                                              \
      fputc('\n', stderr);                                                                       \
    }                                                                                            \
  } while (0)
#define CHECK_DONE()                                                                             \
  (check_failures ? (fprintf(stderr, "%d check(s) failed\n", check_failures), 1)                 \
                  : (printf("all checks passed\n"), 0))
#endif
