// MLP accuracy predictor (DESIGN.md s.4, paper): token embeddings, a block's 4 embeddings
// concatenated (4E), averaged over the blocks, two ReLU hidden layers, sigmoid output.
// Batched forward/backward for training, a plain reference forward, and a table-based scorer
// (layer 1 = token counts per block position @ per-position tables emb @ w1, one GEMM).
#ifndef PNAS_PREDICTOR_MLP_H
#define PNAS_PREDICTOR_MLP_H

#include "predictor/tokens.h"

typedef struct {
  float *emb; // (V, E)
  float *w1;  // (4E, H1) rows p*E..p*E+E-1 act on block position p (I1, I2, O1, O2)
  float *b1;  // (H1)
  float *w2;  // (H1, H2)
  float *b2;  // (H2)
  float *w3;  // (H2)
  float *b3;  // (1)
} mlp_params;

typedef struct {
  int V, E, H1, H2; // V: embedding rows, pred_vocab_rows(vocab_ops)
  int nparams;
  float *p;      // (nparams)
  mlp_params v;  // views into p
} mlp_model;

int mlp_nparams(int V, int E, int H1, int H2);
int mlp_init(mlp_model *m, int V, int E, int H1, int H2); // zeroed; 0 ok, -1 OOM
void mlp_release(mlp_model *m);
void mlp_view(int V, int E, int H1, int H2, float *buf, mlp_params *v);
// Embeddings U(-0.1, 0.1) [paper]; layers U(-1/sqrt(fan_in), 1/sqrt(fan_in)) [ours, = PyTorch];
// output bias 1.8 [ours: same start as the paper's LSTM, accuracies are high].
void mlp_randomize(mlp_model *m, space_rng *r);

// Reference forward (plain loops, double accumulation, libm); aborts on OOM (test oracle).
float mlp_forward_ref(const mlp_model *m, const uint8_t *tok /* (len) */, int len);

typedef struct {
  int maxB, E, H1, H2, B;
  uint8_t *tok;  // (maxB, PRED_MAX_TOKENS)
  int *len;      // (maxB)
  float *x;      // (maxB, 4E) block-averaged embeddings
  float *a1;     // (maxB, H1) post-ReLU
  float *a2;     // (maxB, H2) post-ReLU
  float *y;      // (maxB)
  float *d1;     // (maxB, H1) scratch
  float *d2;     // (maxB, H2) scratch
  float *dx;     // (maxB, 4E) scratch
} mlp_ws;

int mlp_ws_init(mlp_ws *w, int maxB, int E, int H1, int H2);
void mlp_ws_release(mlp_ws *w);
// y: (B). Any order of lengths.
void mlp_forward(const mlp_model *m, mlp_ws *w, const uint8_t *tok /* (B, PRED_MAX_TOKENS) */,
                 const int *len /* (B) */, int B, float *y /* (B) */);
// Gradients ADDED to grad (nparams).
void mlp_backward(const mlp_model *m, mlp_ws *w, const float *dy /* (B) */, float *grad);

// Scores every cell with M models (same sizes). out: (M, n). 0 ok, -1 OOM.
int mlp_predict(const mlp_model *const *models, int M, const pred_tokens *x,
                float *out /* (M, n) */, int threads);

#endif
