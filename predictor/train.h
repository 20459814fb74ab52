// The minibatch training loop shared by the LSTM and MLP predictors: shuffle, batch, forward,
// L1 loss, backward, Adam. Models plug in through two callbacks.
#ifndef PNAS_PREDICTOR_TRAIN_H
#define PNAS_PREDICTOR_TRAIN_H

#include "predictor/tokens.h"

typedef struct {
  int nparams;
  float *params; // (nparams) updated in place
  void *ctx;
  void (*forward)(void *ctx, const uint8_t *tok /* (B, PRED_MAX_TOKENS) */,
                  const int *len /* (B) */, int B, float *y /* (B) */);
  void (*backward)(void *ctx, const float *dy /* (B) */, float *grad /* (nparams) */);
  int sort_by_len; // rows of a batch must come sorted by length, descending (LSTM)
} pred_trainable;

// Trains on rows idx[0..nidx) of x (targets y, indexed like x). Returns 0, -1 OOM, -2 when the
// loss became NaN. *final_loss: mean L1 over the last epoch (as seen during training).
int pred_train(const pred_trainable *t, const pred_tokens *x, const int *idx, int nidx,
               const float *y, int epochs, int batch, float lr, space_rng *rng,
               float *final_loss);

#endif
