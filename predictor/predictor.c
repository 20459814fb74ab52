// The predictor ensemble (see predictor.h): defaults, k-fold fitting of LSTM / MLP / ridge
// members (members trained in parallel with OpenMP, each single-threaded and seeded on its
// own so results do not depend on the thread count), and prediction with mean / spread.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "predictor/ensemble.h"
#include "predictor/par.h"
#include "predictor/train.h"

const char *pred_kind_name(pred_kind k) {
  switch (k) {
  case PRED_LSTM: return "lstm";
  case PRED_MLP: return "mlp";
  case PRED_RIDGE: return "ridge";
  }
  return "?";
}

int pred_kind_from_name(const char *s) {
  for (int k = 0; k < 3; k++)
    if (!strcmp(s, pred_kind_name((pred_kind)k))) return k;
  return -1;
}

float pred_lr_for_level(int level) { return level <= 1 ? 0.01f : 0.002f; }

// Epochs and batch sizes were chosen with tests/predictor/test_learn.c (held-out Spearman on
// synthetic targets against fit time); see bench/predictor_bench.md for the numbers.
void pred_fit_config_default(pred_fit_config *cfg, pred_kind kind) {
  memset(cfg, 0, sizeof *cfg);
  cfg->kind = kind;
  cfg->members = 5;
  cfg->lr = 0.0f; // by level
  cfg->embed = 100;
  cfg->hidden = 100;
  cfg->ridge_lambda = 1.0;
  cfg->seed = 1;
  cfg->threads = 0;
  // Measured with tests/predictor/test_learn.c (1000 synthetic cells of 1..5 blocks, held-out
  // Spearman): LSTM 30/40/60 epochs at batch 32 and 60/100 at batch 64 all give 0.970-0.971;
  // MLP 50..200 epochs 0.960-0.963. On 150 cells, 160 epochs beat 40 (0.951 vs 0.939), hence
  // the floor on Adam steps for small fits.
  switch (kind) {
  case PRED_LSTM:
    cfg->epochs = 40;
    cfg->batch = 32;
    cfg->min_steps = 800;
    break;
  case PRED_MLP:
    cfg->epochs = 80;
    cfg->batch = 32;
    cfg->min_steps = 800;
    break;
  case PRED_RIDGE:
    cfg->epochs = 0;
    cfg->batch = 0;
    break;
  }
}

int pred_ensemble_domain(const pred_ensemble *e, uint32_t *ops, int *max_blocks, int *cells) {
  if (!e || !e->members || e->dom_cells < 1) return -1;
  if (ops) *ops = e->dom_ops;
  if (max_blocks) *max_blocks = e->dom_blocks;
  if (cells) *cells = e->dom_cells;
  return 0;
}

int pred_ensemble_covers(const pred_ensemble *e, const space_cell *c, char *why, size_t n) {
  uint32_t ops;
  int blocks;
  if (pred_ensemble_domain(e, &ops, &blocks, NULL)) return -1;
  uint32_t used = space_cell_ops(c);
  int len = 0;
  if (why && n) why[0] = 0;
  int deepest = c->nred > c->nblocks ? c->nred : c->nblocks; // a pair: its deeper cell
  if (deepest > blocks && why)
    len += snprintf(why + len, n - (size_t)len, "%d blocks, fitted on <= %d", deepest, blocks);
  for (int o = 0; o < SPACE_NUM_OPS && why; o++)
    if (((used & ~ops) >> o) & 1 && (size_t)len < n)
      len += snprintf(why + len, n - (size_t)len, "%s%s never seen", len ? "; " : "",
                      space_op_name(o));
  return deepest <= blocks && !(used & ~ops);
}

pred_ensemble *pred_ensemble_new(void) { return calloc(1, sizeof(pred_ensemble)); }

void pred_ensemble_clear(pred_ensemble *e) {
  for (int m = 0; m < e->members; m++) {
    if (e->lstm) lstm_release(&e->lstm[m]);
    if (e->mlp) mlp_release(&e->mlp[m]);
    if (e->ridge) ridge_release(&e->ridge[m]);
  }
  free(e->lstm);
  free(e->mlp);
  free(e->ridge);
  free(e->loss);
  e->lstm = NULL;
  e->mlp = NULL;
  e->ridge = NULL;
  e->loss = NULL;
  e->members = 0;
  e->dom_ops = 0;
  e->dom_blocks = e->dom_cells = 0;
}

void pred_ensemble_free(pred_ensemble *e) {
  if (!e) return;
  pred_ensemble_clear(e);
  free(e);
}

int pred_ensemble_alloc(pred_ensemble *e, pred_kind kind, int M, int E, int H, int vocab) {
  pred_ensemble_clear(e);
  e->kind = kind;
  e->E = E;
  e->H = H;
  e->vocab = vocab;
  const int V = pred_vocab_rows(vocab);
  e->loss = calloc((size_t)M, sizeof *e->loss);
  int bad = !e->loss;
  if (kind == PRED_LSTM) bad |= !(e->lstm = calloc((size_t)M, sizeof *e->lstm));
  if (kind == PRED_MLP) bad |= !(e->mlp = calloc((size_t)M, sizeof *e->mlp));
  if (kind == PRED_RIDGE) bad |= !(e->ridge = calloc((size_t)M, sizeof *e->ridge));
  e->members = M; // so clear() frees whatever was initialised (free(NULL) is fine)
  for (int m = 0; m < M && !bad; m++) {
    if (kind == PRED_LSTM) bad |= lstm_init(&e->lstm[m], V, E, H) != 0;
    if (kind == PRED_MLP) bad |= mlp_init(&e->mlp[m], V, E, H, H) != 0;
    if (kind == PRED_RIDGE) bad |= ridge_init(&e->ridge[m], vocab) != 0;
  }
  if (bad) {
    pred_ensemble_clear(e);
    return -1;
  }
  return 0;
}

int pred_ensemble_is_fitted(const pred_ensemble *e) { return e && e->members > 0; }
pred_kind pred_ensemble_kind(const pred_ensemble *e) { return e->kind; }
int pred_ensemble_members(const pred_ensemble *e) { return e->members; }
const float *pred_ensemble_train_loss(const pred_ensemble *e) {
  return e->members > 0 ? e->loss : NULL;
}
int pred_ensemble_vocab(const pred_ensemble *e) { return e->vocab; }

// --- training callbacks ---

typedef struct {
  lstm_model *m;
  lstm_ws w;
} lstm_ctx;
static void lstm_fwd_cb(void *c, const uint8_t *tok, const int *len, int B, float *y) {
  lstm_ctx *x = c;
  lstm_forward(x->m, &x->w, tok, len, B, y);
}
static void lstm_bwd_cb(void *c, const float *dy, float *grad) {
  lstm_ctx *x = c;
  lstm_backward(x->m, &x->w, dy, grad);
}

typedef struct {
  mlp_model *m;
  mlp_ws w;
} mlp_ctx;
static void mlp_fwd_cb(void *c, const uint8_t *tok, const int *len, int B, float *y) {
  mlp_ctx *x = c;
  mlp_forward(x->m, &x->w, tok, len, B, y);
}
static void mlp_bwd_cb(void *c, const float *dy, float *grad) {
  mlp_ctx *x = c;
  mlp_backward(x->m, &x->w, dy, grad);
}

static void member_rng(space_rng *r, uint64_t seed, int m) {
  space_rng_seed(r, seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(m + 1)));
}

// Trains member m on rows idx[0..nidx). Returns 0, -1 OOM, -2 NaN.
static int fit_member(pred_ensemble *e, int m, const pred_tokens *x, const int *idx, int nidx,
                      const float *acc, const pred_fit_config *cfg, float lr) {
  space_rng r;
  member_rng(&r, cfg->seed, m);
  int batch = cfg->batch < nidx ? cfg->batch : nidx;
  int per_epoch = (nidx + batch - 1) / batch;
  int epochs = cfg->epochs;
  if (cfg->min_steps > 0 && epochs * per_epoch < cfg->min_steps)
    epochs = (cfg->min_steps + per_epoch - 1) / per_epoch;
  int rc;
  if (e->kind == PRED_LSTM) {
    lstm_ctx c = {.m = &e->lstm[m]};
    lstm_randomize(c.m, &r);
    if (lstm_ws_init(&c.w, batch, pred_vocab_rows(e->vocab), e->E, e->H)) return -1;
    pred_trainable t = {c.m->nparams, c.m->p, &c, lstm_fwd_cb, lstm_bwd_cb, 1};
    rc = pred_train(&t, x, idx, nidx, acc, epochs, batch, lr, &r, &e->loss[m]);
    lstm_ws_release(&c.w);
  } else {
    mlp_ctx c = {.m = &e->mlp[m]};
    mlp_randomize(c.m, &r);
    if (mlp_ws_init(&c.w, batch, e->E, e->H, e->H)) return -1;
    pred_trainable t = {c.m->nparams, c.m->p, &c, mlp_fwd_cb, mlp_bwd_cb, 0};
    rc = pred_train(&t, x, idx, nidx, acc, epochs, batch, lr, &r, &e->loss[m]);
    mlp_ws_release(&c.w);
  }
  return rc;
}

int pred_ensemble_fit(pred_ensemble *e, const space_cell *cells, const float *acc, int n,
                      const pred_fit_config *cfg, char *err, size_t errlen) {
  const int M = cfg->members;
  if (cfg->kind < PRED_LSTM || cfg->kind > PRED_RIDGE) {
    snprintf(err, errlen, "unknown predictor kind %d", (int)cfg->kind);
    return PRED_EARG;
  }
  if (M < 1 || M > 64) {
    snprintf(err, errlen, "members must be 1..64, got %d", M);
    return PRED_EARG;
  }
  if (n < (M > 1 ? 2 * M : 2)) {
    snprintf(err, errlen, "need at least %d cells to fit %d members, got %d", M > 1 ? 2 * M : 2,
             M, n);
    return PRED_EARG;
  }
  if (cfg->kind != PRED_RIDGE &&
      (cfg->epochs < 1 || cfg->batch < 1 || cfg->embed < 1 || cfg->hidden < 1)) {
    snprintf(err, errlen, "epochs, batch, embed and hidden must be >= 1");
    return PRED_EARG;
  }
  if (cfg->kind == PRED_RIDGE && !(cfg->ridge_lambda > 0.0)) {
    snprintf(err, errlen, "ridge lambda must be > 0");
    return PRED_EARG;
  }
  for (int i = 0; i < n; i++)
    if (!(acc[i] >= 0.0f && acc[i] <= 1.0f)) {
      snprintf(err, errlen, "target %d is %g, expected an accuracy in [0, 1]", i, acc[i]);
      return PRED_EARG;
    }
  if (cfg->vocab_ops != 0 && cfg->vocab_ops != SPACE_PNAS_OPS && cfg->vocab_ops != SPACE_NUM_OPS &&
      cfg->vocab_ops != SPACE_PAIR_VOCAB) {
    snprintf(err, errlen, "op vocabulary must be 0 (from the cells), %d, %d or %d (pairs), got %d",
             SPACE_PNAS_OPS, SPACE_NUM_OPS, SPACE_PAIR_VOCAB, cfg->vocab_ops);
    return PRED_EARG;
  }
  uint32_t used = 0;
  int pairs = 0;
  for (int i = 0; i < n; i++) used |= space_cell_ops(&cells[i]), pairs |= space_is_pair(&cells[i]);
  const int vocab = cfg->vocab_ops ? cfg->vocab_ops
                    : pairs        ? SPACE_PAIR_VOCAB
                                   : space_vocab_ops(used);
  pred_tokens x;
  if (pred_tokens_from_cells(&x, cells, n, vocab, err, errlen)) return PRED_EARG;
  int maxnb = 0;
  for (int i = 0; i < n; i++)
    if (cells[i].nblocks > maxnb) maxnb = cells[i].nblocks;
  const float lr = cfg->lr > 0.0f ? cfg->lr : pred_lr_for_level(maxnb);

  // Folds stratified by nblocks: shuffle each length group, deal round-robin.
  int *fold = malloc((size_t)n * sizeof *fold), *perm = malloc((size_t)n * sizeof *perm);
  int *idx = malloc((size_t)M * n * sizeof *idx), *nidx = calloc((size_t)M, sizeof *nidx);
  int rc = PRED_OK;
  if (!fold || !perm || !idx || !nidx ||
      pred_ensemble_alloc(e, cfg->kind, M, cfg->embed, cfg->hidden, vocab)) {
    snprintf(err, errlen, "out of memory fitting %d cells", n);
    rc = PRED_ENOMEM;
    goto done;
  }
  space_rng r;
  space_rng_seed(&r, cfg->seed);
  int deal = 0;
  for (int b = 1; b <= SPACE_MAX_BLOCKS; b++) {
    int k = 0;
    for (int i = 0; i < n; i++)
      if (cells[i].nblocks == b) perm[k++] = i;
    for (int i = k - 1; i > 0; i--) {
      int j = space_rng_below(&r, i + 1), t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    for (int i = 0; i < k; i++) fold[perm[i]] = deal++ % M;
  }
  for (int m = 0; m < M; m++)
    for (int i = 0; i < n; i++)
      if (M == 1 || fold[i] != m) idx[(size_t)m * n + nidx[m]++] = i;

  if (cfg->kind == PRED_RIDGE) {
    // Members one after another, each solve on one BLAS thread: at these sizes (<= 909^2)
    // OpenBLAS's threads cost more than they give, badly so on a busy machine.
    int saved = pred_blas_serial(2);
    for (int m = 0; m < M && rc == PRED_OK; m++) {
      int s = ridge_fit(&e->ridge[m], &x, idx + (size_t)m * n, nidx[m], acc, cfg->ridge_lambda);
      if (s == -1) {
        snprintf(err, errlen, "out of memory in the ridge fit");
        rc = PRED_ENOMEM;
      } else if (s) {
        snprintf(err, errlen, "ridge system is not positive definite (lambda %g)",
                 cfg->ridge_lambda);
        rc = PRED_ENUM;
      }
    }
    pred_blas_restore(saved);
    if (rc == PRED_OK) {
      // Training L1 per member, on the member's own rows.
      float *out = malloc((size_t)M * n * sizeof *out);
      const ridge_model **ms = malloc((size_t)M * sizeof *ms);
      if (ms)
        for (int m = 0; m < M; m++) ms[m] = &e->ridge[m];
      if (!out || !ms || ridge_predict(ms, M, &x, out)) {
        rc = PRED_ENOMEM;
        snprintf(err, errlen, "out of memory in the ridge fit");
      } else {
        for (int m = 0; m < M; m++) {
          double l = 0.0;
          for (int k = 0; k < nidx[m]; k++) {
            int i = idx[(size_t)m * n + k];
            l += fabsf(out[(size_t)m * n + i] - acc[i]);
          }
          e->loss[m] = (float)(l / nidx[m]);
        }
      }
      free(out);
      free(ms);
    }
  } else {
    int nt = pred_threads(cfg->threads);
    if (nt > M) nt = M;
    int saved = pred_blas_serial(2); // always serial BLAS: identical results for any nt
    int status[64] = {0};
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (int m = 0; m < M; m++)
      status[m] = fit_member(e, m, &x, idx + (size_t)m * n, nidx[m], acc, cfg, lr);
    pred_blas_restore(saved);
    for (int m = 0; m < M && rc == PRED_OK; m++) {
      if (status[m] == -1) {
        snprintf(err, errlen, "out of memory training member %d", m);
        rc = PRED_ENOMEM;
      } else if (status[m]) {
        snprintf(err, errlen, "member %d diverged (NaN loss; try a lower lr than %g)", m, lr);
        rc = PRED_ENUM;
      }
    }
    if (cfg->verbose && rc == PRED_OK)
      for (int m = 0; m < M; m++)
        fprintf(stderr, "predictor %s member %d: %d cells, lr %g, final train L1 %.5f\n",
                pred_kind_name(cfg->kind), m, nidx[m], lr, e->loss[m]);
  }
done:
  if (rc != PRED_OK) {
    pred_ensemble_clear(e);
  } else {
    e->dom_ops = 0;
    e->dom_blocks = 0;
    for (int i = 0; i < n; i++) {
      e->dom_ops |= space_cell_ops(&cells[i]);
      if (cells[i].nblocks > e->dom_blocks) e->dom_blocks = cells[i].nblocks;
      if (cells[i].nred > e->dom_blocks) e->dom_blocks = cells[i].nred;
    }
    e->dom_cells = n;
  }
  free(fold);
  free(perm);
  free(idx);
  free(nidx);
  pred_tokens_release(&x);
  return rc;
}

int pred_ensemble_predict_members(const pred_ensemble *e, const space_cell *cells, int n,
                                  float *out, int threads, char *err, size_t errlen) {
  if (!pred_ensemble_is_fitted(e)) {
    snprintf(err, errlen, "predictor is not fitted");
    return PRED_EARG;
  }
  pred_tokens x;
  if (pred_tokens_from_cells(&x, cells, n, e->vocab, err, errlen)) return PRED_EARG;
  const int M = e->members;
  const void **ms = malloc((size_t)M * sizeof *ms);
  int rc = -1;
  if (ms) {
    for (int m = 0; m < M; m++)
      ms[m] = e->kind == PRED_LSTM  ? (const void *)&e->lstm[m]
              : e->kind == PRED_MLP ? (const void *)&e->mlp[m]
                                    : (const void *)&e->ridge[m];
    if (e->kind == PRED_LSTM)
      rc = lstm_predict((const lstm_model *const *)ms, M, &x, out, threads);
    else if (e->kind == PRED_MLP)
      rc = mlp_predict((const mlp_model *const *)ms, M, &x, out, threads);
    else
      rc = ridge_predict((const ridge_model *const *)ms, M, &x, out);
  }
  free(ms);
  pred_tokens_release(&x);
  if (rc) {
    snprintf(err, errlen, "out of memory scoring %d cells", n);
    return PRED_ENOMEM;
  }
  return PRED_OK;
}

int pred_ensemble_predict(const pred_ensemble *e, const space_cell *cells, int n, float *mean,
                          float *std, int threads, char *err, size_t errlen) {
  if (!pred_ensemble_is_fitted(e)) {
    snprintf(err, errlen, "predictor is not fitted");
    return PRED_EARG;
  }
  const int M = e->members;
  float *out = malloc((size_t)M * (n > 0 ? n : 1) * sizeof *out);
  if (!out) {
    snprintf(err, errlen, "out of memory scoring %d cells", n);
    return PRED_ENOMEM;
  }
  int rc = pred_ensemble_predict_members(e, cells, n, out, threads, err, errlen);
  if (rc == PRED_OK)
    for (int i = 0; i < n; i++) {
      double s = 0.0, s2 = 0.0;
      for (int m = 0; m < M; m++) s += out[(size_t)m * n + i];
      double mu = s / M;
      for (int m = 0; m < M; m++) {
        double d = out[(size_t)m * n + i] - mu;
        s2 += d * d;
      }
      mean[i] = (float)mu;
      if (std) std[i] = (float)sqrt(s2 / M);
    }
  free(out);
  return rc;
}

int pred_ensemble_score_children(const pred_ensemble *e, const space_cell *parents, int nparents,
                                 uint32_t mask, space_cell *children, float *mean, float *std,
                                 int cap, int *nchildren, int threads, char *err, size_t errlen) {
  long total = 0;
  for (int p = 0; p < nparents; p++) total += space_expand(&parents[p], mask, NULL, 0);
  *nchildren = total > INT32_MAX ? INT32_MAX : (int)total;
  if (total > cap) {
    snprintf(err, errlen, "%ld children do not fit in %d slots", total, cap);
    return PRED_EARG;
  }
  int k = 0;
  for (int p = 0; p < nparents; p++) k += space_expand(&parents[p], mask, children + k, cap - k);
  return pred_ensemble_predict(e, children, k, mean, std, threads, err, errlen);
}
