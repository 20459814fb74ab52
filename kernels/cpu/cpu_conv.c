// Fast CPU dense convolution: 1x1 stride-1 convs are a GEMM per image on the NCHW planes; other
// shapes go through im2col + GEMM. Images run in parallel (OpenMP); the weight gradient is reduced
// over KN_CHUNKS fixed image chunks so the result is independent of the thread count.
#include <cblas.h>
#include <string.h>

#include "kernels/cpu/cpu_internal.h"
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

// ---- depthwise convolution -------------------------------------------------------------
// Each plane is first copied into a zero-padded scratch buffer split into `s` column phases
// (phase q, row r, column j holds padded column q + s*j), so every tap of a stride-1 or
// stride-2 output row reads contiguous memory. The core then keeps a 16-wide strip of output
// in registers and accumulates all k*k taps into it (no bounds checks, vectorised by the
// compiler). The input gradient is the same core on the (zero-upsampled for stride 2) padded
// output gradient with the flipped kernel; the weight gradient is a 16-lane dot product per tap.
// Dilation > 1 (unused by the network) falls back to the reference.
#define KN_STRIP 16

static int round_up(int x, int m) { return (x + m - 1) / m * m; }

typedef struct {
  int hp, pitch, s; // rows, row pitch (floats), phases
} dw_pad;

// Padded phase buffer reading an (ih, iw) plane with offsets (pt, pl) for an (oh, ow) output.
static dw_pad dw_pad_for(int oh, int ow, int k, int s, int iw, int pl) {
  dw_pad p;
  p.s = s;
  p.hp = (oh - 1) * s + k;
  p.pitch = round_up(round_up(ow, KN_STRIP) + (k - 1) / s + 1, KN_STRIP);
  if (s == 1 && p.pitch < pl + iw) p.pitch = round_up(pl + iw, KN_STRIP);
  return p;
}
static size_t dw_pad_floats(dw_pad p) { return (size_t)p.s * p.hp * p.pitch; }

// dst[q][r][j] = src[r - pt][q + s*j - pl], zero outside src (ih, iw). Only the padding is
// cleared; data is copied once.
static void dw_build(const float *src, int ih, int iw, int pt, int pl, dw_pad p, float *dst) {
  int r0 = pt > 0 ? pt : 0, r1 = pt + ih < p.hp ? pt + ih : p.hp;
  if (r1 < r0) r1 = r0;
  for (int q = 0; q < p.s; q++) {
    float *ph = dst + (size_t)q * p.hp * p.pitch;
    memset(ph, 0, (size_t)r0 * p.pitch * sizeof(float));
    memset(ph + (size_t)r1 * p.pitch, 0, (size_t)(p.hp - r1) * p.pitch * sizeof(float));
    // valid j: 0 <= q + s*j - pl < iw
    int j0 = pl - q > 0 ? (pl - q + p.s - 1) / p.s : 0;
    int j1 = iw - 1 + pl - q >= 0 ? (iw - 1 + pl - q) / p.s + 1 : 0; // exclusive
    if (j1 > p.pitch) j1 = p.pitch;
    if (j0 > j1) j0 = j1;
    for (int r = r0; r < r1; r++) {
      const float *sr = src + (size_t)(r - pt) * iw + (q - pl);
      float *d = ph + (size_t)r * p.pitch;
      for (int j = 0; j < j0; j++) d[j] = 0;
      if (p.s == 1)
        memcpy(d + j0, sr + j0, (size_t)(j1 - j0) * sizeof(float));
      else
        for (int j = j0; j < j1; j++) d[j] = sr[p.s * j];
      for (int j = j1; j < p.pitch; j++) d[j] = 0;
    }
  }
}

// Zero-upsampled, padded gradient for the stride-2 input gradient: dst[0][pt + 2*oy][pl + 2*ox]
// = dy[oy][ox], zero elsewhere (single phase).
static void dw_build_up2(const float *dy, int oh, int ow, int pt, int pl, dw_pad p, float *dst) {
  memset(dst, 0, dw_pad_floats(p) * sizeof(float));
  for (int oy = 0; oy < oh; oy++) {
    int r = pt + 2 * oy;
    if (r < 0 || r >= p.hp) continue;
    float *d = dst + (size_t)r * p.pitch;
    for (int ox = 0; ox < ow; ox++) {
      int c = pl + 2 * ox;
      if (c >= 0 && c < p.pitch) d[c] = dy[(size_t)oy * ow + ox];
    }
  }
}

// 8-float vectors (GCC/Clang vector extension): one AVX register, two SSE registers, or
// scalar code elsewhere. The unaligned type allows loads from any float address.
typedef float kn_v8 __attribute__((vector_size(32)));
typedef float kn_v8u __attribute__((vector_size(32), aligned(4), may_alias));
#define V8_LOAD(p) (*(const kn_v8u *)(p))

// out (oh, ow) (=, or += when acc) = sum over taps of wt[ky][kx] * src[kx%s][oy*s+ky][ox+kx/s].
static void dw_core(const float *restrict src, dw_pad p, const float *restrict wt, int k,
                    float *restrict out, int oh, int ow, int acc) {
  size_t phase = (size_t)p.hp * p.pitch;
  for (int oy = 0; oy < oh; oy++) {
    float *orow = out + (size_t)oy * ow;
    for (int ox0 = 0; ox0 < ow; ox0 += KN_STRIP) {
      kn_v8 a0 = {0}, a1 = {0};
      for (int ky = 0; ky < k; ky++) {
        const float *row = src + (size_t)(oy * p.s + ky) * p.pitch + ox0;
        const float *wr = wt + ky * k;
        for (int q = 0; q < p.s; q++) {
          const float *x = row + (size_t)q * phase;
          for (int kx = q, j = 0; kx < k; kx += p.s, j++) {
            kn_v8 wv = (kn_v8){0} + wr[kx];
            a0 += wv * V8_LOAD(x + j);
            a1 += wv * V8_LOAD(x + j + 8);
          }
        }
      }
      float a[KN_STRIP];
      memcpy(a, &a0, sizeof a0);
      memcpy(a + 8, &a1, sizeof a1);
      int m = ow - ox0 < KN_STRIP ? ow - ox0 : KN_STRIP;
      if (acc)
        for (int u = 0; u < m; u++) orow[ox0 + u] += a[u];
      else
        memcpy(orow + ox0, a, (size_t)m * sizeof(float));
    }
  }
}

// taps[ky*k+kx] += sum_{oy,ox} g[oy][ox] * src[kx%s][oy*s+ky][ox+kx/s]; g is (oh, gpitch) with
// zeros beyond the real width, so whole strips can be used.
static void dw_wgrad(const float *restrict src, dw_pad p, const float *restrict g, int gpitch,
                     int k, int oh, float *taps) {
  size_t phase = (size_t)p.hp * p.pitch;
  for (int ky = 0; ky < k; ky++)
    for (int kx = 0; kx < k; kx++) {
      kn_v8 a0 = {0}, a1 = {0};
      const float *base = src + (size_t)(kx % p.s) * phase + (size_t)ky * p.pitch + kx / p.s;
      for (int oy = 0; oy < oh; oy++) {
        const float *x = base + (size_t)oy * p.s * p.pitch;
        const float *gr = g + (size_t)oy * gpitch;
        for (int ox0 = 0; ox0 < gpitch; ox0 += KN_STRIP) {
          a0 += V8_LOAD(gr + ox0) * V8_LOAD(x + ox0);
          a1 += V8_LOAD(gr + ox0 + 8) * V8_LOAD(x + ox0 + 8);
        }
      }
      a0 += a1;
      float a[8];
      memcpy(a, &a0, sizeof a);
      float t = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
      taps[ky * k + kx] += t;
    }
}

void kn_cpu_dw_fwd(kn_ctx *ctx, const kn_conv *d, const float *x /* (n,c,h,w) */,
                   const float *w /* (c,1,kh,kw) */, float *y /* (n,c,ho,wo) */) {
  if (d->dil != 1 || d->kh != d->kw || d->stride > 2) {
    kn_ref_dw_fwd(ctx, d, x, w, y);
    return;
  }
  int k = d->kh, s = d->stride;
  size_t hw = (size_t)d->h * d->w, P = (size_t)d->ho * d->wo;
  dw_pad pp = dw_pad_for(d->ho, d->wo, k, s, d->w, d->pad_l);
  size_t per = round_up((int)dw_pad_floats(pp), 16);
  float *sc = kn_ctx_scratch(ctx, per * ctx->threads * sizeof(float));
  if (!sc) return;
  int planes = d->n * d->cin;
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
  for (int q = 0; q < planes; q++) {
    float *buf = sc + per * KN_TID();
    dw_build(x + q * hw, d->h, d->w, d->pad_t, d->pad_l, pp, buf);
    dw_core(buf, pp, w + (size_t)(q % d->cin) * k * k, k, y + q * P, d->ho, d->wo, 0);
  }
}

// Parallel over channels: each channel's weight gradient is summed by one thread over all images
// in a fixed order (deterministic); its input gradient planes are written by the same thread.
void kn_cpu_dw_bwd(kn_ctx *ctx, const kn_conv *d, const float *x, const float *w,
                   const float *dy /* (n,c,ho,wo) */, float *dx /* (n,c,h,w) += */,
                   float *dw /* (c,1,kh,kw) += */) {
  if (d->dil != 1 || d->kh != d->kw || d->stride > 2 || d->kh * d->kw > 64) {
    kn_ref_dw_bwd(ctx, d, x, w, dy, dx, dw);
    return;
  }
  int k = d->kh, s = d->stride, kk = k * k;
  size_t hw = (size_t)d->h * d->w, P = (size_t)d->ho * d->wo;
  dw_pad px = dw_pad_for(d->ho, d->wo, k, s, d->w, d->pad_l);       // input, for dW
  int gpitch = round_up(d->wo, KN_STRIP);                            // padded dy, for dW
  int qt = k - 1 - d->pad_t, ql = k - 1 - d->pad_l;                 // full-correlation offsets
  dw_pad pg = dw_pad_for(d->h, d->w, k, 1, s == 1 ? d->wo : 2 * d->wo - 1, ql); // dy, for dx
  size_t per = round_up((int)dw_pad_floats(px), 16) + (size_t)d->ho * gpitch +
               round_up((int)dw_pad_floats(pg), 16);
  float *sc = kn_ctx_scratch(ctx, per * ctx->threads * sizeof(float));
  if (!sc) return;
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
  for (int c = 0; c < d->cin; c++) {
    float *bx = sc + per * KN_TID();
    float *bg = bx + round_up((int)dw_pad_floats(px), 16);
    float *bu = bg + (size_t)d->ho * gpitch;
    float taps[64] = {0}, wf[64];
    const float *wp = w + (size_t)c * kk;
    for (int i = 0; i < kk; i++) wf[i] = wp[kk - 1 - i]; // flipped kernel
    for (int n = 0; n < d->n; n++) {
      size_t pl = (size_t)n * d->cin + c;
      const float *g = dy + pl * P;
      dw_build(x + pl * hw, d->h, d->w, d->pad_t, d->pad_l, px, bx);
      for (int oy = 0; oy < d->ho; oy++) {
        float *r = bg + (size_t)oy * gpitch;
        memcpy(r, g + (size_t)oy * d->wo, (size_t)d->wo * sizeof(float));
        for (int j = d->wo; j < gpitch; j++) r[j] = 0;
      }
      dw_wgrad(bx, px, bg, gpitch, k, d->ho, taps);
      if (dx) {
        if (s == 1)
          dw_build(g, d->ho, d->wo, qt, ql, pg, bu);
        else
          dw_build_up2(g, d->ho, d->wo, qt, ql, pg, bu);
        dw_core(bu, pg, wf, k, dx + pl * hw, d->h, d->w, 1);
      }
    }
    for (int i = 0; i < kk; i++) dw[(size_t)c * kk + i] += taps[i];
  }
}
