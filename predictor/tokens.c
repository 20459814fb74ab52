// Cells -> unified token ids (see tokens.h). Validation uses space_check with all ops allowed
// (the search's op mask is not checked here), then the model's op vocabulary: a model of PNAS's
// space (8 op embeddings) cannot score a cell with a NASNet operator.
#include "predictor/tokens.h"

#include <stdio.h>
#include <stdlib.h>

int pred_tokens_from_cells(pred_tokens *t, const space_cell *cells, int n, int vocab_ops,
                           char *err, size_t errlen) {
  t->n = 0;
  t->len = NULL;
  t->tok = NULL;
  if (n < 0) {
    snprintf(err, errlen, "negative cell count %d", n);
    return -1;
  }
  t->len = malloc((size_t)(n > 0 ? n : 1) * sizeof *t->len);
  t->tok = calloc((size_t)(n > 0 ? n : 1) * PRED_MAX_TOKENS, 1);
  if (!t->len || !t->tok) {
    pred_tokens_release(t);
    snprintf(err, errlen, "out of memory for %d cells", n);
    return -1;
  }
  for (int i = 0; i < n; i++) {
    space_cell c = cells[i];
    char why[160];
    if (c.nblocks < 1 || c.nblocks > SPACE_MAX_BLOCKS) {
      snprintf(err, errlen, "cell %d has %d blocks (1..%d)", i, c.nblocks, SPACE_MAX_BLOCKS);
      pred_tokens_release(t);
      return -1;
    }
    if (space_check(&c, SPACE_ALL_OPS, why, sizeof why)) {
      snprintf(err, errlen, "cell %d: %s", i, why);
      pred_tokens_release(t);
      return -1;
    }
    int pair_model = vocab_ops == SPACE_PAIR_VOCAB;
    if (pair_model != space_is_pair(&c)) {
      snprintf(err, errlen,
               pair_model ? "cell %d is a single cell, but the model was fitted on NASNet pairs"
                          : "cell %d is a NASNet pair (normal|reduction), but the model was "
                            "fitted on single cells of PNAS's space; fit one on pairs",
               i);
      pred_tokens_release(t);
      return -1;
    }
    if (4 * (c.nblocks + c.nred) > PRED_MAX_TOKENS) {
      snprintf(err, errlen, "cell %d: a pair of %d + %d blocks is too long for the predictors "
               "(at most %d blocks in all)", i, c.nblocks, c.nred, PRED_MAX_TOKENS / 4);
      pred_tokens_release(t);
      return -1;
    }
    int vo = pair_model ? SPACE_NUM_OPS : vocab_ops;
    for (int b = 0; b < c.nblocks; b++) {
      int op = c.b[b].op1 >= vo ? c.b[b].op1 : c.b[b].op2;
      if (op >= vo) {
        snprintf(err, errlen,
                 "cell %d uses operator '%s' (id %d), outside the predictor's vocabulary of %d "
                 "operators (ids 0..%d); fit a predictor on cells of that space",
                 i, space_op_name(op), op, vocab_ops, vocab_ops - 1);
        pred_tokens_release(t);
        return -1;
      }
    }
    space_canon(&c);
    int raw[PRED_MAX_TOKENS];
    int L = space_tokens(&c, raw);
    uint8_t *row = t->tok + (size_t)i * PRED_MAX_TOKENS;
    // A pair's reduction-cell operators (tokens from 4 * nblocks on) have ids of their own.
    for (int k = 0; k < L; k++)
      row[k] = (uint8_t)(space_token_is_input(k)
                             ? raw[k]
                             : SPACE_NUM_INPUTS + raw[k] + (k >= 4 * c.nblocks ? SPACE_NUM_OPS : 0));
    t->len[i] = L;
  }
  t->n = n;
  return 0;
}

void pred_tokens_release(pred_tokens *t) {
  free(t->len);
  free(t->tok);
  t->len = NULL;
  t->tok = NULL;
  t->n = 0;
}
