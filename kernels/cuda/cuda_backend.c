// The "cuda" backend table: device memory and transfers on the device's stream, and every op of
// the seam routed to cuDNN (dense conv, batch norm: cudnn_ops.c), cuBLAS (FC: cublas_ops.c) or
// our kernels (cuda_elementwise.cu, cuda_spatial.cu). Every call is checked (KN_CU family); an
// error marks the ctx failed with its reason and later ops of that ctx do nothing.
#include <stdlib.h>
#include <string.h>

#include "kernels/cuda/cublas_ops.h"
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_common.h"
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/cudnn_ops.h"

// ------------------------------------------------------------------ memory
// NULL when out of device memory (the caller reports it, e.g. net_create); other errors also
// mark the ctx failed.
static void *cu_alloc(kn_ctx *ctx, size_t bytes) {
  if (!kn_cuda_ready(ctx)) return NULL;
  void *p = NULL;
  cudaError_t e = cudaMalloc(&p, bytes ? bytes : 256);
  if (e == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    return NULL;
  }
  if (kn_cuda_rt(ctx, NULL, 0, e, "cudaMalloc", __FILE__, __LINE__)) return NULL;
  return p;
}

static void cu_free(kn_ctx *ctx, void *p) {
  if (!p) return;
  cudaError_t e = cudaFree(p);
  if (!ctx->failed) kn_cuda_rt(ctx, NULL, 0, e, "cudaFree", __FILE__, __LINE__);
  else (void)cudaGetLastError();
}

// Pageable host memory: cudaMemcpyAsync returns once the source is staged, so the caller may
// reuse its buffer at once; the copy is ordered with the kernels on the stream.
static void cu_upload(kn_ctx *ctx, void *dst, const void *src_host, size_t bytes) {
  kn_device *d = kn_cuda_ready(ctx);
  if (d && bytes)
    KN_CU(ctx, cudaMemcpyAsync(dst, src_host, bytes, cudaMemcpyHostToDevice, d->stream));
}

// Waits for the stream. A failed ctx fills dst with NaN bytes rather than leaving stale data.
static void cu_download(kn_ctx *ctx, void *dst_host, const void *src, size_t bytes) {
  kn_device *d = kn_cuda_ready(ctx);
  if (!bytes) return;
  if (!d || KN_CU(ctx, cudaMemcpyAsync(dst_host, src, bytes, cudaMemcpyDeviceToHost, d->stream)) ||
      KN_CU(ctx, cudaStreamSynchronize(d->stream)))
    memset(dst_host, 0xff, bytes);
}

static void cu_zero(kn_ctx *ctx, void *dst, size_t bytes) {
  kn_device *d = kn_cuda_ready(ctx);
  if (d && bytes) KN_CU(ctx, cudaMemsetAsync(dst, 0, bytes, d->stream));
}

// ------------------------------------------------------------------ our kernels
// RUN(ctx, launcher(S, ...)): S is the device's stream; the launch is checked.
#define RUN(ctx, launch)                                                                           \
  do {                                                                                             \
    kn_device *d_ = kn_cuda_ready(ctx);                                                            \
    if (d_) {                                                                                      \
      cudaStream_t S = d_->stream;                                                                 \
      KN_CU(ctx, launch);                                                                          \
    }                                                                                              \
  } while (0)

static void cu_dw_fwd(kn_ctx *ctx, const kn_conv *d, const float *x, const float *w, float *y) {
  RUN(ctx, kn_cuk_dw_fwd(S, d, x, w, y));
}

static void cu_dw_bwd(kn_ctx *ctx, const kn_conv *c, const float *x, const float *w,
                      const float *dy, float *dx, float *dw) {
  kn_device *d = kn_cuda_ready(ctx);
  if (!d) return;
  float *partial = kn_cuda_tmp(ctx, d, kn_cuk_dw_partial_floats(c) * sizeof(float) + 256);
  if (!partial || KN_CU(ctx, kn_cuk_dw_bwd_dw(d->stream, c, x, dy, dw, partial))) return;
  if (dx) KN_CU(ctx, kn_cuk_dw_bwd_dx(d->stream, c, w, dy, dx));
}

static void cu_maxpool_fwd(kn_ctx *ctx, const kn_pool *p, const float *x, float *y) {
  RUN(ctx, kn_cuk_maxpool_fwd(S, p, x, y));
}
static void cu_maxpool_bwd(kn_ctx *ctx, const kn_pool *p, const float *x, const float *dy,
                           float *dx) {
  RUN(ctx, kn_cuk_maxpool_bwd(S, p, x, dy, dx));
}
static void cu_avgpool_fwd(kn_ctx *ctx, const kn_pool *p, const float *x, float *y) {
  RUN(ctx, kn_cuk_avgpool_fwd(S, p, x, y));
}
static void cu_avgpool_bwd(kn_ctx *ctx, const kn_pool *p, const float *dy, float *dx) {
  RUN(ctx, kn_cuk_avgpool_bwd(S, p, dy, dx));
}
static void cu_relu_fwd(kn_ctx *ctx, size_t count, const float *x, float *y) {
  RUN(ctx, kn_cuk_relu_fwd(S, count, x, y));
}
static void cu_relu_bwd(kn_ctx *ctx, size_t count, const float *x, const float *dy, float *dx) {
  RUN(ctx, kn_cuk_relu_bwd(S, count, x, dy, dx));
}
static void cu_add_fwd(kn_ctx *ctx, size_t count, const float *a, const float *b, float *y) {
  RUN(ctx, kn_cuk_add(S, count, a, b, y));
}
static void cu_acc(kn_ctx *ctx, size_t count, const float *src, float *dst) {
  RUN(ctx, kn_cuk_acc(S, count, src, dst));
}
static void cu_l1_sign(kn_ctx *ctx, size_t count, const float *x, float lambda, float *g) {
  RUN(ctx, kn_cuk_l1_sign(S, count, x, lambda, g));
}
static void cu_concat_fwd(kn_ctx *ctx, kn_shape xs, int cy, int coff, const float *x, float *y) {
  RUN(ctx, kn_cuk_concat_fwd(S, xs.n, xs.c, (size_t)xs.h * xs.w, cy, coff, x, y));
}
static void cu_concat_bwd(kn_ctx *ctx, kn_shape xs, int cy, int coff, const float *dy, float *dx) {
  RUN(ctx, kn_cuk_concat_bwd(S, xs.n, xs.c, (size_t)xs.h * xs.w, cy, coff, dy, dx));
}
static void cu_add_concat(kn_ctx *ctx, kn_shape xs, int cy, int coff, const float *a,
                          const float *b, float *y) {
  RUN(ctx, kn_cuk_add_concat(S, xs.n, xs.c, (size_t)xs.h * xs.w, cy, coff, a, b, y));
}
static void cu_sub_fwd(kn_ctx *ctx, kn_shape xs, int off, const float *x, float *y) {
  RUN(ctx, kn_cuk_sub_fwd(S, (size_t)xs.n * xs.c, xs.h, xs.w, off, x, y));
}
static void cu_sub_bwd(kn_ctx *ctx, kn_shape xs, int off, const float *dy, float *dx) {
  RUN(ctx, kn_cuk_sub_bwd(S, (size_t)xs.n * xs.c, xs.h, xs.w, off, dy, dx));
}
static void cu_gap_fwd(kn_ctx *ctx, kn_shape xs, const float *x, float *y) {
  RUN(ctx, kn_cuk_gap_fwd(S, (size_t)xs.n * xs.c, xs.h * xs.w, x, y));
}
static void cu_gap_bwd(kn_ctx *ctx, kn_shape xs, const float *dy, float *dx) {
  RUN(ctx, kn_cuk_gap_bwd(S, (size_t)xs.n * xs.c, xs.h * xs.w, dy, dx));
}
static void cu_xent(kn_ctx *ctx, int n, int classes, const float *logits, const int32_t *labels,
                    float *loss, float *dlogits) {
  RUN(ctx, kn_cuk_xent(S, n, classes, logits, labels, loss, dlogits));
}
static void cu_sgd(kn_ctx *ctx, size_t count, float *w, const float *g, float *v, const float *lr,
                   float momentum, float wd) {
  RUN(ctx, kn_cuk_sgd_dev(S, count, w, g, v, lr, momentum, wd));
}
static void cu_gather_u8(kn_ctx *ctx, int nb, int c, int h, int w, const uint8_t *images,
                         const int32_t *labels_all, const int32_t *perm, const int32_t *st,
                         const float *lut, const kn_aug *aug, float *x, int32_t *labels) {
  RUN(ctx, kn_cuk_gather_u8(S, nb, c, h, w, images, labels_all, perm, st, lut, aug, x, labels));
}
static void cu_loss_acc(kn_ctx *ctx, const float *loss, const int32_t *st, double *acc) {
  RUN(ctx, kn_cuk_loss_acc(S, loss, st, acc));
}
static void cu_tick(kn_ctx *ctx, int32_t *st, int batch, const float *lr_table, float *lr) {
  RUN(ctx, kn_cuk_tick(S, st, batch, lr_table, lr));
}
static void cu_topk_count(kn_ctx *ctx, int n, int classes, const float *logits,
                          const int32_t *labels, int32_t *counts) {
  RUN(ctx, kn_cuk_topk_count(S, n, classes, logits, labels, counts));
}

static const kn_backend CUDA = {
    .name = "cuda",
    .alloc = cu_alloc,
    .free = cu_free,
    .upload = cu_upload,
    .download = cu_download,
    .zero = cu_zero,
    .conv_fwd = kn_dnn_conv_fwd,
    .conv_bwd = kn_dnn_conv_bwd,
    .dw_fwd = cu_dw_fwd,
    .dw_bwd = cu_dw_bwd,
    .maxpool_fwd = cu_maxpool_fwd,
    .maxpool_bwd = cu_maxpool_bwd,
    .avgpool_fwd = cu_avgpool_fwd,
    .avgpool_bwd = cu_avgpool_bwd,
    .bn_fwd_train = kn_dnn_bn_fwd_train,
    .bn_fwd_eval = kn_dnn_bn_fwd_eval,
    .bn_bwd = kn_dnn_bn_bwd,
    .relu_fwd = cu_relu_fwd,
    .relu_bwd = cu_relu_bwd,
    .add_fwd = cu_add_fwd,
    .acc = cu_acc,
    .l1_sign = cu_l1_sign,
    .concat_fwd = cu_concat_fwd,
    .concat_bwd = cu_concat_bwd,
    .add_concat = cu_add_concat,
    .sub_fwd = cu_sub_fwd,
    .sub_bwd = cu_sub_bwd,
    .gap_fwd = cu_gap_fwd,
    .gap_bwd = cu_gap_bwd,
    .fc_fwd = kn_blas_fc_fwd,
    .fc_bwd = kn_blas_fc_bwd,
    .xent = cu_xent,
    .sgd = cu_sgd,
    .gather_u8 = cu_gather_u8,
    .loss_acc = cu_loss_acc,
    .tick = cu_tick,
    .topk_count = cu_topk_count,
    .graph_begin = kn_cuda_graph_begin,
    .graph_end = kn_cuda_graph_end,
    .graph_launch = kn_cuda_graph_launch,
    .graph_free = kn_cuda_graph_free,
    .dev_open = kn_cuda_dev_open,
    .dev_close = kn_cuda_dev_close,
    .dev_name = kn_cuda_dev_name,
    .dev_mem = kn_cuda_dev_mem,
};

const kn_backend *kn_backend_cuda(void) { return &CUDA; }
