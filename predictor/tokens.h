// Cells -> token sequences for the predictors, in one unified vocabulary: input tokens keep
// their ids 0..SPACE_NUM_INPUTS-1, op tokens become SPACE_NUM_INPUTS + op. Cells are
// canonicalised and checked first, so equal architectures always get equal tokens.
#ifndef PNAS_PREDICTOR_TOKENS_H
#define PNAS_PREDICTOR_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "searchspace/cell.h"

#define PRED_MAX_TOKENS (4 * SPACE_MAX_BLOCKS)
// Embedding rows of a model whose op vocabulary is vocab_ops (space_vocab_ops: 8 for PNAS's
// space, 13 with NASNet's operators): 11 input ids + 8 op ids = 19 rows, or 11 + 13 = 24.
#define PRED_VOCAB_MAX (SPACE_NUM_INPUTS + SPACE_NUM_OPS)
static inline int pred_vocab_rows(int vocab_ops) { return SPACE_NUM_INPUTS + vocab_ops; }

typedef struct {
  int n;
  int *len;     // (n) tokens per cell = 4 * nblocks
  uint8_t *tok; // (n, PRED_MAX_TOKENS) unified ids, row-major, unused tail zero
} pred_tokens;

// Allocates and fills t. vocab_ops: the model's op vocabulary; a cell using an op id >=
// vocab_ops is refused (the model has no embedding for it). 0 ok; -1 with a message naming the
// cell in err (invalid cell, op outside the vocabulary, or OOM).
// vocab_ops SPACE_PAIR_VOCAB: a model of NASNet pairs (pairs only; the reduction cell's op
// tokens are SPACE_NUM_INPUTS + SPACE_NUM_OPS + op); any other vocabulary takes single cells.
int pred_tokens_from_cells(pred_tokens *t, const space_cell *cells, int n, int vocab_ops,
                           char *err, size_t errlen);
void pred_tokens_release(pred_tokens *t);

#endif
