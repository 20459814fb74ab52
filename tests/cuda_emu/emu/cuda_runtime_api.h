// cuda-emu: a host-only stand-in for the CUDA runtime API, so that our kernels
// (kernels/cuda/*.cu) can be compiled by g++ and RUN on the CPU (tests/cuda_emu). Only this folder is
// on the include path of the emulated build; the CUDA toolkit is never used.
//
// C part (this file): the types and runtime calls the launchers and the tests use. "Device"
// memory is host memory from malloc (exact size under ASan, so out-of-bounds kernel accesses are
// reported; otherwise with guard bytes that kn_emu_check_guards() verifies). Launches run
// synchronously, so every stream call is a plain call. The functions are static inline wrappers
// of kn_emu_* symbols: nothing here can clash with a real libcudart in the same link.
// C++ part (kernel syntax, launches, intrinsics): cuda_runtime.h.
#ifndef KN_EMU_CUDA_RUNTIME_API_H
#define KN_EMU_CUDA_RUNTIME_API_H

#include <stddef.h>

#define KN_CUDA_EMU 1

typedef enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInitializationError = 3,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorNoKernelImageForDevice = 209,
  cudaErrorNotReady = 600,
  cudaErrorLaunchFailure = 719,
  cudaErrorUnknown = 999
} cudaError_t;

typedef struct CUstream_st *cudaStream_t;

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4
};

#ifdef __cplusplus
struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
};
extern "C" {
#else
typedef struct uint3 {
  unsigned x, y, z;
} uint3;
typedef struct dim3 {
  unsigned x, y, z;
} dim3;
#endif

// ---- the emulator's runtime (tests/cuda_emu/kn_emu_runtime.cpp)
cudaError_t kn_emu_malloc(void **p, size_t bytes);
cudaError_t kn_emu_free(void *p);
cudaError_t kn_emu_memcpy(void *dst, const void *src, size_t bytes, enum cudaMemcpyKind kind);
cudaError_t kn_emu_memset(void *dst, int value, size_t bytes);
cudaError_t kn_emu_get_last_error(int clear); // clear: cudaGetLastError, else cudaPeekAtLastError
cudaError_t kn_emu_synchronize(void);         // the sticky error of a failed kernel, else success
const char *kn_emu_error_name(cudaError_t e);
const char *kn_emu_error_string(cudaError_t e);
// Test hooks (not CUDA): run the threads of a block (and the blocks of a grid) in reverse order;
// count and report corrupted guard bytes of every live allocation (0: none; always 0 under
// ASan, which checks exactly); the last kernel failure's message ("" when none); launch counts.
void kn_emu_set_reverse(int reverse);
int kn_emu_check_guards(void);
const char *kn_emu_last_message(void);
void kn_emu_reset(void); // clears a sticky kernel error (cudaDeviceReset)
void kn_emu_stats(unsigned long long *launches, unsigned long long *blocks,
                  unsigned long long *threads, unsigned long long *switches);

#ifdef __cplusplus
}
#endif

static inline cudaError_t cudaMalloc(void **p, size_t bytes) { return kn_emu_malloc(p, bytes); }
static inline cudaError_t cudaFree(void *p) { return kn_emu_free(p); }
static inline cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes,
                                     enum cudaMemcpyKind kind) {
  return kn_emu_memcpy(dst, src, bytes, kind);
}
static inline cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes,
                                          enum cudaMemcpyKind kind, cudaStream_t s) {
  (void)s;
  return kn_emu_memcpy(dst, src, bytes, kind);
}
static inline cudaError_t cudaMemset(void *dst, int value, size_t bytes) {
  return kn_emu_memset(dst, value, bytes);
}
static inline cudaError_t cudaMemsetAsync(void *dst, int value, size_t bytes, cudaStream_t s) {
  (void)s;
  return kn_emu_memset(dst, value, bytes);
}
static inline cudaError_t cudaGetLastError(void) { return kn_emu_get_last_error(1); }
static inline cudaError_t cudaPeekAtLastError(void) { return kn_emu_get_last_error(0); }
static inline cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  (void)s;
  return kn_emu_synchronize();
}
static inline cudaError_t cudaDeviceSynchronize(void) { return kn_emu_synchronize(); }
static inline const char *cudaGetErrorName(cudaError_t e) { return kn_emu_error_name(e); }
static inline const char *cudaGetErrorString(cudaError_t e) { return kn_emu_error_string(e); }

#endif
