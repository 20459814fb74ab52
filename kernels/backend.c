// The two CPU backends behind the seam (ref: reference loops; cpu: fast paths), their host
// memory functions, the execution context with its growable scratch, and the descriptor helpers.
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/backend.h"
#include "kernels/ops.h"
#ifdef PNAS_HAVE_CUDA
#include "kernels/cuda/cuda_backend.h" // a plain C header: no CUDA header above the seam
#endif

void kn_conv_init(kn_conv *d, int n, int cin, int h, int w, int cout, int kh, int kw, int stride,
                  int dil) {
  d->n = n;
  d->cin = cin;
  d->h = h;
  d->w = w;
  d->cout = cout;
  d->kh = kh;
  d->kw = kw;
  d->stride = stride;
  d->dil = dil;
  d->ho = (h + stride - 1) / stride;
  d->wo = (w + stride - 1) / stride;
  int th = (d->ho - 1) * stride + (kh - 1) * dil + 1 - h;
  int tw = (d->wo - 1) * stride + (kw - 1) * dil + 1 - w;
  d->pad_t = th > 0 ? th / 2 : 0;
  d->pad_l = tw > 0 ? tw / 2 : 0;
}

void kn_pool_init(kn_pool *d, int n, int c, int h, int w, int stride) {
  d->n = n;
  d->c = c;
  d->h = h;
  d->w = w;
  d->stride = stride;
  d->ho = (h - 1) / stride + 1;
  d->wo = (w - 1) / stride + 1;
}

static void *host_alloc(kn_ctx *ctx, size_t bytes) {
  (void)ctx;
  size_t r = (bytes + 63) / 64 * 64;
  return aligned_alloc(64, r ? r : 64);
}
static void host_free(kn_ctx *ctx, void *p) {
  (void)ctx;
  free(p);
}
static void host_copy(kn_ctx *ctx, void *dst, const void *src, size_t bytes) {
  (void)ctx;
  if (bytes) memcpy(dst, src, bytes);
}
static void host_zero(kn_ctx *ctx, void *dst, size_t bytes) {
  (void)ctx;
  if (bytes) memset(dst, 0, bytes);
}

#define KN_TABLE(P, NAME)                                                                          \
  {                                                                                                \
    NAME, host_alloc, host_free, host_copy, host_copy, host_zero, P##conv_fwd, P##conv_bwd,       \
        P##dw_fwd, P##dw_bwd, P##maxpool_fwd, P##maxpool_bwd, P##avgpool_fwd, P##avgpool_bwd,     \
        P##bn_fwd_train, P##bn_fwd_eval, P##bn_bwd, P##relu_fwd, P##relu_bwd, P##add_fwd, P##acc, \
        P##concat_fwd, P##concat_bwd, P##add_concat, P##sub_fwd, P##sub_bwd, P##gap_fwd, P##gap_bwd, P##fc_fwd,  \
        P##fc_bwd, P##xent, P##sgd, kn_host_gather_u8, kn_host_loss_acc, kn_host_tick,          \
        kn_host_topk_count, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL                         \
  }

static const kn_backend REF = KN_TABLE(kn_ref_, "ref");
static const kn_backend CPU = KN_TABLE(kn_cpu_, "cpu");

const kn_backend *kn_backend_ref(void) { return &REF; }
const kn_backend *kn_backend_cpu(void) { return &CPU; }

const kn_backend *kn_backend_by_name(const char *name) {
  if (!strcmp(name, "ref")) return &REF;
  if (!strcmp(name, "cpu")) return &CPU;
#ifdef PNAS_HAVE_CUDA
  if (!strcmp(name, "cuda")) return kn_backend_cuda();
#endif
  return NULL;
}

void kn_ctx_init(kn_ctx *ctx, const kn_backend *be, int threads) {
  memset(ctx, 0, sizeof *ctx);
  ctx->be = be;
  ctx->threads = threads < 1 ? 1 : threads;
  // We parallelise around BLAS calls ourselves; BLAS's own threads would oversubscribe the
  // cores and could change summation order with the thread count.
  openblas_set_num_threads(1);
}

void kn_ctx_free(kn_ctx *ctx) {
  free(ctx->scratch);
  ctx->scratch = NULL;
  ctx->scratch_bytes = 0;
}

void *kn_ctx_scratch(kn_ctx *ctx, size_t bytes) {
  if (ctx->failed) return NULL;
  if (bytes <= ctx->scratch_bytes) return ctx->scratch;
  free(ctx->scratch);
  size_t r = (bytes + 63) / 64 * 64;
  ctx->scratch = aligned_alloc(64, r);
  if (!ctx->scratch) {
    ctx->scratch_bytes = 0;
    ctx->failed = 1;
    return NULL;
  }
  ctx->scratch_bytes = r;
  return ctx->scratch;
}
