// Surrogate accuracy predictors for the PNAS search (DESIGN.md s.4): LSTM, MLP and a ridge
// baseline behind one ensemble interface (fit on k folds, predict mean and spread), versioned
// msgpack save/load and the level-by-level evaluation protocol. CPU only for now: the batched
// scorer (lstm_predict) is the one place a cuBLAS path would plug in.
#ifndef PNAS_PREDICTOR_PREDICTOR_H
#define PNAS_PREDICTOR_PREDICTOR_H

#include <stddef.h>
#include <stdint.h>

#include "searchspace/cell.h"

typedef enum { PRED_LSTM = 0, PRED_MLP = 1, PRED_RIDGE = 2 } pred_kind;

// Statuses returned by the functions below (0 = PRED_OK); a message goes to err.
enum {
  PRED_OK = 0,
  PRED_EARG = -1,    // bad argument (invalid cell, n too small, bad config)
  PRED_ENOMEM = -2,  // allocation failed
  PRED_EIO = -3,     // cannot open / read / write a file
  PRED_EFORMAT = -4, // not a predictor file, wrong version, truncated or corrupt
  PRED_ENUM = -5,    // numerical failure (NaN loss, singular ridge system)
};

const char *pred_kind_name(pred_kind k);  // "lstm", "mlp", "ridge"
int pred_kind_from_name(const char *s);   // -1 when unknown

typedef struct {
  pred_kind kind;
  int members;       // ensemble size = number of folds (>= 2); 1 = one model on all data
  int epochs;        // passes over each member's training set (LSTM/MLP) ...
  int min_steps;     // ... raised so that each member makes at least this many Adam steps
                     // (small levels, e.g. the 136 one-block cells, would get few otherwise)
  int batch;         // minibatch size (LSTM/MLP)
  float lr;          // Adam learning rate; <= 0: pred_lr_for_level(max nblocks in the data)
  int embed;         // embedding size (paper: 100)
  int hidden;        // LSTM hidden size / MLP hidden layer width (paper: 100)
  double ridge_lambda; // L2 penalty of the ridge baseline (on one-hot features)
  int vocab_ops;     // [ours] op vocabulary of the models (op ids they embed): 0 = from the
                     // training cells, space_vocab_ops(ops they use); a search passes
                     // space_vocab_ops(its op mask). 8 (PNAS's space) or 13 (NASNet's).
  uint64_t seed;     // folds, initialisation and shuffling; results are independent of threads
  int threads;       // worker threads (OpenMP); 0 = OpenMP's default
  int verbose;       // 1: per-member final training loss on stderr
} pred_fit_config;

// Defaults per kind (see predictor.c for how they were chosen).
void pred_fit_config_default(pred_fit_config *cfg, pred_kind kind);
// Paper: Adam lr 0.01 when fitting on level-1 cells, 0.002 afterwards.
float pred_lr_for_level(int level);

typedef struct pred_ensemble pred_ensemble;

pred_ensemble *pred_ensemble_new(void); // NULL on OOM; an unfitted ensemble cannot predict
void pred_ensemble_free(pred_ensemble *e);
int pred_ensemble_is_fitted(const pred_ensemble *e);
pred_kind pred_ensemble_kind(const pred_ensemble *e);
int pred_ensemble_members(const pred_ensemble *e);
// Mean training L1 of each member in its last epoch (ridge: training L1 of the solution).
// Returns NULL when unfitted; length pred_ensemble_members().
const float *pred_ensemble_train_loss(const pred_ensemble *e);
// The op vocabulary of a fitted ensemble (8 or 13; 8 for files written before it was saved):
// it can score cells whose operator ids are below it, and refuses (PRED_EARG) any other.
int pred_ensemble_vocab(const pred_ensemble *e);
// What a fitted ensemble was fitted on: the operators used by its training cells (bit mask over
// space_op), their most blocks and their count. 0, or -1 when unknown (a file saved before this
// was recorded) or unfitted.
int pred_ensemble_domain(const pred_ensemble *e, uint32_t *ops, int *max_blocks, int *cells);
// Whether a score for c is an interpolation: 1 when c's operators were all seen and it has no
// more blocks than the deepest training cell, 0 when not (why: what lies outside, e.g. "3 blocks,
// fitted on <= 2"), -1 when the domain is unknown.
int pred_ensemble_covers(const pred_ensemble *e, const space_cell *c, char *why, size_t n);

// Fits every member from scratch (previous weights are dropped). acc: (n) targets in [0, 1].
// Member m of M trains on all folds but fold m (folds stratified by nblocks, from cfg->seed).
// Cells are canonicalised internally. Deterministic for a given cfg (any thread count).
int pred_ensemble_fit(pred_ensemble *e, const space_cell *cells /* (n) */,
                      const float *acc /* (n) */, int n, const pred_fit_config *cfg, char *err,
                      size_t errlen);
// mean, std: (n) each; std (may be NULL) is the population std over members. Cells of any
// length 1..SPACE_MAX_BLOCKS. The LSTM sorts the cells and runs every shared token prefix once
// (children of one parent share 4b tokens), so scoring expansions is cheap.
int pred_ensemble_predict(const pred_ensemble *e, const space_cell *cells /* (n) */, int n,
                          float *mean /* (n) */, float *std /* (n) or NULL */, int threads,
                          char *err, size_t errlen);
// Expands every parent (space_expand with the op mask) and scores all children in one call:
// children, mean, std (may be NULL) receive them in parent order; *nchildren the total.
// PRED_EARG when cap is too small (*nchildren then says how many are needed).
int pred_ensemble_score_children(const pred_ensemble *e, const space_cell *parents /* (np) */,
                                 int nparents, uint32_t mask, space_cell *children /* (cap) */,
                                 float *mean /* (cap) */, float *std /* (cap) or NULL */, int cap,
                                 int *nchildren, int threads, char *err, size_t errlen);
// Per-member predictions, out: (members, n) row-major.
int pred_ensemble_predict_members(const pred_ensemble *e, const space_cell *cells, int n,
                                  float *out /* (members, n) */, int threads, char *err,
                                  size_t errlen);

// Versioned msgpack file (magic "pnas-predictor", version PRED_FILE_VERSION). A "vocab" entry
// holds the op vocabulary when it is not 8 (files of vocabulary 8 are byte for byte as before;
// a file without the entry loads as 8). Load gives
// PRED_EFORMAT with a clear message for a wrong magic, version, truncated or garbage file.
#define PRED_FILE_MAGIC "pnas-predictor"
#define PRED_FILE_VERSION 1
int pred_ensemble_save(const pred_ensemble *e, const char *path, char *err, size_t errlen);
int pred_ensemble_load(pred_ensemble **out, const char *path, char *err, size_t errlen);
// The same, to / from memory (buf is malloc'd; caller frees).
int pred_ensemble_save_mem(const pred_ensemble *e, char **buf, size_t *len, char *err,
                           size_t errlen);
int pred_ensemble_load_mem(pred_ensemble **out, const char *buf, size_t len, char *err,
                           size_t errlen);

// --- evaluation protocol (for `pnas predictor eval|retrain`) ---
// For each level b with cells at b and b+1: fit on all cells with nblocks <= b (lr by level b
// when cfg->lr <= 0), test on the cells with nblocks == b + 1.
typedef struct {
  int train_level;   // b
  int ntrain, ntest;
  int k;             // precision@k used (min(topk, ntest))
  double spearman, kendall, prec_at_k;
  double seconds;    // wall time of the fit
} pred_level_eval;

int pred_protocol_eval(const space_cell *cells /* (n) */, const float *acc /* (n) */, int n,
                       const pred_fit_config *cfg, int topk, pred_level_eval *out, int maxout,
                       int *nout, char *err, size_t errlen);
// Fit on all n cells and save to path.
int pred_fit_and_save(const space_cell *cells, const float *acc, int n,
                      const pred_fit_config *cfg, const char *path, char *err, size_t errlen);

#endif
