// The launchers of our own CUDA kernels (cuda_elementwise.cu, cuda_spatial.cu), callable from C.
// Each enqueues its kernel(s) on `s` and returns cudaGetLastError() (the launch check; callers
// wrap the call in KN_CU). Sizes of 0 launch nothing. Semantics are those of the seam entries in
// kernels/backend.h (backward ops accumulate with +=); all reductions use a fixed partition and
// order, so results are deterministic. Pointers are device memory.
#ifndef PNAS_KERNELS_CUDA_KERNELS_H
#define PNAS_KERNELS_CUDA_KERNELS_H

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

// ---- element-wise, layout and loss (cuda_elementwise.cu)
// Runs a one-thread kernel and waits for it: cudaErrorNoKernelImageForDevice (or another error)
// when this build's kernels cannot run on the current device (e.g. built for sm_90 only).
cudaError_t kn_cuk_selftest(cudaStream_t s);
cudaError_t kn_cuk_relu_fwd(cudaStream_t s, size_t count, const float *x, float *y);
cudaError_t kn_cuk_relu_bwd(cudaStream_t s, size_t count, const float *x, const float *dy,
                            float *dx);
cudaError_t kn_cuk_add(cudaStream_t s, size_t count, const float *a, const float *b, float *y);
cudaError_t kn_cuk_acc(cudaStream_t s, size_t count, const float *src, float *dst);
cudaError_t kn_cuk_l1_sign(cudaStream_t s, size_t count, const float *x, float lambda, float *g);
// x (n, c, hw) <-> channels [coff, coff + c) of y (n, cy, hw)
cudaError_t kn_cuk_concat_fwd(cudaStream_t s, int n, int c, size_t hw, int cy, int coff,
                              const float *x, float *y);
cudaError_t kn_cuk_concat_bwd(cudaStream_t s, int n, int c, size_t hw, int cy, int coff,
                              const float *dy, float *dx);
// a + b (n, c, hw) -> channels [coff, coff + c) of y (n, cy, hw)
cudaError_t kn_cuk_add_concat(cudaStream_t s, int n, int c, size_t hw, int cy, int coff,
                              const float *a, const float *b, float *y);
// x (planes, h, w) -> y (planes, (h+1)/2, (w+1)/2), y[i][j] = x[2i+off][2j+off] or 0
cudaError_t kn_cuk_sub_fwd(cudaStream_t s, size_t planes, int h, int w, int off, const float *x,
                           float *y);
cudaError_t kn_cuk_sub_bwd(cudaStream_t s, size_t planes, int h, int w, int off, const float *dy,
                           float *dx);
// x (planes, hw) -> y (planes): mean of each plane (double accumulation, in order)
cudaError_t kn_cuk_gap_fwd(cudaStream_t s, size_t planes, int hw, const float *x, float *y);
cudaError_t kn_cuk_gap_bwd(cudaStream_t s, size_t planes, int hw, const float *dy, float *dx);
// logits (n, classes), labels (n) -> loss (1) mean, dlogits (n, classes) overwritten
cudaError_t kn_cuk_xent(cudaStream_t s, int n, int classes, const float *logits,
                        const int32_t *labels, float *loss, float *dlogits);
// y (n, cout) = b (cout) broadcast over rows; db (cout) += column sums of dy (n, cout)
cudaError_t kn_cuk_bias_rows(cudaStream_t s, int n, int cout, const float *b, float *y);
cudaError_t kn_cuk_bias_grad(cudaStream_t s, int n, int cout, const float *dy, float *db);
// Explicit zero padding for cuDNN, which only pads symmetrically: x (planes, h, w) is copied into
// xp (planes, hp, wp) at row pt, column pl, zeros elsewhere; crop_acc: dx += that window of dxp.
cudaError_t kn_cuk_pad(cudaStream_t s, size_t planes, int h, int w, int hp, int wp, int pt, int pl,
                       const float *x, float *xp);
cudaError_t kn_cuk_crop_acc(cudaStream_t s, size_t planes, int h, int w, int hp, int wp, int pt,
                            int pl, const float *dxp, float *dx);

// ---- depthwise convolution and k x k pooling (cuda_spatial.cu); TF 'SAME' geometry of kn_conv,
// asymmetric padding included. Depthwise: square kernels of size 1, 3, 5 or 7 (the search
// space's); pooling: k = 3, 5 or 7, padding k/2 (kn_pool); other sizes return
// cudaErrorInvalidValue.
cudaError_t kn_cuk_dw_fwd(cudaStream_t s, const kn_conv *d, const float *x, const float *w,
                          float *y);
cudaError_t kn_cuk_dw_bwd_dx(cudaStream_t s, const kn_conv *d, const float *w, const float *dy,
                             float *dx);
// dw += sum over the batch; `partial` is device scratch of kn_cuk_dw_partial_floats(d) floats.
size_t kn_cuk_dw_partial_floats(const kn_conv *d);
cudaError_t kn_cuk_dw_bwd_dw(cudaStream_t s, const kn_conv *d, const float *x, const float *dy,
                             float *dw, float *partial);
cudaError_t kn_cuk_maxpool_fwd(cudaStream_t s, const kn_pool *p, const float *x, float *y);
cudaError_t kn_cuk_maxpool_bwd(cudaStream_t s, const kn_pool *p, const float *x, const float *dy,
                               float *dx);
cudaError_t kn_cuk_avgpool_fwd(cudaStream_t s, const kn_pool *p, const float *x, float *y);
cudaError_t kn_cuk_avgpool_bwd(cudaStream_t s, const kn_pool *p, const float *dy, float *dx);

// ---- the training loop's device-side state and the SGD step with a device learning rate
// (cuda_train.cu); semantics of kernels/backend.h (gather_u8, loss_acc, tick, topk_count, sgd)
cudaError_t kn_cuk_gather_u8(cudaStream_t s, int nb, int c, int h, int w, const uint8_t *images,
                             const int32_t *labels_all, const int32_t *perm, const int32_t *st,
                             const float *lut, const kn_aug *aug, float *x, int32_t *labels);
cudaError_t kn_cuk_loss_acc(cudaStream_t s, const float *loss, const int32_t *st, double *acc);
cudaError_t kn_cuk_tick(cudaStream_t s, int32_t *st, int batch, const float *lr_table, float *lr);
cudaError_t kn_cuk_topk_count(cudaStream_t s, int n, int classes, const float *logits,
                              const int32_t *labels, int32_t *counts);
cudaError_t kn_cuk_sgd_dev(cudaStream_t s, size_t count, float *w, const float *g, float *v,
                           const float *lr, float momentum, float wd);

#ifdef __cplusplus
}
#endif

#endif
