// LSTM accuracy predictor (DESIGN.md s.4, paper): token embeddings (separate input / op
// vocabularies, one table here), one LSTM layer, final hidden state -> FC -> sigmoid.
// Batched forward/backward over cells of mixed lengths, a plain reference forward (the oracle)
// and a prefix-sharing batched scorer. Training loops live in train.c, not here.
#ifndef PNAS_PREDICTOR_LSTM_H
#define PNAS_PREDICTOR_LSTM_H

#include <stdint.h>

#include "predictor/tokens.h"

// Parameter views into one contiguous buffer (so Adam and save/load see one array).
// Gate order in every 4H-wide row: i, f, g, o (as PyTorch).
typedef struct {
  float *emb;  // (V, E): rows 0..10 input embeddings, 11..V-1 op embeddings
  float *w_ih; // (E, 4H)
  float *w_hh; // (H, 4H)
  float *b;    // (4H)
  float *w_fc; // (H)
  float *b_fc; // (1)
} lstm_params;

// V: embedding rows, pred_vocab_rows(vocab_ops) (19 for PNAS's 8 operators, 24 for 13).
typedef struct {
  int V, E, H;
  int nparams;
  float *p;       // (nparams)
  lstm_params v;  // views into p
} lstm_model;

int lstm_nparams(int V, int E, int H);
int lstm_init(lstm_model *m, int V, int E, int H); // zeroed parameters; 0 ok, -1 OOM
void lstm_release(lstm_model *m);
// Views of any buffer laid out like m->p (e.g. gradients, Adam moments).
void lstm_view(int V, int E, int H, float *buf, lstm_params *v);
// Paper init: embeddings U(-0.1, 0.1); LSTM weights and biases U(-1/sqrt(H), 1/sqrt(H))
// [ours, = PyTorch]; FC weight U(-1/sqrt(H), 1/sqrt(H)); FC bias 1.8 [paper].
void lstm_randomize(lstm_model *m, space_rng *r);

// Reference forward of one cell: plain loops, double accumulation, libm. Returns the sigmoid
// output. Aborts on OOM (it is the test oracle, not a production path).
float lstm_forward_ref(const lstm_model *m, const uint8_t *tok /* (len) */, int len);

// Training workspace for batches of up to maxB cells of up to PRED_MAX_TOKENS tokens.
typedef struct {
  int maxB, V, E, H;
  int B, T;           // current batch and its longest length
  int nact[PRED_MAX_TOKENS]; // active rows per step (rows are sorted by length, descending)
  uint8_t *tok;       // (maxB, PRED_MAX_TOKENS) batch tokens, sorted by length descending
  int *len;           // (maxB)
  float *table;       // (V, 4H) emb @ w_ih
  float *dtable;      // (V, 4H)
  float *gates;       // (PRED_MAX_TOKENS, maxB, 4H) activated gates i, f, g, o per step
  float *c;           // (PRED_MAX_TOKENS, maxB, H) cell state per step
  float *tc;          // (PRED_MAX_TOKENS, maxB, H) tanh(c)
  float *h;           // (PRED_MAX_TOKENS, maxB, H) hidden state per step
  float *y;           // (maxB) outputs
  float *dg;          // (PRED_MAX_TOKENS * maxB, 4H) gate gradients of all steps, packed
  float *hcat;        // (PRED_MAX_TOKENS * maxB, H) matching h[s-1] rows, packed
  float *dh, *dc;     // (maxB, H) scratch
} lstm_ws;

int lstm_ws_init(lstm_ws *w, int maxB, int V, int E, int H); // 0 ok, -1 OOM
void lstm_ws_release(lstm_ws *w);

// Forward of B cells (rows sorted by len descending, B <= maxB). Sequences are aligned at
// their ends: a cell of length L starts at step T-L, so step s only touches the first
// nact[s] rows and every row's final state is at step T-1 (no masking arithmetic).
// y: (B) sigmoid outputs; also kept in w for backward.
void lstm_forward(const lstm_model *m, lstm_ws *w, const uint8_t *tok /* (B, PRED_MAX_TOKENS) */,
                  const int *len /* (B) */, int B, float *y /* (B) */);
// Backward of the last forward: dy (B) = dLoss/dy; gradients are ADDED to grad (nparams).
void lstm_backward(const lstm_model *m, lstm_ws *w, const float *dy /* (B) */,
                   float *grad /* (nparams) */);

// Batched scorer for M models with the same V, E, H: sorts the cells, builds the token trie of
// each chunk and runs every shared prefix once (per model). out: (M, n). threads: OpenMP
// workers over chunks (0 = default). 0 ok, -1 OOM.
int lstm_predict(const lstm_model *const *models, int M, const pred_tokens *x,
                 float *out /* (M, n) */, int threads);

#endif
