// The op vocabulary of the predictors (space_vocab_ops: 8 for PNAS's operators, 13 with NASNet's):
// models of vocabulary 13 fit and score cells with ops 8..12 (LSTM, MLP, ridge), save and load
// with it; a file written before the vocabulary existed (data/v1-*-vocab8.msgpack, made by the
// parent commit, see data/gen_v1.c) loads as 8 and predicts what it predicted then; a model of
// vocabulary 8 refuses, with a message and no crash, a cell with an op id >= 8.
#include <math.h>
#include <string.h>

#include "predictor/predictor.h"
#include "ptest.h"

static const uint32_t NAS4 = (1u << SPACE_OP_IDENTITY) | (1u << SPACE_OP_CONV1X3_3X1) |
                             (1u << SPACE_OP_CONV1X1) | (1u << SPACE_OP_CONV3X3);

// A target the ridge features can express: op counts with weights on NASNet's ops.
static float target(const space_cell *c) {
  static const double W[SPACE_NUM_OPS] = {0.00, 0.01, 0.01, 0.01, 0.02, -0.01, -0.01, 0.00,
                                          0.04, -0.03, -0.05, 0.02, 0.05};
  double q = 0.6;
  for (int b = 0; b < c->nblocks; b++) q += W[c->b[b].op1] + W[c->b[b].op2];
  return (float)(q < 0.05 ? 0.05 : q > 0.95 ? 0.95 : q);
}

static double spearman(const float *a, const float *b, int n) {
  // Rank correlation without ties handling (continuous values).
  double s = 0;
  for (int i = 0; i < n; i++) {
    int ra = 0, rb = 0;
    for (int j = 0; j < n; j++) ra += a[j] < a[i], rb += b[j] < b[i];
    s += (double)(ra - rb) * (ra - rb);
  }
  return 1.0 - 6.0 * s / ((double)n * ((double)n * n - 1));
}

static int has_key(const char *buf, size_t len, const char *key) {
  size_t kl = strlen(key);
  for (size_t i = 0; i + kl + 1 <= len; i++)
    if ((unsigned char)buf[i] == (0xa0 | kl) && !memcmp(buf + i + 1, key, kl)) return 1;
  return 0;
}

// A small ensemble of kind k fitted on (cells, acc), checked to have vocabulary `vocab`.
static pred_ensemble *fit_small(int k, const space_cell *cells, const float *acc, int n, int vocab) {
  char err[512];
  pred_fit_config cfg;
  pred_fit_config_default(&cfg, (pred_kind)k);
  cfg.members = 2, cfg.embed = 8, cfg.hidden = 12, cfg.epochs = 20, cfg.min_steps = 200;
  pred_ensemble *e = pred_ensemble_new();
  int rc = pred_ensemble_fit(e, cells, acc, n, &cfg, err, sizeof err);
  CHECK(rc == PRED_OK, "%s fit: %s", pred_kind_name((pred_kind)k), err);
  CHECK(pred_ensemble_vocab(e) == vocab, "vocabulary %d, want %d", pred_ensemble_vocab(e), vocab);
  return e;
}

static void test_fit_13(void) {
  enum { N = 400, NT = 150 };
  static space_cell cells[N], test[NT];
  static float acc[N], tacc[NT];
  space_rng r;
  space_rng_seed(&r, 21);
  for (int i = 0; i < N; i++) space_sample(&cells[i], 1 + i % 3, SPACE_ALL_OPS, &r), acc[i] = target(&cells[i]);
  for (int i = 0; i < NT; i++) space_sample(&test[i], 1 + i % 3, SPACE_ALL_OPS, &r), tacc[i] = target(&test[i]);
  char err[512];
  for (int k = 0; k <= PRED_RIDGE; k++) {
    pred_ensemble *e = fit_small(k, cells, acc, N, 13); // the vocabulary from the cells
    float m[NT], s[NT];
    CHECK(pred_ensemble_predict(e, test, NT, m, s, 2, err, sizeof err) == PRED_OK, "%s", err);
    int finite = 1;
    for (int i = 0; i < NT; i++) finite &= isfinite(m[i]) && isfinite(s[i]);
    double rho = spearman(m, tacc, NT);
    printf("%s, vocabulary 13: held-out Spearman %.3f on cells of all 13 operators\n",
           pred_kind_name((pred_kind)k), rho);
    CHECK(finite, "non-finite prediction");
    // Ridge expresses the target exactly (op counts are features); the networks learn it.
    CHECK(rho > (k == PRED_RIDGE ? 0.9 : 0.5), "%s Spearman %.3f", pred_kind_name((pred_kind)k),
          rho);
    // Save / load with the vocabulary, bit-identical predictions.
    char *buf = NULL;
    size_t len = 0;
    CHECK(pred_ensemble_save_mem(e, &buf, &len, err, sizeof err) == PRED_OK, "%s", err);
    CHECK(buf && has_key(buf, len, "vocab"), "no vocab entry in a vocabulary-13 file");
    pred_ensemble *l = NULL;
    CHECK(pred_ensemble_load_mem(&l, buf, len, err, sizeof err) == PRED_OK, "load: %s", err);
    if (l) {
      float m2[NT], s2[NT];
      CHECK(pred_ensemble_vocab(l) == 13, "loaded vocabulary %d", pred_ensemble_vocab(l));
      CHECK(pred_ensemble_predict(l, test, NT, m2, s2, 1, err, sizeof err) == PRED_OK, "%s", err);
      CHECK(!memcmp(m, m2, sizeof m) && !memcmp(s, s2, sizeof s), "round trip changed scores");
      // Score children over NASNet's ops in one call, too.
      static space_cell kids[1200]; // a 1-block parent: 39 * 40 / 2 = 780 children
      static float km[1200];
      int nk = 0;
      CHECK(pred_ensemble_score_children(l, test, 1, SPACE_ALL_OPS, kids, km, NULL, 1200, &nk,
                                         1, err, sizeof err) == PRED_OK && nk == 780,
            "score children: %s", err);
    }
    free(buf);
    pred_ensemble_free(l);
    pred_ensemble_free(e);
  }
}

static void test_vocab_8(const char *datadir) {
  char err[512], path[1024];
  space_cell nas;
  CHECK(space_parse("0:sep3x3,1:conv3x3", &nas, err, sizeof err) == 0, "%s", err);
  // Cells of PNAS's operators only: vocabulary 8, files without a "vocab" entry (the old format).
  enum { N = 60 };
  space_cell cells[N];
  float acc[N];
  space_rng r;
  space_rng_seed(&r, 8);
  ptest_random_cells(cells, N, 1, 3, &r);
  for (int i = 0; i < N; i++) acc[i] = target(&cells[i]);
  for (int k = 0; k <= PRED_RIDGE; k++) {
    pred_fit_config cfg;
    pred_fit_config_default(&cfg, (pred_kind)k);
    cfg.members = 2, cfg.embed = 4, cfg.hidden = 4, cfg.epochs = 1, cfg.min_steps = 4;
    pred_ensemble *e = pred_ensemble_new();
    CHECK(pred_ensemble_fit(e, cells, acc, N, &cfg, err, sizeof err) == PRED_OK, "%s", err);
    CHECK(pred_ensemble_vocab(e) == 8, "vocabulary %d", pred_ensemble_vocab(e));
    char *buf = NULL;
    size_t len = 0;
    CHECK(pred_ensemble_save_mem(e, &buf, &len, err, sizeof err) == PRED_OK, "%s", err);
    CHECK(buf && !has_key(buf, len, "vocab"), "a vocabulary-8 file has a vocab entry");
    free(buf);
    // A NASNet cell: refused with a message, nothing scored, no crash.
    float m = -1, s = -1;
    err[0] = 0;
    int rc = pred_ensemble_predict(e, &nas, 1, &m, &s, 1, err, sizeof err);
    printf("%s, vocabulary 8, scoring a conv3x3 cell: %d: %s\n", pred_kind_name((pred_kind)k), rc,
           err);
    CHECK(rc == PRED_EARG && strstr(err, "conv3x3") && strstr(err, "vocabulary of 8"),
          "rc %d: %s", rc, err);
    CHECK(m == -1 && s == -1, "scores written for a refused cell");
    space_cell kids[400];
    float km[400];
    int nk = 0;
    CHECK(pred_ensemble_score_children(e, cells, 1, NAS4, kids, km, NULL, 400, &nk, 1, err,
                                       sizeof err) == PRED_EARG && strstr(err, "vocabulary"),
          "children with NASNet ops: %s", err);
    pred_ensemble_free(e);
    // Asking for vocabulary 8 with NASNet cells in the data: refused too.
    cfg.vocab_ops = 8;
    cells[N - 1] = nas;
    e = pred_ensemble_new();
    rc = pred_ensemble_fit(e, cells, acc, N, &cfg, err, sizeof err);
    CHECK(rc == PRED_EARG && strstr(err, "vocabulary"), "fit vocab 8 on conv3x3: %d %s", rc, err);
    CHECK(!pred_ensemble_is_fitted(e), "fitted anyway");
    // Vocabulary 13 asked for on PNAS cells: allowed (a search over NASNet's space at level 1
    // could in principle see only PNAS ops).
    ptest_random_cells(cells, N, 1, 3, &r);
    cfg.vocab_ops = 13;
    CHECK(pred_ensemble_fit(e, cells, acc, N, &cfg, err, sizeof err) == PRED_OK &&
              pred_ensemble_vocab(e) == 13,
          "vocab 13 on PNAS cells: %s", err);
    cfg.vocab_ops = 9;
    CHECK(pred_ensemble_fit(e, cells, acc, N, &cfg, err, sizeof err) == PRED_EARG &&
              strstr(err, "vocabulary"),
          "vocab 9: %s", err);
    pred_ensemble_free(e);
  }
  // Files of the parent commit: load as vocabulary 8, predict what they predicted then
  // (data/gen_v1.c printed these; a small tolerance for another BLAS), refuse NASNet cells.
  static const struct {
    const char *file;
    float mean[3];
  } old[] = {{"v1-lstm-vocab8.msgpack", {0x1.b35296p-1f, 0x1.b33f7ap-1f, 0x1.b38414p-1f}},
             {"v1-ridge-vocab8.msgpack", {0x1.7de27ap-1f, 0x1.85c56cp-1f, 0x1.8ece32p-1f}}};
  const char *txt[3] = {"0:sep3x3,1:max3x3", "1:identity,1:dil3x3;0:sep7x7,2:avg3x3",
                        "0:conv1x7_7x1,0:sep5x5;2:max3x3,1:sep3x3;3:identity,0:avg3x3"};
  for (int f = 0; f < 2; f++) {
    snprintf(path, sizeof path, "%s/%s", datadir, old[f].file);
    pred_ensemble *e = NULL;
    int rc = pred_ensemble_load(&e, path, err, sizeof err);
    CHECK(rc == PRED_OK, "%s: %s", path, err);
    if (rc) continue;
    CHECK(pred_ensemble_vocab(e) == 8, "old file vocabulary %d", pred_ensemble_vocab(e));
    for (int i = 0; i < 3; i++) {
      space_cell c;
      float m, s;
      CHECK(space_parse(txt[i], &c, err, sizeof err) == 0, "%s", err);
      CHECK(pred_ensemble_predict(e, &c, 1, &m, &s, 1, err, sizeof err) == PRED_OK, "%s", err);
      CHECK(fabsf(m - old[f].mean[i]) <= 1e-5f, "%s cell %d: %a, then %a", old[f].file, i, m,
            old[f].mean[i]);
    }
    float m;
    CHECK(pred_ensemble_predict(e, &nas, 1, &m, NULL, 1, err, sizeof err) == PRED_EARG &&
              strstr(err, "vocabulary"),
          "old file scoring conv3x3: %s", err);
    printf("%s: loads as vocabulary 8, predictions as written\n", old[f].file);
    pred_ensemble_free(e);
  }
}

// NASNet's pairs (vocabulary 26: the reduction cell's operators are tokens of their own). The
// target depends on the reduction cell only (the op weights of target() over its blocks), so a
// model that could not tell the two cells apart would rank held-out pairs near chance; each
// model must reach the thresholds of test_fit_13, save and load with vocab 26, and refuse a
// single cell.
static float target_red(const space_cell *c) {
  space_cell r = {.nblocks = c->nred};
  memcpy(r.b, c->r, sizeof r.b);
  return target(&r);
}

static void test_fit_pairs(void) {
  enum { N = 400, NT = 150 };
  static space_cell cells[N], test[NT];
  static float acc[N], tacc[NT];
  space_rng r;
  space_rng_seed(&r, 23);
  for (int i = 0; i < N; i++) space_sample_pair(&cells[i], 1 + i % 3, SPACE_ALL_OPS, &r), acc[i] = target_red(&cells[i]);
  for (int i = 0; i < NT; i++) space_sample_pair(&test[i], 1 + i % 3, SPACE_ALL_OPS, &r), tacc[i] = target_red(&test[i]);
  char err[512];
  for (int k = 0; k <= PRED_RIDGE; k++) {
    pred_ensemble *e = fit_small(k, cells, acc, N, SPACE_PAIR_VOCAB);
    float m[NT], s[NT];
    CHECK(pred_ensemble_predict(e, test, NT, m, s, 2, err, sizeof err) == PRED_OK, "%s", err);
    double rho = spearman(m, tacc, NT);
    printf("%s, pairs (vocabulary 26): held-out Spearman %.3f on a target of the reduction cell\n",
           pred_kind_name((pred_kind)k), rho);
    CHECK(rho > (k == PRED_RIDGE ? 0.9 : 0.5), "%s Spearman %.3f on pairs", pred_kind_name((pred_kind)k), rho);
    char *buf = NULL;
    size_t len = 0;
    CHECK(pred_ensemble_save_mem(e, &buf, &len, err, sizeof err) == PRED_OK, "%s", err);
    pred_ensemble *l = NULL;
    CHECK(pred_ensemble_load_mem(&l, buf, len, err, sizeof err) == PRED_OK, "load: %s", err);
    if (l) {
      float m2[NT], s2[NT];
      CHECK(pred_ensemble_vocab(l) == SPACE_PAIR_VOCAB, "loaded vocabulary %d", pred_ensemble_vocab(l));
      CHECK(pred_ensemble_predict(l, test, NT, m2, s2, 1, err, sizeof err) == PRED_OK, "%s", err);
      CHECK(!memcmp(m, m2, sizeof m), "loaded pair model predicts differently");
      space_cell one;
      space_sample(&one, 2, SPACE_ALL_OPS, &r);
      err[0] = 0;
      CHECK(pred_ensemble_predict(l, &one, 1, m2, s2, 1, err, sizeof err) != PRED_OK &&
                strstr(err, "single cell"),
            "a pair model scored a single cell (%s)", err);
      pred_ensemble_free(l);
    }
    free(buf);
    pred_ensemble_free(e);
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: pred_test_vocab DATA_DIR\n");
    return 2;
  }
  test_vocab_8(argv[1]);
  test_fit_13();
  test_fit_pairs();
  PTEST_END();
}
