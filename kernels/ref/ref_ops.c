// Reference (oracle) implementations of every non-convolution op: pooling, batch norm, ReLU,
// add, concat, stride-2 sampling, global average pool, fully connected, softmax cross-entropy
// and SGD. Plain loops with double accumulation where sums are taken; never optimised.
#include <math.h>
#include <string.h>

#include "kernels/ops.h"

#define IDX4(n, c, y, x, C, H, W) ((((size_t)(n) * (C) + (c)) * (H) + (y)) * (W) + (x))

void kn_ref_maxpool_fwd(kn_ctx *ctx, const kn_pool *p, const float *x /* (n,c,h,w) */,
                        float *y /* (n,c,ho,wo) */) {
  (void)ctx;
  for (int n = 0; n < p->n; n++)
    for (int c = 0; c < p->c; c++)
      for (int oy = 0; oy < p->ho; oy++)
        for (int ox = 0; ox < p->wo; ox++) {
          float m = -INFINITY;
          for (int ky = 0; ky < p->k; ky++)
            for (int kx = 0; kx < p->k; kx++) {
              int iy = oy * p->stride - p->k / 2 + ky, ix = ox * p->stride - p->k / 2 + kx;
              if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w) continue;
              float v = x[IDX4(n, c, iy, ix, p->c, p->h, p->w)];
              if (v > m) m = v;
            }
          y[IDX4(n, c, oy, ox, p->c, p->ho, p->wo)] = m;
        }
}

void kn_ref_maxpool_bwd(kn_ctx *ctx, const kn_pool *p, const float *x, const float *dy,
                        float *dx) {
  (void)ctx;
  for (int n = 0; n < p->n; n++)
    for (int c = 0; c < p->c; c++)
      for (int oy = 0; oy < p->ho; oy++)
        for (int ox = 0; ox < p->wo; ox++) {
          float m = -INFINITY;
          size_t arg = 0;
          int found = 0;
          for (int ky = 0; ky < p->k; ky++)
            for (int kx = 0; kx < p->k; kx++) {
              int iy = oy * p->stride - p->k / 2 + ky, ix = ox * p->stride - p->k / 2 + kx;
              if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w) continue;
              size_t i = IDX4(n, c, iy, ix, p->c, p->h, p->w);
              if (!found || x[i] > m) {
                m = x[i];
                arg = i;
                found = 1;
              }
            }
          dx[arg] += dy[IDX4(n, c, oy, ox, p->c, p->ho, p->wo)];
        }
}

static int pool_count(const kn_pool *p, int oy, int ox) {
  int k = 0;
  for (int ky = 0; ky < p->k; ky++)
    for (int kx = 0; kx < p->k; kx++) {
      int iy = oy * p->stride - p->k / 2 + ky, ix = ox * p->stride - p->k / 2 + kx;
      if (iy >= 0 && iy < p->h && ix >= 0 && ix < p->w) k++;
    }
  return k;
}

void kn_ref_avgpool_fwd(kn_ctx *ctx, const kn_pool *p, const float *x, float *y) {
  (void)ctx;
  for (int n = 0; n < p->n; n++)
    for (int c = 0; c < p->c; c++)
      for (int oy = 0; oy < p->ho; oy++)
        for (int ox = 0; ox < p->wo; ox++) {
          double s = 0;
          for (int ky = 0; ky < p->k; ky++)
            for (int kx = 0; kx < p->k; kx++) {
              int iy = oy * p->stride - p->k / 2 + ky, ix = ox * p->stride - p->k / 2 + kx;
              if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w) continue;
              s += x[IDX4(n, c, iy, ix, p->c, p->h, p->w)];
            }
          y[IDX4(n, c, oy, ox, p->c, p->ho, p->wo)] = (float)(s / pool_count(p, oy, ox));
        }
}

void kn_ref_avgpool_bwd(kn_ctx *ctx, const kn_pool *p, const float *dy, float *dx) {
  (void)ctx;
  for (int n = 0; n < p->n; n++)
    for (int c = 0; c < p->c; c++)
      for (int oy = 0; oy < p->ho; oy++)
        for (int ox = 0; ox < p->wo; ox++) {
          float g = dy[IDX4(n, c, oy, ox, p->c, p->ho, p->wo)] / (float)pool_count(p, oy, ox);
          for (int ky = 0; ky < p->k; ky++)
            for (int kx = 0; kx < p->k; kx++) {
              int iy = oy * p->stride - p->k / 2 + ky, ix = ox * p->stride - p->k / 2 + kx;
              if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w) continue;
              dx[IDX4(n, c, iy, ix, p->c, p->h, p->w)] += g;
            }
        }
}

void kn_ref_bn_fwd_train(kn_ctx *ctx, kn_shape s, const float *x, const float *gamma,
                         const float *beta, float *y, float *mean, float *invstd, float *run_mean,
                         float *run_var) {
  (void)ctx;
  size_t hw = (size_t)s.h * s.w, m = (size_t)s.n * hw;
  for (int c = 0; c < s.c; c++) {
    double sum = 0, sq = 0;
    for (int n = 0; n < s.n; n++)
      for (size_t i = 0; i < hw; i++) sum += x[((size_t)n * s.c + c) * hw + i];
    double mu = sum / (double)m;
    for (int n = 0; n < s.n; n++)
      for (size_t i = 0; i < hw; i++) {
        double d = x[((size_t)n * s.c + c) * hw + i] - mu;
        sq += d * d;
      }
    double var = sq / (double)m;
    float is = (float)(1.0 / sqrt(var + KN_BN_EPS));
    mean[c] = (float)mu;
    invstd[c] = is;
    for (int n = 0; n < s.n; n++)
      for (size_t i = 0; i < hw; i++) {
        size_t k = ((size_t)n * s.c + c) * hw + i;
        y[k] = gamma[c] * ((x[k] - (float)mu) * is) + beta[c];
      }
    double unbiased = m > 1 ? var * (double)m / (double)(m - 1) : var;
    run_mean[c] = (1.0f - KN_BN_MOMENTUM) * run_mean[c] + KN_BN_MOMENTUM * (float)mu;
    run_var[c] = (1.0f - KN_BN_MOMENTUM) * run_var[c] + KN_BN_MOMENTUM * (float)unbiased;
  }
}

void kn_ref_bn_fwd_eval(kn_ctx *ctx, kn_shape s, const float *x, const float *gamma,
                        const float *beta, const float *run_mean, const float *run_var,
                        float *y) {
  (void)ctx;
  size_t hw = (size_t)s.h * s.w;
  for (int n = 0; n < s.n; n++)
    for (int c = 0; c < s.c; c++) {
      float is = 1.0f / sqrtf(run_var[c] + KN_BN_EPS);
      for (size_t i = 0; i < hw; i++) {
        size_t k = ((size_t)n * s.c + c) * hw + i;
        y[k] = gamma[c] * ((x[k] - run_mean[c]) * is) + beta[c];
      }
    }
}

void kn_ref_bn_bwd(kn_ctx *ctx, kn_shape s, const float *x, const float *gamma, const float *mean,
                   const float *invstd, const float *dy, float *dx, float *dgamma, float *dbeta) {
  (void)ctx;
  size_t hw = (size_t)s.h * s.w, m = (size_t)s.n * hw;
  for (int c = 0; c < s.c; c++) {
    double sdy = 0, sdyx = 0;
    for (int n = 0; n < s.n; n++)
      for (size_t i = 0; i < hw; i++) {
        size_t k = ((size_t)n * s.c + c) * hw + i;
        sdy += dy[k];
        sdyx += (double)dy[k] * ((x[k] - mean[c]) * invstd[c]);
      }
    dgamma[c] += (float)sdyx;
    dbeta[c] += (float)sdy;
    float a = (float)(sdy / (double)m), b = (float)(sdyx / (double)m);
    for (int n = 0; n < s.n; n++)
      for (size_t i = 0; i < hw; i++) {
        size_t k = ((size_t)n * s.c + c) * hw + i;
        float xh = (x[k] - mean[c]) * invstd[c];
        dx[k] += gamma[c] * invstd[c] * (dy[k] - a - xh * b);
      }
  }
}

void kn_ref_relu_fwd(kn_ctx *ctx, size_t count, const float *x, float *y) {
  (void)ctx;
  for (size_t i = 0; i < count; i++) y[i] = x[i] > 0 ? x[i] : 0;
}

void kn_ref_relu_bwd(kn_ctx *ctx, size_t count, const float *x, const float *dy, float *dx) {
  (void)ctx;
  for (size_t i = 0; i < count; i++)
    if (x[i] > 0) dx[i] += dy[i];
}

void kn_ref_add_fwd(kn_ctx *ctx, size_t count, const float *a, const float *b, float *y) {
  (void)ctx;
  for (size_t i = 0; i < count; i++) y[i] = a[i] + b[i];
}

void kn_ref_acc(kn_ctx *ctx, size_t count, const float *src, float *dst) {
  (void)ctx;
  for (size_t i = 0; i < count; i++) dst[i] += src[i];
}

void kn_ref_l1_sign(kn_ctx *ctx, size_t count, const float *x, float lambda, float *g) {
  (void)ctx;
  for (size_t i = 0; i < count; i++) g[i] += x[i] > 0 ? lambda : x[i] < 0 ? -lambda : 0.0f;
}

void kn_ref_concat_fwd(kn_ctx *ctx, kn_shape xs, int cy, int coff, const float *x, float *y) {
  (void)ctx;
  size_t hw = (size_t)xs.h * xs.w;
  for (int n = 0; n < xs.n; n++)
    for (int c = 0; c < xs.c; c++)
      for (size_t i = 0; i < hw; i++)
        y[((size_t)n * cy + coff + c) * hw + i] = x[((size_t)n * xs.c + c) * hw + i];
}

void kn_ref_concat_bwd(kn_ctx *ctx, kn_shape xs, int cy, int coff, const float *dy, float *dx) {
  (void)ctx;
  size_t hw = (size_t)xs.h * xs.w;
  for (int n = 0; n < xs.n; n++)
    for (int c = 0; c < xs.c; c++)
      for (size_t i = 0; i < hw; i++)
        dx[((size_t)n * xs.c + c) * hw + i] += dy[((size_t)n * cy + coff + c) * hw + i];
}

void kn_ref_add_concat(kn_ctx *ctx, kn_shape xs, int cy, int coff, const float *a, const float *b,
                       float *y) {
  (void)ctx;
  size_t hw = (size_t)xs.h * xs.w;
  for (int n = 0; n < xs.n; n++)
    for (int c = 0; c < xs.c; c++)
      for (size_t i = 0; i < hw; i++) {
        size_t k = ((size_t)n * xs.c + c) * hw + i;
        y[((size_t)n * cy + coff + c) * hw + i] = a[k] + b[k];
      }
}

void kn_ref_sub_fwd(kn_ctx *ctx, kn_shape xs, int off, const float *x, float *y) {
  (void)ctx;
  int ho = (xs.h + 1) / 2, wo = (xs.w + 1) / 2;
  for (int n = 0; n < xs.n; n++)
    for (int c = 0; c < xs.c; c++)
      for (int i = 0; i < ho; i++)
        for (int j = 0; j < wo; j++) {
          int iy = 2 * i + off, ix = 2 * j + off;
          y[IDX4(n, c, i, j, xs.c, ho, wo)] =
              (iy < xs.h && ix < xs.w) ? x[IDX4(n, c, iy, ix, xs.c, xs.h, xs.w)] : 0.0f;
        }
}

void kn_ref_sub_bwd(kn_ctx *ctx, kn_shape xs, int off, const float *dy, float *dx) {
  (void)ctx;
  int ho = (xs.h + 1) / 2, wo = (xs.w + 1) / 2;
  for (int n = 0; n < xs.n; n++)
    for (int c = 0; c < xs.c; c++)
      for (int i = 0; i < ho; i++)
        for (int j = 0; j < wo; j++) {
          int iy = 2 * i + off, ix = 2 * j + off;
          if (iy < xs.h && ix < xs.w)
            dx[IDX4(n, c, iy, ix, xs.c, xs.h, xs.w)] += dy[IDX4(n, c, i, j, xs.c, ho, wo)];
        }
}

void kn_ref_gap_fwd(kn_ctx *ctx, kn_shape xs, const float *x, float *y /* (n,c) */) {
  (void)ctx;
  size_t hw = (size_t)xs.h * xs.w;
  for (size_t p = 0; p < (size_t)xs.n * xs.c; p++) {
    double s = 0;
    for (size_t i = 0; i < hw; i++) s += x[p * hw + i];
    y[p] = (float)(s / (double)hw);
  }
}

void kn_ref_gap_bwd(kn_ctx *ctx, kn_shape xs, const float *dy /* (n,c) */, float *dx) {
  (void)ctx;
  size_t hw = (size_t)xs.h * xs.w;
  for (size_t p = 0; p < (size_t)xs.n * xs.c; p++)
    for (size_t i = 0; i < hw; i++) dx[p * hw + i] += dy[p] / (float)hw;
}

void kn_ref_fc_fwd(kn_ctx *ctx, int n, int cin, int cout, const float *x /* (n,cin) */,
                   const float *w /* (cout,cin) */, const float *b /* (cout) */,
                   float *y /* (n,cout) */) {
  (void)ctx;
  for (int i = 0; i < n; i++)
    for (int o = 0; o < cout; o++) {
      double s = b[o];
      for (int k = 0; k < cin; k++) s += (double)x[(size_t)i * cin + k] * w[(size_t)o * cin + k];
      y[(size_t)i * cout + o] = (float)s;
    }
}

void kn_ref_fc_bwd(kn_ctx *ctx, int n, int cin, int cout, const float *x, const float *w,
                   const float *dy, float *dx, float *dw, float *db) {
  (void)ctx;
  for (int i = 0; i < n; i++)
    for (int o = 0; o < cout; o++) {
      float g = dy[(size_t)i * cout + o];
      db[o] += g;
      for (int k = 0; k < cin; k++) {
        if (dx) dx[(size_t)i * cin + k] += g * w[(size_t)o * cin + k];
        dw[(size_t)o * cin + k] += g * x[(size_t)i * cin + k];
      }
    }
}

void kn_ref_xent(kn_ctx *ctx, int n, int classes, const float *logits, const int32_t *labels,
                 float *loss, float *dlogits) {
  (void)ctx;
  double total = 0;
  for (int i = 0; i < n; i++) {
    const float *z = logits + (size_t)i * classes;
    float *g = dlogits + (size_t)i * classes;
    double mx = z[0];
    for (int k = 1; k < classes; k++)
      if (z[k] > mx) mx = z[k];
    double se = 0;
    for (int k = 0; k < classes; k++) se += exp((double)z[k] - mx);
    double lse = mx + log(se);
    total += lse - z[labels[i]];
    for (int k = 0; k < classes; k++)
      g[k] = (float)((exp((double)z[k] - lse) - (k == labels[i] ? 1.0 : 0.0)) / n);
  }
  *loss = (float)(total / n);
}

void kn_ref_sgd(kn_ctx *ctx, size_t count, float *w, const float *g, float *v, const float *lr_p,
                float momentum, float wd) {
  const float lr = *lr_p;
  (void)ctx;
  for (size_t i = 0; i < count; i++) {
    v[i] = momentum * v[i] + (g[i] + wd * w[i]);
    w[i] -= lr * v[i];
  }
}
