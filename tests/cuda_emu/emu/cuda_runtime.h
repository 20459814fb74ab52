// cuda-emu, C++ part: what nvcc provides to a .cu file (it force-includes cuda_runtime.h), for
// g++. The generated copies of kernels/cuda/*.cu (tests/cuda_emu/gen_emu.cmake) include this first.
//  - Qualifiers are empty, except __shared__ = static: the blocks of a grid run one after
//    another and all threads of a block share the one static.
//  - threadIdx/blockIdx/blockDim/gridDim are globals that the scheduler sets before resuming a
//    thread: the threads of a block are fibers (ucontext) of the launching host thread, so
//    __syncthreads() and the warp intrinsics are real barriers over the LIVE threads (a thread
//    that returned no longer counts); a barrier nobody can pass is reported as a deadlock.
//  - A launch `k<<<grid, block, shmem, stream>>>(args)` is rewritten by gen_emu.cmake into
//    `k * kn_emu_cfg(grid, block, shmem, stream)(args)`: the arguments are evaluated once and
//    converted to the kernel's parameter types, then every thread calls k with its own copies.
#ifndef KN_EMU_CUDA_RUNTIME_H
#define KN_EMU_CUDA_RUNTIME_H

#include "cuda_runtime_api.h"

#ifdef __cplusplus
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <tuple>
#include <type_traits>
#include <utility>

#define __global__
#define __device__
#define __host__
#define __constant__
#define __shared__ static
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)

template <class T> static inline cudaError_t cudaMalloc(T **p, size_t bytes) {
  return kn_emu_malloc((void **)p, bytes);
}

// ---- built-in variables (set by the scheduler for the running thread)
inline uint3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;
constexpr int warpSize = 32;

// ---- barriers and warp intrinsics (kn_emu_runtime.cpp)
void kn_emu_syncthreads();
void kn_emu_syncwarp(unsigned mask);
enum { KN_EMU_SHFL_IDX, KN_EMU_SHFL_UP, KN_EMU_SHFL_DOWN, KN_EMU_SHFL_XOR, KN_EMU_BALLOT };
// Every live lane named in the warp exchange writes `bits`; barrier; each reads its source lane.
unsigned long long kn_emu_shfl(unsigned mask, unsigned long long bits, int mode, int arg,
                               int width);

inline void __syncthreads() { kn_emu_syncthreads(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { kn_emu_syncwarp(mask); }

template <class T> inline T kn_emu_shfl_t(unsigned mask, T v, int mode, int arg, int width) {
  static_assert(std::is_trivially_copyable<T>::value && sizeof(T) <= 8,
                "cuda-emu: shuffles of types up to 8 bytes");
  unsigned long long b = 0;
  memcpy(&b, &v, sizeof v);
  b = kn_emu_shfl(mask, b, mode, arg, width);
  T r;
  memcpy(&r, &b, sizeof r);
  return r;
}
template <class T> inline T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
  return kn_emu_shfl_t(mask, v, KN_EMU_SHFL_IDX, src, width);
}
template <class T> inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  return kn_emu_shfl_t(mask, v, KN_EMU_SHFL_UP, (int)delta, width);
}
template <class T> inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  return kn_emu_shfl_t(mask, v, KN_EMU_SHFL_DOWN, (int)delta, width);
}
template <class T> inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  return kn_emu_shfl_t(mask, v, KN_EMU_SHFL_XOR, lane_mask, width);
}
inline unsigned __ballot_sync(unsigned mask, int pred) {
  return (unsigned)kn_emu_shfl(mask, pred ? 1u : 0u, KN_EMU_BALLOT, 0, 32);
}
inline int __any_sync(unsigned mask, int pred) { return __ballot_sync(mask, pred) != 0; }
inline int __all_sync(unsigned mask, int pred) {
  return __ballot_sync(mask, pred) == __ballot_sync(mask, 1);
}

// Atomics: threads only switch at barriers and shuffles, so a plain read-modify-write is atomic.
template <class T> struct kn_emu_same { typedef T type; };
template <class T> inline T atomicAdd(T *p, typename kn_emu_same<T>::type v) {
  T o = *p;
  *p = o + v;
  return o;
}
template <class T> inline T atomicSub(T *p, typename kn_emu_same<T>::type v) {
  T o = *p;
  *p = o - v;
  return o;
}
template <class T> inline T atomicMax(T *p, typename kn_emu_same<T>::type v) {
  T o = *p;
  *p = o < v ? v : o;
  return o;
}
template <class T> inline T atomicMin(T *p, typename kn_emu_same<T>::type v) {
  T o = *p;
  *p = v < o ? v : o;
  return o;
}
template <class T> inline T atomicExch(T *p, typename kn_emu_same<T>::type v) {
  T o = *p;
  *p = v;
  return o;
}
template <class T>
inline T atomicCAS(T *p, typename kn_emu_same<T>::type cmp, typename kn_emu_same<T>::type v) {
  T o = *p;
  if (o == cmp) *p = v;
  return o;
}
template <class T> inline T __ldg(const T *p) { return *p; }

// ---- device math that is not in <math.h>
#define KN_EMU_MINMAX(T)                                                                           \
  inline T min(T a, T b) { return b < a ? b : a; }                                                 \
  inline T max(T a, T b) { return a < b ? b : a; }
KN_EMU_MINMAX(int)
KN_EMU_MINMAX(unsigned)
KN_EMU_MINMAX(long)
KN_EMU_MINMAX(unsigned long)
KN_EMU_MINMAX(long long)
KN_EMU_MINMAX(unsigned long long)
#undef KN_EMU_MINMAX
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }

// ---- launches
struct kn_emu_launch_cfg {
  dim3 grid, block;
  size_t shmem;
  cudaStream_t stream;
  const char *file; // the launch site (the .cu's own lines: gen_emu.cmake emits #line)
  int line;
};
// Runs body(arg) once per thread of the grid; errors go to cudaGetLastError().
void kn_emu_run(const kn_emu_launch_cfg *cfg, void (*body)(void *), void *arg);

template <class... A> struct kn_emu_bound {
  kn_emu_launch_cfg cfg;
  std::tuple<A...> args;
};
struct kn_emu_cfg_t {
  kn_emu_launch_cfg cfg;
  template <class... A>
  kn_emu_bound<typename std::decay<A>::type...> operator()(A &&...a) const {
    return {cfg, std::tuple<typename std::decay<A>::type...>(std::forward<A>(a)...)};
  }
};
inline kn_emu_cfg_t kn_emu_cfg(dim3 grid, dim3 block, size_t shmem = 0, cudaStream_t stream = 0,
                               const char *file = __builtin_FILE(), int line = __builtin_LINE()) {
  return {{grid, block, shmem, stream, file, line}};
}
template <class... P, class... A>
inline void operator*(void (*kernel)(P...), kn_emu_bound<A...> &&b) {
  static_assert(sizeof...(P) == sizeof...(A),
                "cuda-emu: kernel launched with the wrong number of arguments");
  // Evaluated once and converted to the parameter types, as a launch does; each thread then
  // gets its own copies (by-value parameters).
  std::tuple<P...> params = std::apply([](A &...a) { return std::tuple<P...>(a...); }, b.args);
  auto body = [&] { std::apply(kernel, params); };
  kn_emu_run(&b.cfg, [](void *p) { (*static_cast<decltype(body) *>(p))(); }, &body);
}

#endif // __cplusplus
#endif
