// The CUDA backend's use of cuBLAS, behind one small C header: the fully connected layer's
// GEMMs. Every cuBLAS call of the project lives in cublas_ops.c. Entry points have the seam's
// signatures (kernels/backend.h) and take the device from ctx->dev.
#ifndef PNAS_KERNELS_CUBLAS_OPS_H
#define PNAS_KERNELS_CUBLAS_OPS_H

#include <stddef.h>

#include "kernels/backend.h"

// Create / destroy the handle, bound to d->stream, pedantic fp32 math (no TF32); 0 / -1 with err.
int kn_blas_open(kn_device *d, char *err, size_t errlen);
void kn_blas_close(kn_device *d);
int kn_blas_version(void); // cublasGetProperty: no device needed (130000 = 13.0.0)

void kn_blas_fc_fwd(kn_ctx *, int n, int cin, int cout, const float *x, const float *w,
                    const float *b, float *y);
void kn_blas_fc_bwd(kn_ctx *, int n, int cin, int cout, const float *x, const float *w,
                    const float *dy, float *dx, float *dw, float *db);

#endif
