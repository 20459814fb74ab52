// Ridge-regression baseline: a linear model on one-hot block features, solved in closed form
// with LAPACKE (Cholesky of the regularised normal equations, in double). No sigmoid, no
// interactions between blocks beyond the position one-hots: it is a baseline, not a rival.
#ifndef PNAS_PREDICTOR_RIDGE_H
#define PNAS_PREDICTOR_RIDGE_H

#include "predictor/tokens.h"

// Features of a cell, for an op vocabulary of NO operators (space_vocab_ops: 8 or 13):
//   per block position k < SPACE_MAX_BLOCKS: sum over its two branches of one-hot(in * NO + op)
//   op fractions (NO), op counts (NO), input-kind fractions (H[c-1], H[c-2], a block) (3),
//   one-hot of nblocks (SPACE_MAX_BLOCKS). 909 features for NO = 8, 1479 for NO = 13.
static inline int ridge_nfeat(int NO) {
  return SPACE_MAX_BLOCKS * SPACE_NUM_INPUTS * NO + 2 * NO + 3 + SPACE_MAX_BLOCKS;
}

typedef struct {
  int NO;   // op vocabulary
  int F;    // ridge_nfeat(NO)
  float *w; // (F + 1): weights, then the intercept
} ridge_model;

int ridge_init(ridge_model *m, int NO); // zeroed; 0 ok, -1 OOM
void ridge_release(ridge_model *m);
void ridge_features(int NO, const uint8_t *tok /* (len) unified ids */, int len,
                    double *f /* (ridge_nfeat(NO)) */);
// Fits on rows idx[0..nidx) of x with targets y (x->n). 0 ok, -1 OOM, -2 solver failure.
int ridge_fit(ridge_model *m, const pred_tokens *x, const int *idx, int nidx, const float *y,
              double lambda);
// out: (M, n)
int ridge_predict(const ridge_model *const *models, int M, const pred_tokens *x,
                  float *out /* (M, n) */);

#endif
