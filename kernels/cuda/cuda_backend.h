// The CUDA backend behind the seam (kernels/backend.h) and the device probe, as seen from C.
// This header includes no CUDA header, so code above the seam may use it; it exists only in a
// build with PNAS_HAVE_CUDA. Everything here runs on a machine without a GPU or a driver: the
// probe then reports 0 devices with the runtime's reason, and dev_open fails with it.
#ifndef PNAS_KERNELS_CUDA_BACKEND_H
#define PNAS_KERNELS_CUDA_BACKEND_H

#include <stddef.h>

#include "kernels/backend.h"

typedef struct {
  int devices;             // usable CUDA devices; 0 when there is no driver or no GPU
  char why[200];           // devices == 0: why (the runtime's message)
  // the current device (0 unless cudaSetDevice chose another), when devices > 0
  int device;
  char name[256];
  int cc_major, cc_minor;  // compute capability
  size_t mem_total, mem_free;
  int sm_count;
  // versions as the libraries encode them (runtime/driver 13000 = 13.0; cuDNN 91900 = 9.19.0;
  // cuBLAS 130000 = 13.0.0); the library versions are known without a device
  int runtime_version, driver_version;
  size_t cudnn_version;
  int cublas_version;
} kn_cuda_info;

// Fills info and returns info->devices. Never aborts: a missing driver, a driver too old for
// this runtime or no device give 0 with info->why.
int kn_cuda_probe(kn_cuda_info *info);

// The "cuda" backend (the current device, normally 0). Its dev_open fails cleanly when kn_cuda_probe finds no device.
// Numerics: fp32 throughout; TF32 tensor cores are OFF unless PNAS_CUDA_TF32=1 is set in the
// environment when the device is opened (then convolutions may use TF32, as PyTorch does by
// default). cuDNN algorithms are chosen by cudnnFind once per shape and cached in the device,
// restricted to deterministic ones: a run is repeatable on one GPU within a process, but a
// different choice in another process may change the last bits.
const kn_backend *kn_backend_cuda(void);

#endif
