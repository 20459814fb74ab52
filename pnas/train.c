// The child trainer (see train.h): batches gathered from a seeded per-epoch permutation,
// uint8 pixels normalised with a per-channel lookup table, SGD + momentum with per-step cosine
// decay, divergence / out-of-memory detection, then top-1/top-5 evaluation with BN running
// statistics. Everything that depends on randomness comes from cfg->seed via space_rng.
#include "pnas/train.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/backend.h"
#include "pnas/net.h"
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

// Top-1 and top-5 accuracy on the first n images of d (BN in inference mode).
static void evaluate(net *nt, const norm_table *t, const data_set *d, int n, int batch,
                     int classes, float *x, int32_t *labels, int *idx, float *logits,
                     double *top1, double *top5) {
  int64_t c1 = 0, c5 = 0;
  for (int s = 0; s < n; s += batch) {
    int nb = n - s < batch ? n - s : batch;
    for (int i = 0; i < nb; i++) idx[i] = s + i;
    gather(t, d, idx, nb, x, labels);
    net_set_batch(nt, x, NULL, nb);
    net_forward(nt, nb, 0);
    net_get_logits(nt, logits, nb);
    for (int i = 0; i < nb; i++) {
      const float *z = logits + (size_t)i * classes;
      float zl = z[labels[i]];
      int rank = 0; // classes scoring strictly higher than the label (ties favour the label)
      for (int k = 0; k < classes; k++) rank += z[k] > zl;
      c1 += rank == 0;
      c5 += rank < 5;
    }
  }
  *top1 = n ? (double)c1 / n : NAN;
  *top5 = n ? (double)c5 / n : NAN;
}

// A context for cfg's backend. A device backend gets cfg->device, or a device opened for this
// call (*owned, to close with close_ctx). 0 ok, -1 with err (unknown backend, no usable GPU).
static int open_ctx(kn_ctx *ctx, const train_config *cfg, kn_device **owned, char *err,
                    size_t errlen) {
  *owned = NULL;
  const kn_backend *be = kn_backend_by_name(cfg->backend ? cfg->backend : "cpu");
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
  kn_ctx_free(ctx);
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
  if (cfg->epochs < 1 || cfg->batch < 1 || !(cfg->lr > 0) || cfg->N < 1 || cfg->F < 2)
    return failf(res, "invalid training configuration");
  int ntrain = cfg->train_subset > 0 && cfg->train_subset < train->n ? cfg->train_subset : train->n;
  int nval = cfg->val_subset > 0 && cfg->val_subset < val->n ? cfg->val_subset : val->n;
  int batch = cfg->batch < ntrain ? cfg->batch : ntrain;
  int classes = train->classes;

  cost_config cc = {cfg->N,  cfg->F,  train->c,        train->h,
                    train->w, classes, COST_STEM_CIFAR, cfg->stem_mult};
  cost_result cr;
  char err[256];
  if (cost_network(cell, &cc, &cr, err, sizeof err) == 0) {
    res->params = cr.params;
    res->mult_adds = cr.mult_adds;
  }

  kn_ctx ctx;
  kn_device *owned;
  if (open_ctx(&ctx, cfg, &owned, err, sizeof err)) return failf(res, "%s", err);
  space_rng rng;
  space_rng_seed(&rng, cfg->seed);
  net_config nc = {cfg->N, cfg->F, train->c, train->h, train->w, classes, cfg->stem_mult, batch};
  net *nt = NULL;
  if (net_create(&nt, cell, &nc, &ctx, space_rng_next(&rng), err, sizeof err)) {
    if (ctx.failed) snprintf(err, sizeof err, "%s", ctx_why(&ctx));
    close_ctx(&ctx, owned);
    return failf(res, "%s", err);
  }
  res->memory_bytes = net_memory_bytes(nt);
  size_t chw = (size_t)train->c * train->h * train->w;
  int nidx = ntrain > batch ? ntrain : batch;
  float *x = malloc((size_t)batch * chw * sizeof(float));
  float *logits = malloc((size_t)batch * classes * sizeof(float));
  int32_t *labels = malloc((size_t)batch * sizeof(int32_t));
  int *perm = malloc((size_t)nidx * sizeof(int));
  int rc = 0;
  if (!x || !logits || !labels || !perm) {
    rc = failf(res, "out of memory for batch buffers");
    goto done;
  }
  norm_table nt_norm;
  norm_init(&nt_norm, cfg->kind, train->c, train->h, train->w);
  for (int i = 0; i < ntrain; i++) perm[i] = i;

  int64_t steps_per_epoch = ntrain / batch, total = steps_per_epoch * cfg->epochs, step = 0;
  int every = cfg->verbose ? (int)(steps_per_epoch / 10 > 0 ? steps_per_epoch / 10 : 1) : 0;
  double tr0 = now_s();
  for (int e = 1; e <= cfg->epochs; e++) {
    for (int i = ntrain - 1; i > 0; i--) { // Fisher-Yates from the seeded RNG
      int j = space_rng_below(&rng, i + 1), t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    double sum = 0;
    for (int64_t s = 0; s < steps_per_epoch; s++, step++) {
      double lr = 0.5 * cfg->lr * (1.0 + cos(M_PI * (double)step / (double)total));
      gather(&nt_norm, train, perm + s * batch, batch, x, labels);
      net_set_batch(nt, x, labels, batch);
      net_forward(nt, batch, 1);
      float loss = net_backward(nt, batch);
      if (ctx.failed) {
        rc = failf(res, "%s", ctx_why(&ctx));
        goto done;
      }
      if (!isfinite(loss)) {
        rc = failf(res, "diverged: loss is %s at step %lld (epoch %d)",
                   isnan(loss) ? "NaN" : "inf", (long long)step, e);
        res->steps = step;
        res->examples = step * batch;
        goto done;
      }
      net_sgd(nt, (float)lr, (float)cfg->momentum, (float)cfg->weight_decay);
      sum += loss;
      if (cfg->progress && every && (s + 1) % every == 0 && s + 1 < steps_per_epoch) {
        double el = now_s() - tr0;
        train_progress p = {e, cfg->epochs, step + 1, total, sum / (double)(s + 1), lr, el,
                            (double)(step + 1) * batch / el};
        cfg->progress(cfg->progress_user, &p);
      }
    }
    res->final_loss = steps_per_epoch ? sum / (double)steps_per_epoch : NAN;
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
  evaluate(nt, &nt_norm, val, nval, batch, classes, x, labels, perm, logits, &res->val_acc,
           &res->val_top5);
  if (test)
    evaluate(nt, &nt_norm, test, test->n, batch, classes, x, labels, perm, logits, &res->test_acc,
             &res->test_top5);
  if (ctx.failed) {
    rc = failf(res, "%s", ctx_why(&ctx));
    goto done;
  }
  res->ok = 1;
done:
  res->seconds = now_s() - t0;
  free(x);
  free(logits);
  free(labels);
  free(perm);
  net_free(nt);
  close_ctx(&ctx, owned);
  return rc;
}

int train_bench(const train_config *cfg, const space_cell *cell, const data_set *data, int warmup,
                int steps, double *step_seconds, char *err, size_t errlen) {
  int batch = cfg->batch;
  if (data->n < batch || steps < 1 || warmup < 0) {
    snprintf(err, errlen, "bench: need at least one batch of data");
    return -1;
  }
  kn_ctx ctx;
  kn_device *owned;
  if (open_ctx(&ctx, cfg, &owned, err, errlen)) return -1;
  space_rng rng;
  space_rng_seed(&rng, cfg->seed);
  net_config nc = {cfg->N, cfg->F, data->c, data->h, data->w, data->classes, cfg->stem_mult, batch};
  net *nt = NULL;
  if (net_create(&nt, cell, &nc, &ctx, space_rng_next(&rng), err, errlen)) {
    close_ctx(&ctx, owned);
    return -1;
  }
  size_t chw = (size_t)data->c * data->h * data->w;
  float *x = malloc((size_t)batch * chw * sizeof(float));
  int32_t *labels = malloc((size_t)batch * sizeof(int32_t));
  int *idx = malloc((size_t)batch * sizeof(int));
  int rc = 0;
  if (!x || !labels || !idx) {
    snprintf(err, errlen, "bench: out of memory");
    rc = -1;
  }
  norm_table t;
  norm_init(&t, cfg->kind, data->c, data->h, data->w);
  for (int s = 0; rc == 0 && s < warmup + steps; s++) {
    for (int i = 0; i < batch; i++) idx[i] = space_rng_below(&rng, data->n);
    double t0 = now_s();
    gather(&t, data, idx, batch, x, labels);
    net_set_batch(nt, x, labels, batch);
    net_forward(nt, batch, 1);
    net_backward(nt, batch);
    net_sgd(nt, (float)cfg->lr, (float)cfg->momentum, (float)cfg->weight_decay);
    if (s >= warmup) step_seconds[s - warmup] = now_s() - t0;
    if (ctx.failed) {
      snprintf(err, errlen, "bench: %s", ctx_why(&ctx));
      rc = -1;
    }
  }
  free(x);
  free(labels);
  free(idx);
  net_free(nt);
  close_ctx(&ctx, owned);
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
  net_config nc = {cfg->N, cfg->F, data->c, data->h, data->w, data->classes, cfg->stem_mult, nb};
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
