// Internal: the layout of pred_ensemble, shared by predictor.c (fit/predict) and io.c
// (save/load). Not part of the public API.
#ifndef PNAS_PREDICTOR_ENSEMBLE_H
#define PNAS_PREDICTOR_ENSEMBLE_H

#include "predictor/lstm.h"
#include "predictor/mlp.h"
#include "predictor/predictor.h"
#include "predictor/ridge.h"

struct pred_ensemble {
  pred_kind kind;
  int members;        // 0 = not fitted
  int E, H;           // embedding / hidden sizes (LSTM, MLP; MLP uses H for both layers)
  int vocab;          // op vocabulary: op ids the members embed (space_vocab_ops: 8 or 13)
  lstm_model *lstm;   // (members) when kind == PRED_LSTM
  mlp_model *mlp;     // (members) when kind == PRED_MLP
  ridge_model *ridge; // (members) when kind == PRED_RIDGE
  float *loss;        // (members) final training L1
  // What the ensemble was fitted on (pred_ensemble_domain); dom_cells == 0: unknown (a file
  // written before the domain was saved).
  uint32_t dom_ops;   // bit o: some training cell uses operator o
  int dom_blocks;     // the most blocks of a training cell
  int dom_cells;      // training cells
};

// Drops any fitted members. Then allocates M zeroed members of the kind. 0 ok, -1 OOM.
int pred_ensemble_alloc(pred_ensemble *e, pred_kind kind, int M, int E, int H, int vocab);
void pred_ensemble_clear(pred_ensemble *e);

#endif
