// Declarations of the two CPU op sets behind the backend seam: kn_ref_* (plain reference loops,
// never optimised: the oracle) and kn_cpu_* (fast paths: BLAS, cache-friendly loops, OpenMP).
// Both have exactly the signatures of the kn_backend entries (see backend.h for semantics).
#ifndef PNAS_KERNELS_OPS_H
#define PNAS_KERNELS_OPS_H

#include "kernels/backend.h"

#define KN_DECLARE_OPS(P)                                                                          \
  void P##conv_fwd(kn_ctx *, const kn_conv *, const float *, const float *, float *);            \
  void P##conv_bwd(kn_ctx *, const kn_conv *, const float *, const float *, const float *,       \
                   float *, float *);                                                            \
  void P##dw_fwd(kn_ctx *, const kn_conv *, const float *, const float *, float *);              \
  void P##dw_bwd(kn_ctx *, const kn_conv *, const float *, const float *, const float *, float *, \
                 float *);                                                                       \
  void P##maxpool_fwd(kn_ctx *, const kn_pool *, const float *, float *);                        \
  void P##maxpool_bwd(kn_ctx *, const kn_pool *, const float *, const float *, float *);         \
  void P##avgpool_fwd(kn_ctx *, const kn_pool *, const float *, float *);                        \
  void P##avgpool_bwd(kn_ctx *, const kn_pool *, const float *, float *);                        \
  void P##bn_fwd_train(kn_ctx *, kn_shape, const float *, const float *, const float *, float *, \
                       float *, float *, float *, float *);                                      \
  void P##bn_fwd_eval(kn_ctx *, kn_shape, const float *, const float *, const float *,           \
                      const float *, const float *, float *);                                    \
  void P##bn_bwd(kn_ctx *, kn_shape, const float *, const float *, const float *, const float *, \
                 const float *, float *, float *, float *);                                      \
  void P##relu_fwd(kn_ctx *, size_t, const float *, float *);                                    \
  void P##relu_bwd(kn_ctx *, size_t, const float *, const float *, float *);                     \
  void P##add_fwd(kn_ctx *, size_t, const float *, const float *, float *);                      \
  void P##acc(kn_ctx *, size_t, const float *, float *);                                         \
  void P##l1_sign(kn_ctx *, size_t, const float *, float, float *);                              \
  void P##concat_fwd(kn_ctx *, kn_shape, int, int, const float *, float *);                      \
  void P##concat_bwd(kn_ctx *, kn_shape, int, int, const float *, float *);                      \
  void P##add_concat(kn_ctx *, kn_shape, int, int, const float *, const float *, float *);       \
  void P##sub_fwd(kn_ctx *, kn_shape, int, const float *, float *);                              \
  void P##sub_bwd(kn_ctx *, kn_shape, int, const float *, float *);                              \
  void P##gap_fwd(kn_ctx *, kn_shape, const float *, float *);                                   \
  void P##gap_bwd(kn_ctx *, kn_shape, const float *, float *);                                   \
  void P##fc_fwd(kn_ctx *, int, int, int, const float *, const float *, const float *, float *); \
  void P##fc_bwd(kn_ctx *, int, int, int, const float *, const float *, const float *, float *,  \
                 float *, float *);                                                              \
  void P##xent(kn_ctx *, int, int, const float *, const int32_t *, float *, float *);            \
  void P##sgd(kn_ctx *, size_t, float *, const float *, float *, const float *, float, float);

KN_DECLARE_OPS(kn_ref_)
KN_DECLARE_OPS(kn_cpu_)

// The training-loop state ops (host_train.c), shared by both CPU backends: backend memory is
// host memory there.
void kn_host_gather_u8(kn_ctx *, int nb, int c, int h, int w, const uint8_t *images,
                       const int32_t *labels_all, const int32_t *perm, const int32_t *st,
                       const float *lut, const kn_aug *aug, float *x, int32_t *labels);
void kn_host_loss_acc(kn_ctx *, const float *loss, const int32_t *st, double *acc);
void kn_host_tick(kn_ctx *, int32_t *st, int batch, const float *lr_table, float *lr);
void kn_host_topk_count(kn_ctx *, int n, int classes, const float *logits, const int32_t *labels,
                        int32_t *counts);

#endif
