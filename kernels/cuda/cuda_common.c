// What every file of the CUDA backend uses (declared in cuda_common.h), below the device and
// the library wrappers: the error reporting of the KN_CU macro family, the per-op readiness
// check and the device's growable temporary buffer. No kernels, no handles opened here.
#include <stdio.h>
#include <string.h>

#include "kernels/cuda/cuda_common.h"

int kn_cuda_report(kn_ctx *ctx, char *err, size_t errlen, int oom, const char *lib,
                   const char *call, const char *file, int line, const char *msg) {
  const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
  fprintf(stderr, "pnas: %s error: %s at %s:%d: %s\n", lib, call, base, line, msg);
  // The reason keeps the function name only (the call text can be long).
  int fn = (int)strcspn(call, "(");
  char why[160];
  snprintf(why, sizeof why, "%s%s: %s in %.*s at %s:%d", oom ? "out of GPU memory: " : "", lib,
           msg, fn > 60 ? 60 : fn, call, base, line);
  if (err && errlen) snprintf(err, errlen, "%s", why);
  if (ctx) {
    if (!ctx->failed) snprintf(ctx->reason, sizeof ctx->reason, "%s", why);
    ctx->failed = 1;
    // A sticky error (illegal address, launch failure...) poisons the CUDA context: later calls
    // all fail. Remember it so every later child fails fast with the original reason.
    // (Not while capturing a graph: the stream cannot be synchronised then, and a capture
    // failure is not sticky; cuda_graph.c undoes it.)
    if (!oom && ctx->dev && !ctx->dev->broken && !ctx->dev->capturing &&
        cudaStreamSynchronize(ctx->dev->stream) != cudaSuccess) {
      ctx->dev->broken = 1;
      snprintf(ctx->dev->broken_why, sizeof ctx->dev->broken_why, "%s", why);
    }
  }
  return -1;
}

kn_device *kn_cuda_ready(kn_ctx *ctx) {
  if (ctx->failed) return NULL;
  kn_device *d = ctx->dev;
  if (!d) {
    ctx->failed = 1;
    snprintf(ctx->reason, sizeof ctx->reason, "cuda backend used without an opened device (bug)");
    return NULL;
  }
  if (d->broken) {
    ctx->failed = 1;
    snprintf(ctx->reason, sizeof ctx->reason, "GPU unusable after an earlier error: %.120s",
             d->broken_why);
    return NULL;
  }
  return d;
}

void *kn_cuda_tmp(kn_ctx *ctx, kn_device *d, size_t bytes) {
  if (bytes <= d->tmp_bytes) return d->tmp;
  if (d->tmp && KN_CU(ctx, cudaFree(d->tmp))) return NULL; // synchronises: users are done
  d->tmp = NULL;
  d->tmp_bytes = 0;
  d->gen++;
  if (KN_CU(ctx, cudaMalloc(&d->tmp, bytes))) return NULL;
  d->tmp_bytes = bytes;
  return d->tmp;
}
