// Training one child network: SGD with momentum, cosine learning-rate decay per step, weight
// decay on conv/fc weights, per-epoch reshuffling from the seed, evaluation of top-1/top-5
// accuracy. A fixed seed gives a bit-identical result on the CPU (any thread count). A child
// that diverges or runs out of memory is reported as failed with a reason; it never aborts.
// It does not load data (data/dataset.h) and does not print (progress goes to a callback).
#ifndef PNAS_TRAIN_H
#define PNAS_TRAIN_H

#include <stdint.h>

#include "data/dataset.h"
#include "searchspace/cell.h"
#include "searchspace/cost.h"

typedef struct {
  int epoch, epochs;      // epoch just finished (1-based) or in progress
  int64_t step, steps;    // optimizer steps done / total
  double loss;            // mean training loss over the steps of this epoch so far
  double lr;              // current learning rate
  double seconds;         // wall time since training started
  double img_per_s;       // training throughput so far
} train_progress;

struct kn_device; // kernels/backend.h: a device backend's opened state
struct net;       // pnas/child/net.h

typedef struct {
  int N, F;               // network: cells per stage, first-stage filters
  double stem_mult;       // 3 (CIFAR / Fashion-MNIST stem)
  const cost_widths *widths; // a pruned network's channels (searchspace/cost.h); NULL = none
  double l1_bn;           // [ours] network slimming: lambda of the L1 penalty on every BN
                          // gamma (its subgradient lambda * sign(gamma) joins the gradient); 0 off
  int epochs;
  int batch;
  double lr;              // initial learning rate, cosine-decayed to 0 over all steps
  double momentum;
  double weight_decay;    // coupled L2 on conv and fc weights (not BN gamma/beta, not fc bias)
  int train_subset;       // 0 = the whole training set given, else its first n images
  int val_subset;         // 0 = the whole validation set given, else its first n images
  uint64_t seed;          // initialisation and shuffling
  int threads;            // OpenMP threads for the CPU backend
  const char *backend;    // "cpu" (default, fast paths), "ref" (reference loops) or "cuda"
  const struct kn_backend *backend_table; // tests: a backend table used instead of `backend`
  struct kn_device *device; // "cuda": the device opened once by the caller (kn_backend.dev_open,
                          // kept across children so cuDNN algorithm choices are reused);
                          // NULL: each call opens and closes its own (slow, but works)
  data_kind kind;         // selects the normalisation mean/std (data_mean_std)
  int aug_pad;            // training augmentation (kernels/backend.h kn_aug): random crops of
  int aug_flip;           // the image padded by aug_pad (0..8), random horizontal flips; 0 = off
  int verbose;            // 1: progress callback also every ~10% of an epoch
  void (*progress)(void *user, const train_progress *p); // optional, called after each epoch
  void *progress_user;
  // optional: called once the child trained and evaluated ok, with its network (read it with
  // net_param_at / net_params_get, pnas/child/net.h; --strategy prune reads the BN gammas)
  void (*on_trained)(void *user, struct net *nt);
  void *on_trained_user;
} train_config;

typedef struct {
  int ok;                 // 1 trained and evaluated; 0 failed (see reason)
  char reason[160];       // why it failed ("" when ok)
  double val_acc, val_top5;   // top-1 / top-5 on the validation set (NAN when not evaluated)
  double test_acc, test_top5; // on the test set when one was given, else NAN
  int64_t examples;       // images processed by training: steps x batch
  int64_t steps;
  double seconds;         // wall time of training + evaluation
  double train_seconds;   // wall time of the training steps only
  int64_t params, mult_adds; // cost_network() of this child (mult-adds per image)
  double final_loss;      // mean training loss of the last epoch
  size_t memory_bytes;    // backend memory of the child
} train_result;

// Defaults sized for 2 CPU cores and search-time children: N=1, F=8, 1 epoch, batch 16, lr 0.05
// (cosine to 0), momentum 0.9, weight decay 5e-4, seed 1, 2 threads, backend "cpu",
// Fashion-MNIST. Measured for PNASNet-5 on 10,000 Fashion-MNIST images, 1 epoch, test accuracy:
// batch 16 lr 0.05: 0.8025; batch 32 lr 0.05: 0.783, lr 0.1: 0.784, lr 0.2: 0.761; batch 64
// lr 0.025: 0.771, 0.05: 0.778, 0.1: 0.767. Small batches win at one epoch (more steps);
// batch 64 is ~1.3x faster per image.
void train_config_default(train_config *cfg);

// Trains a child of `cell` on `train` and evaluates it on `val` (required) and `test` (may be
// NULL). Images must all have the same (C, H, W) and classes. Returns 0 when ok, -1 when the
// child failed (res->ok = 0 and res->reason say why); res is always filled.
int train_child(const train_config *cfg, const space_cell *cell, const data_set *train,
                const data_set *val, const data_set *test, train_result *res);

// Benchmark: times `steps` training steps (after `warmup` untimed ones) of the child on
// batches of `data` (shuffled from cfg->seed); step_seconds (steps) receives each step's wall
// time (upload, forward, backward, SGD). 0 ok; -1 with err.
// step_bytes (may be NULL) receives net_step_bytes of the child: the estimated compulsory memory
// traffic of one step.
int train_bench(const train_config *cfg, const space_cell *cell, const data_set *data, int warmup,
                int steps, double *step_seconds, double *step_bytes, char *err, size_t errlen);

// Numerics dump for bench/reference/check_net.py: builds the child (seeded), runs one training
// forward + backward on the first cfg->batch images of `data` and writes a little-endian
// binary file: "PNASDUMP", u32 version 1, i64 nparams, i32 n, c, h, w, classes, then f32 params
// (construction order), f32 x (n,c,h,w) normalised, i32 labels (n), f32 logits (n,classes),
// f32 loss, f32 param grads. 0 ok; -1 with err.
int train_dump_step(const train_config *cfg, const space_cell *cell, const data_set *data,
                    const char *path, char *err, size_t errlen);

#endif
