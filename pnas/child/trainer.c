// The child trainer (see train.h): batches gathered from a seeded per-epoch permutation,
// uint8 pixels normalised with a per-channel lookup table, SGD + momentum with per-step cosine
// decay, divergence / out-of-memory detection, then top-1/top-5 evaluation with BN running
// statistics. Everything that depends on randomness comes from cfg->seed via space_rng.
#include "pnas/child/trainer.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/backend.h"
#include "pnas/child/net.h"
#include "searchspace/cost.h"

void train_config_default(train_config *c) {
  memset(c, 0, sizeof *c);
  c->N = 1;
  c->F = 8;
  c->stem_mult = 3.0;
  c->epochs = 1;
  c->batch = 16;
  c->lr = 0.05;
  c->momentum = 0.9;
  c->weight_decay = 5e-4;
  c->seed = 1;
  c->threads = 2;
  c->backend = "cpu";
  c->kind = DATA_FASHION_MNIST;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
  float lut[3][256]; // normalised value of each uint8 level, per channel
  int chw, hw, c;
} norm_table;

static void norm_init(norm_table *t, data_kind kind, int c, int h, int w) {
  float mean[3] = {0.5f, 0.5f, 0.5f}, std[3] = {0.5f, 0.5f, 0.5f};
  data_mean_std(kind, mean, std);
  for (int k = 0; k < 3; k++)
    for (int v = 0; v < 256; v++)
      t->lut[k][v] = ((float)v / 255.0f - mean[k]) / (std[k] > 0 ? std[k] : 1.0f);
  t->c = c;
  t->hw = h * w;
  t->chw = c * h * w;
}

// x (nb, C, H, W) and labels (nb) for images idx[0..nb) of d.
static void gather(const norm_table *t, const data_set *d, const int *idx, int nb, float *x,
                   int32_t *labels) {
  for (int i = 0; i < nb; i++) {
    const uint8_t *src = d->images + (size_t)idx[i] * t->chw;
    float *dst = x + (size_t)i * t->chw;
    for (int k = 0; k < t->c; k++) {
      const float *lut = t->lut[k < 3 ? k : 2];
      for (int j = 0; j < t->hw; j++) dst[k * t->hw + j] = lut[src[k * t->hw + j]];
    }
    labels[i] = d->labels[idx[i]];
  }
}

// A context for cfg's backend. A device backend gets cfg->device, or a device opened for this
// call (*owned, to close with close_ctx). 0 ok, -1 with err (unknown backend, no usable GPU).
static int open_ctx(kn_ctx *ctx, const train_config *cfg, kn_device **owned, char *err,
                    size_t errlen) {
  *owned = NULL;
  const kn_backend *be =
      cfg->backend_table ? cfg->backend_table : kn_backend_by_name(cfg->backend ? cfg->backend : "cpu");
  if (!be) {
    snprintf(err, errlen, "unknown backend '%s'", cfg->backend);
    return -1;
  }
  kn_device *dev = cfg->device;
  if (be->dev_open && !dev) {
    if (be->dev_open(&dev, err, errlen)) return -1;
    *owned = dev;
  }
  kn_ctx_init(ctx, be, cfg->threads);
  ctx->dev = dev;
  return 0;
}

static void close_ctx(kn_ctx *ctx, kn_device *owned) {
  const kn_backend *be = ctx->be;
  kn_ctx_release(ctx);
  if (owned) be->dev_close(owned);
}

// Why a context failed: the device backend's reason, else host scratch.
static const char *ctx_why(const kn_ctx *ctx) {
  return ctx->reason[0] ? ctx->reason : "out of memory for kernel scratch";
}

static int failf(train_result *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  r->ok = 0;
  vsnprintf(r->reason, sizeof r->reason, fmt, ap);
  va_end(ap);
  return -1;
}

// A child's training session. The data (uint8), the normalisation table, the epoch's
// permutation, the step state, the learning-rate schedule and the loss/accuracy accumulators
// live in backend memory (kernels/backend.h: gather_u8, loss_acc, tick, topk_count), so a
// training step reads nothing from the host: on a GPU there is no per-step round trip, the loss
// is read back only when it is logged, and after one eager warm-up step the step is captured as a
// CUDA graph and replayed (PNAS_CUDA_GRAPHS=0 turns that off). On the CPU backends the same ops
// run on host memory, so both paths are one code path and CPU results are unchanged.
typedef struct {
  kn_ctx ctx;
  kn_device *owned;
  int ctx_open;
  const kn_backend *be;
  net *nt;
  int c, h, w, batch, classes;
  kn_aug aug;        // training batches' augmentation (pad 0 and no flip: none)
  float *lut;        // (c, 256)
  int32_t *st;       // step state: [0] step of the run, [1] position in the permutation
  float *lr;         // the current step's learning rate
  float *lr_table;   // (steps + 1)
  double *acc;       // loss sum, first non-finite step, its loss
  int32_t *cnt;      // top-1 / top-5 counts
  size_t data_bytes; // backend memory held for data and state
  void *graph;       // the captured training step (device backends)
  int graphs;        // 1: capture and replay steps
  int64_t eager;     // steps run eagerly so far
} session;

static void *sess_alloc(session *S, size_t bytes) {
  void *p = S->be->alloc(&S->ctx, bytes ? bytes : 4);
  if (p) S->data_bytes += bytes;
  else S->ctx.failed = 1;
  return p;
}

static void sess_free_buf(session *S, void *p) {
  if (p) S->be->free(&S->ctx, p);
}

static void sess_close(session *S) {
  if (S->graph) S->be->graph_free(&S->ctx, S->graph);
  S->graph = NULL;
  net_free(S->nt);
  S->nt = NULL;
  void *bufs[] = {S->lut, S->st, S->lr, S->lr_table, S->acc, S->cnt};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) sess_free_buf(S, bufs[i]);
  if (S->ctx_open) close_ctx(&S->ctx, S->owned);
  S->ctx_open = 0;
}

// Frees a training run's host buffers and data, then the session.
static void sess_end(session *S, float *table, int *perm, uint8_t *img, int32_t *lab,
                     int32_t *perm_dev) {
  free(table);
  free(perm);
  sess_free_buf(S, img);
  sess_free_buf(S, lab);
  sess_free_buf(S, perm_dev);
  sess_close(S);
}

// Opens the backend, builds the network and the state buffers. 0 ok, -1 with err.
static int sess_open(session *S, const train_config *cfg, const space_cell *cell, int c, int h,
                     int w, int classes, int batch, int64_t steps, char *err, size_t errlen) {
  memset(S, 0, sizeof *S);
  if (open_ctx(&S->ctx, cfg, &S->owned, err, errlen)) return -1;
  S->ctx_open = 1;
  S->be = S->ctx.be;
  S->c = c;
  S->h = h;
  S->w = w;
  S->aug.pad = cfg->aug_pad;
  S->aug.flip = cfg->aug_flip;
  S->aug.seed = cfg->seed ^ 0x6175676d656e7431ull; // "augment1": its own stream
  S->batch = batch;
  S->classes = classes;
  space_rng rng;
  space_rng_seed(&rng, cfg->seed);
  net_config nc = {cfg->N, cfg->F, c, h, w, classes, cfg->stem_mult, batch, cfg->widths};
  if (net_create(&S->nt, cell, &nc, &S->ctx, space_rng_next(&rng), err, errlen)) {
    if (S->ctx.failed) snprintf(err, errlen, "%s", ctx_why(&S->ctx));
    sess_close(S);
    return -1;
  }
  S->lut = sess_alloc(S, (size_t)c * 256 * sizeof(float));
  S->st = sess_alloc(S, 2 * sizeof(int32_t));
  S->lr = sess_alloc(S, sizeof(float));
  S->lr_table = sess_alloc(S, (size_t)(steps + 1) * sizeof(float));
  S->acc = sess_alloc(S, 3 * sizeof(double));
  S->cnt = sess_alloc(S, 2 * sizeof(int32_t));
  if (S->ctx.failed) {
    snprintf(err, errlen, "out of %s memory for the training state", S->be->name);
    sess_close(S);
    return -1;
  }
  norm_table t;
  norm_init(&t, cfg->kind, c, h, w);
  float lut[3 * 256];
  for (int k = 0; k < c; k++) memcpy(lut + 256 * k, t.lut[k < 3 ? k : 2], sizeof t.lut[0]);
  S->be->upload(&S->ctx, S->lut, lut, (size_t)c * 256 * sizeof(float));
  const char *g = getenv("PNAS_CUDA_GRAPHS");
  S->graphs = S->be->graph_begin && !(g && !strcmp(g, "0"));
  return 0;
}

// The first n images of d and their labels (int32) in backend memory.
static int sess_data(session *S, const data_set *d, int n, uint8_t **img, int32_t **lab) {
  size_t chw = (size_t)d->c * d->h * d->w;
  *img = sess_alloc(S, (size_t)n * chw);
  *lab = sess_alloc(S, (size_t)n * sizeof(int32_t));
  int32_t *hl = malloc((size_t)n * sizeof(int32_t));
  if (!*img || !*lab || !hl) {
    free(hl);
    S->ctx.failed = 1;
    return -1;
  }
  for (int i = 0; i < n; i++) hl[i] = d->labels[i];
  S->be->upload(&S->ctx, *img, d->images, (size_t)n * chw);
  S->be->upload(&S->ctx, *lab, hl, (size_t)n * sizeof(int32_t));
  free(hl);
  return 0;
}

// Step state for the next step: st = {step, pos}, lr = schedule[step].
static void sess_set_state(session *S, int64_t step, int pos, float lr) {
  int32_t st[2] = {(int32_t)step, pos};
  S->be->upload(&S->ctx, S->st, st, sizeof st);
  S->be->upload(&S->ctx, S->lr, &lr, sizeof lr);
}

static void sess_reset_acc(session *S) {
  double acc[3] = {0, -1, 0};
  S->be->upload(&S->ctx, S->acc, acc, sizeof acc);
}

// What one captured unit of work reads: the data, its permutation and (training) the optimizer
// settings. The buffers must stay the same for the whole session (a graph keeps addresses).
typedef struct {
  const uint8_t *img;
  const int32_t *lab, *perm;
  float momentum, wd;
  float l1;   // network slimming: lambda of the L1 penalty on BN gammas (0 = off)
  int nb;     // evaluation: batch rows
} step_args;

// The ops of one training step: batch from (img, lab, perm) at the step state, forward,
// backward, loss bookkeeping, SGD at the scheduled rate, advance the state.
static void train_ops(session *S, const step_args *a) {
  kn_ctx *ctx = &S->ctx;
  S->be->gather_u8(ctx, S->batch, S->c, S->h, S->w, a->img, a->lab, a->perm, S->st, S->lut,
                   &S->aug, net_input_buf(S->nt), net_labels_buf(S->nt));
  net_forward(S->nt, S->batch, 1);
  net_backward_dev(S->nt, S->batch);
  if (a->l1 > 0) net_l1_bn_dev(S->nt, a->l1);
  S->be->loss_acc(ctx, net_loss_buf(S->nt), S->st, S->acc);
  net_sgd_dev(S->nt, S->lr, a->momentum, a->wd);
  S->be->tick(ctx, S->st, S->batch, S->lr_table, S->lr);
}

// The ops of one evaluation batch: gather (no augmentation), inference forward, top-k counts,
// advance the position.
static void eval_ops(session *S, const step_args *a) {
  S->be->gather_u8(&S->ctx, a->nb, S->c, S->h, S->w, a->img, a->lab, a->perm, S->st, S->lut,
                   NULL, net_input_buf(S->nt), net_labels_buf(S->nt));
  net_forward(S->nt, a->nb, 0);
  S->be->topk_count(&S->ctx, a->nb, S->classes, net_logits_buf(S->nt), net_labels_buf(S->nt),
                    S->cnt);
  S->be->tick(&S->ctx, S->st, a->nb, NULL, NULL);
}

// Runs ops once: eagerly the first time (cuDNN plans, scratch growth), then as a captured
// graph (*graph) replayed; a capture that fails leaves this child eager (S->graphs = 0).
static void run_unit(session *S, void **graph, int64_t *eager,
                     void (*ops)(session *, const step_args *), const step_args *a) {
  const kn_backend *be = S->be;
  kn_ctx *ctx = &S->ctx;
  if (*graph) {
    int r = be->graph_launch(ctx, *graph);
    if (r <= 0) return; // ran, or failed (ctx failed)
    be->graph_free(ctx, *graph); // stale: scratch moved; capture again
    *graph = NULL;
  }
  if (S->graphs && *eager > 0 && !ctx->failed) {
    if (be->graph_begin(ctx) == 0) {
      ops(S, a); // captured, not run
      if (be->graph_end(ctx, graph) == 0) {
        if (be->graph_launch(ctx, *graph) == 0 || ctx->failed) return;
      }
    }
    if (ctx->failed) return;
    S->graphs = 0; // capture failed (said on stderr): this child runs eagerly
    if (*graph) be->graph_free(ctx, *graph);
    *graph = NULL;
  }
  ops(S, a);
  (*eager)++;
}

static void sess_step(session *S, const uint8_t *img, const int32_t *lab, const int32_t *perm,
                      float momentum, float wd, float l1) {
  step_args a = {img, lab, perm, momentum, wd, l1, S->batch};
  run_unit(S, &S->graph, &S->eager, train_ops, &a);
}

// Top-1 and top-5 accuracy on the first n images of d (BN in inference mode), counted in backend
// memory and read back once.
static int sess_evaluate(session *S, const data_set *d, int n, double *top1, double *top5) {
  *top1 = *top5 = NAN;
  if (n < 1) return 0;
  uint8_t *img = NULL;
  int32_t *lab = NULL, *perm = NULL, *ident = malloc((size_t)n * sizeof(int32_t));
  int rc = -1;
  if (!ident || sess_data(S, d, n, &img, &lab)) goto out;
  perm = sess_alloc(S, (size_t)n * sizeof(int32_t));
  if (!perm) goto out;
  for (int i = 0; i < n; i++) ident[i] = i;
  S->be->upload(&S->ctx, perm, ident, (size_t)n * sizeof(int32_t));
  int32_t zero[2] = {0, 0}, cnt[2] = {0, 0};
  S->be->upload(&S->ctx, S->st, zero, sizeof zero);
  S->be->upload(&S->ctx, S->cnt, zero, sizeof zero);
  void *graph = NULL; // full batches replay one captured evaluation batch
  int64_t eager = 0;
  for (int s = 0; s < n && !S->ctx.failed; s += S->batch) {
    int nb = n - s < S->batch ? n - s : S->batch;
    step_args a = {img, lab, perm, 0, 0, 0, nb};
    if (nb == S->batch) run_unit(S, &graph, &eager, eval_ops, &a);
    else eval_ops(S, &a);
  }
  if (graph) S->be->graph_free(&S->ctx, graph);
  S->be->download(&S->ctx, cnt, S->cnt, sizeof cnt);
  if (!S->ctx.failed) {
    *top1 = (double)cnt[0] / n;
    *top5 = (double)cnt[1] / n;
    rc = 0;
  }
out:
  free(ident);
  sess_free_buf(S, img);
  sess_free_buf(S, lab);
  sess_free_buf(S, perm);
  return rc;
}

int train_child(const train_config *cfg, const space_cell *cell, const data_set *train,
                const data_set *val, const data_set *test, train_result *res) {
  memset(res, 0, sizeof *res);
  res->val_acc = res->val_top5 = res->test_acc = res->test_top5 = NAN;
  res->final_loss = NAN;
  double t0 = now_s();
  if (!train || !val || train->n < 1 || val->n < 1)
    return failf(res, "empty training or validation set");
  if (val->c != train->c || val->h != train->h || val->w != train->w ||
      (test && (test->c != train->c || test->h != train->h || test->w != train->w)))
    return failf(res, "image shapes of the data sets differ");
  if (cfg->epochs < 1 || cfg->batch < 1 || !(cfg->lr > 0) || cfg->N < 1 || cfg->F < 2 ||
      cfg->aug_pad < 0 || cfg->aug_pad > 8 || (cfg->aug_flip != 0 && cfg->aug_flip != 1))
    return failf(res, "invalid training configuration");
  int ntrain = cfg->train_subset > 0 && cfg->train_subset < train->n ? cfg->train_subset : train->n;
  int nval = cfg->val_subset > 0 && cfg->val_subset < val->n ? cfg->val_subset : val->n;
  int batch = cfg->batch < ntrain ? cfg->batch : ntrain;
  int classes = train->classes;

  cost_config cc = {cfg->N,  cfg->F,  train->c,        train->h,
                    train->w, classes, COST_STEM_CIFAR, cfg->stem_mult, cfg->widths};
  cost_result cr;
  char err[256];
  if (cost_network(cell, &cc, &cr, err, sizeof err) == 0) {
    res->params = cr.params;
    res->mult_adds = cr.mult_adds;
  }
  int64_t steps_per_epoch = ntrain / batch, total = steps_per_epoch * cfg->epochs, step = 0;
  session S;
  if (sess_open(&S, cfg, cell, train->c, train->h, train->w, classes, batch, total, err,
                sizeof err))
    return failf(res, "%s", err);
  space_rng rng; // the same stream as the network's initialisation, then the permutations
  space_rng_seed(&rng, cfg->seed);
  (void)space_rng_next(&rng);
  uint8_t *img = NULL;
  int32_t *lab = NULL, *perm_dev = NULL;
  float *table = malloc((size_t)(total + 1) * sizeof(float));
  int *perm = malloc((size_t)ntrain * sizeof(int));
  int rc = 0;
  if (!table || !perm || sess_data(&S, train, ntrain, &img, &lab) ||
      !(perm_dev = sess_alloc(&S, (size_t)ntrain * sizeof(int32_t)))) {
    rc = failf(res, "%s", S.ctx.failed && S.ctx.reason[0] ? S.ctx.reason
                                                          : "out of memory for the training data");
    goto done;
  }
  for (int64_t i = 0; i <= total; i++)
    table[i] = (float)(0.5 * cfg->lr * (1.0 + cos(M_PI * (double)i / (double)total)));
  S.be->upload(&S.ctx, S.lr_table, table, (size_t)(total + 1) * sizeof(float));
  for (int i = 0; i < ntrain; i++) perm[i] = i;
  res->memory_bytes = net_memory_bytes(S.nt) + S.data_bytes;

  // Host backends read the loss after every step (free: host memory), so a diverged child stops
  // at once; a device reads it only when it is logged and at the end of each epoch.
  int host = S.be->dev_open == NULL;
  // Divergence without NaN or inf: a loss that explodes to a huge finite value (--lr 100 gives
  // 1e15) trains nothing, yet would be validated and recorded as a trained child. An untrained
  // classifier starts near ln(classes) (2.3 for 10 classes) and training lowers it, so a mean
  // step loss above 100 x ln(classes) (230 for 10 classes; at least 100) is taken as diverged.
  // It is checked where a device reads the loss back (log points and epoch ends), on every
  // backend alike, over the steps since the previous such point, so the CPU and a device fail
  // the same child at the same step with the same reason (a NaN/inf found first keeps its own
  // exact step, as before).
  const double loss_limit = 100.0 * (classes > 2 ? log((double)classes) : 1.0);
  int every = cfg->verbose ? (int)(steps_per_epoch / 10 > 0 ? steps_per_epoch / 10 : 1) : 0;
  const float mom = (float)cfg->momentum, wd = (float)cfg->weight_decay;
  double tr0 = now_s();
  for (int e = 1; e <= cfg->epochs; e++) {
    for (int i = ntrain - 1; i > 0; i--) { // Fisher-Yates from the seeded RNG
      int j = space_rng_below(&rng, i + 1), t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    S.be->upload(&S.ctx, perm_dev, perm, (size_t)ntrain * sizeof(int32_t));
    sess_set_state(&S, step, 0, table[step]);
    sess_reset_acc(&S);
    double acc[3] = {0, -1, 0};
    double read_sum = 0; // acc[0] and the epoch's step count at the last read-back
    int64_t read_s = 0;
    for (int64_t s = 0; s < steps_per_epoch; s++, step++) {
      if (host && s % 32 == 0) S.ctx.threads = kn_threads_for_load(cfg->threads);
      sess_step(&S, img, lab, perm_dev, mom, wd, (float)cfg->l1_bn);
      int logged = cfg->progress && every && (s + 1) % every == 0 && s + 1 < steps_per_epoch;
      if (S.ctx.failed) {
        rc = failf(res, "%s", ctx_why(&S.ctx));
        goto done;
      }
      if (!host && !logged && s + 1 < steps_per_epoch) continue;
      S.be->download(&S.ctx, acc, S.acc, sizeof acc);
      if (S.ctx.failed) {
        rc = failf(res, "%s", ctx_why(&S.ctx));
        goto done;
      }
      if (acc[1] >= 0) {
        int64_t bad = (int64_t)acc[1];
        rc = failf(res, "diverged: loss is %s at step %lld (epoch %d)",
                   isnan(acc[2]) ? "NaN" : "inf", (long long)bad, (int)(bad / steps_per_epoch) + 1);
        res->steps = bad;
        res->examples = bad * batch;
        goto done;
      }
      if (!logged && s + 1 < steps_per_epoch) continue; // the host reads on: NaN at once
      double win = (acc[0] - read_sum) / (double)(s + 1 - read_s);
      if (!(win <= loss_limit)) {
        rc = failf(res, "diverged: loss %.3g at step %lld (epoch %d; over %.0f = 100 x ln %d "
                        "classes)",
                   win, (long long)step, e, loss_limit, classes);
        res->steps = step; // as for NaN: the steps before the one that failed (0-based)
        res->examples = step * batch;
        goto done;
      }
      read_sum = acc[0], read_s = s + 1;
      if (logged) {
        double el = now_s() - tr0;
        double lr = 0.5 * cfg->lr * (1.0 + cos(M_PI * (double)step / (double)total));
        train_progress p = {e, cfg->epochs, step + 1, total, acc[0] / (double)(s + 1), lr, el,
                            (double)(step + 1) * batch / el};
        cfg->progress(cfg->progress_user, &p);
      }
    }
    res->final_loss = steps_per_epoch ? acc[0] / (double)steps_per_epoch : NAN;
    if (cfg->progress) {
      double el = now_s() - tr0;
      train_progress p = {e, cfg->epochs, step, total, res->final_loss,
                          0.5 * cfg->lr * (1.0 + cos(M_PI * (double)step / (double)total)), el,
                          el > 0 ? (double)step * batch / el : 0};
      cfg->progress(cfg->progress_user, &p);
    }
  }
  res->train_seconds = now_s() - tr0;
  res->steps = step;
  res->examples = step * batch;
  // the training data's memory goes back before evaluation uploads its sets
  sess_free_buf(&S, img);
  sess_free_buf(&S, lab);
  sess_free_buf(&S, perm_dev);
  img = NULL, lab = NULL, perm_dev = NULL;
  if (sess_evaluate(&S, val, nval, &res->val_acc, &res->val_top5) ||
      (test && sess_evaluate(&S, test, test->n, &res->test_acc, &res->test_top5))) {
    rc = failf(res, "%s", S.ctx.failed ? ctx_why(&S.ctx) : "out of memory for evaluation");
    goto done;
  }
  res->ok = 1;
  if (cfg->on_trained) cfg->on_trained(cfg->on_trained_user, S.nt);
done:
  res->seconds = now_s() - t0;
  sess_end(&S, table, perm, img, lab, perm_dev);
  return rc;
}

int train_bench(const train_config *cfg, const space_cell *cell, const data_set *data, int warmup,
                int steps, double *step_seconds, double *step_bytes, char *err, size_t errlen) {
  int batch = cfg->batch;
  if (data->n < batch || steps < 1 || warmup < 0) {
    snprintf(err, errlen, "bench: need at least one batch of data");
    return -1;
  }
  int64_t total = (int64_t)warmup + steps;
  session S;
  if (sess_open(&S, cfg, cell, data->c, data->h, data->w, data->classes, batch, total, err,
                errlen))
    return -1;
  space_rng rng;
  space_rng_seed(&rng, cfg->seed);
  (void)space_rng_next(&rng);
  uint8_t *img = NULL;
  int32_t *lab = NULL, *perm_dev = NULL;
  float *table = malloc((size_t)(total + 1) * sizeof(float));
  int *perm = malloc((size_t)data->n * sizeof(int));
  int rc = 0;
  if (!table || !perm || sess_data(&S, data, data->n, &img, &lab) ||
      !(perm_dev = sess_alloc(&S, (size_t)data->n * sizeof(int32_t)))) {
    snprintf(err, errlen, "bench: out of memory for the data");
    rc = -1;
    goto out;
  }
  for (int64_t i = 0; i <= total; i++) table[i] = (float)cfg->lr;
  S.be->upload(&S.ctx, S.lr_table, table, (size_t)(total + 1) * sizeof(float));
  for (int i = 0; i < data->n; i++) perm[i] = i;
  if (step_bytes) *step_bytes = net_step_bytes(S.nt, batch);
  int per_pass = data->n / batch, pos = per_pass;
  sess_reset_acc(&S);
  for (int64_t s = 0; s < total; s++, pos++) {
    if (pos == per_pass) { // a new pass over the data: reshuffle, as an epoch does
      for (int i = data->n - 1; i > 0; i--) {
        int j = space_rng_below(&rng, i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
      }
      S.be->upload(&S.ctx, perm_dev, perm, (size_t)data->n * sizeof(int32_t));
      sess_set_state(&S, s, 0, table[s]);
      pos = 0;
    }
    double t0 = now_s();
    sess_step(&S, img, lab, perm_dev, (float)cfg->momentum, (float)cfg->weight_decay,
              (float)cfg->l1_bn);
    double acc[3];
    S.be->download(&S.ctx, acc, S.acc, sizeof acc); // waits for the step
    if (s >= warmup) step_seconds[s - warmup] = now_s() - t0;
    if (S.ctx.failed) {
      snprintf(err, errlen, "bench: %s", ctx_why(&S.ctx));
      rc = -1;
      break;
    }
  }
out:
  sess_end(&S, table, perm, img, lab, perm_dev);
  return rc;
}

int train_dump_step(const train_config *cfg, const space_cell *cell, const data_set *data,
                    const char *path, char *err, size_t errlen) {
  int nb = cfg->batch < data->n ? cfg->batch : data->n;
  if (nb < 1) {
    snprintf(err, errlen, "dump: need data");
    return -1;
  }
  kn_ctx ctx;
  kn_device *owned;
  if (open_ctx(&ctx, cfg, &owned, err, errlen)) return -1;
  space_rng rng;
  space_rng_seed(&rng, cfg->seed);
  net_config nc = {cfg->N, cfg->F, data->c, data->h, data->w, data->classes, cfg->stem_mult, nb,
                   cfg->widths};
  net *nt = NULL;
  if (net_create(&nt, cell, &nc, &ctx, space_rng_next(&rng), err, errlen)) {
    close_ctx(&ctx, owned);
    return -1;
  }
  int64_t P = net_num_params(nt);
  size_t chw = (size_t)data->c * data->h * data->w;
  float *params = malloc((size_t)P * sizeof(float)), *grads = malloc((size_t)P * sizeof(float));
  float *x = malloc((size_t)nb * chw * sizeof(float));
  float *logits = malloc((size_t)nb * data->classes * sizeof(float));
  int32_t *labels = malloc((size_t)nb * sizeof(int32_t));
  int *idx = malloc((size_t)nb * sizeof(int));
  int rc = -1;
  FILE *f = NULL;
  if (!params || !grads || !x || !logits || !labels || !idx) {
    snprintf(err, errlen, "dump: out of memory");
    goto out;
  }
  norm_table t;
  norm_init(&t, cfg->kind, data->c, data->h, data->w);
  for (int i = 0; i < nb; i++) idx[i] = i;
  gather(&t, data, idx, nb, x, labels);
  net_params_get(nt, params);
  net_set_batch(nt, x, labels, nb);
  net_forward(nt, nb, 1);
  net_get_logits(nt, logits, nb);
  float loss = net_backward(nt, nb);
  net_grads_get(nt, grads);
  f = fopen(path, "wb");
  if (!f) {
    snprintf(err, errlen, "dump: cannot write %s", path);
    goto out;
  }
  uint32_t ver = 1;
  int32_t dims[5] = {nb, data->c, data->h, data->w, data->classes};
  int ok = fwrite("PNASDUMP", 1, 8, f) == 8 && fwrite(&ver, 4, 1, f) == 1 &&
           fwrite(&P, 8, 1, f) == 1 && fwrite(dims, 4, 5, f) == 5 &&
           fwrite(params, 4, (size_t)P, f) == (size_t)P &&
           fwrite(x, 4, (size_t)nb * chw, f) == (size_t)nb * chw &&
           fwrite(labels, 4, (size_t)nb, f) == (size_t)nb &&
           fwrite(logits, 4, (size_t)nb * data->classes, f) == (size_t)nb * data->classes &&
           fwrite(&loss, 4, 1, f) == 1 && fwrite(grads, 4, (size_t)P, f) == (size_t)P;
  if (fclose(f) || !ok) {
    snprintf(err, errlen, "dump: write error on %s", path);
    goto out;
  }
  rc = 0;
out:
  free(params);
  free(grads);
  free(x);
  free(logits);
  free(labels);
  free(idx);
  net_free(nt);
  close_ctx(&ctx, owned);
  return rc;
}
