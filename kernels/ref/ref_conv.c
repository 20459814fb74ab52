// Reference (oracle) dense and depthwise convolutions: direct loops over every output and tap,
// double accumulation in the forward pass. Deliberately unoptimised; see cpu_conv.c / cpu_dw.c.
#include <stddef.h>

#include "kernels/ops.h"

// Input coordinate of output o at tap k, or -1 when it falls in the padding.
static inline int src_at(int o, int k, int stride, int dil, int pad, int in) {
  int i = o * stride - pad + k * dil;
  return (i >= 0 && i < in) ? i : -1;
}

void kn_ref_conv_fwd(kn_ctx *ctx, const kn_conv *d, const float *x /* (n,cin,h,w) */,
                     const float *w /* (cout,cin,kh,kw) */, float *y /* (n,cout,ho,wo) */) {
  (void)ctx;
  for (int n = 0; n < d->n; n++)
    for (int co = 0; co < d->cout; co++)
      for (int oy = 0; oy < d->ho; oy++)
        for (int ox = 0; ox < d->wo; ox++) {
          double s = 0;
          for (int ci = 0; ci < d->cin; ci++)
            for (int ky = 0; ky < d->kh; ky++) {
              int iy = src_at(oy, ky, d->stride, d->dil, d->pad_t, d->h);
              if (iy < 0) continue;
              for (int kx = 0; kx < d->kw; kx++) {
                int ix = src_at(ox, kx, d->stride, d->dil, d->pad_l, d->w);
                if (ix < 0) continue;
                s += (double)x[(((size_t)n * d->cin + ci) * d->h + iy) * d->w + ix] *
                     w[(((size_t)co * d->cin + ci) * d->kh + ky) * d->kw + kx];
              }
            }
          y[(((size_t)n * d->cout + co) * d->ho + oy) * d->wo + ox] = (float)s;
        }
}

void kn_ref_conv_bwd(kn_ctx *ctx, const kn_conv *d, const float *x, const float *w,
                     const float *dy /* (n,cout,ho,wo) */, float *dx /* (n,cin,h,w) += */,
                     float *dw /* (cout,cin,kh,kw) += */) {
  (void)ctx;
  for (int n = 0; n < d->n; n++)
    for (int co = 0; co < d->cout; co++)
      for (int oy = 0; oy < d->ho; oy++)
        for (int ox = 0; ox < d->wo; ox++) {
          float g = dy[(((size_t)n * d->cout + co) * d->ho + oy) * d->wo + ox];
          for (int ci = 0; ci < d->cin; ci++)
            for (int ky = 0; ky < d->kh; ky++) {
              int iy = src_at(oy, ky, d->stride, d->dil, d->pad_t, d->h);
              if (iy < 0) continue;
              for (int kx = 0; kx < d->kw; kx++) {
                int ix = src_at(ox, kx, d->stride, d->dil, d->pad_l, d->w);
                if (ix < 0) continue;
                size_t xi = (((size_t)n * d->cin + ci) * d->h + iy) * d->w + ix;
                size_t wi = (((size_t)co * d->cin + ci) * d->kh + ky) * d->kw + kx;
                if (dx) dx[xi] += g * w[wi];
                dw[wi] += g * x[xi];
              }
            }
        }
}

void kn_ref_dw_fwd(kn_ctx *ctx, const kn_conv *d, const float *x /* (n,c,h,w) */,
                   const float *w /* (c,1,kh,kw) */, float *y /* (n,c,ho,wo) */) {
  (void)ctx;
  for (int n = 0; n < d->n; n++)
    for (int c = 0; c < d->cin; c++)
      for (int oy = 0; oy < d->ho; oy++)
        for (int ox = 0; ox < d->wo; ox++) {
          double s = 0;
          for (int ky = 0; ky < d->kh; ky++) {
            int iy = src_at(oy, ky, d->stride, d->dil, d->pad_t, d->h);
            if (iy < 0) continue;
            for (int kx = 0; kx < d->kw; kx++) {
              int ix = src_at(ox, kx, d->stride, d->dil, d->pad_l, d->w);
              if (ix < 0) continue;
              s += (double)x[(((size_t)n * d->cin + c) * d->h + iy) * d->w + ix] *
                   w[((size_t)c * d->kh + ky) * d->kw + kx];
            }
          }
          y[(((size_t)n * d->cin + c) * d->ho + oy) * d->wo + ox] = (float)s;
        }
}

void kn_ref_dw_bwd(kn_ctx *ctx, const kn_conv *d, const float *x, const float *w,
                   const float *dy /* (n,c,ho,wo) */, float *dx /* (n,c,h,w) += */,
                   float *dw /* (c,1,kh,kw) += */) {
  (void)ctx;
  for (int n = 0; n < d->n; n++)
    for (int c = 0; c < d->cin; c++)
      for (int oy = 0; oy < d->ho; oy++)
        for (int ox = 0; ox < d->wo; ox++) {
          float g = dy[(((size_t)n * d->cin + c) * d->ho + oy) * d->wo + ox];
          for (int ky = 0; ky < d->kh; ky++) {
            int iy = src_at(oy, ky, d->stride, d->dil, d->pad_t, d->h);
            if (iy < 0) continue;
            for (int kx = 0; kx < d->kw; kx++) {
              int ix = src_at(ox, kx, d->stride, d->dil, d->pad_l, d->w);
              if (ix < 0) continue;
              size_t xi = (((size_t)n * d->cin + c) * d->h + iy) * d->w + ix;
              size_t wi = ((size_t)c * d->kh + ky) * d->kw + kx;
              if (dx) dx[xi] += g * w[wi];
              dw[wi] += g * x[xi];
            }
          }
        }
}
