// The level-by-level evaluation protocol (fit on levels <= b, test on b + 1) and
// fit-and-save, on synthetic targets with the fast ridge kind plus a tiny LSTM: level counts,
// metric ranges, and that an informative target gives a positive rank correlation.
#include <string.h>
#include <unistd.h>

#include "predictor/predictor.h"
#include "ptest.h"

static float target(const space_cell *c) {
  double s = 0.0;
  for (int k = 0; k < c->nblocks; k++) s += c->b[k].op1 + c->b[k].op2 + 3.0 * (c->b[k].in1 >= 2);
  return (float)(0.5 + 0.02 * s / c->nblocks);
}

int main(void) {
  space_rng r;
  space_rng_seed(&r, 5);
  enum { PER = 60, N = 4 * PER };
  space_cell cells[N];
  float acc[N];
  for (int b = 1; b <= 4; b++)
    for (int i = 0; i < PER; i++) {
      space_sample(&cells[(b - 1) * PER + i], b, SPACE_PNAS_MASK, &r);
      acc[(b - 1) * PER + i] = target(&cells[(b - 1) * PER + i]);
    }
  char err[256];
  for (int k = PRED_LSTM; k <= PRED_RIDGE; k += PRED_RIDGE - PRED_LSTM) {
    pred_fit_config cfg;
    pred_fit_config_default(&cfg, (pred_kind)k);
    if (k == PRED_LSTM) cfg.embed = 16, cfg.hidden = 16, cfg.epochs = 80, cfg.members = 2;
    pred_level_eval ev[SPACE_MAX_BLOCKS];
    int nev = -1;
    int rc = pred_protocol_eval(cells, acc, N, &cfg, 10, ev, SPACE_MAX_BLOCKS, &nev, err, sizeof err);
    CHECK(rc == PRED_OK);
    CHECK(nev == 3);
    for (int i = 0; i < nev; i++) {
      printf("%s level %d: train %d test %d spearman %.3f kendall %.3f prec@%d %.2f (%.2f s)\n",
             pred_kind_name((pred_kind)k), ev[i].train_level, ev[i].ntrain, ev[i].ntest,
             ev[i].spearman, ev[i].kendall, ev[i].k, ev[i].prec_at_k, ev[i].seconds);
      CHECK(ev[i].train_level == i + 1);
      CHECK(ev[i].ntrain == PER * (i + 1) && ev[i].ntest == PER && ev[i].k == 10);
      CHECK(ev[i].spearman > 0.3 && ev[i].spearman <= 1.0);
      CHECK(ev[i].kendall > 0.2 && ev[i].kendall <= 1.0);
      CHECK(ev[i].prec_at_k >= 0.0 && ev[i].prec_at_k <= 1.0);
    }
    // maxout limits the output
    CHECK(pred_protocol_eval(cells, acc, N, &cfg, 10, ev, 1, &nev, err, sizeof err) == PRED_OK);
    CHECK(nev == 1);
  }
  { // score_children == expand + predict; a too-small buffer is an error that gives the size
    pred_fit_config cfg;
    pred_fit_config_default(&cfg, PRED_RIDGE);
    pred_ensemble *e = pred_ensemble_new();
    CHECK(pred_ensemble_fit(e, cells, acc, N, &cfg, err, sizeof err) == PRED_OK);
    space_cell par[3] = {cells[0], cells[PER], cells[3 * PER]};
    int want = 0;
    for (int p = 0; p < 3; p++) want += space_expand(&par[p], SPACE_PNAS_MASK, NULL, 0);
    space_cell *kids = malloc((size_t)want * sizeof *kids), *ref = malloc((size_t)want * sizeof *ref);
    float *m1 = malloc((size_t)want * sizeof *m1), *m2 = malloc((size_t)want * sizeof *m2);
    float *s1 = malloc((size_t)want * sizeof *s1), *s2 = malloc((size_t)want * sizeof *s2);
    int nk = -1;
    CHECK(pred_ensemble_score_children(e, par, 3, SPACE_PNAS_MASK, kids, m1, s1, want - 1, &nk, 1,
                                       err, sizeof err) == PRED_EARG);
    CHECK(nk == want);
    CHECK(pred_ensemble_score_children(e, par, 3, SPACE_PNAS_MASK, kids, m1, s1, want, &nk, 1, err,
                                       sizeof err) == PRED_OK);
    CHECK(nk == want && want == 300 + 528 + 1176); // children of 1-, 2- and 4-block cells
    int k = 0;
    for (int p = 0; p < 3; p++) k += space_expand(&par[p], SPACE_PNAS_MASK, ref + k, want - k);
    CHECK(k == want && memcmp(ref, kids, (size_t)want * sizeof *ref) == 0);
    CHECK(pred_ensemble_predict(e, ref, want, m2, s2, 1, err, sizeof err) == PRED_OK);
    CHECK(memcmp(m1, m2, (size_t)want * sizeof *m1) == 0 && memcmp(s1, s2, (size_t)want * sizeof *s1) == 0);
    free(kids), free(ref), free(m1), free(m2), free(s1), free(s2);
    pred_ensemble_free(e);
  }
  { // fit and save, then load and predict
    char dir[] = "/tmp/pnas_pred_proto_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/ridge.msgpack", dir);
    pred_fit_config cfg;
    pred_fit_config_default(&cfg, PRED_RIDGE);
    CHECK(pred_fit_and_save(cells, acc, N, &cfg, path, err, sizeof err) == PRED_OK);
    pred_ensemble *e = NULL;
    CHECK(pred_ensemble_load(&e, path, err, sizeof err) == PRED_OK);
    float m, s;
    CHECK(e && pred_ensemble_predict(e, cells, 1, &m, &s, 1, err, sizeof err) == PRED_OK);
    CHECK(fabsf(m - acc[0]) < 0.05f);
    pred_ensemble_free(e);
    remove(path);
    rmdir(dir);
    // errors: a directory that does not exist, bad arguments
    CHECK(pred_fit_and_save(cells, acc, N, &cfg, "/nonexistent-dir/x.msgpack", err, sizeof err) ==
          PRED_EIO);
    CHECK(strstr(err, "/nonexistent-dir/x.msgpack") != NULL);
    pred_ensemble *f = pred_ensemble_new();
    CHECK(pred_ensemble_fit(f, cells, acc, 3, &cfg, err, sizeof err) == PRED_EARG);
    float bad[N];
    memcpy(bad, acc, sizeof bad);
    bad[7] = NAN;
    CHECK(pred_ensemble_fit(f, cells, bad, N, &cfg, err, sizeof err) == PRED_EARG);
    space_cell inv = cells[0];
    inv.b[0].in1 = 5; // block 1 may only read inputs 0 and 1
    CHECK(pred_ensemble_fit(f, &inv, acc, 1, &cfg, err, sizeof err) == PRED_EARG);
    CHECK(!pred_ensemble_is_fitted(f));
    pred_ensemble_free(f);
  }
  PTEST_END();
}
