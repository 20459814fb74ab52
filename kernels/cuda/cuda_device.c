// The CUDA device: probe (usable GPU? name, memory, library versions - safe without a driver),
// open/close of the kn_device state (stream, cuDNN and cuBLAS handles, scratch). The error
// reporting and readiness check every CUDA file uses are in cuda_common.c. No kernels here.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cuda/cublas_ops.h"
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_common.h"
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/cudnn_ops.h"

int kn_cuda_probe(kn_cuda_info *info) {
  memset(info, 0, sizeof *info);
  info->cudnn_version = kn_dnn_version();
  info->cublas_version = kn_blas_version();
  // Both succeed without a GPU (driver version 0 when no driver is installed); a failure leaves 0.
  if (cudaRuntimeGetVersion(&info->runtime_version) != cudaSuccess) info->runtime_version = 0;
  if (cudaDriverGetVersion(&info->driver_version) != cudaSuccess) info->driver_version = 0;
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    if (info->driver_version == 0) // the runtime calls this "insufficient driver"
      snprintf(info->why, sizeof info->why, "no NVIDIA driver (libcuda.so.1 not found; %s)",
               cudaGetErrorName(e));
    else
      snprintf(info->why, sizeof info->why, "%s (%s; driver %d.%d, runtime %d.%d)",
               cudaGetErrorString(e), cudaGetErrorName(e), info->driver_version / 1000,
               info->driver_version % 1000 / 10, info->runtime_version / 1000,
               info->runtime_version % 1000 / 10);
    return 0;
  }
  if (n < 1) {
    snprintf(info->why, sizeof info->why, "no CUDA device");
    return 0;
  }
  // The current device: 0 unless the caller chose another (cudaSetDevice, e.g. an MPI worker).
  struct cudaDeviceProp p;
  int cur = 0;
  e = cudaGetDevice(&cur);
  if (e == cudaSuccess) e = cudaGetDeviceProperties(&p, cur);
  if (e == cudaSuccess) e = cudaMemGetInfo(&info->mem_free, &info->mem_total);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    snprintf(info->why, sizeof info->why, "device %d: %s (%s)", cur, cudaGetErrorString(e),
             cudaGetErrorName(e));
    return 0;
  }
  info->device = cur;
  snprintf(info->name, sizeof info->name, "%s", p.name);
  info->cc_major = p.major;
  info->cc_minor = p.minor;
  info->sm_count = p.multiProcessorCount;
  info->devices = n;
  return n;
}

void kn_cuda_dev_close(kn_device *d) {
  if (!d) return;
  kn_blas_close(d);
  kn_dnn_close(d);
  if (d->tmp) (void)KN_CU_ERR(NULL, 0, cudaFree(d->tmp));
  if (d->stream) (void)KN_CU_ERR(NULL, 0, cudaStreamDestroy(d->stream));
  free(d);
}

const char *kn_cuda_dev_name(const kn_device *d) { return d->name; }

int kn_cuda_dev_mem(kn_device *d, size_t *free_bytes, size_t *total_bytes) {
  int cur = -1;
  if (cudaGetDevice(&cur) != cudaSuccess || cur != d->id ||
      cudaMemGetInfo(free_bytes, total_bytes) != cudaSuccess) {
    (void)cudaGetLastError();
    return -1;
  }
  return 0;
}

// The current device (0 unless the process chose another with cudaSetDevice first).
int kn_cuda_dev_open(kn_device **out, char *msg, size_t msglen) {
  *out = NULL;
  kn_cuda_info info;
  if (kn_cuda_probe(&info) < 1) {
    snprintf(msg, msglen, "no usable GPU: %s", info.why);
    return -1;
  }
  kn_device *d = calloc(1, sizeof *d);
  if (!d) {
    snprintf(msg, msglen, "out of memory");
    return -1;
  }
  int cur = 0;
  if (KN_CU_ERR(msg, msglen, cudaGetDevice(&cur)) ||
      KN_CU_ERR(msg, msglen, cudaStreamCreateWithFlags(&d->stream, cudaStreamNonBlocking)) ||
      KN_CU_ERR(msg, msglen, kn_cuk_selftest(d->stream)) || kn_dnn_open(d, msg, msglen) ||
      kn_blas_open(d, msg, msglen)) {
    char why[256];
    snprintf(why, sizeof why, "%s", msg);
    snprintf(msg, msglen, "GPU %s (sm_%d%d) not usable: %s", info.name, info.cc_major,
             info.cc_minor, why);
    kn_cuda_dev_close(d);
    return -1;
  }
  d->id = cur;
  snprintf(d->name, sizeof d->name, "cuda:%d", cur);
  const char *tf = getenv("PNAS_CUDA_TF32");
  d->tf32 = tf && !strcmp(tf, "1");
  size_t dv = info.cudnn_version;
  snprintf(msg, msglen,
           "%s %s (sm_%d%d, %d SMs, %.1f GiB; driver %d.%d, runtime %d.%d, cuDNN %zu.%zu.%zu, "
           "cuBLAS %d.%d.%d; TF32 %s)",
           d->name, info.name, info.cc_major, info.cc_minor, info.sm_count,
           (double)info.mem_total / (1 << 30), info.driver_version / 1000,
           info.driver_version % 1000 / 10, info.runtime_version / 1000,
           info.runtime_version % 1000 / 10, dv / 10000, dv % 10000 / 100, dv % 100,
           info.cublas_version / 10000, info.cublas_version % 10000 / 100,
           info.cublas_version % 100, d->tf32 ? "on" : "off");
  *out = d;
  return 0;
}

