// Our CUDA kernels for the training loop's device-side state (kernels/backend.h: gather_u8,
// loss_acc, tick, topk_count) and the SGD step that reads its learning rate from device memory.
// With them one training step touches no host memory, so it can be captured as a CUDA graph and
// replayed (cuda_graph.c). Semantics are those of kernels/cpu/host_train.c (the CPU reference).
// Kernels are static; the extern "C" launchers are declared in kernels/cuda/cuda_kernels.h.
#include <math.h>

#include "kernels/cuda/cuda_kernels.h"

#include "kernels/cuda/cuda_launch.h"

// One thread per output float; the thread of each image's first float also writes its label.
// Augmentation as kn_host_gather_u8 (kn_aug_hash is shared through kernels/backend.h).
static __global__ void gather_u8_k(size_t count, int c, int h, int w,
                                   const uint8_t *__restrict__ images,
                                   const int32_t *__restrict__ labels_all,
                                   const int32_t *__restrict__ perm, const int32_t *__restrict__ st,
                                   const float *__restrict__ lut, int pad, int flip_on,
                                   uint64_t seed, float *__restrict__ x,
                                   int32_t *__restrict__ labels) {
  size_t hw = (size_t)h * w, chw = (size_t)c * hw;
  int base = st[1];
  uint32_t step = (uint32_t)st[0];
  GRID_STRIDE(e, count) {
    size_t i = e / chw, r = e % chw;
    int k = (int)(r / hw);
    int32_t j = perm[base + (int)i];
    const uint8_t *src = images + (size_t)j * chw + (size_t)k * hw;
    uint8_t v;
    if (pad == 0 && !flip_on) {
      v = src[r % hw];
    } else {
      uint64_t q = kn_aug_hash(seed, step, (uint32_t)i);
      int span = 2 * pad + 1;
      int oy = (int)(q % (uint64_t)span) - pad, ox = (int)((q >> 16) % (uint64_t)span) - pad;
      int flip = flip_on && ((q >> 32) & 1);
      int y = (int)((r % hw) / (size_t)w), xx = (int)((r % hw) % (size_t)w);
      int sy = y + oy, sx = (flip ? w - 1 - xx : xx) + ox;
      v = sy >= 0 && sy < h && sx >= 0 && sx < w ? src[(size_t)sy * w + sx] : 0;
    }
    x[e] = lut[256 * k + v];
    if (r == 0) labels[i] = labels_all[j];
  }
}

static __global__ void loss_acc_k(const float *__restrict__ loss, const int32_t *__restrict__ st,
                                  double *__restrict__ acc) {
  float l = *loss;
  acc[0] += l;
  if (!isfinite(l) && acc[1] < 0) {
    acc[1] = st[0];
    acc[2] = l;
  }
}

static __global__ void tick_k(int32_t *__restrict__ st, int batch, const float *__restrict__ lr_table,
                              float *__restrict__ lr) {
  st[0] += 1;
  st[1] += batch;
  if (lr_table && lr) *lr = lr_table[st[0]];
}

// One block; thread t owns rows t, t + KN_THREADS, ...; integer counts summed by a tree.
static __global__ void topk_count_k(int n, int classes, const float *__restrict__ logits,
                                    const int32_t *__restrict__ labels, int32_t *__restrict__ counts) {
  __shared__ int part1[KN_THREADS];
  __shared__ int part5[KN_THREADS];
  int c1 = 0, c5 = 0;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    const float *z = logits + (size_t)i * classes;
    float zl = z[labels[i]];
    int rank = 0;
    for (int k = 0; k < classes; k++) rank += z[k] > zl;
    c1 += rank == 0;
    c5 += rank < 5;
  }
  part1[threadIdx.x] = c1;
  part5[threadIdx.x] = c5;
  __syncthreads();
  for (int o = KN_THREADS / 2; o > 0; o /= 2) {
    if ((int)threadIdx.x < o) {
      part1[threadIdx.x] += part1[threadIdx.x + o];
      part5[threadIdx.x] += part5[threadIdx.x + o];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    counts[0] += part1[0];
    counts[1] += part5[0];
  }
}

static __global__ void sgd_dev_k(size_t count, float *__restrict__ w, const float *__restrict__ g,
                                 float *__restrict__ v, const float *__restrict__ lr_p,
                                 float momentum, float wd) {
  float lr = *lr_p;
  GRID_STRIDE(i, count) {
    float vi = momentum * v[i] + (g[i] + wd * w[i]);
    v[i] = vi;
    w[i] -= lr * vi;
  }
}

extern "C" {

cudaError_t kn_cuk_gather_u8(cudaStream_t s, int nb, int c, int h, int w, const uint8_t *images,
                             const int32_t *labels_all, const int32_t *perm, const int32_t *st,
                             const float *lut, const kn_aug *aug, float *x, int32_t *labels) {
  size_t count = (size_t)nb * c * h * w;
  if (count == 0) return cudaSuccess;
  gather_u8_k<<<blocks_for(count), KN_THREADS, 0, s>>>(
      count, c, h, w, images, labels_all, perm, st, lut, aug ? aug->pad : 0, aug ? aug->flip : 0,
      aug ? aug->seed : 0, x, labels);
  return cudaGetLastError();
}

cudaError_t kn_cuk_loss_acc(cudaStream_t s, const float *loss, const int32_t *st, double *acc) {
  loss_acc_k<<<1, 1, 0, s>>>(loss, st, acc);
  return cudaGetLastError();
}

cudaError_t kn_cuk_tick(cudaStream_t s, int32_t *st, int batch, const float *lr_table, float *lr) {
  tick_k<<<1, 1, 0, s>>>(st, batch, lr_table, lr);
  return cudaGetLastError();
}

cudaError_t kn_cuk_topk_count(cudaStream_t s, int n, int classes, const float *logits,
                              const int32_t *labels, int32_t *counts) {
  if (n <= 0) return cudaSuccess;
  topk_count_k<<<1, KN_THREADS, 0, s>>>(n, classes, logits, labels, counts);
  return cudaGetLastError();
}

cudaError_t kn_cuk_sgd_dev(cudaStream_t s, size_t count, float *w, const float *g, float *v,
                           const float *lr, float momentum, float wd) {
  if (count == 0) return cudaSuccess;
  sgd_dev_k<<<blocks_for(count), KN_THREADS, 0, s>>>(count, w, g, v, lr, momentum, wd);
  return cudaGetLastError();
}

} // extern "C"
