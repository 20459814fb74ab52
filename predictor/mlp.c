// MLP predictor (see mlp.h). Training runs the three layers as sgemms over the batch; the
// scorer folds the embedding into layer 1 (per-position tables emb @ w1 block) so a cell's
// first layer is a sum of 4 * nblocks table rows.
#include "predictor/mlp.h"

#include "predictor/pcheck.h"
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "predictor/fastmath.h"
#include "predictor/par.h"

int mlp_nparams(int V, int E, int H1, int H2) {
  return V * E + 4 * E * H1 + H1 + H1 * H2 + H2 + H2 + 1;
}

void mlp_view(int V, int E, int H1, int H2, float *buf, mlp_params *v) {
  v->emb = buf;
  v->w1 = v->emb + V * E;
  v->b1 = v->w1 + 4 * E * H1;
  v->w2 = v->b1 + H1;
  v->b2 = v->w2 + H1 * H2;
  v->w3 = v->b2 + H2;
  v->b3 = v->w3 + H2;
}

int mlp_init(mlp_model *m, int V, int E, int H1, int H2) {
  m->V = V;
  m->E = E;
  m->H1 = H1;
  m->H2 = H2;
  m->nparams = mlp_nparams(V, E, H1, H2);
  m->p = calloc((size_t)m->nparams, sizeof *m->p);
  if (!m->p) return -1;
  mlp_view(V, E, H1, H2, m->p, &m->v);
  return 0;
}

void mlp_release(mlp_model *m) {
  free(m->p);
  m->p = NULL;
}

static float unif(space_rng *r, float a) { return (float)((2.0 * space_rng_uniform(r) - 1.0) * a); }

void mlp_randomize(mlp_model *m, space_rng *r) {
  int E = m->E, H1 = m->H1, H2 = m->H2;
  float k1 = 1.0f / sqrtf(4.0f * E), k2 = 1.0f / sqrtf((float)H1), k3 = 1.0f / sqrtf((float)H2);
  for (int i = 0; i < m->V * E; i++) m->v.emb[i] = unif(r, 0.1f);
  for (int i = 0; i < 4 * E * H1; i++) m->v.w1[i] = unif(r, k1);
  for (int i = 0; i < H1; i++) m->v.b1[i] = unif(r, k1);
  for (int i = 0; i < H1 * H2; i++) m->v.w2[i] = unif(r, k2);
  for (int i = 0; i < H2; i++) m->v.b2[i] = unif(r, k2);
  for (int i = 0; i < H2; i++) m->v.w3[i] = unif(r, k3);
  m->v.b3[0] = 1.8f;
}

// x (4E) = mean over blocks of the concatenated token embeddings.
static void embed_cell(const mlp_params *p, int E, const uint8_t *tok, int len, float *x) {
  int nb = len / 4;
  float inv = 1.0f / (float)nb;
  memset(x, 0, (size_t)4 * E * sizeof(float));
  for (int k = 0; k < len; k++) {
    const float *e = p->emb + (size_t)tok[k] * E;
    float *xp = x + (size_t)(k % 4) * E;
    for (int j = 0; j < E; j++) xp[j] += inv * e[j];
  }
}

float mlp_forward_ref(const mlp_model *m, const uint8_t *tok, int len) {
  int E = m->E, H1 = m->H1, H2 = m->H2;
  const mlp_params *p = &m->v;
  float *x = malloc((size_t)4 * E * sizeof *x);
  double *a1 = malloc((size_t)H1 * sizeof *a1), *a2 = malloc((size_t)H2 * sizeof *a2);
  PRED_ASSERT(x && a1 && a2);
  embed_cell(p, E, tok, len, x);
  for (int j = 0; j < H1; j++) {
    double s = p->b1[j];
    for (int i = 0; i < 4 * E; i++) s += (double)x[i] * p->w1[(size_t)i * H1 + j];
    a1[j] = s > 0 ? s : 0;
  }
  for (int j = 0; j < H2; j++) {
    double s = p->b2[j];
    for (int i = 0; i < H1; i++) s += a1[i] * p->w2[(size_t)i * H2 + j];
    a2[j] = s > 0 ? s : 0;
  }
  double z = p->b3[0];
  for (int i = 0; i < H2; i++) z += a2[i] * p->w3[i];
  free(x);
  free(a1);
  free(a2);
  return (float)(1.0 / (1.0 + exp(-z)));
}

int mlp_ws_init(mlp_ws *w, int maxB, int E, int H1, int H2) {
  memset(w, 0, sizeof *w);
  w->maxB = maxB;
  w->E = E;
  w->H1 = H1;
  w->H2 = H2;
  size_t B = (size_t)maxB;
  w->tok = malloc(B * PRED_MAX_TOKENS);
  w->len = malloc(B * sizeof(int));
  w->x = malloc(B * 4 * E * sizeof(float));
  w->a1 = malloc(B * H1 * sizeof(float));
  w->a2 = malloc(B * H2 * sizeof(float));
  w->y = malloc(B * sizeof(float));
  w->d1 = malloc(B * H1 * sizeof(float));
  w->d2 = malloc(B * H2 * sizeof(float));
  w->dx = malloc(B * 4 * E * sizeof(float));
  if (!w->tok || !w->len || !w->x || !w->a1 || !w->a2 || !w->y || !w->d1 || !w->d2 || !w->dx) {
    mlp_ws_release(w);
    return -1;
  }
  return 0;
}

void mlp_ws_release(mlp_ws *w) {
  free(w->tok);
  free(w->len);
  free(w->x);
  free(w->a1);
  free(w->a2);
  free(w->y);
  free(w->d1);
  free(w->d2);
  free(w->dx);
  memset(w, 0, sizeof *w);
}

// out (B, N) = relu(in (B, K) @ W (K, N) + b (N))
static void dense_relu(const float *in, const float *W, const float *b, float *out, int B, int K,
                       int N) {
  for (int r = 0; r < B; r++) memcpy(out + (size_t)r * N, b, (size_t)N * sizeof(float));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, N, K, 1.0f, in, K, W, N, 1.0f, out, N);
  for (size_t i = 0; i < (size_t)B * N; i++) out[i] = out[i] > 0.0f ? out[i] : 0.0f;
}

static float head(const mlp_params *p, const float *a2, int H2) {
  float z = p->b3[0];
  for (int j = 0; j < H2; j++) z += a2[j] * p->w3[j];
  return pred_sigmoidf(z);
}

void mlp_forward(const mlp_model *m, mlp_ws *w, const uint8_t *tok, const int *len, int B,
                 float *y) {
  const int E = m->E, H1 = m->H1, H2 = m->H2;
  const mlp_params *p = &m->v;
  PRED_ASSERT(B >= 1 && B <= w->maxB);
  w->B = B;
  memcpy(w->tok, tok, (size_t)B * PRED_MAX_TOKENS);
  memcpy(w->len, len, (size_t)B * sizeof *len);
  for (int r = 0; r < B; r++)
    embed_cell(p, E, tok + (size_t)r * PRED_MAX_TOKENS, len[r], w->x + (size_t)r * 4 * E);
  dense_relu(w->x, p->w1, p->b1, w->a1, B, 4 * E, H1);
  dense_relu(w->a1, p->w2, p->b2, w->a2, B, H1, H2);
  for (int r = 0; r < B; r++) y[r] = w->y[r] = head(p, w->a2 + (size_t)r * H2, H2);
}

void mlp_backward(const mlp_model *m, mlp_ws *w, const float *dy, float *grad) {
  const int E = m->E, H1 = m->H1, H2 = m->H2, B = w->B, X = 4 * E;
  const mlp_params *p = &m->v;
  mlp_params g;
  mlp_view(m->V, E, H1, H2, grad, &g);
  for (int r = 0; r < B; r++) {
    float y = w->y[r], dz = dy[r] * y * (1.0f - y);
    const float *a2 = w->a2 + (size_t)r * H2;
    float *d2 = w->d2 + (size_t)r * H2;
    for (int j = 0; j < H2; j++) {
      g.w3[j] += dz * a2[j];
      d2[j] = a2[j] > 0.0f ? dz * p->w3[j] : 0.0f;
    }
    g.b3[0] += dz;
  }
  // Layer 2: dW2 (H1, H2) += a1^T @ d2; db2 += sum d2; d1 = (d2 @ W2^T) * relu'(a1).
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H1, H2, B, 1.0f, w->a1, H1, w->d2, H2, 1.0f,
              g.w2, H2);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, H1, H2, 1.0f, w->d2, H2, p->w2, H2, 0.0f,
              w->d1, H1);
  for (int r = 0; r < B; r++)
    for (int j = 0; j < H2; j++) g.b2[j] += w->d2[(size_t)r * H2 + j];
  for (size_t i = 0; i < (size_t)B * H1; i++)
    if (!(w->a1[i] > 0.0f)) w->d1[i] = 0.0f;
  // Layer 1: dW1 (X, H1) += x^T @ d1; db1 += sum d1; dx = d1 @ W1^T.
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, X, H1, B, 1.0f, w->x, X, w->d1, H1, 1.0f,
              g.w1, H1);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, X, H1, 1.0f, w->d1, H1, p->w1, H1, 0.0f,
              w->dx, X);
  for (int r = 0; r < B; r++)
    for (int j = 0; j < H1; j++) g.b1[j] += w->d1[(size_t)r * H1 + j];
  for (int r = 0; r < B; r++) {
    const uint8_t *tok = w->tok + (size_t)r * PRED_MAX_TOKENS;
    int len = w->len[r];
    float inv = 1.0f / (float)(len / 4);
    const float *dx = w->dx + (size_t)r * X;
    for (int k = 0; k < len; k++) {
      float *ge = g.emb + (size_t)tok[k] * E;
      const float *d = dx + (size_t)(k % 4) * E;
      for (int j = 0; j < E; j++) ge[j] += inv * d[j];
    }
  }
}

int mlp_predict(const mlp_model *const *models, int M, const pred_tokens *x, float *out,
                int threads) {
  const int n = x->n;
  if (n == 0 || M == 0) return 0;
  const int V = models[0]->V, E = models[0]->E, H1 = models[0]->H1, H2 = models[0]->H2;
  for (int m = 1; m < M; m++)
    PRED_ASSERT(models[m]->V == V && models[m]->E == E && models[m]->H1 == H1 &&
                models[m]->H2 == H2);
  for (int i = 0; i < n; i++)
    for (int k = 0; k < x->len[i]; k++) PRED_ASSERT(x->tok[(size_t)i * PRED_MAX_TOKENS + k] < V);
  const int CH = 1024; // cells per GEMM
  int nt = pred_threads(threads);
  int nchunks = (n + CH - 1) / CH;
  if (nt > nchunks) nt = nchunks;
  // tables: per model, per position p: emb (V, E) @ w1[p] (E, H1) -> (4, V, H1)
  float *tables = malloc((size_t)M * 4 * V * H1 * sizeof(float));
  if (!tables) return -1;
  for (int m = 0; m < M; m++)
    for (int q = 0; q < 4; q++)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, V, H1, E, 1.0f,
                  models[m]->v.emb, E, models[m]->v.w1 + (size_t)q * E * H1, H1, 0.0f,
                  tables + ((size_t)m * 4 + q) * V * H1, H1);
  int failed = 0;
  int saved = pred_blas_serial(2); // always serial BLAS: identical results for any nt
#pragma omp parallel num_threads(nt)
  {
    float *a1 = malloc((size_t)CH * H1 * sizeof(float));
    float *a2 = malloc((size_t)CH * H2 * sizeof(float));
    float *cnt = malloc((size_t)CH * 4 * V * sizeof(float));
    int ok = a1 && a2 && cnt;
    if (!ok) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp for schedule(dynamic, 1)
    for (int c = 0; c < nchunks; c++) {
      if (!ok) continue;
      int s = c * CH, B = s + CH < n ? CH : n - s;
      // cnt (B, 4V): token counts per block position / nblocks, so that layer 1 of every
      // model is one GEMM with its (4V, H1) table.
      memset(cnt, 0, (size_t)B * 4 * V * sizeof(float));
      for (int r = 0; r < B; r++) {
        const uint8_t *tok = x->tok + (size_t)(s + r) * PRED_MAX_TOKENS;
        int len = x->len[s + r];
        float inv = 1.0f / (float)(len / 4), *cr = cnt + (size_t)r * 4 * V;
        for (int k = 0; k < len; k++) cr[(k % 4) * V + tok[k]] += inv;
      }
      for (int m = 0; m < M; m++) {
        const mlp_params *p = &models[m]->v;
        dense_relu(cnt, tables + (size_t)m * 4 * V * H1, p->b1, a1, B, 4 * V,
                   H1);
        dense_relu(a1, p->w2, p->b2, a2, B, H1, H2);
        for (int r = 0; r < B; r++) out[(size_t)m * n + s + r] = head(p, a2 + (size_t)r * H2, H2);
      }
    }
    free(a1);
    free(a2);
    free(cnt);
  }
  pred_blas_restore(saved);
  free(tables);
  return failed ? -1 : 0;
}
