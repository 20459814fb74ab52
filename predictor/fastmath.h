// Vectorisable exp / sigmoid / tanh for the predictors' element-wise loops (float, ~2 ulp-ish
// relative error on exp, abs error < 1e-6 on sigmoid/tanh). Header-only, static inline.
// The plain-libm reference paths (lstm_forward_ref, mlp_forward_ref) deliberately do not use it.
#ifndef PNAS_PREDICTOR_FASTMATH_H
#define PNAS_PREDICTOR_FASTMATH_H

#include <stdint.h>
#include <string.h>

// exp(x) = 2^k * exp(r), |r| <= ln2/2, Cephes expf polynomial. Written without branches or
// libm calls so GCC vectorises loops that use it (SSE2 baseline; AVX2/AVX-512 with clones).
static inline float pred_expf(float x) {
  // Clamps and the rounding below must not be branches: the library is built with
  // -fno-trapping-math so GCC turns the selects into vector min/max.
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  // Round x / ln2 to nearest with the 1.5 * 2^23 trick (|x / ln2| < 2^22).
  float kf = x * 1.44269504088896341f + 12582912.0f;
  int32_t k;
  memcpy(&k, &kf, sizeof k);
  k -= 0x4B400000;
  float fk = kf - 12582912.0f;
  float r = x - fk * 0.693359375f;
  r = r + fk * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // Unsigned shift: for x = NaN, k is garbage and a signed shift would overflow (UB; found by
  // fuzz_predictor on a file with NaN weights). The result is NaN either way (p is NaN).
  uint32_t bits = (uint32_t)(k + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

static inline float pred_sigmoidf(float x) { return 1.0f / (1.0f + pred_expf(-x)); }

// tanh(x) = 2 sigmoid(2x) - 1; absolute error ~1e-7, fine for an LSTM cell.
static inline float pred_tanhf(float x) { return 2.0f / (1.0f + pred_expf(-2.0f * x)) - 1.0f; }

// Hot element-wise functions get AVX-512 and AVX2 clones picked at load time (GCC ifunc), so
// one binary runs everywhere and still uses the wide units. Off for sanitizer builds.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(__SANITIZE_ADDRESS__)
#define PRED_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PRED_CLONES
#endif

#endif
