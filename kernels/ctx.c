// What every backend uses, below the registry (kernels/backend.c): the execution context with
// its growable scratch, and the convolution/pooling descriptor helpers. No backend table here.
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/backend.h"

#include <unistd.h>

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

void kn_pool_init(kn_pool *d, int n, int c, int h, int w, int k, int stride) {
  d->n = n;
  d->c = c;
  d->h = h;
  d->w = w;
  d->k = k;
  d->stride = stride;
  d->ho = (h - 1) / stride + 1;
  d->wo = (w - 1) / stride + 1;
}

void kn_ctx_init(kn_ctx *ctx, const kn_backend *be, int threads) {
  memset(ctx, 0, sizeof *ctx);
  ctx->be = be;
  ctx->threads = threads < 1 ? 1 : threads;
  // We parallelise around BLAS calls ourselves; BLAS's own threads would oversubscribe the
  // cores and could change summation order with the thread count.
  openblas_set_num_threads(1);
}

int kn_threads_given_load(int requested, double load, long cpus) {
  if (requested <= 1) return 1;
  if (cpus < 1 || !(load >= 0)) return requested;
  double others = load - requested;
  if (others < 0) others = 0;
  if (requested + others <= (double)cpus) return requested;
  long n = lround((double)cpus - others);
  return n < 1 ? 1 : (n < requested ? (int)n : requested);
}

int kn_threads_for_load(int requested) {
  if (requested <= 1) return 1;
  const char *fixed = getenv("PNAS_FIXED_THREADS");
  if (fixed && *fixed && strcmp(fixed, "0")) return requested;
  double load;
  if (getloadavg(&load, 1) != 1) return requested;
  return kn_threads_given_load(requested, load, sysconf(_SC_NPROCESSORS_ONLN));
}

void kn_ctx_release(kn_ctx *ctx) {
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
