// Helpers shared by the kernel tests: a tiny deterministic RNG, random fills and the
// |got-ref| <= atol + rtol*|ref| comparison that prints the first mismatches.
#ifndef PNAS_TESTS_KT_H
#define PNAS_TESTS_KT_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t kt_state = 0x9E3779B97F4A7C15ull;
static inline double kt_uniform(void) { // [0, 1)
  kt_state ^= kt_state << 13;
  kt_state ^= kt_state >> 7;
  kt_state ^= kt_state << 17;
  return (double)(kt_state >> 11) / 9007199254740992.0;
}
static inline void kt_fill(float *p, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; i++) p[i] = lo + (hi - lo) * (float)kt_uniform();
}
// Values with |v| >= gap (so a +-eps perturbation never crosses a ReLU kink).
static inline void kt_fill_away(float *p, size_t n, float gap) {
  for (size_t i = 0; i < n; i++) {
    float v = gap + (float)kt_uniform();
    p[i] = kt_uniform() < 0.5 ? -v : v;
  }
}
// Distinct values at least `gap` apart, randomly permuted (no max-pool ties under +-eps).
static inline void kt_fill_distinct(float *p, size_t n, float gap) {
  for (size_t i = 0; i < n; i++) p[i] = (float)((double)i * gap - 0.5 * n * gap);
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)(kt_uniform() * (double)i);
    float t = p[i - 1];
    p[i - 1] = p[j];
    p[j] = t;
  }
}
static inline float *kt_alloc(size_t n) {
  float *p = calloc(n ? n : 1, sizeof(float));
  if (!p) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  return p;
}
static inline float *kt_dup(const float *src, size_t n) {
  float *p = kt_alloc(n);
  memcpy(p, src, n * sizeof(float));
  return p;
}

// Returns the number of mismatches; prints the first 5 with their index.
static inline int kt_compare(const char *what, const float *got, const float *ref, size_t n,
                             double atol, double rtol) {
  int bad = 0;
  for (size_t i = 0; i < n; i++) {
    double g = got[i], r = ref[i];
    if (!(fabs(g - r) <= atol + rtol * fabs(r))) {
      if (bad < 5)
        fprintf(stderr, "  %s[%zu]: got %.8g ref %.8g (diff %.3g)\n", what, i, g, r, fabs(g - r));
      bad++;
    }
  }
  if (bad) fprintf(stderr, "FAIL %s: %d of %zu mismatch (atol %g rtol %g)\n", what, bad, n, atol, rtol);
  return bad;
}

#endif
