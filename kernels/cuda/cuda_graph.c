// CUDA graphs for the training step (kernels/backend.h: graph_begin / graph_end / graph_launch /
// graph_free). The trainer runs its first step eagerly (cuDNN algorithm searches, workspace and
// scratch growth, cuBLAS's lazy setup), captures the second on the device's stream and then
// replays the instantiated graph: one launch per step instead of thousands. Capture uses the
// thread-local mode, so other threads (several children per GPU, each with its own kn_device and
// stream) may keep allocating while one captures. A capture that fails (an op that cannot be
// captured) is undone: the ctx is usable again and the caller runs the step eagerly.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cuda/cuda_common.h"

typedef struct {
  cudaGraphExec_t exec;
  uint64_t gen; // kn_device.gen at capture: scratch moved since => stale
} kn_graph;

int kn_cuda_graph_begin(kn_ctx *ctx) {
  kn_device *d = kn_cuda_ready(ctx);
  if (!d || d->capturing) return -1;
  if (KN_CU(ctx, cudaStreamBeginCapture(d->stream, cudaStreamCaptureModeThreadLocal))) return -1;
  d->capturing = 1;
  return 0;
}

int kn_cuda_graph_end(kn_ctx *ctx, void **out) {
  *out = NULL;
  kn_device *d = ctx->dev;
  if (!d || !d->capturing) return -1;
  cudaGraph_t g = NULL;
  cudaError_t e = cudaStreamEndCapture(d->stream, &g);
  d->capturing = 0;
  char why[160] = "";
  if (e != cudaSuccess) snprintf(why, sizeof why, "%s", cudaGetErrorString(e));
  else if (ctx->failed) snprintf(why, sizeof why, "%s", ctx->reason);
  kn_graph *kg = NULL;
  if (!why[0]) {
    kg = calloc(1, sizeof *kg);
    if (!kg) snprintf(why, sizeof why, "out of host memory");
    else if ((e = cudaGraphInstantiate(&kg->exec, g, 0)) != cudaSuccess)
      snprintf(why, sizeof why, "cudaGraphInstantiate: %s", cudaGetErrorString(e));
  }
  if (g) (void)cudaGraphDestroy(g);
  if (why[0]) {
    (void)cudaGetLastError(); // capture errors are not sticky
    free(kg);
    if (!d->broken) { // undo what the failed capture did to the ctx
      ctx->failed = 0;
      ctx->reason[0] = 0;
    }
    fprintf(stderr, "pnas: CUDA graph capture failed (%s); this child trains without graphs\n",
            why);
    return -1;
  }
  kg->gen = d->gen;
  *out = kg;
  return 0;
}

int kn_cuda_graph_launch(kn_ctx *ctx, void *graph) {
  kn_graph *kg = graph;
  kn_device *d = kn_cuda_ready(ctx);
  if (!d) return -1;
  if (kg->gen != d->gen) return 1;
  return KN_CU(ctx, cudaGraphLaunch(kg->exec, d->stream)) ? -1 : 0;
}

void kn_cuda_graph_free(kn_ctx *ctx, void *graph) {
  (void)ctx;
  kn_graph *kg = graph;
  if (!kg) return;
  (void)cudaGraphExecDestroy(kg->exec);
  free(kg);
}
