// The backend seam: a struct of function pointers (memory, transfers, every tensor op's forward
// and backward) that the child network calls into. Two CPU implementations live here: "ref"
// (plain loops, the oracle, never optimised) and "cpu" (BLAS + OpenMP fast paths, tested against
// ref). A CUDA backend plugs in behind the same struct. Above this seam nothing may dereference a
// tensor pointer: tensors are opaque device memory moved with upload/download.
//
// Conventions, for every backend:
//  - Tensors are fp32 NCHW, contiguous. Shapes are given by descriptors; batch n is a run-time
//    argument, so buffers sized for a larger batch can run a smaller one (evaluation tails).
//  - Backward ops ACCUMULATE into dx / dw / dgamma ... (+=); callers zero gradients first. A dx
//    of NULL means "no input gradient wanted" (e.g. the image).
//  - Results are deterministic for fixed inputs, independent of the thread count: reductions
//    use a fixed partition and a fixed summation order (see cpu_*.c).
#ifndef PNAS_KERNELS_BACKEND_H
#define PNAS_KERNELS_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#define KN_BN_EPS 1e-3f       // TF's batch-norm epsilon
#define KN_BN_MOMENTUM 0.1f   // running = (1-m)*running + m*batch (PyTorch convention, TF decay 0.9)

typedef struct {
  int n, c, h, w;
} kn_shape;

// Convolution (also used for depthwise with cout == cin, weight (c, 1, kh, kw)).
// TF 'SAME' padding: out = ceil(in / stride); total pad = max((out-1)*stride + (k-1)*dil + 1 - in,
// 0), of which floor(total/2) goes on top/left and the rest on bottom/right.
typedef struct {
  int n, cin, h, w;   // input (n, cin, h, w)
  int cout, kh, kw;   // weight (cout, cin, kh, kw); depthwise: (cin, 1, kh, kw)
  int stride, dil;    // the same in both spatial dimensions
  int pad_t, pad_l;   // derived
  int ho, wo;         // output (n, cout, ho, wo)
} kn_conv;

// k x k pooling, k odd (3, 5 or 7; the CUDA kernels take exactly these), padding k/2 on every
// side ('same'), stride 1 or 2: out = (in - 1) / stride + 1. Every window holds its centre pixel,
// so it always has an in-image tap. Average pooling divides by the number of in-image taps
// (padding excluded: PyTorch's AvgPool2d(k, stride, k // 2, count_include_pad=False)).
typedef struct {
  int n, c, h, w;     // input (n, c, h, w)
  int k;              // window k x k, padding k / 2
  int stride;
  int ho, wo;         // output (n, c, ho, wo)
} kn_pool;

void kn_conv_init(kn_conv *d, int n, int cin, int h, int w, int cout, int kh, int kw, int stride,
                  int dil);
void kn_pool_init(kn_pool *d, int n, int c, int h, int w, int k, int stride);
static inline size_t kn_numel(kn_shape s) { return (size_t)s.n * s.c * s.h * s.w; }

// Training augmentation of gather_u8: the image zero-padded by `pad` pixels on every side
// (pixel value 0, before normalisation), a random h x w crop, and with flip a random horizontal
// flip. The randomness is counter-based: r = kn_aug_hash(seed, step st[0], row i) gives the crop
// offsets (r % (2 pad + 1), (r >> 16) % (2 pad + 1)) and the flip ((r >> 32) & 1), so every
// backend makes the same batch and a resumed or replayed step makes it again.
typedef struct {
  int pad;        // 0..8
  int flip;       // 0 or 1
  uint64_t seed;
} kn_aug;

#ifdef __CUDACC__
#define KN_HOST_DEVICE __host__ __device__
#else
#define KN_HOST_DEVICE
#endif
static inline KN_HOST_DEVICE uint64_t kn_aug_hash(uint64_t seed, uint32_t step, uint32_t row) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * ((uint64_t)step * 0x100000001ull + row + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

typedef struct kn_ctx kn_ctx;
// Device state of a device backend (CUDA: stream, cuDNN/cuBLAS handles, the convolution
// algorithm cache, workspaces). Opened once per process and lent to the kn_ctx of every child
// (ctx->dev), so algorithm searches are not repeated per child. Not shared between threads.
typedef struct kn_device kn_device;

typedef struct kn_backend {
  const char *name;
  // memory (device memory for a device backend; 64-byte aligned host memory on the CPU)
  void *(*alloc)(kn_ctx *ctx, size_t bytes); // NULL when out of memory
  void (*free)(kn_ctx *ctx, void *p);
  void (*upload)(kn_ctx *ctx, void *dst, const void *src_host, size_t bytes);
  void (*download)(kn_ctx *ctx, void *dst_host, const void *src, size_t bytes);
  void (*zero)(kn_ctx *ctx, void *dst, size_t bytes);

  // dense convolution, no bias
  void (*conv_fwd)(kn_ctx *, const kn_conv *, const float *x /* (n,cin,h,w) */,
                   const float *w /* (cout,cin,kh,kw) */, float *y /* (n,cout,ho,wo) */);
  void (*conv_bwd)(kn_ctx *, const kn_conv *, const float *x, const float *w,
                   const float *dy /* (n,cout,ho,wo) */, float *dx /* += or NULL */,
                   float *dw /* += */);
  // depthwise convolution (multiplier 1), no bias
  void (*dw_fwd)(kn_ctx *, const kn_conv *, const float *x /* (n,c,h,w) */,
                 const float *w /* (c,1,kh,kw) */, float *y /* (n,c,ho,wo) */);
  void (*dw_bwd)(kn_ctx *, const kn_conv *, const float *x, const float *w, const float *dy,
                 float *dx /* += or NULL */, float *dw /* += */);
  // k x k pooling, pad k/2 (kn_pool)
  void (*maxpool_fwd)(kn_ctx *, const kn_pool *, const float *x, float *y);
  void (*maxpool_bwd)(kn_ctx *, const kn_pool *, const float *x, const float *dy,
                      float *dx /* += ; gradient to the first maximum in scan order */);
  void (*avgpool_fwd)(kn_ctx *, const kn_pool *, const float *x, float *y);
  void (*avgpool_bwd)(kn_ctx *, const kn_pool *, const float *dy, float *dx /* += */);
  // batch norm over (n, h, w) per channel; mean/invstd (c) are saved for backward; running
  // stats updated with KN_BN_MOMENTUM (running variance unbiased, like PyTorch)
  void (*bn_fwd_train)(kn_ctx *, kn_shape s, const float *x, const float *gamma /* (c) */,
                       const float *beta /* (c) */, float *y, float *mean /* (c) out */,
                       float *invstd /* (c) out */, float *run_mean /* (c) */,
                       float *run_var /* (c) */);
  void (*bn_fwd_eval)(kn_ctx *, kn_shape s, const float *x, const float *gamma,
                      const float *beta, const float *run_mean, const float *run_var, float *y);
  void (*bn_bwd)(kn_ctx *, kn_shape s, const float *x, const float *gamma, const float *mean,
                 const float *invstd, const float *dy, float *dx /* += */,
                 float *dgamma /* += */, float *dbeta /* += */);
  // element-wise, over `count` floats
  void (*relu_fwd)(kn_ctx *, size_t count, const float *x, float *y);
  void (*relu_bwd)(kn_ctx *, size_t count, const float *x, const float *dy, float *dx /* += */);
  void (*add_fwd)(kn_ctx *, size_t count, const float *a, const float *b, float *y);
  void (*acc)(kn_ctx *, size_t count, const float *src, float *dst /* += src */);
  // [ours] network slimming's L1 penalty on BN gammas: g += lambda * sign(x) (sign(0) = 0)
  void (*l1_sign)(kn_ctx *, size_t count, const float *x, float lambda, float *g /* += */);
  // y (n, cy, h, w) channels [coff, coff + xs.c) = x (xs); backward dx += that slice of dy
  void (*concat_fwd)(kn_ctx *, kn_shape xs, int cy, int coff, const float *x, float *y);
  void (*concat_bwd)(kn_ctx *, kn_shape xs, int cy, int coff, const float *dy, float *dx);
  // A block's output written straight into its slice of the cell's concatenation: y (n, cy, h, w)
  // channels [coff, coff + xs.c) = a + b (both xs). Backward is concat_bwd into da and into db.
  void (*add_concat)(kn_ctx *, kn_shape xs, int cy, int coff, const float *a, const float *b,
                     float *y);
  // stride-2 sampling with offset off (0 or 1): y[i][j] = x[2i+off][2j+off], 0 outside.
  // Output (n, c, (h+1)/2, (w+1)/2). off=1 is factorized reduction's shifted path (TF: pad
  // [[0,1],[0,1]], [:,1:,1:], 1x1 avg pool stride 2).
  void (*sub_fwd)(kn_ctx *, kn_shape xs, int off, const float *x, float *y);
  void (*sub_bwd)(kn_ctx *, kn_shape xs, int off, const float *dy, float *dx /* += */);
  // global average pool: x (n,c,h,w) -> y (n,c)
  void (*gap_fwd)(kn_ctx *, kn_shape xs, const float *x, float *y);
  void (*gap_bwd)(kn_ctx *, kn_shape xs, const float *dy, float *dx /* += */);
  // fully connected with bias: y (n,cout) = x (n,cin) w^T (cout,cin) + b (cout)
  void (*fc_fwd)(kn_ctx *, int n, int cin, int cout, const float *x, const float *w,
                 const float *b, float *y);
  void (*fc_bwd)(kn_ctx *, int n, int cin, int cout, const float *x, const float *w,
                 const float *dy, float *dx /* += or NULL */, float *dw /* += */,
                 float *db /* += */);
  // softmax cross-entropy, mean over the batch: loss (1) = mean_i -log softmax(logits_i)[label_i];
  // dlogits (n, classes) is OVERWRITTEN with d loss / d logits.
  void (*xent)(kn_ctx *, int n, int classes, const float *logits, const int32_t *labels /* (n) */,
               float *loss /* (1) */, float *dlogits);
  // SGD with momentum and (coupled, PyTorch-style) weight decay over `count` floats:
  // v = momentum*v + (g + wd*w); w -= lr*v. The learning rate is read from backend memory
  // (one float), so a captured training step picks up each step's scheduled rate.
  void (*sgd)(kn_ctx *, size_t count, float *w, const float *g, float *v, const float *lr,
              float momentum, float wd);

  // ---- The training loop's state in backend memory, so that a step needs no host round trip
  // and can be captured once (CUDA graph) and replayed. `st` is int32[2]: st[0] = optimizer
  // step of the run, st[1] = position in the epoch's permutation (first image of the next batch).
  // Batch from the dataset held in backend memory as uint8: for i < nb, image j = perm[st[1]+i]:
  // x[i][k][y][x] = lut[k][images[j][k][y][x]] (lut: c rows of 256 normalised levels),
  // labels[i] = labels_all[j]. With aug (may be NULL: none), see kn_aug.
  void (*gather_u8)(kn_ctx *, int nb, int c, int h, int w, const uint8_t *images /* (N,c,h,w) */,
                    const int32_t *labels_all /* (N) */, const int32_t *perm,
                    const int32_t *st, const float *lut /* (c,256) */, const kn_aug *aug,
                    float *x /* (nb,c,h,w) */, int32_t *labels /* (nb) */);
  // Loss bookkeeping, acc = double[3]: acc[0] += *loss; the first non-finite loss of the run is
  // remembered: when acc[1] < 0, acc[1] = st[0] and acc[2] = *loss. Read back only when logged.
  void (*loss_acc)(kn_ctx *, const float *loss, const int32_t *st, double *acc);
  // End of a step: st[0] += 1, st[1] += batch; with lr_table (one float per step, plus one):
  // *lr = lr_table[st[0]] (the next step's rate). lr_table and lr may be NULL.
  void (*tick)(kn_ctx *, int32_t *st, int batch, const float *lr_table, float *lr);
  // Evaluation: counts[0] += rows whose label scores strictly highest-or-tied (no class scores
  // strictly higher), counts[1] += rows with fewer than 5 classes scoring strictly higher.
  void (*topk_count)(kn_ctx *, int n, int classes, const float *logits, const int32_t *labels,
                     int32_t *counts /* (2) */);
  // ---- CUDA graphs (NULL on the CPU backends). graph_begin starts capturing the ops of this
  // ctx instead of running them (0 ok); graph_end stops and instantiates: 0 with *graph, or -1
  // when capture failed (the ctx is usable again, nothing of the captured ops ran, the caller
  // runs them eagerly). graph_launch: 0 ran, 1 stale (device scratch moved since the capture:
  // capture again), -1 failed (ctx failed). graph_free accepts NULL.
  int (*graph_begin)(kn_ctx *);
  int (*graph_end)(kn_ctx *, void **graph);
  int (*graph_launch)(kn_ctx *, void *graph);
  void (*graph_free)(kn_ctx *, void *graph);
  // Device backends only (NULL for "ref" and "cpu"): a kn_ctx of this backend needs ctx->dev.
  // dev_open: 0 with msg describing the device, or -1 with msg saying why there is none (no
  // driver, no GPU, out of memory); never aborts. dev_name: "cuda:0".
  int (*dev_open)(kn_device **out, char *msg, size_t msglen);
  void (*dev_close)(kn_device *dev);
  const char *(*dev_name)(const kn_device *dev);
  // Free and total memory of the device now (all its users together). 0 ok, -1 unknown.
  int (*dev_mem)(kn_device *dev, size_t *free_bytes, size_t *total_bytes);
} kn_backend;

// Execution context: the backend, thread count and a growable scratch area (planned by the
// first step, then stable). Not shared between threads.
struct kn_ctx {
  const kn_backend *be;
  int threads;      // OpenMP threads for the CPU backend (>= 1)
  void *scratch;    // host scratch for the CPU backends
  size_t scratch_bytes;
  int failed;       // set when a scratch allocation or a device call failed; ops become no-ops
  kn_device *dev;   // device backends: the opened device (borrowed: kn_ctx_release leaves it open)
  char reason[160]; // why `failed` was set by a device backend ("" for host scratch)
};

const kn_backend *kn_backend_ref(void); // plain reference loops (single thread)
const kn_backend *kn_backend_cpu(void); // BLAS + OpenMP fast paths
// "ref", "cpu" or "cuda" (only in a build with the CUDA backend: whether a GPU is usable is
// decided by its dev_open); NULL when unknown.
const kn_backend *kn_backend_by_name(const char *name);

void kn_ctx_init(kn_ctx *ctx, const kn_backend *be, int threads);
// The threads a CPU child should use now, of `requested`: fewer when the machine is
// oversubscribed. With N CPUs and a 1-minute load average L (which counts this child's own
// threads once it has run a while), the others' load is max(0, L - requested); when requested +
// others > N, the child takes max(1, round(N - others)) threads: OpenMP barriers between threads
// the kernel deschedules cost far more than the parallelism gains (a 2-thread level-1 child
// took ~100 s beside 10 busy processes on 2 CPUs, ~2 s idle). Results do not depend on the
// thread count (every kernel's summation order is fixed), so this changes speed only.
// PNAS_FIXED_THREADS=1 in the environment turns it off.
int kn_threads_for_load(int requested);
// The rule itself, for a given load average and CPU count (tests).
int kn_threads_given_load(int requested, double load, long cpus);
void kn_ctx_release(kn_ctx *ctx);
// Scratch of at least `bytes` (64-byte aligned); NULL (and ctx->failed) when out of memory.
void *kn_ctx_scratch(kn_ctx *ctx, size_t bytes);

#endif
