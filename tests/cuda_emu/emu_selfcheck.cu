// Checks of the emulator itself, run by test_cuda_emu before our kernels: its barriers are real
// (a block reduction without __syncthreads goes wrong), threads that return early never block a
// barrier, warp shuffles and votes exchange the right lanes, and it reports what a device would
// fail on (reading an exited lane, a barrier that cannot release, a bad configuration). Written
// in CUDA syntax and put through gen_emu.cmake like kernels/cuda/*.cu.
#include <stdio.h>
#include <string.h>

#include <cuda_runtime_api.h>

static int fails;
static void expect(int ok, const char *what) {
  printf("%s emulator: %s\n", ok ? "ok  " : "FAIL", what);
  fails += !ok;
}

// Block sum through shared memory; with sync = 0 the barriers are missing (a race).
static __global__ void block_sum_k(const int *x, int *out, int sync) {
  __shared__ int part[256];
  part[threadIdx.x] = x[blockIdx.x * blockDim.x + threadIdx.x];
  if (sync) __syncthreads();
  for (int o = 128; o > 0; o /= 2) {
    if ((int)threadIdx.x < o) part[threadIdx.x] += part[threadIdx.x + o];
    if (sync) __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = part[0];
}

// Threads >= live return at once; the barrier must still release for the others.
static __global__ void early_exit_k(int *out, int live) {
  __shared__ int one[256];
  if ((int)threadIdx.x >= live) return;
  one[threadIdx.x] = 1;
  __syncthreads();
  if (threadIdx.x == 0) {
    int s = 0;
    for (int i = 0; i < live; i++) s += one[i];
    *out = s;
  }
}

static __global__ void warp_ops_k(const int *x, int *sum, int *down, int *bcast, unsigned *ballot) {
  int t = blockIdx.x * blockDim.x + threadIdx.x, v = x[t], s = v;
  for (int o = 16; o > 0; o /= 2) s += __shfl_xor_sync(0xffffffffu, s, o);
  sum[t] = s;
  down[t] = __shfl_down_sync(0xffffffffu, v, 3);
  bcast[t] = __shfl_sync(0xffffffffu, v, 5);
  ballot[t] = __ballot_sync(0xffffffffu, v & 1);
}

static __global__ void shfl_exited_k(int *out) {
  if (threadIdx.x % 32 >= 16) return;
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, (int)threadIdx.x, 16); // lane l reads l ^ 16
}

static __global__ void divergent_k(int *out) {
  int v = threadIdx.x;
  if (threadIdx.x < 10)
    __syncthreads();
  else
    v = __shfl_xor_sync(0xffffffffu, v, 1); // lanes 0..9 never come
  out[threadIdx.x] = v;
}

static __global__ void index_k(int *hits) {
  int b = blockIdx.x + gridDim.x * blockIdx.y, t = threadIdx.x + blockDim.x * threadIdx.y;
  hits[b * blockDim.x * blockDim.y + t] += 1;
}

static int arg_calls;
static int next_arg() { return ++arg_calls; }
static __global__ void arg_k(int a, int *out) { out[threadIdx.x] = a; }

extern "C" int kn_emu_selfcheck(void) {
  fails = 0;
  const int nb = 3, nt = 256;
  int hx[nb * nt], want[nb] = {0, 0, 0}, got[nb];
  for (int i = 0; i < nb * nt; i++) {
    hx[i] = (i * 7919) % 1000;
    want[i / nt] += hx[i];
  }
  int *x, *out, *big;
  cudaMalloc(&x, sizeof hx);
  cudaMalloc(&out, nb * sizeof(int));
  cudaMalloc(&big, 4096 * sizeof(int));
  cudaMemcpy(x, hx, sizeof hx, cudaMemcpyHostToDevice);
  int racy_wrong = 0;
  for (int rev = 0; rev < 2; rev++) {
    kn_emu_set_reverse(rev);
    block_sum_k<<<nb, nt>>>(x, out, 1);
    cudaMemcpy(got, out, sizeof got, cudaMemcpyDeviceToHost);
    expect(cudaGetLastError() == cudaSuccess && !memcmp(got, want, sizeof got),
           rev ? "block reduction with __syncthreads, threads in reverse order"
               : "block reduction with __syncthreads");
    block_sum_k<<<nb, nt>>>(x, out, 0);
    cudaMemcpy(got, out, sizeof got, cudaMemcpyDeviceToHost);
    racy_wrong += memcmp(got, want, sizeof got) != 0;
  }
  kn_emu_set_reverse(0);
  expect(racy_wrong >= 1, "the same reduction without its barriers goes wrong (a race)");

  early_exit_k<<<1, 256>>>(out, 100);
  cudaMemcpy(got, out, sizeof(int), cudaMemcpyDeviceToHost);
  expect(cudaGetLastError() == cudaSuccess && got[0] == 100,
         "156 threads return before __syncthreads, the other 100 pass it");

  int *sum = big, *down = big + 1024, *bcast = big + 2048;
  unsigned *ballot = (unsigned *)(big + 3072);
  warp_ops_k<<<2, 96>>>(x, sum, down, bcast, ballot); // 3 warps per block
  int hs[192], hd[192], hb[192];
  unsigned hv[192];
  cudaMemcpy(hs, sum, sizeof hs, cudaMemcpyDeviceToHost);
  cudaMemcpy(hd, down, sizeof hd, cudaMemcpyDeviceToHost);
  cudaMemcpy(hb, bcast, sizeof hb, cudaMemcpyDeviceToHost);
  cudaMemcpy(hv, ballot, sizeof hv, cudaMemcpyDeviceToHost);
  int ok = cudaGetLastError() == cudaSuccess;
  for (int t = 0; t < 192; t++) {
    int w0 = t / 32 * 32, lane = t % 32, s = 0;
    unsigned b = 0;
    for (int l = 0; l < 32; l++) {
      s += hx[w0 + l];
      b |= (unsigned)(hx[w0 + l] & 1) << l;
    }
    ok &= hs[t] == s && hd[t] == (lane + 3 < 32 ? hx[t + 3] : hx[t]) && hb[t] == hx[w0 + 5] &&
          hv[t] == b;
  }
  expect(ok, "__shfl_xor_sync butterfly, __shfl_down_sync, __shfl_sync, __ballot_sync");

  shfl_exited_k<<<1, 64>>>(big);
  cudaError_t e = cudaGetLastError();
  expect(e == cudaErrorLaunchFailure && cudaStreamSynchronize(0) == cudaErrorLaunchFailure,
         "a shuffle reading an exited lane fails the launch (sticky)");
  kn_emu_reset();

  divergent_k<<<1, 64>>>(big);
  e = cudaGetLastError();
  expect(e == cudaErrorLaunchFailure && strstr(kn_emu_last_message(), "deadlock"),
         "__syncthreads and a shuffle waiting for each other: reported deadlock");
  kn_emu_reset();

  arg_k<<<1, 1025>>>(0, big);
  expect(cudaGetLastError() == cudaErrorInvalidConfiguration && cudaGetLastError() == cudaSuccess,
         "1025 threads per block: cudaErrorInvalidConfiguration, not sticky");

  cudaMemset(big, 0, 4096 * sizeof(int));
  index_k<<<dim3(3, 2), dim3(4, 5)>>>(big);
  int hits[120];
  cudaMemcpy(hits, big, sizeof hits, cudaMemcpyDeviceToHost);
  ok = cudaGetLastError() == cudaSuccess;
  for (int i = 0; i < 120; i++) ok &= hits[i] == 1;
  expect(ok, "2-D grid and block: every (block, thread) index exactly once");

  arg_calls = 0;
  arg_k<<<1, 32>>>(next_arg(), big);
  cudaMemcpy(got, big, sizeof(int), cudaMemcpyDeviceToHost);
  expect(arg_calls == 1 && got[0] == 1, "launch arguments are evaluated once");

  expect(kn_emu_check_guards() == 0, "no kernel wrote outside its buffers (guard bytes)");
  cudaFree(x);
  cudaFree(out);
  cudaFree(big);
  return fails;
}
