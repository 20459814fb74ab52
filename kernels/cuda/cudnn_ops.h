// The CUDA backend's use of cuDNN, behind one small C header: dense convolutions (algorithms
// found once per shape and cached in the device, reused by every later child) and batch norm.
// Every cuDNN call of the project lives in cudnn_ops.c, so the next API change touches one
// file. Entry points have the seam's signatures (kernels/backend.h) and take the device from
// ctx->dev (kn_cuda_ready).
#ifndef PNAS_KERNELS_CUDNN_OPS_H
#define PNAS_KERNELS_CUDNN_OPS_H

#include <stddef.h>

#include "kernels/backend.h"

// Create / destroy the handle, bound to d->stream; 0 ok, -1 with err.
int kn_dnn_open(kn_device *d, char *err, size_t errlen);
void kn_dnn_close(kn_device *d);
size_t kn_dnn_version(void);  // cudnnGetVersion(): no device needed
int kn_dnn_cached_shapes(const kn_device *d); // convolution shapes planned so far

void kn_dnn_conv_fwd(kn_ctx *, const kn_conv *, const float *x, const float *w, float *y);
void kn_dnn_conv_bwd(kn_ctx *, const kn_conv *, const float *x, const float *w, const float *dy,
                     float *dx, float *dw);
void kn_dnn_bn_fwd_train(kn_ctx *, kn_shape s, const float *x, const float *gamma,
                         const float *beta, float *y, float *mean, float *invstd, float *run_mean,
                         float *run_var);
void kn_dnn_bn_fwd_eval(kn_ctx *, kn_shape s, const float *x, const float *gamma,
                        const float *beta, const float *run_mean, const float *run_var, float *y);
void kn_dnn_bn_bwd(kn_ctx *, kn_shape s, const float *x, const float *gamma, const float *mean,
                   const float *invstd, const float *dy, float *dx, float *dgamma, float *dbeta);

#endif
