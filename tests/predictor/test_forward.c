// The optimised paths against the plain reference forwards (the oracle): batched training
// forward of the LSTM (end-aligned, mixed lengths), the prefix-sharing LSTM scorer (random
// cells, duplicates, the children of parents, several chunks, 1 and 2 threads) and the
// table-based MLP scorer. Tolerance |got - ref| <= 2e-5 + 1e-4 |ref| (float GEMMs and the
// polynomial exp against double accumulation and libm).
#include <string.h>

#include "predictor/lstm.h"
#include "predictor/mlp.h"
#include "ptest.h"

static int report(const char *what, const float *got, const float *ref, int n) {
  int bad = 0;
  double mu = 0.0, var = 0.0;
  for (int i = 0; i < n; i++) mu += ref[i] / n;
  for (int i = 0; i < n; i++) var += (ref[i] - mu) * (ref[i] - mu) / n;
  if (n > 5 && !(sqrt(var) > 0.02)) { // a constant model would make the comparison vacuous
    fprintf(stderr, "%s: reference outputs barely vary (std %.3g)\n", what, sqrt(var));
    bad++;
  }
  double maxerr = 0.0;
  for (int i = 0; i < n; i++) {
    double e = fabs((double)got[i] - ref[i]);
    if (e > maxerr) maxerr = e;
    if (!(e <= 2e-5 + 1e-4 * fabs(ref[i]))) {
      if (bad < 5) fprintf(stderr, "%s: cell %d got %.8f ref %.8f\n", what, i, got[i], ref[i]);
      bad++;
    }
  }
  printf("%-28s n=%6d ref std %.3f max|err| %.2e %s\n", what, n, sqrt(var), maxerr,
         bad ? "FAIL" : "ok");
  return bad;
}

int main(void) {
  space_rng r;
  space_rng_seed(&r, 7);
  char err[256];
  // Random cells of 1..5 blocks, a few duplicated, plus all children of 3 parents over all 13
  // operators (NASNet's space): the models embed the whole table (vocabulary 13, V = 24).
  const int V = pred_vocab_rows(SPACE_NUM_OPS);
  enum { NR = 300, NP = 3 };
  int nch = 0;
  space_cell par[NP];
  for (int p = 0; p < NP; p++) {
    space_sample(&par[p], 2 + p, SPACE_ALL_OPS, &r);
    nch += space_expand(&par[p], SPACE_ALL_OPS, NULL, 0);
  }
  int n = NR + 20 + nch;
  space_cell *cells = malloc((size_t)n * sizeof *cells);
  ptest_random_cells(cells, NR, 1, 5, &r);
  for (int i = 0; i < 20; i++) cells[NR + i] = cells[space_rng_below(&r, NR)];
  int k = NR + 20;
  for (int p = 0; p < NP; p++) k += space_expand(&par[p], SPACE_ALL_OPS, cells + k, n - k);
  CHECK(k == n);
  pred_tokens x;
  CHECK(pred_tokens_from_cells(&x, cells, n, SPACE_NUM_OPS, err, sizeof err) == 0);
  float *ref = malloc((size_t)n * sizeof *ref), *got = malloc((size_t)2 * n * sizeof *got);

  const int sizes[2][2] = {{8, 16}, {100, 100}};
  const int nall = n;
  for (int s = 0; s < 2; s++) {
    const int E = sizes[s][0], H = sizes[s][1];
    // The paper-size model (the reference costs ~1 ms a cell) is checked on the random cells
    // and the children of the first parent only.
    n = x.n = s == 0 ? nall : NR + 20 + space_expand(&par[0], SPACE_ALL_OPS, NULL, 0);
    lstm_model m[2];
    for (int j = 0; j < 2; j++) {
      CHECK(lstm_init(&m[j], V, E, H) == 0);
      lstm_randomize(&m[j], &r);
      // Larger recurrent weights than the init so long sequences matter.
      for (int i = 0; i < H * 4 * H; i++) m[j].v.w_hh[i] *= 3.0f;
      // Larger embeddings and head, no output offset: outputs spread over (0, 1).
      for (int i = 0; i < V * E; i++) m[j].v.emb[i] *= 10.0f;
      for (int i = 0; i < H; i++) m[j].v.w_fc[i] *= 5.0f;
      m[j].v.b_fc[0] = 0.0f;
    }
    for (int i = 0; i < n; i++) ref[i] = lstm_forward_ref(&m[0], x.tok + (size_t)i * PRED_MAX_TOKENS, x.len[i]);
    // Batched training forward: batches of 37 rows sorted by length.
    {
      const int BS = 37;
      lstm_ws w;
      CHECK(lstm_ws_init(&w, BS, V, E, H) == 0);
      int *ord = malloc((size_t)n * sizeof *ord);
      for (int i = 0; i < n; i++) ord[i] = i;
      for (int i = 1; i < n; i++) // sort all by length, descending
        for (int j = i; j > 0 && x.len[ord[j - 1]] < x.len[ord[j]]; j--) {
          int t = ord[j];
          ord[j] = ord[j - 1];
          ord[j - 1] = t;
        }
      uint8_t tok[37 * PRED_MAX_TOKENS];
      int len[37];
      float y[37];
      float *gb = malloc((size_t)n * sizeof *gb), *rb = malloc((size_t)n * sizeof *rb);
      int cnt = 0;
      for (int s0 = 0; s0 < n; s0 += BS) {
        // Mix lengths: take rows spread over the sorted order, keep them sorted.
        int B = s0 + BS <= n ? BS : n - s0;
        for (int b = 0; b < B; b++) {
          int i = ord[s0 + b];
          memcpy(tok + b * PRED_MAX_TOKENS, x.tok + (size_t)i * PRED_MAX_TOKENS, PRED_MAX_TOKENS);
          len[b] = x.len[i];
          rb[cnt + b] = ref[i];
        }
        lstm_forward(&m[0], &w, tok, len, B, y);
        memcpy(gb + cnt, y, (size_t)B * sizeof *y);
        cnt += B;
      }
      char name[64];
      snprintf(name, sizeof name, "lstm batched E=%d H=%d", E, H);
      CHECK(report(name, gb, rb, n) == 0);
      // A batch spanning all lengths (1..5 blocks) in one call.
      int pick[5] = {-1, -1, -1, -1, -1};
      for (int i = 0; i < NR; i++)
        if (pick[5 - x.len[i] / 4] < 0) pick[5 - x.len[i] / 4] = i;
      int B = 0;
      float rr[5];
      for (int j = 0; j < 5; j++)
        if (pick[j] >= 0) {
          memcpy(tok + B * PRED_MAX_TOKENS, x.tok + (size_t)pick[j] * PRED_MAX_TOKENS, PRED_MAX_TOKENS);
          len[B] = x.len[pick[j]];
          rr[B++] = ref[pick[j]];
        }
      CHECK(B == 5);
      lstm_forward(&m[0], &w, tok, len, B, y);
      snprintf(name, sizeof name, "lstm mixed batch E=%d H=%d", E, H);
      CHECK(report(name, y, rr, B) == 0);
      free(gb);
      free(rb);
      free(ord);
      lstm_ws_release(&w);
    }
    // Prefix-sharing scorer, 2 models, 1 and 2 threads.
    float *ref1 = malloc((size_t)n * sizeof *ref1);
    for (int i = 0; i < n; i++)
      ref1[i] = lstm_forward_ref(&m[1], x.tok + (size_t)i * PRED_MAX_TOKENS, x.len[i]);
    for (int th = 1; th <= 2; th++) {
      const lstm_model *ms[2] = {&m[0], &m[1]};
      CHECK(lstm_predict(ms, 2, &x, got, th) == 0);
      char name[64];
      snprintf(name, sizeof name, "lstm scorer E=%d H=%d t=%d", E, H, th);
      CHECK(report(name, got, ref, n) == 0);
      snprintf(name, sizeof name, "lstm scorer model 2 t=%d", th);
      CHECK(report(name, got + n, ref1, n) == 0);
    }
    free(ref1);
    for (int j = 0; j < 2; j++) lstm_release(&m[j]);
  }
  n = x.n = nall;
  { // MLP scorer
    mlp_model m;
    CHECK(mlp_init(&m, V, 100, 100, 100) == 0);
    mlp_randomize(&m, &r);
    for (int i = 0; i < V * 100; i++) m.v.emb[i] *= 10.0f;
    for (int i = 0; i < 100; i++) m.v.w3[i] *= 10.0f;
    m.v.b3[0] = 0.0f;
    for (int i = 0; i < n; i++) ref[i] = mlp_forward_ref(&m, x.tok + (size_t)i * PRED_MAX_TOKENS, x.len[i]);
    const mlp_model *ms[1] = {&m};
    CHECK(mlp_predict(ms, 1, &x, got, 2) == 0);
    CHECK(report("mlp scorer", got, ref, n) == 0);
    mlp_ws w;
    CHECK(mlp_ws_init(&w, n, 100, 100, 100) == 0);
    mlp_forward(&m, &w, x.tok, x.len, n, got);
    CHECK(report("mlp batched", got, ref, n) == 0);
    mlp_ws_release(&w);
    mlp_release(&m);
  }
  free(ref);
  free(got);
  free(cells);
  pred_tokens_release(&x);
  PTEST_END();
}
