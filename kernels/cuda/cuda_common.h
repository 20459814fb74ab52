// Internal to the CUDA backend (C host files and .cu files): the device state behind kn_device
// and the one family of checking macros every CUDA, cuDNN and cuBLAS call goes through.
// A failed call prints the call, file and line once, marks the kn_ctx failed with that reason
// (the ops of a failed ctx are no-ops) and never aborts; out of memory is just a failure.
#ifndef PNAS_KERNELS_CUDA_COMMON_H
#define PNAS_KERNELS_CUDA_COMMON_H

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

struct kn_dnn;  // cudnn_ops.c: handle, algorithm cache, workspace
struct kn_blas; // cublas_ops.c: handle

struct kn_device {
  int id;                  // CUDA device ordinal
  char name[16];           // "cuda:0"
  cudaStream_t stream;     // every kernel, copy and library call of the backend runs on it
  struct kn_dnn *dnn;
  struct kn_blas *blas;
  void *tmp;               // growable device scratch: padded copies, depthwise partial sums
  size_t tmp_bytes;
  int tf32;                // 1: convolutions may use TF32 tensor cores (PNAS_CUDA_TF32=1)
  uint64_t gen;            // bumped whenever scratch or the cuDNN workspace moves: a CUDA graph
                           // captured before holds stale pointers (cuda_graph.c)
  int capturing;           // a graph capture is in progress on the stream (cuda_graph.c)
  int broken;              // a sticky error happened: every later op fails with broken_why
  char broken_why[160];
};

// Prints "pnas: <lib> error: <call> at <file>:<line>: <msg>" on stderr and records the reason in
// ctx (failed = 1, reason) and/or err. A non-OOM error that left the device unusable (sticky)
// marks ctx->dev broken. Always returns -1.
int kn_cuda_report(kn_ctx *ctx, char *err, size_t errlen, int oom, const char *lib,
                   const char *call, const char *file, int line, const char *msg);

static inline int kn_cuda_rt(kn_ctx *ctx, char *err, size_t errlen, cudaError_t e,
                             const char *call, const char *file, int line) {
  if (e == cudaSuccess) return 0;
  (void)cudaGetLastError(); // clear a non-sticky error so the next launch check is not confused
  return kn_cuda_report(ctx, err, errlen, e == cudaErrorMemoryAllocation, "CUDA", call, file,
                        line, cudaGetErrorString(e));
}

// if (KN_CU(ctx, cudaMemsetAsync(...))) return;  - also for launchers (kernels/cuda/cuda_kernels.h),
// which return cudaGetLastError() right after the launch.
#define KN_CU(ctx, call) kn_cuda_rt((ctx), NULL, 0, (call), #call, __FILE__, __LINE__)
// The same outside an op (device open): the reason goes to err.
#define KN_CU_ERR(err, errlen, call) kn_cuda_rt(NULL, (err), (errlen), (call), #call, __FILE__, __LINE__)
// KN_DNN (cudnn_ops.c) and KN_BLAS (cublas_ops.c) are the library members of this family.

// The backend's dev_open / dev_close / dev_name (cuda_device.c; see kernels/backend.h).
int kn_cuda_dev_open(kn_device **out, char *msg, size_t msglen);
void kn_cuda_dev_close(kn_device *d);
const char *kn_cuda_dev_name(const kn_device *d);
int kn_cuda_dev_mem(kn_device *d, size_t *free_bytes, size_t *total_bytes);

// CUDA graphs of the training step (cuda_graph.c; the seam's graph_* entries).
int kn_cuda_graph_begin(kn_ctx *ctx);
int kn_cuda_graph_end(kn_ctx *ctx, void **graph);
int kn_cuda_graph_launch(kn_ctx *ctx, void *graph);
void kn_cuda_graph_free(kn_ctx *ctx, void *graph);

// The device of a ctx that may still run ops, or NULL (ctx failed, no device lent, device broken:
// then ctx is marked failed with the reason).
kn_device *kn_cuda_ready(kn_ctx *ctx);
// Device scratch of at least `bytes` (grown, never shrunk, 256-byte aligned); NULL (ctx failed)
// when out of memory. Contents are undefined; one op at a time uses it (stream order).
void *kn_cuda_tmp(kn_ctx *ctx, kn_device *d, size_t bytes);

#ifdef __cplusplus
}
#endif

#endif
