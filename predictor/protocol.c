// The paper's predictor evaluation protocol (fit on levels <= b, rank the unseen level b+1)
// and fit-everything-and-save, as library calls for the run-level CLI.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "predictor/predictor.h"
#include "predictor/rank.h"

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

int pred_protocol_eval(const space_cell *cells, const float *acc, int n,
                       const pred_fit_config *cfg, int topk, pred_level_eval *out, int maxout,
                       int *nout, char *err, size_t errlen) {
  *nout = 0;
  if (topk < 1) {
    snprintf(err, errlen, "top-k must be >= 1");
    return PRED_EARG;
  }
  space_cell *tr = malloc((size_t)(n > 0 ? n : 1) * sizeof *tr);
  space_cell *te = malloc((size_t)(n > 0 ? n : 1) * sizeof *te);
  float *ytr = malloc((size_t)(n > 0 ? n : 1) * sizeof *ytr);
  float *yte = malloc((size_t)(n > 0 ? n : 1) * sizeof *yte);
  float *pte = malloc((size_t)(n > 0 ? n : 1) * sizeof *pte);
  pred_ensemble *e = pred_ensemble_new();
  int rc = PRED_OK;
  if (!tr || !te || !ytr || !yte || !pte || !e) {
    snprintf(err, errlen, "out of memory");
    rc = PRED_ENOMEM;
  }
  for (int b = 1; b < SPACE_MAX_BLOCKS && rc == PRED_OK && *nout < maxout; b++) {
    int ntr = 0, nte = 0;
    for (int i = 0; i < n; i++) {
      if (cells[i].nblocks <= b) tr[ntr] = cells[i], ytr[ntr++] = acc[i];
      if (cells[i].nblocks == b + 1) te[nte] = cells[i], yte[nte++] = acc[i];
    }
    if (nte == 0 || ntr == 0) continue;
    pred_fit_config c = *cfg;
    if (c.lr <= 0.0f) c.lr = pred_lr_for_level(b);
    double t0 = now_s();
    char msg[256];
    rc = pred_ensemble_fit(e, tr, ytr, ntr, &c, msg, sizeof msg);
    double t1 = now_s();
    if (rc == PRED_OK) rc = pred_ensemble_predict(e, te, nte, pte, NULL, c.threads, msg, sizeof msg);
    if (rc != PRED_OK) {
      snprintf(err, errlen, "level %d: %s", b, msg);
      break;
    }
    pred_level_eval *r = &out[(*nout)++];
    r->train_level = b;
    r->ntrain = ntr;
    r->ntest = nte;
    r->k = topk < nte ? topk : nte;
    r->spearman = rank_spearman(yte, pte, nte);
    r->kendall = rank_kendall_tau_b(yte, pte, nte);
    r->prec_at_k = rank_precision_at_k(yte, pte, nte, r->k);
    r->seconds = t1 - t0;
  }
  pred_ensemble_free(e);
  free(tr), free(te), free(ytr), free(yte), free(pte);
  return rc;
}

int pred_fit_and_save(const space_cell *cells, const float *acc, int n,
                      const pred_fit_config *cfg, const char *path, char *err, size_t errlen) {
  pred_ensemble *e = pred_ensemble_new();
  if (!e) {
    snprintf(err, errlen, "out of memory");
    return PRED_ENOMEM;
  }
  int rc = pred_ensemble_fit(e, cells, acc, n, cfg, err, errlen);
  if (rc == PRED_OK) rc = pred_ensemble_save(e, path, err, errlen);
  pred_ensemble_free(e);
  return rc;
}
