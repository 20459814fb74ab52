// Ridge baseline: the fitted weights satisfy the regularised normal equations of the centred
// problem, (Xc^T Xc + lambda I) w = Xc^T yc, both with fewer cells than features (dual solve)
// and with more (primal solve); the intercept makes the mean prediction the mean target.
#include <string.h>

#include "predictor/ridge.h"
#include "ptest.h"

static void check_fit(int n, double lambda, int NO, space_rng *r) {
  const int F = ridge_nfeat(NO);
  space_cell *cells = malloc((size_t)n * sizeof *cells);
  float *y = malloc((size_t)n * sizeof *y);
  int *idx = malloc((size_t)n * sizeof *idx);
  if (NO == SPACE_PNAS_OPS) ptest_random_cells(cells, n, 1, 5, r);
  else // NASNet's 13 operators
    for (int i = 0; i < n; i++) space_sample(&cells[i], 1 + space_rng_below(r, 5), SPACE_ALL_OPS, r);
  for (int i = 0; i < n; i++) {
    idx[i] = i;
    y[i] = (float)(0.6 + 0.05 * cells[i].nblocks + 0.02 * cells[i].b[0].op1 +
                   0.01 * space_rng_uniform(r));
  }
  pred_tokens x;
  char err[128];
  CHECK(pred_tokens_from_cells(&x, cells, n, NO, err, sizeof err) == 0);
  ridge_model m;
  CHECK(ridge_init(&m, NO) == 0 && m.F == F);
  CHECK(ridge_fit(&m, &x, idx, n, y, lambda) == 0);
  double *X = malloc((size_t)n * F * sizeof *X), *mu = calloc((size_t)F, sizeof *mu);
  double ym = 0.0;
  for (int i = 0; i < n; i++) {
    ridge_features(NO, x.tok + (size_t)i * PRED_MAX_TOKENS, x.len[i], X + (size_t)i * F);
    for (int j = 0; j < F; j++) mu[j] += X[(size_t)i * F + j] / n;
    ym += y[i] / (double)n;
  }
  // g = Xc^T (Xc w - yc) + lambda w, compared with |Xc^T yc|.
  double *res = calloc((size_t)n, sizeof *res), gmax = 0.0, bmax = 0.0;
  for (int i = 0; i < n; i++) {
    double s = 0.0;
    for (int j = 0; j < F; j++) s += (X[(size_t)i * F + j] - mu[j]) * m.w[j];
    res[i] = s - (y[i] - ym);
  }
  for (int j = 0; j < F; j++) {
    double g = lambda * m.w[j], b = 0.0;
    for (int i = 0; i < n; i++) {
      double xc = X[(size_t)i * F + j] - mu[j];
      g += xc * res[i];
      b += xc * (y[i] - ym);
    }
    if (fabs(g) > gmax) gmax = fabs(g);
    if (fabs(b) > bmax) bmax = fabs(b);
  }
  float *pred = malloc((size_t)n * sizeof *pred);
  const ridge_model *ms[1] = {&m};
  CHECK(ridge_predict(ms, 1, &x, pred) == 0);
  double pm = 0.0;
  for (int i = 0; i < n; i++) pm += pred[i] / (double)n;
  printf("n=%4d (%s) lambda %g: max|normal-equation residual| %.2e (scale %.2e), mean pred "
         "%.6f target %.6f\n",
         n, n < F ? "dual" : "primal", lambda, gmax, bmax, pm, ym);
  CHECK(gmax <= 1e-4 * bmax + 1e-6);
  CHECK_NEAR(pm, ym, 1e-4);
  free(pred), free(res), free(X), free(mu), free(cells), free(y), free(idx);
  ridge_release(&m);
  pred_tokens_release(&x);
}

int main(void) {
  space_rng r;
  space_rng_seed(&r, 9);
  check_fit(150, 1.0, SPACE_PNAS_OPS, &r);
  check_fit(1200, 1.0, SPACE_PNAS_OPS, &r);
  check_fit(300, 0.1, SPACE_PNAS_OPS, &r);
  // NASNet's 13 operators (1479 features): dual and primal solves.
  check_fit(300, 1.0, SPACE_NUM_OPS, &r);
  check_fit(1600, 1.0, SPACE_NUM_OPS, &r);
  PTEST_END();
}
