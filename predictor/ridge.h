// Ridge-regression baseline: a linear model on one-hot block features, solved in closed form
// with LAPACKE (Cholesky of the regularised normal equations, in double). No sigmoid, no
// interactions between blocks beyond the position one-hots: it is a baseline, not a rival.
#ifndef PNAS_PREDICTOR_RIDGE_H
#define PNAS_PREDICTOR_RIDGE_H

#include "predictor/tokens.h"

// Features of a cell:
//   per block position k < SPACE_MAX_BLOCKS: sum over its two branches of one-hot(in * 8 + op)
//   op fractions (8), op counts (8), input-kind fractions (H[c-1], H[c-2], a block) (3),
//   one-hot of nblocks (SPACE_MAX_BLOCKS).
#define RIDGE_NFEAT                                                                          \
  (SPACE_MAX_BLOCKS * SPACE_NUM_INPUTS * SPACE_NUM_OPS + 2 * SPACE_NUM_OPS + 3 + SPACE_MAX_BLOCKS)

typedef struct {
  int F;    // RIDGE_NFEAT
  float *w; // (F + 1): weights, then the intercept
} ridge_model;

int ridge_init(ridge_model *m); // zeroed; 0 ok, -1 OOM
void ridge_release(ridge_model *m);
void ridge_features(const uint8_t *tok /* (len) unified ids */, int len, double *f /* (F) */);
// Fits on rows idx[0..nidx) of x with targets y (x->n). 0 ok, -1 OOM, -2 solver failure.
int ridge_fit(ridge_model *m, const pred_tokens *x, const int *idx, int nidx, const float *y,
              double lambda);
// out: (M, n)
int ridge_predict(const ridge_model *const *models, int M, const pred_tokens *x,
                  float *out /* (M, n) */);

#endif
