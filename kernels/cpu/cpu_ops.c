// Fast CPU versions of the non-convolution ops: OpenMP over channels (batch norm: one thread
// owns a channel's whole reduction, so sums are deterministic), over planes (pooling, sampling,
// concat) or over elements (ReLU, add, SGD). fc uses BLAS; xent is tiny and calls the reference.
#include <math.h>
#include <string.h>

#include "kernels/cpu/cpu_internal.h"
#include "kernels/ops.h"

// Max pooling works on a copy of the plane padded with -inf (r = k/2 pixels on every side, pitch
// w+2r): no bounds checks, and the stride-1 forward vectorises. The backward recomputes each
// window's first maximum in scan order (the reference's tie rule; padding never wins since every
// window holds its centre pixel).
static void pad_neg_inf(const float *x, int h, int w, int r, float *p) {
  int pw = w + 2 * r;
  for (int i = 0; i < r; i++)
    for (int j = 0; j < pw; j++)
      p[(size_t)i * pw + j] = p[(size_t)(h + r + i) * pw + j] = -INFINITY;
  for (int i = 0; i < h; i++) {
    float *row = p + (size_t)(i + r) * pw;
    for (int j = 0; j < r; j++) row[j] = row[w + r + j] = -INFINITY;
    memcpy(row + r, x + (size_t)i * w, (size_t)w * sizeof(float));
  }
}

static inline float max2(float a, float b) { return a > b ? a : b; }

// 3x3 (the fast path): three rows, three taps each.
static void maxpool3_plane(const kn_pool *p, const float *pad, float *yp) {
  int s = p->stride, pw = p->w + 2;
  for (int oy = 0; oy < p->ho; oy++) {
    const float *r0 = pad + (size_t)oy * s * pw, *r1 = r0 + pw, *r2 = r1 + pw;
    float *yr = yp + (size_t)oy * p->wo;
    if (s == 1) {
      for (int ox = 0; ox < p->wo; ox++) {
        float a = max2(max2(r0[ox], r0[ox + 1]), r0[ox + 2]);
        float b = max2(max2(r1[ox], r1[ox + 1]), r1[ox + 2]);
        float c = max2(max2(r2[ox], r2[ox + 1]), r2[ox + 2]);
        yr[ox] = max2(max2(a, b), c);
      }
    } else {
      for (int ox = 0; ox < p->wo; ox++) {
        int j = ox * s;
        float a = max2(max2(r0[j], r0[j + 1]), r0[j + 2]);
        float b = max2(max2(r1[j], r1[j + 1]), r1[j + 2]);
        float c = max2(max2(r2[j], r2[j + 1]), r2[j + 2]);
        yr[ox] = max2(max2(a, b), c);
      }
    }
  }
}

// Any odd k: the output row is the running maximum over the k*k taps, tap outermost so the
// stride-1 loop over ox vectorises.
static void maxpool_k_plane(const kn_pool *p, const float *pad, float *yp) {
  int s = p->stride, k = p->k, pw = p->w + 2 * (k / 2);
  for (int oy = 0; oy < p->ho; oy++) {
    const float *r0 = pad + (size_t)oy * s * pw;
    float *yr = yp + (size_t)oy * p->wo;
    for (int ox = 0; ox < p->wo; ox++) yr[ox] = -INFINITY;
    for (int ky = 0; ky < k; ky++)
      for (int kx = 0; kx < k; kx++) {
        const float *src = r0 + (size_t)ky * pw + kx;
        if (s == 1)
          for (int ox = 0; ox < p->wo; ox++) yr[ox] = src[ox] > yr[ox] ? src[ox] : yr[ox];
        else
          for (int ox = 0; ox < p->wo; ox++) {
            float v = src[(size_t)ox * s];
            yr[ox] = v > yr[ox] ? v : yr[ox];
          }
      }
  }
}

void kn_cpu_maxpool_fwd(kn_ctx *ctx, const kn_pool *p, const float *x, float *y) {
  int planes = p->n * p->c, r = p->k / 2, pw = p->w + 2 * r;
  size_t hw = (size_t)p->h * p->w, P = (size_t)p->ho * p->wo, per = (size_t)(p->h + 2 * r) * pw;
  float *sc = kn_ctx_scratch(ctx, per * ctx->threads * sizeof(float));
  if (!sc) return;
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
  for (int q = 0; q < planes; q++) {
    float *pad = sc + per * KN_TID();
    pad_neg_inf(x + q * hw, p->h, p->w, r, pad);
    if (p->k == 3)
      maxpool3_plane(p, pad, y + q * P);
    else
      maxpool_k_plane(p, pad, y + q * P);
  }
}

#define KN_POOL_ROW 1024

void kn_cpu_maxpool_bwd(kn_ctx *ctx, const kn_pool *p, const float *x, const float *dy,
                        float *dx) {
  if (p->wo > KN_POOL_ROW) {
    kn_ref_maxpool_bwd(ctx, p, x, dy, dx);
    return;
  }
  int planes = p->n * p->c, s = p->stride, k = p->k, r = k / 2, pw = p->w + 2 * r;
  size_t hw = (size_t)p->h * p->w, P = (size_t)p->ho * p->wo, per = (size_t)(p->h + 2 * r) * pw;
  float *sc = kn_ctx_scratch(ctx, per * ctx->threads * sizeof(float));
  if (!sc) return;
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
  for (int q = 0; q < planes; q++) {
    float *pad = sc + per * KN_TID();
    pad_neg_inf(x + q * hw, p->h, p->w, r, pad);
    const float *gp = dy + q * P;
    float *dp = dx + q * hw;
    for (int oy = 0; oy < p->ho; oy++) {
      // first maximum of each window of the row, tap index ky*k+kx (vectorised over ox for
      // stride 1), then scatter the row's gradient
      float m[KN_POOL_ROW];
      int best[KN_POOL_ROW];
      const float *r0 = pad + (size_t)oy * s * pw;
      for (int ox = 0; ox < p->wo; ox++) {
        m[ox] = r0[ox * s];
        best[ox] = 0;
      }
      for (int t = 1; t < k * k; t++) {
        const float *src = r0 + (t / k) * pw + t % k;
        for (int ox = 0; ox < p->wo; ox++) {
          float v = src[ox * s];
          int take = v > m[ox];
          m[ox] = take ? v : m[ox];
          best[ox] = take ? t : best[ox];
        }
      }
      for (int ox = 0; ox < p->wo; ox++) {
        int iy = oy * s + best[ox] / k - r, ix = ox * s + best[ox] % k - r; // image coords
        dp[(size_t)iy * p->w + ix] += gp[(size_t)oy * p->wo + ox];
      }
    }
  }
}

void kn_cpu_avgpool_fwd(kn_ctx *ctx, const kn_pool *p, const float *x, float *y) {
  int planes = p->n * p->c, s = p->stride, k = p->k, r = k / 2;
  size_t hw = (size_t)p->h * p->w, P = (size_t)p->ho * p->wo;
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
  for (int q = 0; q < planes; q++) {
    const float *xp = x + q * hw;
    float *yp = y + q * P;
    for (int oy = 0; oy < p->ho; oy++) {
      int y0 = oy * s - r, y1 = y0 + k - 1;
      if (y0 < 0) y0 = 0;
      if (y1 > p->h - 1) y1 = p->h - 1;
      for (int ox = 0; ox < p->wo; ox++) {
        int x0 = ox * s - r, x1 = x0 + k - 1;
        if (x0 < 0) x0 = 0;
        if (x1 > p->w - 1) x1 = p->w - 1;
        float sum = 0;
        for (int iy = y0; iy <= y1; iy++)
          for (int ix = x0; ix <= x1; ix++) sum += xp[iy * p->w + ix];
        yp[oy * p->wo + ox] = sum / (float)((y1 - y0 + 1) * (x1 - x0 + 1));
      }
    }
  }
}

void kn_cpu_avgpool_bwd(kn_ctx *ctx, const kn_pool *p, const float *dy, float *dx) {
  int planes = p->n * p->c, s = p->stride, k = p->k, r = k / 2;
  size_t hw = (size_t)p->h * p->w, P = (size_t)p->ho * p->wo;
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
  for (int q = 0; q < planes; q++) {
    const float *gp = dy + q * P;
    float *dp = dx + q * hw;
    for (int oy = 0; oy < p->ho; oy++) {
      int y0 = oy * s - r, y1 = y0 + k - 1;
      if (y0 < 0) y0 = 0;
      if (y1 > p->h - 1) y1 = p->h - 1;
      for (int ox = 0; ox < p->wo; ox++) {
        int x0 = ox * s - r, x1 = x0 + k - 1;
        if (x0 < 0) x0 = 0;
        if (x1 > p->w - 1) x1 = p->w - 1;
        float g = gp[oy * p->wo + ox] / (float)((y1 - y0 + 1) * (x1 - x0 + 1));
        for (int iy = y0; iy <= y1; iy++)
          for (int ix = x0; ix <= x1; ix++) dp[iy * p->w + ix] += g;
      }
    }
  }
}

// Sum over one channel's planes: float SIMD within a plane, double across planes.
static double chan_sum(kn_shape s, const float *x, int c) {
  size_t hw = (size_t)s.h * s.w;
  double t = 0;
  for (int n = 0; n < s.n; n++) {
    const float *p = x + ((size_t)n * s.c + c) * hw;
    float r = 0;
#pragma omp simd reduction(+ : r)
    for (size_t i = 0; i < hw; i++) r += p[i];
    t += r;
  }
  return t;
}

void kn_cpu_bn_fwd_train(kn_ctx *ctx, kn_shape s, const float *x, const float *gamma,
                         const float *beta, float *y, float *mean, float *invstd, float *run_mean,
                         float *run_var) {
  size_t hw = (size_t)s.h * s.w, m = (size_t)s.n * hw;
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
  for (int c = 0; c < s.c; c++) {
    float mu = (float)(chan_sum(s, x, c) / (double)m);
    double sq = 0;
    for (int n = 0; n < s.n; n++) {
      const float *p = x + ((size_t)n * s.c + c) * hw;
      float r = 0;
#pragma omp simd reduction(+ : r)
      for (size_t i = 0; i < hw; i++) r += (p[i] - mu) * (p[i] - mu);
      sq += r;
    }
    double var = sq / (double)m;
    float is = (float)(1.0 / sqrt(var + KN_BN_EPS));
    mean[c] = mu;
    invstd[c] = is;
    float a = gamma[c] * is, b = beta[c] - mu * a;
    for (int n = 0; n < s.n; n++) {
      const float *p = x + ((size_t)n * s.c + c) * hw;
      float *q = y + ((size_t)n * s.c + c) * hw;
#pragma omp simd
      for (size_t i = 0; i < hw; i++) q[i] = p[i] * a + b;
    }
    double unbiased = m > 1 ? var * (double)m / (double)(m - 1) : var;
    run_mean[c] = (1.0f - KN_BN_MOMENTUM) * run_mean[c] + KN_BN_MOMENTUM * mu;
    run_var[c] = (1.0f - KN_BN_MOMENTUM) * run_var[c] + KN_BN_MOMENTUM * (float)unbiased;
  }
}

void kn_cpu_bn_fwd_eval(kn_ctx *ctx, kn_shape s, const float *x, const float *gamma,
                        const float *beta, const float *run_mean, const float *run_var,
                        float *y) {
  size_t hw = (size_t)s.h * s.w;
  int planes = s.n * s.c;
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
  for (int q = 0; q < planes; q++) {
    int c = q % s.c;
    float is = 1.0f / sqrtf(run_var[c] + KN_BN_EPS);
    float a = gamma[c] * is, b = beta[c] - run_mean[c] * a;
    const float *p = x + (size_t)q * hw;
    float *o = y + (size_t)q * hw;
#pragma omp simd
    for (size_t i = 0; i < hw; i++) o[i] = p[i] * a + b;
  }
}

void kn_cpu_bn_bwd(kn_ctx *ctx, kn_shape s, const float *x, const float *gamma, const float *mean,
                   const float *invstd, const float *dy, float *dx, float *dgamma, float *dbeta) {
  size_t hw = (size_t)s.h * s.w, m = (size_t)s.n * hw;
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
  for (int c = 0; c < s.c; c++) {
    float mu = mean[c], is = invstd[c];
    double sdy = 0, sdyx = 0;
    for (int n = 0; n < s.n; n++) {
      size_t o = ((size_t)n * s.c + c) * hw;
      const float *p = x + o, *g = dy + o;
      float r1 = 0, r2 = 0;
#pragma omp simd reduction(+ : r1, r2)
      for (size_t i = 0; i < hw; i++) {
        r1 += g[i];
        r2 += g[i] * (p[i] - mu);
      }
      sdy += r1;
      sdyx += r2;
    }
    sdyx *= is;
    dgamma[c] += (float)sdyx;
    dbeta[c] += (float)sdy;
    float a = (float)(sdy / (double)m), b = (float)(sdyx / (double)m), k = gamma[c] * is;
    for (int n = 0; n < s.n; n++) {
      size_t o = ((size_t)n * s.c + c) * hw;
      const float *p = x + o, *g = dy + o;
      float *q = dx + o;
#pragma omp simd
      for (size_t i = 0; i < hw; i++) q[i] += k * (g[i] - a - (p[i] - mu) * is * b);
    }
  }
}

void kn_cpu_relu_fwd(kn_ctx *ctx, size_t count, const float *x, float *y) {
#pragma omp parallel for simd num_threads(ctx->threads) schedule(static) if (count > KN_PAR_MIN)
  for (size_t i = 0; i < count; i++) y[i] = x[i] > 0 ? x[i] : 0;
}

void kn_cpu_relu_bwd(kn_ctx *ctx, size_t count, const float *x, const float *dy, float *dx) {
#pragma omp parallel for simd num_threads(ctx->threads) schedule(static) if (count > KN_PAR_MIN)
  for (size_t i = 0; i < count; i++) dx[i] += x[i] > 0 ? dy[i] : 0;
}

void kn_cpu_add_fwd(kn_ctx *ctx, size_t count, const float *a, const float *b, float *y) {
#pragma omp parallel for simd num_threads(ctx->threads) schedule(static) if (count > KN_PAR_MIN)
  for (size_t i = 0; i < count; i++) y[i] = a[i] + b[i];
}

// A few thousand BN gammas per step: the reference loop is as fast as anything here.
void kn_cpu_l1_sign(kn_ctx *ctx, size_t count, const float *x, float lambda, float *g) {
  kn_ref_l1_sign(ctx, count, x, lambda, g);
}

void kn_cpu_acc(kn_ctx *ctx, size_t count, const float *src, float *dst) {
#pragma omp parallel for simd num_threads(ctx->threads) schedule(static) if (count > KN_PAR_MIN)
  for (size_t i = 0; i < count; i++) dst[i] += src[i];
}

void kn_cpu_concat_fwd(kn_ctx *ctx, kn_shape xs, int cy, int coff, const float *x, float *y) {
  size_t blk = (size_t)xs.c * xs.h * xs.w, hw = (size_t)xs.h * xs.w;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (blk * xs.n > KN_PAR_MIN)
  for (int n = 0; n < xs.n; n++)
    memcpy(y + ((size_t)n * cy + coff) * hw, x + n * blk, blk * sizeof(float));
}

void kn_cpu_add_concat(kn_ctx *ctx, kn_shape xs, int cy, int coff, const float *a, const float *b,
                       float *y) {
  size_t blk = (size_t)xs.c * xs.h * xs.w, hw = (size_t)xs.h * xs.w;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (blk * xs.n > KN_PAR_MIN)
  for (int n = 0; n < xs.n; n++) {
    const float *p = a + n * blk, *q = b + n * blk;
    float *d = y + ((size_t)n * cy + coff) * hw;
#pragma omp simd
    for (size_t i = 0; i < blk; i++) d[i] = p[i] + q[i];
  }
}

void kn_cpu_concat_bwd(kn_ctx *ctx, kn_shape xs, int cy, int coff, const float *dy, float *dx) {
  size_t blk = (size_t)xs.c * xs.h * xs.w, hw = (size_t)xs.h * xs.w;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (blk * xs.n > KN_PAR_MIN)
  for (int n = 0; n < xs.n; n++) {
    const float *g = dy + ((size_t)n * cy + coff) * hw;
    float *d = dx + n * blk;
#pragma omp simd
    for (size_t i = 0; i < blk; i++) d[i] += g[i];
  }
}

void kn_cpu_sub_fwd(kn_ctx *ctx, kn_shape xs, int off, const float *x, float *y) {
  int ho = (xs.h + 1) / 2, wo = (xs.w + 1) / 2, planes = xs.n * xs.c;
  size_t hw = (size_t)xs.h * xs.w, P = (size_t)ho * wo;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (P * planes > KN_PAR_MIN)
  for (int q = 0; q < planes; q++)
    for (int i = 0; i < ho; i++)
      for (int j = 0; j < wo; j++) {
        int iy = 2 * i + off, ix = 2 * j + off;
        y[q * P + (size_t)i * wo + j] = (iy < xs.h && ix < xs.w) ? x[q * hw + (size_t)iy * xs.w + ix] : 0;
      }
}

void kn_cpu_sub_bwd(kn_ctx *ctx, kn_shape xs, int off, const float *dy, float *dx) {
  int ho = (xs.h + 1) / 2, wo = (xs.w + 1) / 2, planes = xs.n * xs.c;
  size_t hw = (size_t)xs.h * xs.w, P = (size_t)ho * wo;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (P * planes > KN_PAR_MIN)
  for (int q = 0; q < planes; q++)
    for (int i = 0; i < ho; i++)
      for (int j = 0; j < wo; j++) {
        int iy = 2 * i + off, ix = 2 * j + off;
        if (iy < xs.h && ix < xs.w) dx[q * hw + (size_t)iy * xs.w + ix] += dy[q * P + (size_t)i * wo + j];
      }
}

void kn_cpu_gap_fwd(kn_ctx *ctx, kn_shape xs, const float *x, float *y) {
  int planes = xs.n * xs.c;
  size_t hw = (size_t)xs.h * xs.w;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (hw * planes > KN_PAR_MIN)
  for (int q = 0; q < planes; q++) {
    const float *p = x + q * hw;
    float r = 0;
#pragma omp simd reduction(+ : r)
    for (size_t i = 0; i < hw; i++) r += p[i];
    y[q] = r / (float)hw;
  }
}

void kn_cpu_gap_bwd(kn_ctx *ctx, kn_shape xs, const float *dy, float *dx) {
  int planes = xs.n * xs.c;
  size_t hw = (size_t)xs.h * xs.w;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (hw * planes > KN_PAR_MIN)
  for (int q = 0; q < planes; q++) {
    float g = dy[q] / (float)hw, *d = dx + q * hw;
#pragma omp simd
    for (size_t i = 0; i < hw; i++) d[i] += g;
  }
}

void kn_cpu_fc_fwd(kn_ctx *ctx, int n, int cin, int cout, const float *x, const float *w,
                   const float *b, float *y) {
  (void)ctx;
  for (int i = 0; i < n; i++) memcpy(y + (size_t)i * cout, b, (size_t)cout * sizeof(float));
  kn_gemm(0, 1, n, cout, cin, x, w, 1.0f, y); // y (n,cout) += x (n,cin) w^T
}

void kn_cpu_fc_bwd(kn_ctx *ctx, int n, int cin, int cout, const float *x, const float *w,
                   const float *dy, float *dx, float *dw, float *db) {
  (void)ctx;
  if (dx) kn_gemm(0, 0, n, cin, cout, dy, w, 1.0f, dx); // dx (n,cin) += dy (n,cout) w
  kn_gemm(1, 0, cout, cin, n, dy, x, 1.0f, dw);         // dw (cout,cin) += dy^T x
  for (int o = 0; o < cout; o++) {
    float s = 0;
    for (int i = 0; i < n; i++) s += dy[(size_t)i * cout + o];
    db[o] += s;
  }
}

void kn_cpu_xent(kn_ctx *ctx, int n, int classes, const float *logits, const int32_t *labels,
                 float *loss, float *dlogits) {
  kn_ref_xent(ctx, n, classes, logits, labels, loss, dlogits); // (n, classes) is tiny
}

void kn_cpu_sgd(kn_ctx *ctx, size_t count, float *w, const float *g, float *v, const float *lr_p,
                float momentum, float wd) {
  const float lr = *lr_p;
#pragma omp parallel for simd num_threads(ctx->threads) schedule(static) if (count > KN_PAR_MIN)
  for (size_t i = 0; i < count; i++) {
    v[i] = momentum * v[i] + (g[i] + wd * w[i]);
    w[i] -= lr * v[i];
  }
}
