// The RL baseline's controller (Zoph & Le 2017, NASNet 2018): a 1-layer LSTM that samples a whole
// B-block cell token by token (I1, I2, O1, O2 per block, as space_tokens) with invalid inputs and
// ops masked, trained by REINFORCE with Adam. It reuses the predictor's LSTM parameter layout,
// initialisation (predictor/lstm.h) and Adam (predictor/adam.h); the per-step forward/backward
// with softmax heads lives here because the predictor's LSTM is sequence-to-one.
// It does not evaluate cells or keep the reward baseline (pnas/strategies/strategy_rl.c does).
#ifndef PNAS_RL_CONTROLLER_H
#define PNAS_RL_CONTROLLER_H

#include <stddef.h>
#include <stdint.h>

#include "predictor/adam.h"
#include "predictor/lstm.h"
#include "searchspace/cell.h"

#define RL_MAX_STEPS (4 * SPACE_MAX_BLOCKS)

// One flat parameter buffer: [ lstm_model params (lstm_nparams(V, E, H)) | heads ].
// The LSTM part is used exactly as the predictor lays it out; its w_fc / b_fc (the predictor's
// scalar output) are unused by the controller and get zero gradient.
typedef struct {
  int E, H;          // embedding and hidden size (NASNet: 100 / 100)
  int nblocks;       // B: cells have 4B tokens
  int pair;          // 1: NASNet pairs, 8B tokens (the normal cell's, then the reduction cell's)
  int nop;           // op ids of the op head: vocab, or SPACE_NUM_OPS for pairs
  uint32_t ops;      // allowed ops (others are masked out)
  int vocab;         // op vocabulary, space_vocab_ops(ops): 8 (PNAS's space) or 13 (NASNet's);
                     // the LSTM embeds SPACE_NUM_INPUTS + vocab tokens, the op head vocab
  int nparams;       // total, lstm part + heads
  float *p;          // (nparams) owned
  lstm_model lstm;   // views into p (lstm.p == p; never lstm_release it)
  float *w_in;       // (H, SPACE_NUM_INPUTS) input-token head
  float *b_in;       // (SPACE_NUM_INPUTS)
  float *w_op;       // (H, vocab) op-token head
  float *b_op;       // (vocab)
  struct rl_ws *ws;  // scratch for one episode's forward/backward, allocated once by init
} rl_controller;

// One sampled cell: the actions (input ids at positions t%4 < 2, op ids otherwise), in the
// order they were sampled (branches not canonicalised), with their log-probability and the sum
// of the per-step entropies of the masked distributions.
typedef struct {
  int len;                    // 4 * nblocks (8 * nblocks for a pair)
  uint8_t act[RL_MAX_STEPS];  // (len)
  double logp, entropy;
  space_cell cell;            // the cell the actions spell (not canonicalised)
} rl_episode;

// Allocates parameters and all scratch memory, and initialises (LSTM: lstm_randomize; heads:
// U(-0.1, 0.1)) from seed: the functions below never allocate. 0 ok, -1 OOM or bad arguments.
// pair: sample NASNet pairs of two nblocks-block cells (2 * nblocks <= SPACE_MAX_BLOCKS).
int rl_controller_init(rl_controller *c, int E, int H, int nblocks, int pair, uint32_t ops,
                       uint64_t seed);
void rl_controller_release(rl_controller *c);

// Samples one cell with the rng (one uniform draw per token).
void rl_controller_sample(const rl_controller *c, space_rng *r, rl_episode *ep);
// Log-probability and entropy of the given actions under the current parameters.
void rl_controller_score(const rl_controller *c, rl_episode *ep);

// REINFORCE loss of a batch with fixed actions:
//   L = -(1/n) sum_i adv_i * logp_i  -  beta * (1/n) sum_i sum_t H_t
// Returns L; when grad != NULL, dL/dparams (nparams) is ADDED to grad.
double rl_controller_loss(const rl_controller *c, const rl_episode *eps /* (n) */,
                          const double *adv /* (n) */, int n, double beta, float *grad);
// One Adam step on the batch. 0 ok, -1 out of memory (the gradient buffer).
int rl_controller_update(rl_controller *c, pred_adam *adam, const rl_episode *eps, const double *adv,
                         int n, double beta);

// Versioned msgpack image (magic "pnas-rl-controller", version 1): sizes, ops, parameters,
// Adam moments and the caller's scalars (reward baseline, updates), sealed by a last entry
// "crc32" (common/crc32.h). buf is malloc'd. 0 ok, -1 out of memory.
#define RL_FILE_MAGIC "pnas-rl-controller"
#define RL_FILE_VERSION 1
int rl_controller_save_mem(const rl_controller *c, const pred_adam *adam, double baseline,
                           int updates, char **buf, size_t *len);

#endif
