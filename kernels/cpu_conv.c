// Fast CPU dense convolution: 1x1 stride-1 convs are a GEMM per image on the NCHW planes; other
// shapes go through im2col + GEMM. Images run in parallel (OpenMP); the weight gradient is reduced
// over KN_CHUNKS fixed image chunks so the result is independent of the thread count.
#include <cblas.h>
#include <string.h>

#include "kernels/cpu_internal.h"
#include "kernels/ops.h"

void kn_gemm(int ta, int tb, int M, int N, int K, const float *A, const float *B, float beta,
             float *C) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N,
              K, 1.0f, A, ta ? M : K, B, tb ? K : N, beta, C, N);
}

static int is_direct(const kn_conv *d) { return d->kh == 1 && d->kw == 1 && d->stride == 1; }

// Range of outputs o in [0, out) whose source o*stride - pad + k*dil lies in [0, in).
static void valid_range(int out, int in, int stride, int pad, int koff, int *lo, int *hi) {
  int a = pad - koff; // need o*stride >= a
  *lo = a <= 0 ? 0 : (a + stride - 1) / stride;
  int b = in - 1 + pad - koff; // need o*stride <= b
  *hi = b < 0 ? -1 : b / stride;
  if (*hi > out - 1) *hi = out - 1;
}

// col (cin*kh*kw, ho*wo) from one image x (cin, h, w).
static void im2col(const kn_conv *d, const float *x, float *col) {
  size_t P = (size_t)d->ho * d->wo;
  for (int ci = 0; ci < d->cin; ci++)
    for (int ky = 0; ky < d->kh; ky++)
      for (int kx = 0; kx < d->kw; kx++) {
        float *row = col + ((size_t)(ci * d->kh + ky) * d->kw + kx) * P;
        int ylo, yhi, xlo, xhi;
        valid_range(d->ho, d->h, d->stride, d->pad_t, ky * d->dil, &ylo, &yhi);
        valid_range(d->wo, d->w, d->stride, d->pad_l, kx * d->dil, &xlo, &xhi);
        if (ylo > yhi || xlo > xhi) {
          memset(row, 0, P * sizeof(float));
          continue;
        }
        for (int oy = 0; oy < d->ho; oy++) {
          float *r = row + (size_t)oy * d->wo;
          if (oy < ylo || oy > yhi) {
            memset(r, 0, (size_t)d->wo * sizeof(float));
            continue;
          }
          const float *xr = x + ((size_t)ci * d->h + oy * d->stride - d->pad_t + ky * d->dil) * d->w +
                            kx * d->dil - d->pad_l;
          for (int ox = 0; ox < xlo; ox++) r[ox] = 0;
          if (d->stride == 1)
            memcpy(r + xlo, xr + xlo, (size_t)(xhi - xlo + 1) * sizeof(float));
          else
            for (int ox = xlo; ox <= xhi; ox++) r[ox] = xr[ox * d->stride];
          for (int ox = xhi + 1; ox < d->wo; ox++) r[ox] = 0;
        }
      }
}

// dx (cin, h, w) += col2im(dcol (cin*kh*kw, ho*wo)).
static void col2im_add(const kn_conv *d, const float *dcol, float *dx) {
  size_t P = (size_t)d->ho * d->wo;
  for (int ci = 0; ci < d->cin; ci++)
    for (int ky = 0; ky < d->kh; ky++)
      for (int kx = 0; kx < d->kw; kx++) {
        const float *row = dcol + ((size_t)(ci * d->kh + ky) * d->kw + kx) * P;
        int ylo, yhi, xlo, xhi;
        valid_range(d->ho, d->h, d->stride, d->pad_t, ky * d->dil, &ylo, &yhi);
        valid_range(d->wo, d->w, d->stride, d->pad_l, kx * d->dil, &xlo, &xhi);
        for (int oy = ylo; oy <= yhi; oy++) {
          const float *r = row + (size_t)oy * d->wo;
          float *xr = dx + ((size_t)ci * d->h + oy * d->stride - d->pad_t + ky * d->dil) * d->w +
                      kx * d->dil - d->pad_l;
          if (d->stride == 1)
            for (int ox = xlo; ox <= xhi; ox++) xr[ox] += r[ox];
          else
            for (int ox = xlo; ox <= xhi; ox++) xr[ox * d->stride] += r[ox];
        }
      }
}

void kn_cpu_conv_fwd(kn_ctx *ctx, const kn_conv *d, const float *x /* (n,cin,h,w) */,
                     const float *w /* (cout,cin,kh,kw) */, float *y /* (n,cout,ho,wo) */) {
  int K = d->cin * d->kh * d->kw, P = d->ho * d->wo;
  size_t xs = (size_t)d->cin * d->h * d->w, ys = (size_t)d->cout * P;
  int direct = is_direct(d);
  size_t per = direct ? 0 : (size_t)K * P;
  float *sc = NULL;
  if (per && !(sc = kn_ctx_scratch(ctx, per * ctx->threads * sizeof(float)))) return;
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
  for (int n = 0; n < d->n; n++) {
    const float *col = x + n * xs;
    if (!direct) {
      float *c = sc + per * KN_TID();
      im2col(d, x + n * xs, c);
      col = c;
    }
    kn_gemm(0, 0, d->cout, P, K, w, col, 0.0f, y + n * ys);
  }
}

void kn_cpu_conv_bwd(kn_ctx *ctx, const kn_conv *d, const float *x, const float *w,
                     const float *dy /* (n,cout,ho,wo) */, float *dx /* (n,cin,h,w) += */,
                     float *dw /* (cout,cin,kh,kw) += */) {
  int K = d->cin * d->kh * d->kw, P = d->ho * d->wo;
  size_t xs = (size_t)d->cin * d->h * d->w, ys = (size_t)d->cout * P, wn = (size_t)d->cout * K;
  int direct = is_direct(d);
  int nch = d->n < KN_CHUNKS ? d->n : KN_CHUNKS;
  size_t per = direct ? 0 : 2 * (size_t)K * P; // col + dcol per thread
  float *sc = kn_ctx_scratch(ctx, (wn * nch + per * ctx->threads) * sizeof(float));
  if (!sc) return;
  float *part = sc, *tsc = sc + wn * nch;
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
  for (int ch = 0; ch < nch; ch++) {
    float *pw = part + wn * ch;
    float *col = tsc + per * KN_TID(), *dcol = col + (size_t)K * P;
    int n0 = (int)((long)d->n * ch / nch), n1 = (int)((long)d->n * (ch + 1) / nch);
    for (int n = n0; n < n1; n++) {
      const float *xn = x + n * xs, *dyn = dy + n * ys;
      const float *c = xn;
      if (!direct) {
        im2col(d, xn, col);
        c = col;
      }
      // dW (cout, K) += dY_n (cout, P) * col^T (P, K)
      kn_gemm(0, 1, d->cout, K, P, dyn, c, n == n0 ? 0.0f : 1.0f, pw);
      if (dx) {
        if (direct) {
          kn_gemm(1, 0, d->cin, P, d->cout, w, dyn, 1.0f, dx + n * xs);
        } else {
          kn_gemm(1, 0, K, P, d->cout, w, dyn, 0.0f, dcol);
          col2im_add(d, dcol, dx + n * xs);
        }
      }
    }
  }
  // Sum the chunk partials in chunk order (deterministic), split over weight elements.
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (wn > KN_PAR_MIN)
  for (size_t i = 0; i < wn; i++) {
    float s = 0;
    for (int ch = 0; ch < nch; ch++) s += part[wn * ch + i];
    dw[i] += s;
  }
}

void kn_cpu_dw_fwd(kn_ctx *ctx, const kn_conv *d, const float *x /* (n,c,h,w) */,
                   const float *w /* (c,1,kh,kw) */, float *y /* (n,c,ho,wo) */) {
  size_t hw = (size_t)d->h * d->w, P = (size_t)d->ho * d->wo;
  int planes = d->n * d->cin, s = d->stride;
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
  for (int p = 0; p < planes; p++) {
    const float *restrict xp = x + p * hw;
    float *restrict yp = y + p * P;
    const float *wp = w + (size_t)(p % d->cin) * d->kh * d->kw;
    memset(yp, 0, P * sizeof(float));
    for (int ky = 0; ky < d->kh; ky++) {
      int ylo, yhi;
      valid_range(d->ho, d->h, s, d->pad_t, ky * d->dil, &ylo, &yhi);
      for (int kx = 0; kx < d->kw; kx++) {
        int xlo, xhi;
        valid_range(d->wo, d->w, s, d->pad_l, kx * d->dil, &xlo, &xhi);
        float wv = wp[ky * d->kw + kx];
        for (int oy = ylo; oy <= yhi; oy++) {
          const float *restrict xr =
              xp + (size_t)(oy * s - d->pad_t + ky * d->dil) * d->w + kx * d->dil - d->pad_l;
          float *restrict yr = yp + (size_t)oy * d->wo;
          if (s == 1)
            for (int ox = xlo; ox <= xhi; ox++) yr[ox] += wv * xr[ox];
          else
            for (int ox = xlo; ox <= xhi; ox++) yr[ox] += wv * xr[ox * s];
        }
      }
    }
  }
}

#define KN_DW_MAXTAPS 64

// Parallel over channels: each channel's weight gradient is summed by one thread over all images
// in a fixed order (deterministic); its input gradient planes are written by the same thread.
void kn_cpu_dw_bwd(kn_ctx *ctx, const kn_conv *d, const float *x, const float *w,
                   const float *dy /* (n,c,ho,wo) */, float *dx /* (n,c,h,w) += */,
                   float *dw /* (c,1,kh,kw) += */) {
  size_t hw = (size_t)d->h * d->w, P = (size_t)d->ho * d->wo;
  int s = d->stride, kk = d->kh * d->kw;
  if (kk > KN_DW_MAXTAPS) { // larger kernels than the search space uses: take the oracle
    kn_ref_dw_bwd(ctx, d, x, w, dy, dx, dw);
    return;
  }
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
  for (int c = 0; c < d->cin; c++) {
    float accp[KN_DW_MAXTAPS] = {0};
    const float *wp = w + (size_t)c * kk;
    for (int n = 0; n < d->n; n++) {
      size_t p = (size_t)n * d->cin + c;
      const float *restrict xp = x + p * hw;
      const float *restrict dyp = dy + p * P;
      float *restrict dxp = dx ? dx + p * hw : NULL;
      for (int ky = 0; ky < d->kh; ky++) {
        int ylo, yhi;
        valid_range(d->ho, d->h, s, d->pad_t, ky * d->dil, &ylo, &yhi);
        for (int kx = 0; kx < d->kw; kx++) {
          int xlo, xhi;
          valid_range(d->wo, d->w, s, d->pad_l, kx * d->dil, &xlo, &xhi);
          float wv = wp[ky * d->kw + kx], a = 0;
          for (int oy = ylo; oy <= yhi; oy++) {
            size_t off = (size_t)(oy * s - d->pad_t + ky * d->dil) * d->w + kx * d->dil - d->pad_l;
            const float *restrict xr = xp + off;
            const float *restrict gr = dyp + (size_t)oy * d->wo;
            float r = 0;
            if (s == 1) {
#pragma omp simd reduction(+ : r)
              for (int ox = xlo; ox <= xhi; ox++) r += gr[ox] * xr[ox];
              if (dxp) {
                float *restrict dr = dxp + off;
                for (int ox = xlo; ox <= xhi; ox++) dr[ox] += wv * gr[ox];
              }
            } else {
#pragma omp simd reduction(+ : r)
              for (int ox = xlo; ox <= xhi; ox++) r += gr[ox] * xr[ox * s];
              if (dxp) {
                float *restrict dr = dxp + off;
                for (int ox = xlo; ox <= xhi; ox++) dr[ox * s] += wv * gr[ox];
              }
            }
            a += r;
          }
          accp[ky * d->kw + kx] += a;
        }
      }
    }
    for (int k = 0; k < kk; k++) dw[(size_t)c * kk + k] += accp[k];
  }
}
