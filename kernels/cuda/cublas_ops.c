// Every cuBLAS call of the project (see cublas_ops.h): the handle and the fully connected
// layer as column-major SGEMMs on our row-major tensors. The bias and its gradient are our own
// kernels (cuda_elementwise.cu). Math mode CUBLAS_PEDANTIC_MATH: plain fp32, no TF32, so the
// head matches the CPU reference within float rounding.
#include "kernels/cuda/cublas_ops.h"

#include <cublas_v2.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels/cuda/cuda_common.h"
#include "kernels/cuda/cuda_kernels.h"

static const char *blas_msg(cublasStatus_t st) {
  switch (st) {
  case CUBLAS_STATUS_NOT_INITIALIZED: return "not initialized";
  case CUBLAS_STATUS_ALLOC_FAILED: return "allocation failed";
  case CUBLAS_STATUS_INVALID_VALUE: return "invalid value";
  case CUBLAS_STATUS_ARCH_MISMATCH: return "architecture mismatch";
  case CUBLAS_STATUS_EXECUTION_FAILED: return "execution failed";
  case CUBLAS_STATUS_INTERNAL_ERROR: return "internal error";
  case CUBLAS_STATUS_NOT_SUPPORTED: return "not supported";
  default: return "error";
  }
}

static int kn_blas_check(kn_ctx *ctx, char *err, size_t errlen, cublasStatus_t st,
                         const char *call, const char *file, int line) {
  if (st == CUBLAS_STATUS_SUCCESS) return 0;
  (void)cudaGetLastError();
  return kn_cuda_report(ctx, err, errlen, st == CUBLAS_STATUS_ALLOC_FAILED, "cuBLAS", call, file,
                        line, blas_msg(st));
}
// The cuBLAS member of the KN_CU family (cuda_common.h).
#define KN_BLAS(ctx, call) kn_blas_check((ctx), NULL, 0, (call), #call, __FILE__, __LINE__)
#define KN_BLAS_ERR(err, errlen, call) kn_blas_check(NULL, (err), (errlen), (call), #call, __FILE__, __LINE__)

struct kn_blas {
  cublasHandle_t h;
  void *ws; // our workspace: no allocation by cuBLAS inside a captured graph
};

#define KN_BLAS_WS_BYTES ((size_t)4 << 20)

int kn_blas_version(void) {
  int ma = 0, mi = 0, pa = 0;
  if (cublasGetProperty(MAJOR_VERSION, &ma) != CUBLAS_STATUS_SUCCESS ||
      cublasGetProperty(MINOR_VERSION, &mi) != CUBLAS_STATUS_SUCCESS ||
      cublasGetProperty(PATCH_LEVEL, &pa) != CUBLAS_STATUS_SUCCESS)
    return 0;
  return ma * 10000 + mi * 100 + pa;
}

int kn_blas_open(kn_device *d, char *err, size_t errlen) {
  struct kn_blas *b = calloc(1, sizeof *b);
  if (!b) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  d->blas = b;
  if (KN_BLAS_ERR(err, errlen, cublasCreate(&b->h))) {
    b->h = NULL;
    return -1;
  }
  // cublasSetStream resets the workspace to cuBLAS's pool, so the workspace is set after it.
  return KN_BLAS_ERR(err, errlen, cublasSetStream(b->h, d->stream)) ||
                 KN_CU_ERR(err, errlen, cudaMalloc(&b->ws, KN_BLAS_WS_BYTES)) ||
                 KN_BLAS_ERR(err, errlen, cublasSetWorkspace(b->h, b->ws, KN_BLAS_WS_BYTES)) ||
                 KN_BLAS_ERR(err, errlen, cublasSetMathMode(b->h, CUBLAS_PEDANTIC_MATH))
             ? -1
             : 0;
}

void kn_blas_close(kn_device *d) {
  if (!d->blas) return;
  if (d->blas->h) (void)KN_BLAS_ERR(NULL, 0, cublasDestroy(d->blas->h));
  if (d->blas->ws) (void)KN_CU_ERR(NULL, 0, cudaFree(d->blas->ws));
  free(d->blas);
  d->blas = NULL;
}

static const float ONE = 1.0f;

// Row-major y (n,cout) is column-major Y (cout x n); w (cout,cin) is column-major W (cin x cout);
// x (n,cin) is X (cin x n). Then Y = W^T X, dX += W dY, dW += X dY^T.
void kn_blas_fc_fwd(kn_ctx *ctx, int n, int cin, int cout, const float *x /* (n,cin) */,
                    const float *w /* (cout,cin) */, const float *b /* (cout) */,
                    float *y /* (n,cout) */) {
  kn_device *d = kn_cuda_ready(ctx);
  if (!d || n < 1 || cout < 1) return;
  if (KN_CU(ctx, kn_cuk_bias_rows(d->stream, n, cout, b, y))) return;
  KN_BLAS(ctx, cublasSgemm(d->blas->h, CUBLAS_OP_T, CUBLAS_OP_N, cout, n, cin, &ONE, w, cin, x,
                           cin, &ONE, y, cout));
}

void kn_blas_fc_bwd(kn_ctx *ctx, int n, int cin, int cout, const float *x, const float *w,
                    const float *dy /* (n,cout) */, float *dx /* (n,cin) += or NULL */,
                    float *dw /* (cout,cin) += */, float *db /* (cout) += */) {
  kn_device *d = kn_cuda_ready(ctx);
  if (!d || n < 1 || cout < 1) return;
  if (KN_CU(ctx, kn_cuk_bias_grad(d->stream, n, cout, dy, db)) ||
      KN_BLAS(ctx, cublasSgemm(d->blas->h, CUBLAS_OP_N, CUBLAS_OP_T, cin, cout, n, &ONE, x, cin,
                               dy, cout, &ONE, dw, cin)))
    return;
  if (dx)
    KN_BLAS(ctx, cublasSgemm(d->blas->h, CUBLAS_OP_N, CUBLAS_OP_N, cin, n, cout, &ONE, w, cin, dy,
                             cout, &ONE, dx, cin));
}
