// Our own CUDA kernels for depthwise convolution (multiplier 1) and k x k pooling, with the TF
// 'SAME' geometry of kn_conv / kn_pool (asymmetric padding included, which cuDNN cannot express)
// and the reference's semantics: average pooling excludes padding; max pooling sends the
// gradient to the first maximum in scan order. Backward passes are gathers (one thread per input
// element, contributions added in the reference's order: no atomics, deterministic); the
// depthwise weight gradient reduces over a fixed partition of the batch, then sums the partial
// results in chunk order. Depthwise kernels are square, of size 1, 3, 5 or 7 (the search space's),
// pooling windows 3x3, 5x5 or 7x7 (padding k/2); other sizes fail with cudaErrorInvalidValue.
// Kernels are static; launchers are extern "C".
#include <math.h>

#include "kernels/cuda/cuda_kernels.h"

#include "kernels/cuda/cuda_launch.h"

typedef struct { // kn_conv, as kernel arguments
  int n, c, h, w, ho, wo, stride, dil, pt, pl;
} dw_geom;

static dw_geom geom_of(const kn_conv *d) {
  dw_geom g = {d->n, d->cin, d->h, d->w, d->ho, d->wo, d->stride, d->dil, d->pad_t, d->pad_l};
  return g;
}

// ------------------------------------------------------------------ depthwise convolution
// One thread per output; the plane is small and re-read by neighbours through L1.
template <int K>
static __global__ void dw_fwd_k(size_t count, dw_geom g, const float *__restrict__ x,
                                const float *__restrict__ w, float *__restrict__ y) {
  GRID_STRIDE(i, count) {
    int ox = (int)(i % (size_t)g.wo), oy = (int)((i / (size_t)g.wo) % (size_t)g.ho);
    size_t nc = i / ((size_t)g.wo * g.ho);
    int c = (int)(nc % (size_t)g.c);
    const float *xp = x + nc * g.h * g.w, *wp = w + (size_t)c * K * K;
    float s = 0.0f;
#pragma unroll
    for (int ky = 0; ky < K; ky++) {
      int iy = oy * g.stride - g.pt + ky * g.dil;
      if (iy < 0 || iy >= g.h) continue;
#pragma unroll
      for (int kx = 0; kx < K; kx++) {
        int ix = ox * g.stride - g.pl + kx * g.dil;
        if (ix < 0 || ix >= g.w) continue;
        s += xp[(size_t)iy * g.w + ix] * wp[ky * K + kx];
      }
    }
    y[i] = s;
  }
}

// dx += gather of dy * w over the outputs whose taps hit this input element.
template <int K>
static __global__ void dw_bwd_dx_k(size_t count, dw_geom g, const float *__restrict__ w,
                                   const float *__restrict__ dy, float *__restrict__ dx) {
  GRID_STRIDE(i, count) {
    int ix = (int)(i % (size_t)g.w), iy = (int)((i / (size_t)g.w) % (size_t)g.h);
    size_t nc = i / ((size_t)g.w * g.h);
    int c = (int)(nc % (size_t)g.c);
    const float *dyp = dy + nc * g.ho * g.wo, *wp = w + (size_t)c * K * K;
    float s = 0.0f;
#pragma unroll
    for (int ky = 0; ky < K; ky++) {
      int ty = iy + g.pt - ky * g.dil;
      if (ty < 0 || ty % g.stride) continue;
      int oy = ty / g.stride;
      if (oy >= g.ho) continue;
#pragma unroll
      for (int kx = 0; kx < K; kx++) {
        int tx = ix + g.pl - kx * g.dil;
        if (tx < 0 || tx % g.stride) continue;
        int ox = tx / g.stride;
        if (ox >= g.wo) continue;
        s += dyp[(size_t)oy * g.wo + ox] * wp[ky * K + kx];
      }
    }
    dx[i] += s;
  }
}

// Images per block of the weight-gradient reduction: at least ~2048 output positions per block.
// Depends only on the shape, so the partition (and the result) is fixed.
static int dw_nper(const kn_conv *d) {
  size_t hw = (size_t)d->ho * d->wo;
  size_t nper = (2048 + hw - 1) / hw;
  return (int)(nper > (size_t)d->n ? (size_t)d->n : (nper ? nper : 1));
}

// Block (c, chunk): every thread accumulates K*K tap sums over its share of the chunk's output
// positions; the block reduces them (warp butterfly, then warps in order) into partial.
template <int K>
static __global__ void dw_bwd_dw_k(dw_geom g, int nper, const float *__restrict__ x,
                                   const float *__restrict__ dy, float *__restrict__ partial) {
  __shared__ float red[K * K][KN_THREADS / 32];
  int c = blockIdx.x, chunk = blockIdx.y;
  int n0 = chunk * nper, n1 = n0 + nper < g.n ? n0 + nper : g.n;
  size_t hwo = (size_t)g.ho * g.wo, total = (size_t)(n1 - n0) * hwo;
  float acc[K * K];
#pragma unroll
  for (int t = 0; t < K * K; t++) acc[t] = 0.0f;
  for (size_t p = threadIdx.x; p < total; p += blockDim.x) {
    size_t r = p % hwo, nc = (size_t)(n0 + (int)(p / hwo)) * g.c + c;
    int oy = (int)(r / (size_t)g.wo), ox = (int)(r % (size_t)g.wo);
    float gr = dy[nc * hwo + r];
    const float *xp = x + nc * g.h * g.w;
#pragma unroll
    for (int ky = 0; ky < K; ky++) {
      int iy = oy * g.stride - g.pt + ky * g.dil;
      bool vy = iy >= 0 && iy < g.h;
#pragma unroll
      for (int kx = 0; kx < K; kx++) {
        int ix = ox * g.stride - g.pl + kx * g.dil;
        if (vy && ix >= 0 && ix < g.w) acc[ky * K + kx] += gr * xp[(size_t)iy * g.w + ix];
      }
    }
  }
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
#pragma unroll
  for (int t = 0; t < K * K; t++) {
    float v = acc[t];
    for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (lane == 0) red[t][warp] = v;
  }
  __syncthreads();
  for (int t = threadIdx.x; t < K * K; t += blockDim.x) {
    float s = 0.0f;
    for (int q = 0; q < KN_THREADS / 32; q++) s += red[t][q];
    partial[((size_t)chunk * g.c + c) * K * K + t] = s;
  }
}

static __global__ void dw_sum_k(size_t ckk, int nchunks, const float *__restrict__ partial,
                                float *__restrict__ dw) {
  GRID_STRIDE(i, ckk) {
    float s = 0.0f;
    for (int q = 0; q < nchunks; q++) s += partial[(size_t)q * ckk + i];
    dw[i] += s;
  }
}

static bool dw_supported(const kn_conv *d) {
  return d->kh == d->kw && (d->kh == 1 || d->kh == 3 || d->kh == 5 || d->kh == 7) &&
         d->stride >= 1 && d->dil >= 1;
}

#define DW_DISPATCH(K_RUNTIME, LAUNCH_K)                                                           \
  switch (K_RUNTIME) {                                                                             \
  case 1: LAUNCH_K(1); break;                                                                      \
  case 3: LAUNCH_K(3); break;                                                                      \
  case 5: LAUNCH_K(5); break;                                                                      \
  default: LAUNCH_K(7); break;                                                                     \
  }

// ------------------------------------------------------------------ k x k pooling, pad k/2
// K (3, 5 or 7) is a template parameter so the window loops unroll; the k = 3 instances do the
// same arithmetic in the same order as before the window was generalised.
typedef struct {
  int h, w, ho, wo, stride;
} pool_geom;

static pool_geom pgeom_of(const kn_pool *p) {
  pool_geom g = {p->h, p->w, p->ho, p->wo, p->stride};
  return g;
}

static bool pool_supported(const kn_pool *p) {
  return (p->k == 3 || p->k == 5 || p->k == 7) && p->stride >= 1;
}

template <int K> static __device__ int pool_taps(pool_geom g, int oy, int ox) {
  int y0 = oy * g.stride - K / 2, x0 = ox * g.stride - K / 2;
  int ny = min(y0 + K, g.h) - max(y0, 0), nx = min(x0 + K, g.w) - max(x0, 0);
  return ny * nx;
}

template <int K>
static __global__ void maxpool_fwd_k(size_t count, pool_geom g, const float *__restrict__ x,
                                     float *__restrict__ y) {
  GRID_STRIDE(i, count) {
    int ox = (int)(i % (size_t)g.wo), oy = (int)((i / (size_t)g.wo) % (size_t)g.ho);
    const float *xp = x + (i / ((size_t)g.wo * g.ho)) * g.h * g.w;
    float m = -INFINITY;
#pragma unroll
    for (int ky = 0; ky < K; ky++) {
      int iy = oy * g.stride - K / 2 + ky;
      if (iy < 0 || iy >= g.h) continue;
#pragma unroll
      for (int kx = 0; kx < K; kx++) {
        int ix = ox * g.stride - K / 2 + kx;
        if (ix < 0 || ix >= g.w) continue;
        float v = xp[iy * g.w + ix];
        if (v > m) m = v;
      }
    }
    y[i] = m;
  }
}

// The outputs whose K-window contains input row i: oy*stride - K/2 <= i <= oy*stride + K/2.
template <int K> static __device__ void covering(int i, int stride, int nout, int *lo, int *hi) {
  int a = i - K / 2 <= 0 ? 0 : (i - K / 2 + stride - 1) / stride;
  int b = (i + K / 2) / stride;
  *lo = a;
  *hi = b < nout - 1 ? b : nout - 1;
}

// Gather: for each output window containing this element (in the reference's scan order), find
// the window's first maximum; add its dy when that is this element.
template <int K>
static __global__ void maxpool_bwd_k(size_t count, pool_geom g, const float *__restrict__ x,
                                     const float *__restrict__ dy, float *__restrict__ dx) {
  GRID_STRIDE(i, count) {
    int ix = (int)(i % (size_t)g.w), iy = (int)((i / (size_t)g.w) % (size_t)g.h);
    size_t plane = i / ((size_t)g.w * g.h);
    const float *xp = x + plane * g.h * g.w, *dyp = dy + plane * g.ho * g.wo;
    int oy0, oy1, ox0, ox1;
    covering<K>(iy, g.stride, g.ho, &oy0, &oy1);
    covering<K>(ix, g.stride, g.wo, &ox0, &ox1);
    float acc = dx[i];
    for (int oy = oy0; oy <= oy1; oy++)
      for (int ox = ox0; ox <= ox1; ox++) {
        float m = 0.0f;
        int arg = -1;
#pragma unroll
        for (int ky = 0; ky < K; ky++) {
          int yy = oy * g.stride - K / 2 + ky;
          if (yy < 0 || yy >= g.h) continue;
#pragma unroll
          for (int kx = 0; kx < K; kx++) {
            int xx = ox * g.stride - K / 2 + kx;
            if (xx < 0 || xx >= g.w) continue;
            float v = xp[yy * g.w + xx];
            if (arg < 0 || v > m) {
              m = v;
              arg = yy * g.w + xx;
            }
          }
        }
        if (arg == iy * g.w + ix) acc += dyp[oy * g.wo + ox];
      }
    dx[i] = acc;
  }
}

template <int K>
static __global__ void avgpool_fwd_k(size_t count, pool_geom g, const float *__restrict__ x,
                                     float *__restrict__ y) {
  GRID_STRIDE(i, count) {
    int ox = (int)(i % (size_t)g.wo), oy = (int)((i / (size_t)g.wo) % (size_t)g.ho);
    const float *xp = x + (i / ((size_t)g.wo * g.ho)) * g.h * g.w;
    float s = 0.0f;
#pragma unroll
    for (int ky = 0; ky < K; ky++) {
      int iy = oy * g.stride - K / 2 + ky;
      if (iy < 0 || iy >= g.h) continue;
#pragma unroll
      for (int kx = 0; kx < K; kx++) {
        int ix = ox * g.stride - K / 2 + kx;
        if (ix < 0 || ix >= g.w) continue;
        s += xp[iy * g.w + ix];
      }
    }
    y[i] = s / (float)pool_taps<K>(g, oy, ox);
  }
}

template <int K>
static __global__ void avgpool_bwd_k(size_t count, pool_geom g, const float *__restrict__ dy,
                                     float *__restrict__ dx) {
  GRID_STRIDE(i, count) {
    int ix = (int)(i % (size_t)g.w), iy = (int)((i / (size_t)g.w) % (size_t)g.h);
    const float *dyp = dy + (i / ((size_t)g.w * g.h)) * g.ho * g.wo;
    int oy0, oy1, ox0, ox1;
    covering<K>(iy, g.stride, g.ho, &oy0, &oy1);
    covering<K>(ix, g.stride, g.wo, &ox0, &ox1);
    float acc = dx[i];
    for (int oy = oy0; oy <= oy1; oy++)
      for (int ox = ox0; ox <= ox1; ox++)
        acc += dyp[oy * g.wo + ox] / (float)pool_taps<K>(g, oy, ox);
    dx[i] = acc;
  }
}

extern "C" {

cudaError_t kn_cuk_dw_fwd(cudaStream_t s, const kn_conv *d, const float *x, const float *w,
                          float *y) {
  if (!dw_supported(d)) return cudaErrorInvalidValue;
  size_t count = (size_t)d->n * d->cin * d->ho * d->wo;
  if (!count) return cudaSuccess;
  dw_geom g = geom_of(d);
#define L(K) dw_fwd_k<K><<<blocks_for(count), KN_THREADS, 0, s>>>(count, g, x, w, y)
  DW_DISPATCH(d->kh, L)
#undef L
  return cudaGetLastError();
}

cudaError_t kn_cuk_dw_bwd_dx(cudaStream_t s, const kn_conv *d, const float *w, const float *dy,
                             float *dx) {
  if (!dw_supported(d)) return cudaErrorInvalidValue;
  size_t count = (size_t)d->n * d->cin * d->h * d->w;
  if (!count) return cudaSuccess;
  dw_geom g = geom_of(d);
#define L(K) dw_bwd_dx_k<K><<<blocks_for(count), KN_THREADS, 0, s>>>(count, g, w, dy, dx)
  DW_DISPATCH(d->kh, L)
#undef L
  return cudaGetLastError();
}

size_t kn_cuk_dw_partial_floats(const kn_conv *d) {
  if (d->n < 1) return 0;
  int nper = dw_nper(d), nchunks = (d->n + nper - 1) / nper;
  return (size_t)nchunks * d->cin * d->kh * d->kw;
}

cudaError_t kn_cuk_dw_bwd_dw(cudaStream_t s, const kn_conv *d, const float *x, const float *dy,
                             float *dw, float *partial) {
  if (!dw_supported(d)) return cudaErrorInvalidValue;
  if (d->n < 1 || d->cin < 1) return cudaSuccess;
  int nper = dw_nper(d), nchunks = (d->n + nper - 1) / nper;
  if (nchunks > 65535) return cudaErrorInvalidValue;
  dw_geom g = geom_of(d);
  dim3 grid((unsigned)d->cin, (unsigned)nchunks);
#define L(K) dw_bwd_dw_k<K><<<grid, KN_THREADS, 0, s>>>(g, nper, x, dy, partial)
  DW_DISPATCH(d->kh, L)
#undef L
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return e;
  size_t ckk = (size_t)d->cin * d->kh * d->kw;
  dw_sum_k<<<blocks_for(ckk), KN_THREADS, 0, s>>>(ckk, nchunks, partial, dw);
  return cudaGetLastError();
}

#define POOL_LAUNCH(kernel, count, ...)                                                            \
  do {                                                                                             \
    if (!pool_supported(p)) return cudaErrorInvalidValue;                                          \
    if ((count) == 0) return cudaSuccess;                                                          \
    pool_geom g = pgeom_of(p);                                                                     \
    switch (p->k) {                                                                                \
    case 3: kernel<3><<<blocks_for(count), KN_THREADS, 0, s>>>((count), g, __VA_ARGS__); break;    \
    case 5: kernel<5><<<blocks_for(count), KN_THREADS, 0, s>>>((count), g, __VA_ARGS__); break;    \
    default: kernel<7><<<blocks_for(count), KN_THREADS, 0, s>>>((count), g, __VA_ARGS__); break;   \
    }                                                                                              \
    return cudaGetLastError();                                                                     \
  } while (0)

cudaError_t kn_cuk_maxpool_fwd(cudaStream_t s, const kn_pool *p, const float *x, float *y) {
  POOL_LAUNCH(maxpool_fwd_k, (size_t)p->n * p->c * p->ho * p->wo, x, y);
}
cudaError_t kn_cuk_maxpool_bwd(cudaStream_t s, const kn_pool *p, const float *x, const float *dy,
                               float *dx) {
  POOL_LAUNCH(maxpool_bwd_k, (size_t)p->n * p->c * p->h * p->w, x, dy, dx);
}
cudaError_t kn_cuk_avgpool_fwd(cudaStream_t s, const kn_pool *p, const float *x, float *y) {
  POOL_LAUNCH(avgpool_fwd_k, (size_t)p->n * p->c * p->ho * p->wo, x, y);
}
cudaError_t kn_cuk_avgpool_bwd(cudaStream_t s, const kn_pool *p, const float *dy, float *dx) {
  POOL_LAUNCH(avgpool_bwd_k, (size_t)p->n * p->c * p->h * p->w, dy, dx);
}

} // extern "C"
