// Ridge baseline (see ridge.h): features, closed-form fit with LAPACKE_dposv on centred data
// (so the intercept is not penalised; the dual system when there are fewer cells than
// features), prediction = features . w + intercept.
#include "predictor/ridge.h"

#include <cblas.h>
#include <lapacke.h>
#include <stdlib.h>
#include <string.h>

#include "predictor/pcheck.h"

int ridge_init(ridge_model *m, int NO) {
  m->NO = NO;
  m->F = ridge_nfeat(NO);
  m->w = calloc((size_t)m->F + 1, sizeof *m->w);
  return m->w ? 0 : -1;
}

void ridge_release(ridge_model *m) {
  free(m->w);
  m->w = NULL;
}

void ridge_features(int NO, const uint8_t *tok, int len, double *f) {
  const int NI = SPACE_NUM_INPUTS;
  double *pos = f, *opfrac = pos + SPACE_MAX_BLOCKS * NI * NO, *opcnt = opfrac + NO,
         *inkind = opcnt + NO, *nb1h = inkind + 3;
  memset(f, 0, (size_t)ridge_nfeat(NO) * sizeof *f);
  int nb = len / 4;
  for (int k = 0; k < nb; k++) {
    const uint8_t *t = tok + 4 * k; // I1, I2, O1, O2
    for (int br = 0; br < 2; br++) {
      int in = t[br], op = t[2 + br] - NI;
      PRED_ASSERT(op >= 0 && op < NO); // tokens are checked against the vocabulary first
      pos[(size_t)k * NI * NO + in * NO + op] += 1.0;
      opcnt[op] += 1.0;
      inkind[in < 2 ? in : 2] += 1.0;
    }
  }
  for (int o = 0; o < NO; o++) opfrac[o] = opcnt[o] / (2.0 * nb);
  for (int i = 0; i < 3; i++) inkind[i] /= 2.0 * nb;
  nb1h[nb - 1] = 1.0;
}

int ridge_fit(ridge_model *m, const pred_tokens *x, const int *idx, int nidx, const float *y,
              double lambda) {
  const int F = m->F;
  if (nidx < 1) return -2;
  double *X = calloc((size_t)nidx * F, sizeof *X), *mu = calloc((size_t)F, sizeof *mu);
  double *A = nidx >= F ? malloc((size_t)F * F * sizeof *A) : malloc(sizeof *A);
  double *rhs = calloc((size_t)F, sizeof *rhs);
  if (!X || !mu || !A || !rhs) {
    free(X), free(mu), free(A), free(rhs);
    return -1;
  }
  double ym = 0.0;
  for (int r = 0; r < nidx; r++) {
    int i = idx[r];
    ridge_features(m->NO, x->tok + (size_t)i * PRED_MAX_TOKENS, x->len[i], X + (size_t)r * F);
    ym += y[i];
  }
  ym /= nidx;
  for (int r = 0; r < nidx; r++)
    for (int j = 0; j < F; j++) mu[j] += X[(size_t)r * F + j];
  for (int j = 0; j < F; j++) mu[j] /= nidx;
  for (int r = 0; r < nidx; r++) {
    double yc = y[idx[r]] - ym;
    for (int j = 0; j < F; j++) {
      X[(size_t)r * F + j] -= mu[j];
      rhs[j] += X[(size_t)r * F + j] * yc;
    }
  }
  int info;
  if (nidx >= F) {
    // Primal: (Xc^T Xc + lambda I) w = Xc^T yc; upper triangle is enough for dposv.
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, F, nidx, 1.0, X, F, 0.0, A, F);
    for (int j = 0; j < F; j++) A[(size_t)j * F + j] += lambda;
    info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', F, 1, A, F, rhs, 1);
  } else {
    // Dual, same solution with fewer rows than features (push-through identity):
    // w = Xc^T (Xc Xc^T + lambda I)^-1 yc, an nidx x nidx system.
    double *K = malloc((size_t)nidx * nidx * sizeof *K), *a = malloc((size_t)nidx * sizeof *a);
    if (!K || !a) {
      free(K), free(a), free(X), free(mu), free(A), free(rhs);
      return -1;
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, nidx, F, 1.0, X, F, 0.0, K, nidx);
    for (int r = 0; r < nidx; r++) {
      K[(size_t)r * nidx + r] += lambda;
      a[r] = y[idx[r]] - ym;
    }
    info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', nidx, 1, K, nidx, a, 1);
    if (info == 0) cblas_dgemv(CblasRowMajor, CblasTrans, nidx, F, 1.0, X, F, a, 1, 0.0, rhs, 1);
    free(K), free(a);
  }
  if (info == 0) {
    double b0 = ym;
    for (int j = 0; j < F; j++) {
      m->w[j] = (float)rhs[j];
      b0 -= mu[j] * rhs[j];
    }
    m->w[F] = (float)b0;
  }
  free(X), free(mu), free(A), free(rhs);
  return info == 0 ? 0 : -2;
}

int ridge_predict(const ridge_model *const *models, int M, const pred_tokens *x, float *out) {
  if (M == 0) return 0;
  const int F = models[0]->F, NO = models[0]->NO;
  for (int m = 1; m < M; m++)
    PRED_ASSERT(models[m]->NO == NO);
  double *f = malloc((size_t)F * sizeof *f);
  if (!f) return -1;
  for (int i = 0; i < x->n; i++) {
    ridge_features(NO, x->tok + (size_t)i * PRED_MAX_TOKENS, x->len[i], f);
    for (int m = 0; m < M; m++) {
      const float *w = models[m]->w;
      double s = w[F];
      for (int j = 0; j < F; j++) s += f[j] * w[j];
      out[(size_t)m * x->n + i] = (float)s;
    }
  }
  free(f);
  return 0;
}
