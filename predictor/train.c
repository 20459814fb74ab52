// Minibatch Adam training with L1 loss (see train.h). The order of examples comes only from
// rng, so a member trains identically whatever thread runs it.
#include "predictor/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "predictor/adam.h"

int pred_train(const pred_trainable *t, const pred_tokens *x, const int *idx, int nidx,
               const float *y, int epochs, int batch, float lr, space_rng *rng,
               float *final_loss) {
  if (batch > nidx) batch = nidx;
  int *order = malloc((size_t)nidx * sizeof *order);
  int *bidx = malloc((size_t)batch * sizeof *bidx), *blen = malloc((size_t)batch * sizeof *blen);
  uint8_t *btok = malloc((size_t)batch * PRED_MAX_TOKENS);
  float *by = malloc((size_t)batch * sizeof *by), *bt = malloc((size_t)batch * sizeof *bt);
  float *dy = malloc((size_t)batch * sizeof *dy);
  float *grad = malloc((size_t)t->nparams * sizeof *grad);
  pred_adam adam;
  int rc = 0;
  if (pred_adam_init(&adam, t->nparams, lr)) {
    adam.m = adam.v = NULL;
    rc = -1;
  }
  if (rc || !order || !bidx || !blen || !btok || !by || !bt || !dy || !grad) {
    rc = -1;
    goto done;
  }
  memcpy(order, idx, (size_t)nidx * sizeof *order);
  double epoch_loss = 0.0;
  for (int ep = 0; ep < epochs; ep++) {
    for (int i = nidx - 1; i > 0; i--) {
      int j = space_rng_below(rng, i + 1), tmp = order[i];
      order[i] = order[j];
      order[j] = tmp;
    }
    epoch_loss = 0.0;
    for (int s = 0; s < nidx; s += batch) {
      int B = s + batch <= nidx ? batch : nidx - s;
      memcpy(bidx, order + s, (size_t)B * sizeof *bidx);
      if (t->sort_by_len) // insertion sort by length, descending (stable)
        for (int a = 1; a < B; a++) {
          int v = bidx[a], b = a - 1;
          while (b >= 0 && x->len[bidx[b]] < x->len[v]) {
            bidx[b + 1] = bidx[b];
            b--;
          }
          bidx[b + 1] = v;
        }
      for (int r = 0; r < B; r++) {
        memcpy(btok + (size_t)r * PRED_MAX_TOKENS, x->tok + (size_t)bidx[r] * PRED_MAX_TOKENS,
               PRED_MAX_TOKENS);
        blen[r] = x->len[bidx[r]];
        bt[r] = y[bidx[r]];
      }
      t->forward(t->ctx, btok, blen, B, by);
      double l = 0.0;
      for (int r = 0; r < B; r++) {
        float d = by[r] - bt[r];
        l += fabsf(d);
        dy[r] = (d > 0.0f ? 1.0f : d < 0.0f ? -1.0f : 0.0f) / (float)B;
      }
      if (!isfinite(l)) {
        rc = -2;
        goto done;
      }
      epoch_loss += l;
      memset(grad, 0, (size_t)t->nparams * sizeof *grad);
      t->backward(t->ctx, dy, grad);
      pred_adam_step(&adam, t->params, grad);
    }
  }
  if (final_loss) *final_loss = (float)(epoch_loss / nidx);
done:
  pred_adam_release(&adam);
  free(order), free(bidx), free(blen), free(btok), free(by), free(bt), free(dy), free(grad);
  return rc;
}
