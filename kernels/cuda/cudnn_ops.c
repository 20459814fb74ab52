// Every cuDNN call of the project (see cudnn_ops.h): the handle, dense convolutions through the
// legacy convolution API (still in cuDNN 9, deprecated; this file is what changes when it goes)
// and batch norm (cudnnBatchNormalization*, CUDNN_BATCHNORM_SPATIAL).
// Convolutions: TF 'SAME' padding is symmetric except for some stride-2 shapes (odd total
// padding); cuDNN only pads symmetrically, so those inputs are padded explicitly into device
// scratch (our kernel) and the input gradient is cropped back. Algorithms: cudnnFind* once per
// shape (batch size included) and direction, restricted to deterministic algorithms within a
// workspace limit and, unless TF32 is allowed, to FMA math; the plan is cached in the device and
// reused by every later child. Not here: depthwise convs and pooling (cuda_spatial.cu: asymmetric
// padding and the reference's pooling semantics are simpler to own).
#include "kernels/cuda/cudnn_ops.h"

#include <cudnn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cuda/cuda_common.h"
#include "kernels/cuda/cuda_kernels.h"

static int kn_dnn_check(kn_ctx *ctx, char *err, size_t errlen, cudnnStatus_t st,
                        const char *call, const char *file, int line) {
  if (st == CUDNN_STATUS_SUCCESS) return 0;
  (void)cudaGetLastError();
  return kn_cuda_report(ctx, err, errlen, st == CUDNN_STATUS_ALLOC_FAILED, "cuDNN", call, file,
                        line, cudnnGetErrorString(st));
}
// The cuDNN member of the KN_CU family (cuda_common.h).
#define KN_DNN(ctx, call) kn_dnn_check((ctx), NULL, 0, (call), #call, __FILE__, __LINE__)
#define KN_DNN_ERR(err, errlen, call) kn_dnn_check(NULL, (err), (errlen), (call), #call, __FILE__, __LINE__)

// One convolution shape: descriptors and the chosen algorithm of each direction.
typedef struct {
  int n, cin, h, w, cout, kh, kw, stride, dil, pt, pl; // the key (kn_conv without derived ho/wo)
  int explicit_pad;         // 1: x is padded into scratch (hp, wp), cuDNN pads 0
  int hp, wp;               // input size cuDNN sees
  cudnnTensorDescriptor_t xd, yd;
  cudnnFilterDescriptor_t wd;
  cudnnConvolutionDescriptor_t cd;
  int have_fwd, have_bwd_data, have_bwd_filter;
  cudnnConvolutionFwdAlgo_t fwd;
  cudnnConvolutionBwdDataAlgo_t bwd_data;
  cudnnConvolutionBwdFilterAlgo_t bwd_filter;
  cudnnMathType_t fwd_math, bwd_data_math, bwd_filter_math;
  size_t fwd_ws, bwd_data_ws, bwd_filter_ws;
} conv_plan;

struct kn_dnn {
  cudnnHandle_t h;
  conv_plan *plans;
  int nplans, cap;
  void *ws;                 // cuDNN workspace (grown to the largest chosen algorithm's need)
  size_t ws_bytes, ws_limit;
  cudnnTensorDescriptor_t bn_x, bn_p; // batch norm: (n, c, h, w) and (1, c, 1, 1), set per call
};

size_t kn_dnn_version(void) { return cudnnGetVersion(); }
int kn_dnn_cached_shapes(const kn_device *d) { return d->dnn ? d->dnn->nplans : 0; }

int kn_dnn_open(kn_device *d, char *err, size_t errlen) {
  struct kn_dnn *k = calloc(1, sizeof *k);
  if (!k) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  d->dnn = k;
  if (KN_DNN_ERR(err, errlen, cudnnCreate(&k->h))) return -1;
  if (KN_DNN_ERR(err, errlen, cudnnSetStream(k->h, d->stream)) ||
      KN_DNN_ERR(err, errlen, cudnnCreateTensorDescriptor(&k->bn_x)) ||
      KN_DNN_ERR(err, errlen, cudnnCreateTensorDescriptor(&k->bn_p)))
    return -1;
  // Workspace limit: a quarter of the free memory, at most 1 GiB (the children's own buffers
  // need the rest); algorithms needing more are skipped.
  size_t fr = 0, tot = 0;
  if (KN_CU_ERR(err, errlen, cudaMemGetInfo(&fr, &tot))) return -1;
  k->ws_limit = fr / 4 < ((size_t)1 << 30) ? fr / 4 : ((size_t)1 << 30);
  return 0;
}

void kn_dnn_close(kn_device *d) { // teardown: failures are printed, nothing else to do
  struct kn_dnn *k = d->dnn;
  if (!k) return;
  for (int i = 0; i < k->nplans; i++) {
    conv_plan *p = &k->plans[i];
    (void)KN_DNN_ERR(NULL, 0, cudnnDestroyTensorDescriptor(p->xd));
    (void)KN_DNN_ERR(NULL, 0, cudnnDestroyTensorDescriptor(p->yd));
    (void)KN_DNN_ERR(NULL, 0, cudnnDestroyFilterDescriptor(p->wd));
    (void)KN_DNN_ERR(NULL, 0, cudnnDestroyConvolutionDescriptor(p->cd));
  }
  free(k->plans);
  if (k->ws) (void)KN_CU_ERR(NULL, 0, cudaFree(k->ws));
  if (k->bn_x) (void)KN_DNN_ERR(NULL, 0, cudnnDestroyTensorDescriptor(k->bn_x));
  if (k->bn_p) (void)KN_DNN_ERR(NULL, 0, cudnnDestroyTensorDescriptor(k->bn_p));
  if (k->h) (void)KN_DNN_ERR(NULL, 0, cudnnDestroy(k->h));
  free(k);
  d->dnn = NULL;
}

// ------------------------------------------------------------------ convolution plans
static int same_key(const conv_plan *p, const kn_conv *c) {
  return p->n == c->n && p->cin == c->cin && p->h == c->h && p->w == c->w && p->cout == c->cout &&
         p->kh == c->kh && p->kw == c->kw && p->stride == c->stride && p->dil == c->dil &&
         p->pt == c->pad_t && p->pl == c->pad_l;
}

// Total TF 'SAME' padding of one dimension (kn_conv_init's formula).
static int total_pad(int in, int out, int k, int stride, int dil) {
  int t = (out - 1) * stride + (k - 1) * dil + 1 - in;
  return t > 0 ? t : 0;
}

static conv_plan *plan_get(kn_ctx *ctx, struct kn_dnn *k, const kn_conv *c) {
  for (int i = 0; i < k->nplans; i++)
    if (same_key(&k->plans[i], c)) return &k->plans[i];
  if (k->nplans == k->cap) {
    int nc = k->cap ? 2 * k->cap : 32;
    conv_plan *np = realloc(k->plans, (size_t)nc * sizeof *np);
    if (!np) {
      kn_cuda_report(ctx, NULL, 0, 1, "host", "realloc(conv plans)", __FILE__, __LINE__,
                     "out of memory");
      return NULL;
    }
    k->plans = np;
    k->cap = nc;
  }
  conv_plan *p = &k->plans[k->nplans];
  memset(p, 0, sizeof *p);
  p->n = c->n, p->cin = c->cin, p->h = c->h, p->w = c->w, p->cout = c->cout;
  p->kh = c->kh, p->kw = c->kw, p->stride = c->stride, p->dil = c->dil;
  p->pt = c->pad_t, p->pl = c->pad_l;
  int th = total_pad(c->h, c->ho, c->kh, c->stride, c->dil);
  int tw = total_pad(c->w, c->wo, c->kw, c->stride, c->dil);
  p->explicit_pad = (th % 2) || (tw % 2);
  p->hp = p->explicit_pad ? c->h + th : c->h;
  p->wp = p->explicit_pad ? c->w + tw : c->w;
  int ph = p->explicit_pad ? 0 : th / 2, pw = p->explicit_pad ? 0 : tw / 2;
  if (KN_DNN(ctx, cudnnCreateTensorDescriptor(&p->xd))) return NULL;
  if (KN_DNN(ctx, cudnnCreateTensorDescriptor(&p->yd))) {
    (void)KN_DNN_ERR(NULL, 0, cudnnDestroyTensorDescriptor(p->xd));
    return NULL;
  }
  if (KN_DNN(ctx, cudnnCreateFilterDescriptor(&p->wd))) {
    (void)KN_DNN_ERR(NULL, 0, cudnnDestroyTensorDescriptor(p->xd));
    (void)KN_DNN_ERR(NULL, 0, cudnnDestroyTensorDescriptor(p->yd));
    return NULL;
  }
  if (KN_DNN(ctx, cudnnCreateConvolutionDescriptor(&p->cd))) {
    (void)KN_DNN_ERR(NULL, 0, cudnnDestroyTensorDescriptor(p->xd));
    (void)KN_DNN_ERR(NULL, 0, cudnnDestroyTensorDescriptor(p->yd));
    (void)KN_DNN_ERR(NULL, 0, cudnnDestroyFilterDescriptor(p->wd));
    return NULL;
  }
  k->nplans++; // owns the descriptors from here on (destroyed by kn_dnn_close)
  int on, oc, oh, ow;
  if (KN_DNN(ctx, cudnnSetTensor4dDescriptor(p->xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, c->n,
                                             c->cin, p->hp, p->wp)) ||
      KN_DNN(ctx, cudnnSetTensor4dDescriptor(p->yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, c->n,
                                             c->cout, c->ho, c->wo)) ||
      KN_DNN(ctx, cudnnSetFilter4dDescriptor(p->wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, c->cout,
                                             c->cin, c->kh, c->kw)) ||
      KN_DNN(ctx, cudnnSetConvolution2dDescriptor(p->cd, ph, pw, c->stride, c->stride, c->dil,
                                                  c->dil, CUDNN_CROSS_CORRELATION,
                                                  CUDNN_DATA_FLOAT)) ||
      KN_DNN(ctx, cudnnSetConvolutionMathType(p->cd, ctx->dev->tf32 ? CUDNN_DEFAULT_MATH
                                                                    : CUDNN_FMA_MATH)) ||
      KN_DNN(ctx, cudnnGetConvolution2dForwardOutputDim(p->cd, p->xd, p->wd, &on, &oc, &oh, &ow)))
    goto broken;
  if (on != c->n || oc != c->cout || oh != c->ho || ow != c->wo) {
    kn_cuda_report(ctx, NULL, 0, 0, "cuDNN", "cudnnGetConvolution2dForwardOutputDim", __FILE__,
                   __LINE__, "output size differs from TF 'SAME' geometry (bug)");
    goto broken;
  }
  return p;
broken: // keep the entry (its descriptors are freed at close) but never match it again
  p->n = -1;
  return NULL;
}

// Acceptable algorithm: ran, deterministic, fits the workspace limit, no TF32 unless allowed.
static int acceptable(kn_device *d, cudnnStatus_t st, cudnnDeterminism_t det, size_t mem,
                      cudnnMathType_t math) {
  if (st != CUDNN_STATUS_SUCCESS || det != CUDNN_DETERMINISTIC || mem > d->dnn->ws_limit) return 0;
  return d->tf32 || (math != CUDNN_TENSOR_OP_MATH && math != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION);
}

// The first acceptable entry of perf[] (cudnnFind sorts by time, the _v7 heuristics by
// expected speed); -1 when none. `how` says which list it was, for the error message.
#define PICK(d, perf, count, out_algo, out_math, out_ws, found)                                    \
  do {                                                                                             \
    for (int i_ = 0; i_ < (count) && !(found); i_++)                                              \
      if (acceptable((d), (perf)[i_].status, (perf)[i_].determinism, (perf)[i_].memory,            \
                     (perf)[i_].mathType)) {                                                       \
        (out_algo) = (perf)[i_].algo;                                                              \
        (out_math) = (perf)[i_].mathType;                                                          \
        (out_ws) = (perf)[i_].memory;                                                              \
        (found) = 1;                                                                               \
      }                                                                                            \
  } while (0)

static int no_algo(kn_ctx *ctx, const char *dir, const conv_plan *p) {
  char msg[160];
  snprintf(msg, sizeof msg, "no deterministic %s algorithm for n%d c%d %dx%d -> %d k%dx%d s%d d%d",
           dir, p->n, p->cin, p->h, p->w, p->cout, p->kh, p->kw, p->stride, p->dil);
  return kn_cuda_report(ctx, NULL, 0, 0, "cuDNN", "algorithm choice", __FILE__, __LINE__, msg);
}

static int find_fwd(kn_ctx *ctx, kn_device *d, conv_plan *p) {
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int cnt = 0, found = 0;
  // cudnnFind runs every algorithm on buffers it allocates itself; when that fails (memory),
  // fall back to the heuristics, which run nothing.
  if (cudnnFindConvolutionForwardAlgorithm(d->dnn->h, p->xd, p->wd, p->cd, p->yd,
                                           CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &cnt,
                                           perf) == CUDNN_STATUS_SUCCESS)
    PICK(d, perf, cnt, p->fwd, p->fwd_math, p->fwd_ws, found);
  (void)cudaGetLastError();
  if (!found) {
    if (KN_DNN(ctx, cudnnGetConvolutionForwardAlgorithm_v7(d->dnn->h, p->xd, p->wd, p->cd, p->yd,
                                                           CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &cnt,
                                                           perf)))
      return -1;
    PICK(d, perf, cnt, p->fwd, p->fwd_math, p->fwd_ws, found);
  }
  if (!found) return no_algo(ctx, "forward", p);
  p->have_fwd = 1;
  return 0;
}

static int find_bwd_data(kn_ctx *ctx, kn_device *d, conv_plan *p) {
  cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
  int cnt = 0, found = 0;
  if (cudnnFindConvolutionBackwardDataAlgorithm(d->dnn->h, p->wd, p->yd, p->cd, p->xd,
                                                CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &cnt,
                                                perf) == CUDNN_STATUS_SUCCESS)
    PICK(d, perf, cnt, p->bwd_data, p->bwd_data_math, p->bwd_data_ws, found);
  (void)cudaGetLastError();
  if (!found) {
    if (KN_DNN(ctx, cudnnGetConvolutionBackwardDataAlgorithm_v7(
                        d->dnn->h, p->wd, p->yd, p->cd, p->xd,
                        CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &cnt, perf)))
      return -1;
    PICK(d, perf, cnt, p->bwd_data, p->bwd_data_math, p->bwd_data_ws, found);
  }
  if (!found) return no_algo(ctx, "backward-data", p);
  p->have_bwd_data = 1;
  return 0;
}

static int find_bwd_filter(kn_ctx *ctx, kn_device *d, conv_plan *p) {
  cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
  int cnt = 0, found = 0;
  if (cudnnFindConvolutionBackwardFilterAlgorithm(d->dnn->h, p->xd, p->yd, p->cd, p->wd,
                                                  CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &cnt,
                                                  perf) == CUDNN_STATUS_SUCCESS)
    PICK(d, perf, cnt, p->bwd_filter, p->bwd_filter_math, p->bwd_filter_ws, found);
  (void)cudaGetLastError();
  if (!found) {
    if (KN_DNN(ctx, cudnnGetConvolutionBackwardFilterAlgorithm_v7(
                        d->dnn->h, p->xd, p->yd, p->cd, p->wd,
                        CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &cnt, perf)))
      return -1;
    PICK(d, perf, cnt, p->bwd_filter, p->bwd_filter_math, p->bwd_filter_ws, found);
  }
  if (!found) return no_algo(ctx, "backward-filter", p);
  p->have_bwd_filter = 1;
  return 0;
}

// Grows the workspace to `bytes`: 0 ok, -1 (ctx failed) when out of memory.
static int workspace(kn_ctx *ctx, struct kn_dnn *k, size_t bytes) {
  if (bytes <= k->ws_bytes) return 0;
  if (k->ws && KN_CU(ctx, cudaFree(k->ws))) return -1; // synchronises: earlier users are done
  k->ws = NULL;
  k->ws_bytes = 0;
  ctx->dev->gen++; // graphs captured with the old workspace are stale
  if (KN_CU(ctx, cudaMalloc(&k->ws, bytes))) return -1;
  k->ws_bytes = bytes;
  return 0;
}

static const float ONE = 1.0f, ZERO = 0.0f;

// cuDNN kernels may rely on 16-byte aligned data (vectorised loads). Activations are aligned
// (the network rounds every tensor to 16 floats), but parameters sit at float offsets inside one
// vector: a misaligned one goes through an aligned copy in device scratch (rare: with F a
// multiple of 4 every parameter is aligned).
static int misaligned(const void *p) { return ((uintptr_t)p & 15) != 0; }
static size_t round64(size_t floats) { return (floats + 63) / 64 * 64; } // 256-byte slots

static int copy_d2d(kn_ctx *ctx, kn_device *d, float *dst, const float *src, size_t floats) {
  return KN_CU(ctx, cudaMemcpyAsync(dst, src, floats * sizeof(float), cudaMemcpyDeviceToDevice,
                                    d->stream));
}

void kn_dnn_conv_fwd(kn_ctx *ctx, const kn_conv *c, const float *x /* (n,cin,h,w) */,
                     const float *w /* (cout,cin,kh,kw) */, float *y /* (n,cout,ho,wo) */) {
  kn_device *d = kn_cuda_ready(ctx);
  if (!d) return;
  conv_plan *p = plan_get(ctx, d->dnn, c);
  if (!p || (!p->have_fwd && find_fwd(ctx, d, p))) return;
  // scratch: [padded x][aligned w]
  size_t xpf = p->explicit_pad ? round64((size_t)c->n * c->cin * p->hp * p->wp) : 0;
  size_t wf = (size_t)c->cout * c->cin * c->kh * c->kw, waf = misaligned(w) ? round64(wf) : 0;
  float *tmp = NULL;
  if (xpf + waf && !(tmp = kn_cuda_tmp(ctx, d, (xpf + waf) * sizeof(float)))) return;
  const float *xin = x, *win = w;
  if (xpf) {
    if (KN_CU(ctx, kn_cuk_pad(d->stream, (size_t)c->n * c->cin, c->h, c->w, p->hp, p->wp,
                              c->pad_t, c->pad_l, x, tmp)))
      return;
    xin = tmp;
  }
  if (waf) {
    if (copy_d2d(ctx, d, tmp + xpf, w, wf)) return;
    win = tmp + xpf;
  }
  if (workspace(ctx, d->dnn, p->fwd_ws) ||
      KN_DNN(ctx, cudnnSetConvolutionMathType(p->cd, p->fwd_math)))
    return;
  KN_DNN(ctx, cudnnConvolutionForward(d->dnn->h, &ONE, p->xd, xin, p->wd, win, p->cd, p->fwd,
                                      d->dnn->ws, p->fwd_ws, &ZERO, p->yd, y));
}

void kn_dnn_conv_bwd(kn_ctx *ctx, const kn_conv *c, const float *x, const float *w,
                     const float *dy /* (n,cout,ho,wo) */, float *dx /* += or NULL */,
                     float *dw /* += */) {
  kn_device *d = kn_cuda_ready(ctx);
  if (!d) return;
  conv_plan *p = plan_get(ctx, d->dnn, c);
  if (!p || (!p->have_bwd_filter && find_bwd_filter(ctx, d, p)) ||
      (dx && !p->have_bwd_data && find_bwd_data(ctx, d, p)))
    return;
  // scratch: [padded x][padded dx][aligned w][aligned dw]
  size_t xpf = p->explicit_pad ? round64((size_t)c->n * c->cin * p->hp * p->wp) : 0;
  size_t dxpf = dx ? xpf : 0;
  size_t wf = (size_t)c->cout * c->cin * c->kh * c->kw;
  size_t waf = dx && misaligned(w) ? round64(wf) : 0, dwaf = misaligned(dw) ? round64(wf) : 0;
  size_t total = xpf + dxpf + waf + dwaf;
  float *tmp = NULL;
  if (total && !(tmp = kn_cuda_tmp(ctx, d, total * sizeof(float)))) return;
  const float *xin = x, *win = w;
  float *dxp = NULL, *dwout = dw;
  if (xpf) {
    dxp = tmp + xpf;
    if (KN_CU(ctx, kn_cuk_pad(d->stream, (size_t)c->n * c->cin, c->h, c->w, p->hp, p->wp,
                              c->pad_t, c->pad_l, x, tmp)))
      return;
    xin = tmp;
  }
  if (waf) {
    if (copy_d2d(ctx, d, tmp + xpf + dxpf, w, wf)) return;
    win = tmp + xpf + dxpf;
  }
  if (dwaf) dwout = tmp + xpf + dxpf + waf; // computed with beta 0, then added to dw
  size_t need = p->bwd_filter_ws;
  if (dx && p->bwd_data_ws > need) need = p->bwd_data_ws;
  if (workspace(ctx, d->dnn, need) ||
      KN_DNN(ctx, cudnnSetConvolutionMathType(p->cd, p->bwd_filter_math)) ||
      KN_DNN(ctx, cudnnConvolutionBackwardFilter(d->dnn->h, &ONE, p->xd, xin, p->yd, dy, p->cd,
                                                 p->bwd_filter, d->dnn->ws, p->bwd_filter_ws,
                                                 dwaf ? &ZERO : &ONE, p->wd, dwout)) ||
      (dwaf && KN_CU(ctx, kn_cuk_acc(d->stream, wf, dwout, dw))))
    return;
  if (!dx) return;
  if (KN_DNN(ctx, cudnnSetConvolutionMathType(p->cd, p->bwd_data_math))) return;
  if (!xpf) {
    KN_DNN(ctx, cudnnConvolutionBackwardData(d->dnn->h, &ONE, p->wd, win, p->yd, dy, p->cd,
                                             p->bwd_data, d->dnn->ws, p->bwd_data_ws, &ONE, p->xd,
                                             dx));
    return;
  }
  if (KN_DNN(ctx, cudnnConvolutionBackwardData(d->dnn->h, &ONE, p->wd, win, p->yd, dy, p->cd,
                                               p->bwd_data, d->dnn->ws, p->bwd_data_ws, &ZERO,
                                               p->xd, dxp)))
    return;
  KN_CU(ctx, kn_cuk_crop_acc(d->stream, (size_t)c->n * c->cin, c->h, c->w, p->hp, p->wp,
                             c->pad_t, c->pad_l, dxp, dx));
}

// ------------------------------------------------------------------ batch norm
static int bn_desc(kn_ctx *ctx, struct kn_dnn *k, kn_shape s) {
  return KN_DNN(ctx, cudnnSetTensor4dDescriptor(k->bn_x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s.n,
                                                s.c, s.h, s.w)) ||
         KN_DNN(ctx, cudnnSetTensor4dDescriptor(k->bn_p, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1,
                                                s.c, 1, 1));
}

// The per-channel vectors (C floats each) of one BN call: used in place when all are aligned,
// else staged through aligned scratch (in: copied there first; out: copied back afterwards).
enum { BN_MAXV = 6 };
typedef struct {
  int k, staged;
  float *orig[BN_MAXV], *use[BN_MAXV];
  int in[BN_MAXV], out[BN_MAXV];
} bn_vecs;

static int bn_stage(kn_ctx *ctx, kn_device *d, int C, bn_vecs *v) {
  v->staged = 0;
  for (int i = 0; i < v->k; i++) {
    v->use[i] = v->orig[i];
    v->staged |= misaligned(v->orig[i]);
  }
  if (!v->staged) return 0;
  size_t slot = round64((size_t)C);
  float *tmp = kn_cuda_tmp(ctx, d, (size_t)v->k * slot * sizeof(float));
  if (!tmp) return -1;
  for (int i = 0; i < v->k; i++) {
    v->use[i] = tmp + (size_t)i * slot;
    if (v->in[i] && copy_d2d(ctx, d, v->use[i], v->orig[i], (size_t)C)) return -1;
  }
  return 0;
}

static void bn_unstage(kn_ctx *ctx, kn_device *d, int C, bn_vecs *v) {
  for (int i = 0; v->staged && i < v->k; i++)
    if (v->out[i] && copy_d2d(ctx, d, v->orig[i], v->use[i], (size_t)C)) return;
}

// cuDNN's saved statistics are ours: mean and 1/sqrt(biased var + eps); its running variance
// uses the unbiased estimate, like PyTorch and the reference.
void kn_dnn_bn_fwd_train(kn_ctx *ctx, kn_shape s, const float *x, const float *gamma,
                         const float *beta, float *y, float *mean, float *invstd, float *run_mean,
                         float *run_var) {
  kn_device *d = kn_cuda_ready(ctx);
  bn_vecs v = {6, 0, {(float *)gamma, (float *)beta, mean, invstd, run_mean, run_var}, {0},
               {1, 1, 0, 0, 1, 1}, {0, 0, 1, 1, 1, 1}};
  if (!d || bn_desc(ctx, d->dnn, s) || bn_stage(ctx, d, s.c, &v)) return;
  if (KN_DNN(ctx, cudnnBatchNormalizationForwardTraining(
                      d->dnn->h, CUDNN_BATCHNORM_SPATIAL, &ONE, &ZERO, d->dnn->bn_x, x,
                      d->dnn->bn_x, y, d->dnn->bn_p, v.use[0], v.use[1], (double)KN_BN_MOMENTUM,
                      v.use[4], v.use[5], (double)KN_BN_EPS, v.use[2], v.use[3])))
    return;
  bn_unstage(ctx, d, s.c, &v);
}

void kn_dnn_bn_fwd_eval(kn_ctx *ctx, kn_shape s, const float *x, const float *gamma,
                        const float *beta, const float *run_mean, const float *run_var, float *y) {
  kn_device *d = kn_cuda_ready(ctx);
  bn_vecs v = {4, 0, {(float *)gamma, (float *)beta, (float *)run_mean, (float *)run_var}, {0},
               {1, 1, 1, 1}, {0}};
  if (!d || bn_desc(ctx, d->dnn, s) || bn_stage(ctx, d, s.c, &v)) return;
  KN_DNN(ctx, cudnnBatchNormalizationForwardInference(
                  d->dnn->h, CUDNN_BATCHNORM_SPATIAL, &ONE, &ZERO, d->dnn->bn_x, x, d->dnn->bn_x,
                  y, d->dnn->bn_p, v.use[0], v.use[1], v.use[2], v.use[3], (double)KN_BN_EPS));
}

// Blending factors 1 / 1 make cuDNN accumulate into dx, dgamma and dbeta (the seam's +=).
void kn_dnn_bn_bwd(kn_ctx *ctx, kn_shape s, const float *x, const float *gamma, const float *mean,
                   const float *invstd, const float *dy, float *dx, float *dgamma, float *dbeta) {
  kn_device *d = kn_cuda_ready(ctx);
  bn_vecs v = {5, 0, {(float *)gamma, (float *)mean, (float *)invstd, dgamma, dbeta}, {0},
               {1, 1, 1, 1, 1}, {0, 0, 0, 1, 1}};
  if (!d || bn_desc(ctx, d->dnn, s) || bn_stage(ctx, d, s.c, &v)) return;
  if (KN_DNN(ctx, cudnnBatchNormalizationBackward(
                      d->dnn->h, CUDNN_BATCHNORM_SPATIAL, &ONE, &ONE, &ONE, &ONE, d->dnn->bn_x, x,
                      d->dnn->bn_x, dy, d->dnn->bn_x, dx, d->dnn->bn_p, v.use[0], v.use[3],
                      v.use[4], (double)KN_BN_EPS, v.use[1], v.use[2])))
    return;
  bn_unstage(ctx, d, s.c, &v);
}
