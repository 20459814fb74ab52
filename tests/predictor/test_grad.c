// Finite-difference gradient checks of lstm_backward and mlp_backward, every parameter of
// every group, small sizes, a batch of mixed lengths. The loss is smooth (sum_r w_r y_r) so
// central differences are valid; double-check tolerance: |num - ana| <= 5e-4 + 2e-2 |ana|
// with eps = 1e-3 in float (rounding noise of the float forward ~1e-4 at this eps).
#include <string.h>

#include "predictor/lstm.h"
#include "predictor/mlp.h"
#include "ptest.h"

#define B 6
static const int LENS[B] = {20, 12, 8, 8, 4, 4}; // sorted descending, as lstm_forward needs

// Tokens over the whole table (NASNet's 13 operators): the models below embed all of them.
static const int V = SPACE_NUM_INPUTS + SPACE_NUM_OPS;

static void random_tokens(uint8_t *tok, space_rng *r) {
  memset(tok, 0, (size_t)B * PRED_MAX_TOKENS);
  for (int b = 0; b < B; b++)
    for (int t = 0; t < LENS[b]; t++)
      tok[b * PRED_MAX_TOKENS + t] = (uint8_t)(space_token_is_input(t)
                                                   ? space_rng_below(r, SPACE_NUM_INPUTS)
                                                   : SPACE_NUM_INPUTS + space_rng_below(r, SPACE_NUM_OPS));
}

typedef struct {
  const char *name;
  int off, n;
} group;

typedef double (*loss_fn)(void *ctx);

// Compares grad against central differences for every parameter; per-group report.
static void check_groups(const char *model, float *p, const float *grad, const group *g, int ng,
                         loss_fn f, void *ctx) {
  const float eps = 1e-3f;
  for (int k = 0; k < ng; k++) {
    double maxerr = 0.0, maxana = 0.0;
    int bad = 0;
    for (int i = g[k].off; i < g[k].off + g[k].n; i++) {
      float save = p[i];
      p[i] = save + eps;
      double lp = f(ctx);
      p[i] = save - eps;
      double lm = f(ctx);
      p[i] = save;
      double num = (lp - lm) / (2.0 * eps), ana = grad[i], err = fabs(num - ana);
      if (err > 5e-4 + 2e-2 * fabs(ana)) {
        if (bad < 3)
          fprintf(stderr, "%s %s[%d]: analytic %.6g numeric %.6g\n", model, g[k].name,
                  i - g[k].off, ana, num);
        bad++;
      }
      if (err > maxerr) maxerr = err;
      if (fabs(ana) > maxana) maxana = fabs(ana);
    }
    printf("%s %-6s %5d params  max|grad| %.3e  max|err| %.3e  %s\n", model, g[k].name, g[k].n,
           maxana, maxerr, bad ? "FAIL" : "ok");
    CHECK(bad == 0);
    CHECK(maxana > 1e-5); // the group really receives gradient
  }
}

typedef struct {
  lstm_model *m;
  lstm_ws *w;
  const uint8_t *tok;
  const float *wt;
} lstm_case;

static double lstm_loss(void *c) {
  lstm_case *x = c;
  float y[B];
  lstm_forward(x->m, x->w, x->tok, LENS, B, y);
  double l = 0.0;
  for (int b = 0; b < B; b++) l += (double)x->wt[b] * y[b];
  return l;
}

typedef struct {
  mlp_model *m;
  mlp_ws *w;
  const uint8_t *tok;
  const float *wt;
} mlp_case;

static double mlp_loss(void *c) {
  mlp_case *x = c;
  float y[B];
  mlp_forward(x->m, x->w, x->tok, LENS, B, y);
  double l = 0.0;
  for (int b = 0; b < B; b++) l += (double)x->wt[b] * y[b];
  return l;
}

int main(void) {
  space_rng r;
  space_rng_seed(&r, 42);
  uint8_t tok[B * PRED_MAX_TOKENS];
  random_tokens(tok, &r);
  float wt[B];
  for (int b = 0; b < B; b++) wt[b] = (float)(space_rng_uniform(&r) * 2.0 - 1.0);

  { // LSTM, E = 3, H = 4; bigger-than-default weights so every gate is exercised.
    const int E = 3, H = 4;
    lstm_model m;
    lstm_ws w;
    CHECK(lstm_init(&m, V, E, H) == 0 && lstm_ws_init(&w, B, V, E, H) == 0);
    for (int i = 0; i < m.nparams; i++) m.p[i] = (float)(space_rng_uniform(&r) * 1.6 - 0.8);
    float *grad = calloc((size_t)m.nparams, sizeof *grad);
    float y[B];
    lstm_forward(&m, &w, tok, LENS, B, y);
    lstm_backward(&m, &w, wt, grad);
    lstm_params v;
    lstm_view(V, E, H, m.p, &v);
#define OFF(ptr) (int)((ptr) - m.p)
    group g[] = {{"emb", OFF(v.emb), V * E}, {"w_ih", OFF(v.w_ih), E * 4 * H},
                 {"w_hh", OFF(v.w_hh), H * 4 * H},    {"b", OFF(v.b), 4 * H},
                 {"w_fc", OFF(v.w_fc), H},            {"b_fc", OFF(v.b_fc), 1}};
#undef OFF
    lstm_case c = {&m, &w, tok, wt};
    check_groups("lstm", m.p, grad, g, 6, lstm_loss, &c);
    free(grad);
    lstm_ws_release(&w);
    lstm_release(&m);
  }
  { // MLP, E = 3, H1 = 4, H2 = 5.
    const int E = 3, H1 = 4, H2 = 5;
    mlp_model m;
    mlp_ws w;
    CHECK(mlp_init(&m, V, E, H1, H2) == 0 && mlp_ws_init(&w, B, E, H1, H2) == 0);
    for (int i = 0; i < m.nparams; i++) m.p[i] = (float)(space_rng_uniform(&r) * 1.6 - 0.8);
    float *grad = calloc((size_t)m.nparams, sizeof *grad);
    float y[B];
    mlp_forward(&m, &w, tok, LENS, B, y);
    mlp_backward(&m, &w, wt, grad);
    mlp_params v;
    mlp_view(V, E, H1, H2, m.p, &v);
#define OFF(ptr) (int)((ptr) - m.p)
    group g[] = {{"emb", OFF(v.emb), V * E}, {"w1", OFF(v.w1), 4 * E * H1},
                 {"b1", OFF(v.b1), H1},               {"w2", OFF(v.w2), H1 * H2},
                 {"b2", OFF(v.b2), H2},               {"w3", OFF(v.w3), H2},
                 {"b3", OFF(v.b3), 1}};
#undef OFF
    mlp_case c = {&m, &w, tok, wt};
    check_groups("mlp", m.p, grad, g, 7, mlp_loss, &c);
    free(grad);
    mlp_ws_release(&w);
    mlp_release(&m);
  }
  PTEST_END();
}
