// The training-loop state ops of the CPU backends (see kernels/backend.h: gather_u8, loss_acc,
// tick, topk_count). They are the reference for the CUDA versions in cuda_train.cu. Backend
// memory is host memory here, so they are plain loops over the given pointers.
#include <math.h>

#include "kernels/ops.h"

void kn_host_gather_u8(kn_ctx *ctx, int nb, int c, int h, int w, const uint8_t *images,
                       const int32_t *labels_all, const int32_t *perm, const int32_t *st,
                       const float *lut, const kn_aug *aug, float *x, int32_t *labels) {
  (void)ctx;
  size_t hw = (size_t)h * w, chw = (size_t)c * hw;
  for (int i = 0; i < nb; i++) {
    int32_t j = perm[st[1] + i];
    const uint8_t *src = images + (size_t)j * chw;
    float *dst = x + (size_t)i * chw;
    labels[i] = labels_all[j];
    if (!aug || (aug->pad == 0 && !aug->flip)) {
      for (int k = 0; k < c; k++) {
        const float *l = lut + 256 * k;
        for (size_t p = 0; p < hw; p++) dst[k * hw + p] = l[src[k * hw + p]];
      }
      continue;
    }
    uint64_t r = kn_aug_hash(aug->seed, (uint32_t)st[0], (uint32_t)i);
    int span = 2 * aug->pad + 1;
    int oy = (int)(r % (uint64_t)span) - aug->pad, ox = (int)((r >> 16) % (uint64_t)span) - aug->pad;
    int flip = aug->flip && ((r >> 32) & 1);
    for (int k = 0; k < c; k++) {
      const float *l = lut + 256 * k;
      for (int y = 0; y < h; y++)
        for (int xx = 0; xx < w; xx++) {
          int sy = y + oy, sx = (flip ? w - 1 - xx : xx) + ox;
          uint8_t v = sy >= 0 && sy < h && sx >= 0 && sx < w ? src[k * hw + (size_t)sy * w + sx] : 0;
          dst[k * hw + (size_t)y * w + xx] = l[v];
        }
    }
  }
}

void kn_host_loss_acc(kn_ctx *ctx, const float *loss, const int32_t *st, double *acc) {
  (void)ctx;
  acc[0] += *loss;
  if (!isfinite(*loss) && acc[1] < 0) {
    acc[1] = st[0];
    acc[2] = *loss;
  }
}

void kn_host_tick(kn_ctx *ctx, int32_t *st, int batch, const float *lr_table, float *lr) {
  (void)ctx;
  st[0] += 1;
  st[1] += batch;
  if (lr_table && lr) *lr = lr_table[st[0]];
}

void kn_host_topk_count(kn_ctx *ctx, int n, int classes, const float *logits,
                        const int32_t *labels, int32_t *counts) {
  (void)ctx;
  for (int i = 0; i < n; i++) {
    const float *z = logits + (size_t)i * classes;
    float zl = z[labels[i]];
    int rank = 0; // classes scoring strictly higher than the label (ties favour the label)
    for (int k = 0; k < classes; k++) rank += z[k] > zl;
    counts[0] += rank == 0;
    counts[1] += rank < 5;
  }
}
