// The registry of backends behind the seam: the two CPU tables (ref: reference loops in ref/;
// cpu: fast paths in cpu/) with their host memory functions, and the cuda table where built.
// The execution context and descriptor helpers every backend uses are in kernels/ctx.c.
#include <stdlib.h>
#include <string.h>

#include "kernels/backend.h"
#include "kernels/ops.h"
#ifdef PNAS_HAVE_CUDA
#include "kernels/cuda/cuda_backend.h" // a plain C header: no CUDA header above the seam
#endif

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
        P##l1_sign,                                                                                \
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
