// Our own CUDA kernels for the cheap ops of the seam: ReLU, add/accumulate, concat, stride-2
// sampling, global average pooling, softmax cross-entropy, the FC bias and the
// explicit padding cuDNN needs for TF 'SAME' asymmetric convolutions. Kernels are static; only
// the extern "C" launchers of kernels/cuda/cuda_kernels.h are exported. Not here: convolutions and
// batch norm (cuDNN, cudnn_ops.c), GEMMs (cuBLAS), depthwise and pooling (cuda_spatial.cu).
#include "kernels/cuda/cuda_kernels.h"

#include "kernels/cuda/cuda_launch.h"

static __global__ void relu_fwd_k(size_t count, const float *__restrict__ x, float *__restrict__ y) {
  GRID_STRIDE(i, count) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

static __global__ void relu_bwd_k(size_t count, const float *__restrict__ x,
                                  const float *__restrict__ dy, float *__restrict__ dx) {
  GRID_STRIDE(i, count) if (x[i] > 0.0f) dx[i] += dy[i];
}

static __global__ void add_k(size_t count, const float *a, const float *b, float *y) {
  GRID_STRIDE(i, count) y[i] = a[i] + b[i];
}

// Not __restrict__: acc(dy, dx) may be called twice with the same dy on two different dx.
static __global__ void acc_k(size_t count, const float *src, float *dst) {
  GRID_STRIDE(i, count) dst[i] += src[i];
}

static __global__ void l1_sign_k(size_t count, const float *x, float lambda, float *g) {
  GRID_STRIDE(i, count) g[i] += x[i] > 0.0f ? lambda : x[i] < 0.0f ? -lambda : 0.0f;
}

static __global__ void concat_k(size_t count, int c, size_t hw, int cy, int coff, int bwd,
                                const float *__restrict__ a, float *__restrict__ b) {
  GRID_STRIDE(i, count) { // i indexes the (n, c, hw) side
    size_t p = i % hw, nc = i / hw;
    size_t n = nc / (size_t)c, ch = nc % (size_t)c;
    size_t j = (n * (size_t)cy + (size_t)coff + ch) * hw + p;
    if (bwd)
      b[i] += a[j]; // a = dy (n, cy, hw), b = dx (n, c, hw)
    else
      b[j] = a[i];  // a = x, b = y
  }
}

static __global__ void add_concat_k(size_t count, int c, size_t hw, int cy, int coff,
                                    const float *__restrict__ a, const float *__restrict__ b,
                                    float *__restrict__ y) {
  GRID_STRIDE(i, count) { // i indexes the (n, c, hw) inputs
    size_t p = i % hw, nc = i / hw;
    size_t n = nc / (size_t)c, ch = nc % (size_t)c;
    y[(n * (size_t)cy + (size_t)coff + ch) * hw + p] = a[i] + b[i];
  }
}

static __global__ void sub_fwd_k(size_t count, int h, int w, int off, const float *__restrict__ x,
                                 float *__restrict__ y) {
  int ho = (h + 1) / 2, wo = (w + 1) / 2;
  GRID_STRIDE(i, count) {
    int j = (int)(i % (size_t)wo), r = (int)((i / (size_t)wo) % (size_t)ho);
    size_t pl = i / ((size_t)wo * ho);
    int iy = 2 * r + off, ix = 2 * j + off;
    y[i] = (iy < h && ix < w) ? x[(pl * h + iy) * w + ix] : 0.0f;
  }
}

static __global__ void sub_bwd_k(size_t count, int h, int w, int off, const float *__restrict__ dy,
                                 float *__restrict__ dx) {
  int ho = (h + 1) / 2, wo = (w + 1) / 2;
  GRID_STRIDE(i, count) {
    int j = (int)(i % (size_t)wo), r = (int)((i / (size_t)wo) % (size_t)ho);
    size_t pl = i / ((size_t)wo * ho);
    int iy = 2 * r + off, ix = 2 * j + off;
    if (iy < h && ix < w) dx[(pl * h + iy) * w + ix] += dy[i];
  }
}

// One warp per plane; lane partial sums in double, combined by a fixed butterfly.
static __global__ void gap_fwd_k(size_t planes, int hw, const float *__restrict__ x,
                                 float *__restrict__ y) {
  size_t warp = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
  int lane = threadIdx.x % 32;
  if (warp >= planes) return;
  const float *p = x + warp * (size_t)hw;
  double s = 0;
  for (int i = lane; i < hw; i += 32) s += p[i];
  for (int o = 16; o > 0; o /= 2) s += __shfl_xor_sync(0xffffffffu, s, o);
  if (lane == 0) y[warp] = (float)(s / (double)hw);
}

static __global__ void gap_bwd_k(size_t count, int hw, const float *__restrict__ dy,
                                 float *__restrict__ dx) {
  GRID_STRIDE(i, count) dx[i] += dy[i / (size_t)hw] / (float)hw;
}

// One block: thread t owns rows t, t + KN_THREADS, ...; the per-thread losses are summed by a
// fixed tree, so the result does not depend on scheduling. Double precision like the reference.
static __global__ void xent_k(int n, int classes, const float *__restrict__ logits,
                              const int32_t *__restrict__ labels, float *__restrict__ loss,
                              float *__restrict__ dlogits) {
  __shared__ double part[KN_THREADS];
  double total = 0;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    const float *z = logits + (size_t)i * classes;
    float *g = dlogits + (size_t)i * classes;
    double mx = z[0];
    for (int k = 1; k < classes; k++) mx = z[k] > mx ? z[k] : mx;
    double se = 0;
    for (int k = 0; k < classes; k++) se += exp((double)z[k] - mx);
    double lse = mx + log(se);
    int lab = labels[i];
    total += lse - z[lab];
    for (int k = 0; k < classes; k++)
      g[k] = (float)((exp((double)z[k] - lse) - (k == lab ? 1.0 : 0.0)) / n);
  }
  part[threadIdx.x] = total;
  __syncthreads();
  for (int o = KN_THREADS / 2; o > 0; o /= 2) {
    if ((int)threadIdx.x < o) part[threadIdx.x] += part[threadIdx.x + o];
    __syncthreads();
  }
  if (threadIdx.x == 0) *loss = (float)(part[0] / n);
}

static __global__ void bias_rows_k(size_t count, int cout, const float *__restrict__ b,
                                   float *__restrict__ y) {
  GRID_STRIDE(i, count) y[i] = b[i % (size_t)cout];
}

// db[o] += sum over rows in row order (one thread per output; n is a batch, cout is small).
static __global__ void bias_grad_k(int n, int cout, const float *__restrict__ dy,
                                   float *__restrict__ db) {
  int o = blockIdx.x * blockDim.x + threadIdx.x;
  if (o >= cout) return;
  float s = 0;
  for (int i = 0; i < n; i++) s += dy[(size_t)i * cout + o];
  db[o] += s;
}

static __global__ void pad_k(size_t count, int h, int w, int hp, int wp, int pt, int pl,
                             const float *__restrict__ x, float *__restrict__ xp) {
  GRID_STRIDE(i, count) { // over xp
    int c = (int)(i % (size_t)wp), r = (int)((i / (size_t)wp) % (size_t)hp);
    size_t p = i / ((size_t)wp * hp);
    int iy = r - pt, ix = c - pl;
    xp[i] = (iy >= 0 && iy < h && ix >= 0 && ix < w) ? x[(p * h + iy) * w + ix] : 0.0f;
  }
}

static __global__ void crop_acc_k(size_t count, int h, int w, int hp, int wp, int pt, int pl,
                                  const float *__restrict__ dxp, float *__restrict__ dx) {
  GRID_STRIDE(i, count) { // over dx
    int c = (int)(i % (size_t)w), r = (int)((i / (size_t)w) % (size_t)h);
    size_t p = i / ((size_t)w * h);
    dx[i] += dxp[(p * hp + r + pt) * wp + c + pl];
  }
}

static __global__ void selftest_k(int *flag) { *flag = 42; }

#define LAUNCH(kernel, count, ...)                                                                 \
  do {                                                                                             \
    if ((count) == 0) return cudaSuccess;                                                          \
    kernel<<<blocks_for(count), KN_THREADS, 0, s>>>((count), __VA_ARGS__);                         \
    return cudaGetLastError();                                                                     \
  } while (0)

extern "C" {

cudaError_t kn_cuk_selftest(cudaStream_t s) {
  int *flag = NULL, host = 0;
  cudaError_t e = cudaMalloc(&flag, sizeof(int));
  if (e != cudaSuccess) return e;
  selftest_k<<<1, 1, 0, s>>>(flag);
  e = cudaGetLastError();
  if (e == cudaSuccess) e = cudaMemcpyAsync(&host, flag, sizeof(int), cudaMemcpyDeviceToHost, s);
  if (e == cudaSuccess) e = cudaStreamSynchronize(s);
  cudaError_t f = cudaFree(flag);
  if (e == cudaSuccess) e = f;
  if (e == cudaSuccess && host != 42) e = cudaErrorUnknown;
  return e;
}

cudaError_t kn_cuk_relu_fwd(cudaStream_t s, size_t count, const float *x, float *y) {
  LAUNCH(relu_fwd_k, count, x, y);
}
cudaError_t kn_cuk_relu_bwd(cudaStream_t s, size_t count, const float *x, const float *dy,
                            float *dx) {
  LAUNCH(relu_bwd_k, count, x, dy, dx);
}
cudaError_t kn_cuk_add(cudaStream_t s, size_t count, const float *a, const float *b, float *y) {
  LAUNCH(add_k, count, a, b, y);
}
cudaError_t kn_cuk_acc(cudaStream_t s, size_t count, const float *src, float *dst) {
  LAUNCH(acc_k, count, src, dst);
}
cudaError_t kn_cuk_l1_sign(cudaStream_t s, size_t count, const float *x, float lambda, float *g) {
  LAUNCH(l1_sign_k, count, x, lambda, g);
}
cudaError_t kn_cuk_concat_fwd(cudaStream_t s, int n, int c, size_t hw, int cy, int coff,
                              const float *x, float *y) {
  LAUNCH(concat_k, (size_t)n * c * hw, c, hw, cy, coff, 0, x, y);
}
cudaError_t kn_cuk_concat_bwd(cudaStream_t s, int n, int c, size_t hw, int cy, int coff,
                              const float *dy, float *dx) {
  LAUNCH(concat_k, (size_t)n * c * hw, c, hw, cy, coff, 1, dy, dx);
}
cudaError_t kn_cuk_add_concat(cudaStream_t s, int n, int c, size_t hw, int cy, int coff,
                              const float *a, const float *b, float *y) {
  LAUNCH(add_concat_k, (size_t)n * c * hw, c, hw, cy, coff, a, b, y);
}
cudaError_t kn_cuk_sub_fwd(cudaStream_t s, size_t planes, int h, int w, int off, const float *x,
                           float *y) {
  LAUNCH(sub_fwd_k, planes * ((h + 1) / 2) * ((w + 1) / 2), h, w, off, x, y);
}
cudaError_t kn_cuk_sub_bwd(cudaStream_t s, size_t planes, int h, int w, int off, const float *dy,
                           float *dx) {
  LAUNCH(sub_bwd_k, planes * ((h + 1) / 2) * ((w + 1) / 2), h, w, off, dy, dx);
}
cudaError_t kn_cuk_gap_fwd(cudaStream_t s, size_t planes, int hw, const float *x, float *y) {
  if (planes == 0) return cudaSuccess;
  size_t threads = planes * 32;
  gap_fwd_k<<<(unsigned)((threads + KN_THREADS - 1) / KN_THREADS), KN_THREADS, 0, s>>>(planes, hw,
                                                                                      x, y);
  return cudaGetLastError();
}
cudaError_t kn_cuk_gap_bwd(cudaStream_t s, size_t planes, int hw, const float *dy, float *dx) {
  LAUNCH(gap_bwd_k, planes * (size_t)hw, hw, dy, dx);
}
cudaError_t kn_cuk_xent(cudaStream_t s, int n, int classes, const float *logits,
                        const int32_t *labels, float *loss, float *dlogits) {
  if (n <= 0) return cudaSuccess;
  xent_k<<<1, KN_THREADS, 0, s>>>(n, classes, logits, labels, loss, dlogits);
  return cudaGetLastError();
}
cudaError_t kn_cuk_bias_rows(cudaStream_t s, int n, int cout, const float *b, float *y) {
  LAUNCH(bias_rows_k, (size_t)n * cout, cout, b, y);
}
cudaError_t kn_cuk_bias_grad(cudaStream_t s, int n, int cout, const float *dy, float *db) {
  if (cout <= 0) return cudaSuccess;
  bias_grad_k<<<(cout + 127) / 128, 128, 0, s>>>(n, cout, dy, db);
  return cudaGetLastError();
}
cudaError_t kn_cuk_pad(cudaStream_t s, size_t planes, int h, int w, int hp, int wp, int pt, int pl,
                       const float *x, float *xp) {
  LAUNCH(pad_k, planes * hp * wp, h, w, hp, wp, pt, pl, x, xp);
}
cudaError_t kn_cuk_crop_acc(cudaStream_t s, size_t planes, int h, int w, int hp, int wp, int pt,
                            int pl, const float *dxp, float *dx) {
  LAUNCH(crop_acc_k, planes * h * w, h, w, hp, wp, pt, pl, dxp, dx);
}

} // extern "C"
