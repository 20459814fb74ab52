// cuda-emu runtime: runs the kernels of kernels/cuda/*.cu on the CPU with the CUDA execution model.
//  - The blocks of a grid run one after another (x fastest; reversed by kn_emu_set_reverse).
//  - The threads of a block are fibers of the launching host thread (own stacks; an assembly
//    context switch on x86-64, ucontext elsewhere). A fiber runs until it returns or reaches
//    a barrier (__syncthreads, a warp shuffle/vote, __syncwarp), so no thread ever runs past
//    a barrier that another live thread has not reached: the barriers are real. The scheduler
//    resumes the runnable fibers in thread order (or reversed), round after round.
//  - A barrier counts LIVE threads only (a thread that returned early never blocks one). A warp
//    exchange waits for every live lane named by the masks of the lanes waiting in it; a lane
//    that reads an exited or non-participating lane is an error. No runnable fiber while
//    threads are still waiting is reported as a deadlock (divergent barrier).
//  - Kernel errors are sticky, as on a device: cudaGetLastError / cudaStreamSynchronize return
//    cudaErrorLaunchFailure (bad configurations: cudaErrorInvalidConfiguration, not sticky).
#include "cuda_runtime.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <map>
#include <mutex>

#if defined(__SANITIZE_ADDRESS__)
#define KN_EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KN_EMU_ASAN 1
#endif
#endif
#ifndef KN_EMU_ASAN
#define KN_EMU_ASAN 0
#endif

#if KN_EMU_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define KN_START_SWITCH(save, bottom, size) __sanitizer_start_switch_fiber(save, bottom, size)
#define KN_FINISH_SWITCH(save, bottom, size) __sanitizer_finish_switch_fiber(save, bottom, size)
#define KN_UNPOISON(p, n) __asan_unpoison_memory_region(p, n)
#else
#define KN_START_SWITCH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define KN_FINISH_SWITCH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define KN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

// Context switch. x86-64: a few instructions that save the callee-saved registers and the FP
// control words on the old stack and switch stacks (no system call; glibc's swapcontext makes
// one per switch to save the signal mask, which would make the emulation ~20x slower).
// Elsewhere, or with -DKN_EMU_UCONTEXT: makecontext/swapcontext.
#if defined(__x86_64__) && !defined(KN_EMU_UCONTEXT)
#define KN_EMU_ASM_SWITCH 1
// void kn_emu_ctx_switch(void **save_sp, void *to_sp)
__asm__(".text\n"
        ".p2align 4\n"
        ".type kn_emu_ctx_switch,@function\n"
        "kn_emu_ctx_switch:\n"
        "  pushq %rbp\n"
        "  pushq %rbx\n"
        "  pushq %r12\n"
        "  pushq %r13\n"
        "  pushq %r14\n"
        "  pushq %r15\n"
        "  subq $8, %rsp\n"
        "  stmxcsr (%rsp)\n"
        "  fnstcw 4(%rsp)\n"
        "  movq %rsp, (%rdi)\n"
        "  movq %rsi, %rsp\n"
        "  ldmxcsr (%rsp)\n"
        "  fldcw 4(%rsp)\n"
        "  addq $8, %rsp\n"
        "  popq %r15\n"
        "  popq %r14\n"
        "  popq %r13\n"
        "  popq %r12\n"
        "  popq %rbx\n"
        "  popq %rbp\n"
        "  ret\n"
        ".size kn_emu_ctx_switch, .-kn_emu_ctx_switch\n");
extern "C" void kn_emu_ctx_switch(void **save_sp, void *to_sp);
#else
#define KN_EMU_ASM_SWITCH 0
#endif

namespace {

constexpr int kMaxThreads = 1024, kWarp = 32;
constexpr size_t kStackBytes = (KN_EMU_ASAN ? 128 : 64) << 10;
constexpr size_t kAlign = 256; // cudaMalloc's alignment
constexpr size_t kGuard = 64;  // guard bytes after (and before) an allocation, not under ASan
constexpr unsigned char kGuardByte = 0xA5;

enum State { RUNNABLE, AT_BLOCK, AT_WARP, DONE };

struct Fiber {
#if KN_EMU_ASM_SWITCH
  void *sp; // saved stack pointer while suspended
#else
  ucontext_t ctx;
#endif
  char *stack;
  State state;
  uint3 tid;
  void *fake; // ASan's fake stack while suspended
};

// One warp's exchange: the lanes waiting in it, their requests, and the results computed when
// it releases (every participant's value is present then).
struct Warp {
  unsigned live, arrived, want;
  int mode[kWarp], arg[kWarp], width[kWarp], bad_src[kWarp];
  unsigned mask[kWarp];
  unsigned long long val[kWarp], res[kWarp];
};

struct Emu {
  std::mutex launch_mu, mem_mu;
#if KN_EMU_ASM_SWITCH
  void *sched_sp;
#else
  ucontext_t sched;
#endif
  const void *sched_bottom;
  size_t sched_size;
  Fiber fib[kMaxThreads];
  Warp warp[kMaxThreads / kWarp];
  int n, live, arrived, cur;
  bool reverse, in_kernel, block_failed;
  int reports; // messages printed in this launch
  void (*body)(void *);
  void *arg;
  const kn_emu_launch_cfg *cfg;
  cudaError_t last, sticky;
  char msg[1024];
  unsigned long long launches, blocks, threads, switches;
  std::map<uintptr_t, size_t> allocs; // user pointer -> bytes
};
Emu E;

void report(cudaError_t e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report(cudaError_t e, const char *fmt, ...) {
  char what[640];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  char line[1024];
  if (E.in_kernel)
    snprintf(line, sizeof line, "%s:%d: kernel, block (%u,%u,%u) thread (%u,%u,%u): %s",
             E.cfg->file, E.cfg->line, blockIdx.x, blockIdx.y, blockIdx.z, threadIdx.x,
             threadIdx.y, threadIdx.z, what);
  else
    snprintf(line, sizeof line, "%s", what);
  if (E.last == cudaSuccess || E.msg[0] == 0) snprintf(E.msg, sizeof E.msg, "%s", line);
  if (E.reports++ < 8) fprintf(stderr, "cuda-emu: %s\n", line);
  E.last = e;
  if (e == cudaErrorLaunchFailure) {
    E.sticky = e;
    E.block_failed = true;
  }
}

// ------------------------------------------------------------------ fibers
void to_scheduler(Fiber &f) {
#if KN_EMU_ASM_SWITCH
  kn_emu_ctx_switch(&f.sp, E.sched_sp);
#else
  swapcontext(&f.ctx, &E.sched);
#endif
}

void to_fiber(Fiber &f) {
#if KN_EMU_ASM_SWITCH
  kn_emu_ctx_switch(&E.sched_sp, f.sp);
#else
  swapcontext(&E.sched, &f.ctx);
#endif
}

void yield_to_scheduler() {
  Fiber &f = E.fib[E.cur];
  E.switches++;
  KN_START_SWITCH(&f.fake, E.sched_bottom, E.sched_size);
  to_scheduler(f);
  KN_FINISH_SWITCH(f.fake, &E.sched_bottom, &E.sched_size);
}

void release_block() {
  for (int t = 0; t < E.n; t++)
    if (E.fib[t].state == AT_BLOCK) E.fib[t].state = RUNNABLE;
  E.arrived = 0;
}

bool warp_ready(const Warp &w) { return w.arrived && (w.want & w.live & ~w.arrived) == 0; }

// Every live lane named by the waiting lanes' masks has arrived: compute each one's result.
void release_warp(int wi) {
  Warp &w = E.warp[wi];
  for (int l = 0; l < kWarp; l++) {
    if (!((w.arrived >> l) & 1u)) continue;
    w.bad_src[l] = -1;
    w.res[l] = w.val[l];
    const int width = w.width[l], seg = l & ~(width - 1);
    int src = l;
    switch (w.mode[l]) {
    case KN_EMU_SHFL_IDX: src = seg + (w.arg[l] & (width - 1)); break;
    case KN_EMU_SHFL_UP: src = l - seg >= w.arg[l] ? l - w.arg[l] : l; break;
    case KN_EMU_SHFL_DOWN: src = l - seg + w.arg[l] < width ? l + w.arg[l] : l; break;
    case KN_EMU_SHFL_XOR:
      src = l ^ (w.arg[l] & (kWarp - 1));
      if ((src & ~(width - 1)) > seg) src = l; // a later segment: own value
      break;
    case KN_EMU_BALLOT: {
      unsigned long long r = 0;
      for (int k = 0; k < kWarp; k++)
        if (((w.arrived & w.mask[l]) >> k) & 1u) r |= (w.val[k] & 1u) << k;
      w.res[l] = r;
      break;
    }
    default: break; // __syncwarp
    }
    if (src != l) {
      if (((w.arrived & w.mask[l]) >> src) & 1u)
        w.res[l] = w.val[src];
      else
        w.bad_src[l] = src;
    }
    E.fib[wi * kWarp + l].state = RUNNABLE;
  }
  w.arrived = w.want = 0;
}

// The calling thread enters its warp's exchange and waits for it to release.
unsigned long long warp_exchange(unsigned mask, unsigned long long bits, int mode, int arg,
                                 int width, const char *what) {
  const int t = E.cur, wi = t / kWarp, lane = t % kWarp;
  Warp &w = E.warp[wi];
  if (!((mask >> lane) & 1u))
    report(cudaErrorLaunchFailure, "%s with mask 0x%08x that does not name the calling lane %d",
           what, mask, lane);
  if (width < 1 || width > kWarp || (width & (width - 1))) {
    report(cudaErrorLaunchFailure, "%s with width %d (not a power of 2 up to 32)", what, width);
    width = kWarp;
  }
  w.mode[lane] = mode;
  w.arg[lane] = arg;
  w.width[lane] = width;
  w.mask[lane] = mask;
  w.val[lane] = bits;
  w.arrived |= 1u << lane;
  w.want |= mask;
  E.fib[t].state = AT_WARP;
  if (warp_ready(w))
    release_warp(wi);
  else
    yield_to_scheduler();
  if (w.bad_src[lane] >= 0)
    report(cudaErrorLaunchFailure,
           "%s: lane %d reads lane %d, which is not taking part (exited or elsewhere)", what, lane,
           w.bad_src[lane]);
  return w.res[lane];
}

void thread_exit() {
  const int t = E.cur;
  Fiber &f = E.fib[t];
  Warp &w = E.warp[t / kWarp];
  f.state = DONE;
  E.live--;
  w.live &= ~(1u << (t % kWarp));
  if (warp_ready(w)) release_warp(t / kWarp);
  if (E.arrived && E.arrived == E.live) release_block();
  E.switches++;
  KN_START_SWITCH(nullptr, E.sched_bottom, E.sched_size);
  to_scheduler(f);
  abort(); // a finished fiber is never resumed
}

void fiber_main() {
  KN_FINISH_SWITCH(nullptr, &E.sched_bottom, &E.sched_size);
  E.body(E.arg);
  thread_exit();
}

void ensure_stack(Fiber &f) {
  if (f.stack) return;
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  void *m = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) {
    perror("cuda-emu: mmap of a fiber stack");
    abort();
  }
  mprotect(m, page, PROT_NONE); // guard page below the stack
  f.stack = (char *)m + page;
#if !KN_EMU_ASM_SWITCH
  if (getcontext(&f.ctx) != 0) {
    perror("cuda-emu: getcontext");
    abort();
  }
#endif
}

// A fresh context that starts fiber_main on f's stack.
void make_fiber(Fiber &f) {
  // A fiber that returned left no poisoned frames behind; one abandoned by a deadlock (or never
  // used: a fresh stack, state RUNNABLE) is unpoisoned for ASan before its stack is reused.
  if (f.state != DONE) KN_UNPOISON(f.stack, kStackBytes);
#if KN_EMU_ASM_SWITCH
  uintptr_t top = ((uintptr_t)f.stack + kStackBytes) & ~(uintptr_t)15;
  void **sp = (void **)top;
  *--sp = nullptr;                      // fiber_main's return address (it never returns)
  *--sp = (void *)&fiber_main;          // where the first switch "returns" to
  for (int i = 0; i < 6; i++) *--sp = nullptr; // rbp rbx r12 r13 r14 r15
  --sp;                                 // MXCSR and x87 control word: the launcher's
  uint32_t mxcsr;
  uint16_t fpcw;
  __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
  __asm__ volatile("fnstcw %0" : "=m"(fpcw));
  memcpy(sp, &mxcsr, 4);
  memcpy((char *)sp + 4, &fpcw, 2);
  f.sp = sp;
#else
  f.ctx.uc_stack.ss_sp = f.stack;
  f.ctx.uc_stack.ss_size = kStackBytes;
  f.ctx.uc_link = nullptr;
  makecontext(&f.ctx, fiber_main, 0);
#endif
}

void run_block(int n) {
  const dim3 b = blockDim;
  E.n = n;
  E.live = n;
  E.arrived = 0;
  for (int wi = 0; wi * kWarp < n; wi++) {
    Warp &w = E.warp[wi];
    const int lanes = n - wi * kWarp < kWarp ? n - wi * kWarp : kWarp;
    w.live = lanes == kWarp ? 0xffffffffu : (1u << lanes) - 1u;
    w.arrived = w.want = 0;
  }
  for (int t = 0; t < n; t++) {
    Fiber &f = E.fib[t];
    ensure_stack(f);
    make_fiber(f);
    f.state = RUNNABLE;
    f.tid.x = (unsigned)t % b.x;
    f.tid.y = (unsigned)t / b.x % b.y;
    f.tid.z = (unsigned)t / (b.x * b.y);
  }
  E.in_kernel = true;
  for (;;) {
    bool ran = false;
    for (int k = 0; k < n; k++) {
      const int t = E.reverse ? n - 1 - k : k;
      Fiber &f = E.fib[t];
      if (f.state != RUNNABLE) continue;
      E.cur = t;
      threadIdx = f.tid;
      E.switches++;
      void *fake = nullptr;
      KN_START_SWITCH(&fake, f.stack, kStackBytes);
      to_fiber(f);
      KN_FINISH_SWITCH(fake, nullptr, nullptr);
      ran = true;
    }
    if (E.live == 0) break;
    if (!ran) { // every live thread waits at a barrier that cannot release
      int at_block = 0, at_warp = 0, first = -1;
      for (int t = 0; t < n; t++) {
        if (E.fib[t].state == AT_BLOCK) at_block++;
        if (E.fib[t].state == AT_WARP) at_warp++;
        if (E.fib[t].state != DONE && first < 0) first = t;
      }
      threadIdx = E.fib[first].tid;
      report(cudaErrorLaunchFailure,
             "deadlock: %d live threads, %d waiting at __syncthreads, %d at a warp barrier "
             "(a barrier not reached by every live thread)",
             E.live, at_block, at_warp);
      break; // the block's fibers are abandoned; their stacks are reused
    }
  }
  E.in_kernel = false;
  E.blocks++;
  E.threads += (unsigned long long)n;
}

// Allocation containing [p, p + bytes), or end().
std::map<uintptr_t, size_t>::iterator find_alloc(const void *p, size_t bytes) {
  const uintptr_t a = (uintptr_t)p;
  auto it = E.allocs.upper_bound(a);
  if (it == E.allocs.begin()) return E.allocs.end();
  --it;
  if (a + bytes > it->first + it->second || a < it->first) return E.allocs.end();
  return it;
}

int guard_errors(uintptr_t user, size_t bytes) {
  if (KN_EMU_ASAN) return 0;
  const unsigned char *pre = (const unsigned char *)user - kGuard;
  const unsigned char *post = (const unsigned char *)user + bytes;
  int bad = 0;
  for (size_t i = 0; i < kGuard; i++) bad += (pre[i] != kGuardByte) + (post[i] != kGuardByte);
  return bad;
}

} // namespace

// ------------------------------------------------------------------ kernel side
void kn_emu_syncthreads() {
  Fiber &f = E.fib[E.cur];
  f.state = AT_BLOCK;
  if (++E.arrived == E.live)
    release_block();
  else
    yield_to_scheduler();
}

void kn_emu_syncwarp(unsigned mask) {
  warp_exchange(mask, 0, -1, 0, kWarp, "__syncwarp");
}

unsigned long long kn_emu_shfl(unsigned mask, unsigned long long bits, int mode, int arg,
                               int width) {
  static const char *const names[] = {"__shfl_sync", "__shfl_up_sync", "__shfl_down_sync",
                                      "__shfl_xor_sync", "__ballot_sync"};
  return warp_exchange(mask, bits, mode, arg, width, names[mode]);
}

void kn_emu_run(const kn_emu_launch_cfg *c, void (*body)(void *), void *arg) {
  std::lock_guard<std::mutex> lock(E.launch_mu);
  E.cfg = c;
  E.in_kernel = false;
  E.block_failed = false;
  E.reports = 0;
  if (E.sticky != cudaSuccess) { // a failed kernel poisons the context, as on a device
    E.last = E.sticky;
    return;
  }
  const dim3 g = c->grid, b = c->block;
  const unsigned long long nt = (unsigned long long)b.x * b.y * b.z;
  if (!g.x || !g.y || !g.z || !b.x || !b.y || !b.z || nt > (unsigned long long)kMaxThreads ||
      b.z > 64 || g.x > 0x7fffffffu || g.y > 65535 || g.z > 65535 || c->shmem > 48 * 1024) {
    report(cudaErrorInvalidConfiguration,
           "%s:%d: invalid launch configuration: grid (%u,%u,%u) block (%u,%u,%u) shmem %zu",
           c->file, c->line, g.x, g.y, g.z, b.x, b.y, b.z, c->shmem);
    return;
  }
  E.launches++;
  gridDim = g;
  blockDim = b;
  E.body = body;
  E.arg = arg;
  const unsigned long long nblocks = (unsigned long long)g.x * g.y * g.z;
  for (unsigned long long k = 0; k < nblocks && !E.block_failed; k++) {
    const unsigned long long i = E.reverse ? nblocks - 1 - k : k;
    blockIdx.x = (unsigned)(i % g.x);
    blockIdx.y = (unsigned)(i / g.x % g.y);
    blockIdx.z = (unsigned)(i / ((unsigned long long)g.x * g.y));
    run_block((int)nt);
  }
  threadIdx = uint3{0, 0, 0};
  blockIdx = uint3{0, 0, 0};
}

// ------------------------------------------------------------------ host API
extern "C" {

cudaError_t kn_emu_malloc(void **p, size_t bytes) {
  if (!p) return cudaErrorInvalidValue;
  std::lock_guard<std::mutex> lock(E.mem_mu);
  // Fresh device memory is garbage: NaN bytes, so a kernel that reads what it should not have
  // (an output it only writes, say) shows up in the comparison.
  void *raw = nullptr;
  uintptr_t user;
  if (KN_EMU_ASAN) { // exact size: ASan reports any access past the end
    if (posix_memalign(&raw, kAlign, bytes ? bytes : 1)) return cudaErrorMemoryAllocation;
    user = (uintptr_t)raw;
  } else {
    if (posix_memalign(&raw, kAlign, kAlign + bytes + kGuard)) return cudaErrorMemoryAllocation;
    user = (uintptr_t)raw + kAlign;
    memset((char *)user - kGuard, kGuardByte, kGuard);
    memset((char *)user + bytes, kGuardByte, kGuard);
  }
  memset((void *)user, 0xff, bytes);
  E.allocs[user] = bytes;
  *p = (void *)user;
  return cudaSuccess;
}

cudaError_t kn_emu_free(void *p) {
  if (!p) return cudaSuccess;
  std::lock_guard<std::mutex> lock(E.mem_mu);
  auto it = E.allocs.find((uintptr_t)p);
  if (it == E.allocs.end()) {
    report(cudaErrorInvalidValue, "cudaFree(%p): not a device allocation", p);
    return cudaErrorInvalidValue;
  }
  if (guard_errors(it->first, it->second))
    report(cudaErrorUnknown, "cudaFree(%p): guard bytes around its %zu bytes were overwritten", p,
           it->second);
  E.allocs.erase(it);
  free(KN_EMU_ASAN ? p : (char *)p - kAlign);
  return cudaSuccess;
}

cudaError_t kn_emu_memcpy(void *dst, const void *src, size_t bytes, enum cudaMemcpyKind kind) {
  if (E.sticky != cudaSuccess) return E.sticky;
  if (!bytes) return cudaSuccess;
  {
    std::lock_guard<std::mutex> lock(E.mem_mu);
    const bool dev_dst = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
    const bool dev_src = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
    if ((dev_dst && find_alloc(dst, bytes) == E.allocs.end()) ||
        (dev_src && find_alloc(src, bytes) == E.allocs.end()) || !dst || !src) {
      report(cudaErrorInvalidValue, "cudaMemcpy(%p, %p, %zu, kind %d): outside a device allocation",
             dst, src, bytes, (int)kind);
      return cudaErrorInvalidValue;
    }
  }
  memmove(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t kn_emu_memset(void *dst, int value, size_t bytes) {
  if (E.sticky != cudaSuccess) return E.sticky;
  if (!bytes) return cudaSuccess;
  {
    std::lock_guard<std::mutex> lock(E.mem_mu);
    if (find_alloc(dst, bytes) == E.allocs.end()) {
      report(cudaErrorInvalidValue, "cudaMemset(%p, %d, %zu): outside a device allocation", dst,
             value, bytes);
      return cudaErrorInvalidValue;
    }
  }
  memset(dst, value, bytes);
  return cudaSuccess;
}

cudaError_t kn_emu_get_last_error(int clear) {
  cudaError_t e = E.last;
  if (clear) E.last = E.sticky; // a sticky error stays
  return e;
}

cudaError_t kn_emu_synchronize(void) { return E.sticky; }

const char *kn_emu_error_name(cudaError_t e) {
  switch (e) {
  case cudaSuccess: return "cudaSuccess";
  case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
  case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
  case cudaErrorInitializationError: return "cudaErrorInitializationError";
  case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
  case cudaErrorNoDevice: return "cudaErrorNoDevice";
  case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
  case cudaErrorNoKernelImageForDevice: return "cudaErrorNoKernelImageForDevice";
  case cudaErrorNotReady: return "cudaErrorNotReady";
  case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
  case cudaErrorUnknown: return "cudaErrorUnknown";
  }
  return "cudaErrorUnrecognized";
}

const char *kn_emu_error_string(cudaError_t e) {
  switch (e) {
  case cudaSuccess: return "no error";
  case cudaErrorInvalidValue: return "invalid argument";
  case cudaErrorMemoryAllocation: return "out of memory";
  case cudaErrorInvalidConfiguration: return "invalid configuration argument";
  case cudaErrorLaunchFailure: return "unspecified launch failure (cuda-emu: see stderr)";
  default: return kn_emu_error_name(e);
  }
}

void kn_emu_set_reverse(int reverse) { E.reverse = reverse != 0; }

int kn_emu_check_guards(void) {
  std::lock_guard<std::mutex> lock(E.mem_mu);
  int bad = 0;
  for (const auto &a : E.allocs) {
    int g = guard_errors(a.first, a.second);
    if (g) fprintf(stderr, "cuda-emu: %d guard bytes overwritten around the allocation %p (%zu bytes)\n",
                   g, (void *)a.first, a.second);
    bad += g;
  }
  return bad;
}

const char *kn_emu_last_message(void) { return E.msg; }

void kn_emu_reset(void) {
  E.last = E.sticky = cudaSuccess;
  E.msg[0] = 0;
}

void kn_emu_stats(unsigned long long *launches, unsigned long long *blocks,
                  unsigned long long *threads, unsigned long long *switches) {
  *launches = E.launches;
  *blocks = E.blocks;
  *threads = E.threads;
  *switches = E.switches;
}

} // extern "C"
