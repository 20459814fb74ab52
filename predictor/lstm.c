// LSTM predictor: parameters, reference forward, batched forward/backward for training and
// the prefix-sharing scorer (see lstm.h). The input projection of a token is a row of
// table = emb @ w_ih (V x 4H), so no per-token input GEMM is ever run; the recurrent
// product h @ w_hh is one sgemm per step over the rows still active.
#include "predictor/lstm.h"

#include "predictor/pcheck.h"
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "predictor/fastmath.h"
#include "predictor/par.h"

int lstm_nparams(int V, int E, int H) {
  return V * E + E * 4 * H + H * 4 * H + 4 * H + H + 1;
}

void lstm_view(int V, int E, int H, float *buf, lstm_params *v) {
  v->emb = buf;
  v->w_ih = v->emb + V * E;
  v->w_hh = v->w_ih + E * 4 * H;
  v->b = v->w_hh + H * 4 * H;
  v->w_fc = v->b + 4 * H;
  v->b_fc = v->w_fc + H;
}

int lstm_init(lstm_model *m, int V, int E, int H) {
  m->V = V;
  m->E = E;
  m->H = H;
  m->nparams = lstm_nparams(V, E, H);
  m->p = calloc((size_t)m->nparams, sizeof *m->p);
  if (!m->p) return -1;
  lstm_view(V, E, H, m->p, &m->v);
  return 0;
}

void lstm_release(lstm_model *m) {
  free(m->p);
  m->p = NULL;
}

static float unif(space_rng *r, float a) { return (float)((2.0 * space_rng_uniform(r) - 1.0) * a); }

void lstm_randomize(lstm_model *m, space_rng *r) {
  int E = m->E, H = m->H;
  float k = 1.0f / sqrtf((float)H);
  for (int i = 0; i < m->V * E; i++) m->v.emb[i] = unif(r, 0.1f);
  for (int i = 0; i < E * 4 * H; i++) m->v.w_ih[i] = unif(r, k);
  for (int i = 0; i < H * 4 * H; i++) m->v.w_hh[i] = unif(r, k);
  for (int i = 0; i < 4 * H; i++) m->v.b[i] = unif(r, k);
  for (int i = 0; i < H; i++) m->v.w_fc[i] = unif(r, k);
  m->v.b_fc[0] = 1.8f;
}

static double sigmoid_ref(double x) { return 1.0 / (1.0 + exp(-x)); }

float lstm_forward_ref(const lstm_model *m, const uint8_t *tok, int len) {
  int E = m->E, H = m->H, G = 4 * H;
  const lstm_params *p = &m->v;
  float *h = calloc((size_t)H, sizeof *h), *c = calloc((size_t)H, sizeof *c);
  float *a = malloc((size_t)G * sizeof *a);
  PRED_ASSERT(h && c && a);
  for (int t = 0; t < len; t++) {
    PRED_ASSERT(tok[t] < m->V);
    const float *x = p->emb + (size_t)tok[t] * E;
    for (int j = 0; j < G; j++) {
      double s = p->b[j];
      for (int e = 0; e < E; e++) s += (double)x[e] * p->w_ih[(size_t)e * G + j];
      for (int k = 0; k < H; k++) s += (double)h[k] * p->w_hh[(size_t)k * G + j];
      a[j] = (float)s;
    }
    for (int j = 0; j < H; j++) {
      double i = sigmoid_ref(a[j]), f = sigmoid_ref(a[H + j]), g = tanh(a[2 * H + j]),
             o = sigmoid_ref(a[3 * H + j]);
      double cn = f * c[j] + i * g;
      c[j] = (float)cn;
      h[j] = (float)(o * tanh(cn));
    }
  }
  double z = p->b_fc[0];
  for (int j = 0; j < H; j++) z += (double)h[j] * p->w_fc[j];
  free(h);
  free(c);
  free(a);
  return (float)sigmoid_ref(z);
}

int lstm_ws_init(lstm_ws *w, int maxB, int V, int E, int H) {
  memset(w, 0, sizeof *w);
  w->maxB = maxB;
  w->V = V;
  w->E = E;
  w->H = H;
  size_t G = 4 * (size_t)H, T = PRED_MAX_TOKENS, B = (size_t)maxB;
  w->tok = malloc(B * PRED_MAX_TOKENS);
  w->len = malloc(B * sizeof *w->len);
  w->table = malloc((size_t)V * G * sizeof(float));
  w->dtable = malloc((size_t)V * G * sizeof(float));
  w->gates = malloc(T * B * G * sizeof(float));
  w->c = malloc(T * B * H * sizeof(float));
  w->tc = malloc(T * B * H * sizeof(float));
  w->h = malloc(T * B * H * sizeof(float));
  w->y = malloc(B * sizeof(float));
  w->dg = malloc(T * B * G * sizeof(float));
  w->hcat = malloc(T * B * H * sizeof(float));
  w->dh = malloc(B * H * sizeof(float));
  w->dc = malloc(B * H * sizeof(float));
  if (!w->tok || !w->len || !w->table || !w->dtable || !w->gates || !w->c || !w->tc || !w->h ||
      !w->y || !w->dg || !w->hcat || !w->dh || !w->dc) {
    lstm_ws_release(w);
    return -1;
  }
  return 0;
}

void lstm_ws_release(lstm_ws *w) {
  free(w->tok);
  free(w->len);
  free(w->table);
  free(w->dtable);
  free(w->gates);
  free(w->c);
  free(w->tc);
  free(w->h);
  free(w->y);
  free(w->dg);
  free(w->hcat);
  free(w->dh);
  free(w->dc);
  memset(w, 0, sizeof *w);
}

// One LSTM cell update. g: (4H) pre-activations in, activated gates out; cprev: (H) or NULL
// for the zero initial state; c, tc, h: (H) outputs.
static PRED_CLONES void cell_forward(float *restrict g, const float *restrict cprev, float *restrict c,
                         float *restrict tc, float *restrict h, int H) {
  float *gi = g, *gf = g + H, *gg = g + 2 * H, *go = g + 3 * H;
  for (int j = 0; j < H; j++) {
    gi[j] = pred_sigmoidf(gi[j]);
    gf[j] = pred_sigmoidf(gf[j]);
    gg[j] = pred_tanhf(gg[j]);
    go[j] = pred_sigmoidf(go[j]);
  }
  if (cprev)
    for (int j = 0; j < H; j++) c[j] = gf[j] * cprev[j] + gi[j] * gg[j];
  else
    for (int j = 0; j < H; j++) c[j] = gi[j] * gg[j];
  for (int j = 0; j < H; j++) {
    tc[j] = pred_tanhf(c[j]);
    h[j] = go[j] * tc[j];
  }
}

// Backward of cell_forward for one row. g: (4H) activated gates; tc: (H) tanh(c); cprev: (H)
// or NULL (zero initial state); dh: (H) dL/dh; dc: (H) dL/dc in, dL/dc[s-1] out;
// d: (4H) dL/d(pre-activations) out.
static PRED_CLONES void cell_backward(const float *restrict g, const float *restrict tc,
                                      const float *restrict cprev, const float *restrict dh,
                                      float *restrict dc, float *restrict d, int H) {
  const float *gi = g, *gf = g + H, *gg = g + 2 * H, *go = g + 3 * H;
  for (int j = 0; j < H; j++) {
    float dcj = dc[j] + dh[j] * go[j] * (1.0f - tc[j] * tc[j]);
    float cpj = cprev ? cprev[j] : 0.0f;
    d[j] = dcj * gg[j] * gi[j] * (1.0f - gi[j]);
    d[H + j] = dcj * cpj * gf[j] * (1.0f - gf[j]);
    d[2 * H + j] = dcj * gi[j] * (1.0f - gg[j] * gg[j]);
    d[3 * H + j] = dh[j] * tc[j] * go[j] * (1.0f - go[j]);
    dc[j] = dcj * gf[j];
  }
}

static PRED_CLONES void add_rows(float *restrict out, const float *restrict a,
                                 const float *restrict b, int n) {
  for (int j = 0; j < n; j++) out[j] = a[j] + b[j];
}

static PRED_CLONES void acc_rows(float *restrict out, const float *restrict a, int n) {
  for (int j = 0; j < n; j++) out[j] += a[j];
}

static float dotf(const float *a, const float *b, int n) {
  float s = 0.0f;
  for (int j = 0; j < n; j++) s += a[j] * b[j];
  return s;
}

void lstm_forward(const lstm_model *m, lstm_ws *w, const uint8_t *tok, const int *len, int B,
                  float *y) {
  const int E = m->E, H = m->H, G = 4 * H, MB = w->maxB;
  const lstm_params *p = &m->v;
  PRED_ASSERT(B >= 1 && B <= w->maxB && w->E == E && w->H == H);
  memcpy(w->tok, tok, (size_t)B * PRED_MAX_TOKENS);
  memcpy(w->len, len, (size_t)B * sizeof *len);
  const int T = len[0];
  PRED_ASSERT(T >= 1 && T <= PRED_MAX_TOKENS);
  for (int r = 1; r < B; r++) PRED_ASSERT(len[r] <= len[r - 1] && len[r] >= 1);
  w->B = B;
  w->T = T;
  int n = 0;
  for (int s = 0; s < T; s++) {
    while (n < B && len[n] >= T - s) n++;
    w->nact[s] = n;
  }
  PRED_ASSERT(w->nact[T - 1] == B); // rows sorted by length, descending
  PRED_ASSERT(w->V == m->V);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m->V, G, E, 1.0f, p->emb, E,
              p->w_ih, G, 0.0f, w->table, G);
  for (int s = 0; s < T; s++) {
    const int na = w->nact[s], np = s ? w->nact[s - 1] : 0;
    float *gs = w->gates + (size_t)s * MB * G;
    for (int r = 0; r < na; r++) {
      const float *row = w->table + (size_t)tok[(size_t)r * PRED_MAX_TOKENS + s - (T - len[r])] * G;
      add_rows(gs + (size_t)r * G, row, p->b, G);
    }
    const float *hp = w->h + (size_t)(s - 1) * MB * H;
    if (np > 0)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, np, G, H, 1.0f, hp, H, p->w_hh, G,
                  1.0f, gs, G);
    for (int r = 0; r < na; r++) {
      size_t o = ((size_t)s * MB + r) * H;
      const float *cp = r < np ? w->c + ((size_t)(s - 1) * MB + r) * H : NULL;
      cell_forward(gs + (size_t)r * G, cp, w->c + o, w->tc + o, w->h + o, H);
    }
  }
  const float *hT = w->h + (size_t)(T - 1) * MB * H;
  for (int r = 0; r < B; r++) {
    w->y[r] = pred_sigmoidf(dotf(hT + (size_t)r * H, p->w_fc, H) + p->b_fc[0]);
    y[r] = w->y[r];
  }
}

void lstm_backward(const lstm_model *m, lstm_ws *w, const float *dy, float *grad) {
  const int E = m->E, H = m->H, G = 4 * H, MB = w->maxB, B = w->B, T = w->T;
  const lstm_params *p = &m->v;
  lstm_params gp;
  const int V = m->V;
  lstm_view(V, E, H, grad, &gp);
  const float *hT = w->h + (size_t)(T - 1) * MB * H;
  for (int r = 0; r < B; r++) {
    float y = w->y[r], dz = dy[r] * y * (1.0f - y);
    const float *hr = hT + (size_t)r * H;
    for (int j = 0; j < H; j++) {
      gp.w_fc[j] += dz * hr[j];
      w->dh[(size_t)r * H + j] = dz * p->w_fc[j];
      w->dc[(size_t)r * H + j] = 0.0f;
    }
    gp.b_fc[0] += dz;
  }
  memset(w->dtable, 0, (size_t)V * G * sizeof(float));
  // The gate gradients of step s are written at row koff of dg, and h[s-1] at row koff of
  // hcat, for the np rows that have a previous step; koff advances by np. dW_hh is then one
  // GEMM over all steps (K = sum of np) instead of one thin GEMM per step.
  int koff = 0;
  for (int s = T - 1; s >= 0; s--) {
    const int na = w->nact[s], np = s ? w->nact[s - 1] : 0;
    const float *gs = w->gates + (size_t)s * MB * G;
    float *dgs = w->dg + (size_t)koff * G;
    for (int r = 0; r < na; r++) {
      const float *cp = r < np ? w->c + ((size_t)(s - 1) * MB + r) * H : NULL;
      float *d = dgs + (size_t)r * G;
      cell_backward(gs + (size_t)r * G, w->tc + ((size_t)s * MB + r) * H, cp,
                    w->dh + (size_t)r * H, w->dc + (size_t)r * H, d, H);
      int tk = w->tok[(size_t)r * PRED_MAX_TOKENS + s - (T - w->len[r])];
      acc_rows(w->dtable + (size_t)tk * G, d, G);
    }
    if (np > 0) {
      const float *hp = w->h + (size_t)(s - 1) * MB * H;
      memcpy(w->hcat + (size_t)koff * H, hp, (size_t)np * H * sizeof(float));
      // dh[s-1] (np, H) = dg (np, G) @ W_hh^T
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, np, H, G, 1.0f, dgs, G, p->w_hh, G,
                  0.0f, w->dh, H);
      koff += np;
    }
  }
  // dW_hh (H, G) += hcat^T (H, koff) @ dg (koff, G)
  if (koff > 0)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, G, koff, 1.0f, w->hcat, H, w->dg, G,
                1.0f, gp.w_hh, G);
  // table = emb @ w_ih: dW_ih (E, G) += emb^T @ dtable; demb (V, E) += dtable @ w_ih^T.
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, E, G, V, 1.0f, p->emb, E,
              w->dtable, G, 1.0f, gp.w_ih, G);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, V, E, G, 1.0f, w->dtable, G,
              p->w_ih, G, 1.0f, gp.emb, E);
  for (int v = 0; v < V; v++)
    for (int j = 0; j < G; j++) gp.b[j] += w->dtable[(size_t)v * G + j];
}

// ---- prefix-sharing scorer ----

typedef struct {
  const uint8_t *tok;
  int len, idx;
} seq_ref;

static int seq_cmp(const void *pa, const void *pb) {
  const seq_ref *a = pa, *b = pb;
  int L = a->len < b->len ? a->len : b->len;
  int c = memcmp(a->tok, b->tok, (size_t)L);
  if (c) return c;
  if (a->len != b->len) return a->len - b->len;
  return a->idx - b->idx;
}

typedef struct {
  int cap, H;
  int *prev_node, *end_node;  // (cap)
  int *parent;                // (cap * PRED_MAX_TOKENS) flat over depths
  uint8_t *ntok;              // (cap * PRED_MAX_TOKENS)
  int start[PRED_MAX_TOKENS + 2], nn[PRED_MAX_TOKENS + 2];
  float *hp, *cp, *hc, *cc;   // (cap, H) previous / current depth
  float *R;                   // (cap, 4H) h[depth-1] @ w_hh
  float *g, *tc;              // (4H), (H) scratch
} chunk_ws;

static void chunk_ws_free(chunk_ws *w) {
  free(w->prev_node);
  free(w->end_node);
  free(w->parent);
  free(w->ntok);
  free(w->hp);
  free(w->cp);
  free(w->hc);
  free(w->cc);
  free(w->R);
  free(w->g);
  free(w->tc);
}

static int chunk_ws_init(chunk_ws *w, int cap, int H) {
  memset(w, 0, sizeof *w);
  w->cap = cap;
  w->H = H;
  size_t c = (size_t)cap, G = 4 * (size_t)H;
  w->prev_node = malloc(c * sizeof(int));
  w->end_node = malloc(c * sizeof(int));
  w->parent = malloc(c * PRED_MAX_TOKENS * sizeof(int));
  w->ntok = malloc(c * PRED_MAX_TOKENS);
  w->hp = malloc(c * H * sizeof(float));
  w->cp = malloc(c * H * sizeof(float));
  w->hc = malloc(c * H * sizeof(float));
  w->cc = malloc(c * H * sizeof(float));
  w->R = malloc(c * G * sizeof(float));
  w->g = malloc(G * sizeof(float));
  w->tc = malloc((size_t)H * sizeof(float));
  if (!w->prev_node || !w->end_node || !w->parent || !w->ntok || !w->hp || !w->cp || !w->hc ||
      !w->cc || !w->R || !w->g || !w->tc) {
    chunk_ws_free(w);
    return -1;
  }
  return 0;
}

// Scores cells seqs[0..cn) (sorted) with every model. tables: (M, V, 4H) = emb @ w_ih
// + b per model. out: (M, n) indexed by seqs[i].idx.
static void predict_chunk(const lstm_model *const *models, int M, const float *tables,
                          const seq_ref *seqs, int cn, float *out, int n, chunk_ws *w) {
  const int V = models[0]->V, H = models[0]->H, G = 4 * H;
  int Tmax = 0, total = 0;
  for (int i = 0; i < cn; i++) {
    w->prev_node[i] = -1;
    if (seqs[i].len > Tmax) Tmax = seqs[i].len;
  }
  // Trie, depth by depth: equal prefixes are contiguous in sorted order, so a node is new
  // exactly when (parent, token) differs from the last node created at this depth.
  for (int d = 1; d <= Tmax; d++) {
    int k = 0;
    w->start[d] = total;
    for (int i = 0; i < cn; i++) {
      if (seqs[i].len < d) continue;
      int par = w->prev_node[i];
      uint8_t t = seqs[i].tok[d - 1];
      if (!(k > 0 && w->parent[total + k - 1] == par && w->ntok[total + k - 1] == t)) {
        w->parent[total + k] = par;
        w->ntok[total + k] = t;
        k++;
      }
      w->prev_node[i] = k - 1;
      if (seqs[i].len == d) w->end_node[i] = k - 1;
    }
    w->nn[d] = k;
    total += k;
  }
  for (int m = 0; m < M; m++) {
    const lstm_params *p = &models[m]->v;
    const float *table = tables + (size_t)m * V * G;
    for (int d = 1; d <= Tmax; d++) {
      const int nk = w->nn[d], np = d > 1 ? w->nn[d - 1] : 0;
      if (np > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, np, G, H, 1.0f, w->hp, H,
                    p->w_hh, G, 0.0f, w->R, G);
      const int *par = w->parent + w->start[d];
      const uint8_t *tk = w->ntok + w->start[d];
      for (int k = 0; k < nk; k++) {
        const float *row = table + (size_t)tk[k] * G;
        float *g = w->g;
        if (par[k] >= 0) {
          add_rows(g, row, w->R + (size_t)par[k] * G, G);
        } else {
          memcpy(g, row, (size_t)G * sizeof(float));
        }
        cell_forward(g, par[k] >= 0 ? w->cp + (size_t)par[k] * H : NULL, w->cc + (size_t)k * H,
                     w->tc, w->hc + (size_t)k * H, H);
      }
      for (int i = 0; i < cn; i++)
        if (seqs[i].len == d)
          out[(size_t)m * n + seqs[i].idx] =
              pred_sigmoidf(dotf(w->hc + (size_t)w->end_node[i] * H, p->w_fc, H) + p->b_fc[0]);
      float *t;
      t = w->hp, w->hp = w->hc, w->hc = t;
      t = w->cp, w->cp = w->cc, w->cc = t;
    }
  }
}

int lstm_predict(const lstm_model *const *models, int M, const pred_tokens *x, float *out,
                 int threads) {
  const int n = x->n;
  if (n <= 0 || M <= 0) return 0;
  const int V = models[0]->V, E = models[0]->E, H = models[0]->H, G = 4 * H;
  for (int m = 1; m < M; m++)
    PRED_ASSERT(models[m]->V == V && models[m]->E == E && models[m]->H == H);
  for (int i = 0; i < n; i++)
    for (int k = 0; k < x->len[i]; k++) PRED_ASSERT(x->tok[(size_t)i * PRED_MAX_TOKENS + k] < V);
  seq_ref *seqs = malloc((size_t)n * sizeof *seqs);
  float *tables = malloc((size_t)M * (size_t)V * (size_t)G * sizeof(float));
  if (!seqs || !tables) {
    free(seqs);
    free(tables);
    return -1;
  }
  for (int i = 0; i < n; i++) {
    seqs[i].tok = x->tok + (size_t)i * PRED_MAX_TOKENS;
    seqs[i].len = x->len[i];
    seqs[i].idx = i;
  }
  qsort(seqs, (size_t)n, sizeof *seqs, seq_cmp);
  for (int m = 0; m < M; m++) {
    const lstm_params *p = &models[m]->v;
    float *t = tables + (size_t)m * V * G;
    for (int v = 0; v < V; v++) memcpy(t + (size_t)v * G, p->b, (size_t)G * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, V, G, E, 1.0f, p->emb, E,
                p->w_ih, G, 1.0f, t, G);
  }
  int nt = pred_threads(threads);
  // Chunks of 2048 sorted cells: large enough that a parent's children (<= 1176 at level 5)
  // mostly share one chunk, small enough to bound memory and balance the workers. The size
  // does not depend on the thread count, so the GEMM shapes and the results do not either.
  const int chunk = n < 2048 ? n : 2048;
  int nchunks = (n + chunk - 1) / chunk;
  if (nt > nchunks) nt = nchunks;
  int failed = 0;
  int saved = pred_blas_serial(2); // always serial BLAS: identical results for any nt
#pragma omp parallel num_threads(nt)
  {
    chunk_ws w;
    int ok = chunk_ws_init(&w, chunk, H) == 0;
    if (!ok) {
#pragma omp atomic write
      failed = 1;
    }
    // Every thread reaches the worksharing loop; a thread without workspace skips its chunks
    // and the call reports failure.
#pragma omp for schedule(dynamic, 1)
    for (int c = 0; c < nchunks; c++) {
      int s = c * chunk, e = s + chunk < n ? s + chunk : n;
      if (ok) predict_chunk(models, M, tables, seqs + s, e - s, out, n, &w);
    }
    if (ok) chunk_ws_free(&w);
  }
  pred_blas_restore(saved);
  free(seqs);
  free(tables);
  return failed ? -1 : 0;
}
