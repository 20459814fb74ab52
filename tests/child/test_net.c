// Child network tests: parameter count equals cost_network() for many cells / N / F / inputs;

// parameter order and shapes of PNASNet-5; a finite-difference gradient check of the whole
// network on the reference backend; the fast CPU backend against the reference for a full
// training step (logits, loss, every parameter gradient, parameters after SGD).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pnas/child/net.h"
#include "searchspace/cost.h"
#define CHECK_COUNTER bad // each test function counts its own failures
#include "tests/check.h"

static int bad = 0;

static int compare(const char *what, const float *got, const float *ref, size_t n, double atol,
                   double rtol) {
  int k = 0;
  for (size_t i = 0; i < n; i++)
    if (!(fabs((double)got[i] - ref[i]) <= atol + rtol * fabs((double)ref[i]))) {
      if (k < 5) fprintf(stderr, "  %s[%zu]: got %.8g ref %.8g\n", what, i, got[i], ref[i]);
      k++;
    }
  if (k) fprintf(stderr, "FAIL %s: %d of %zu mismatch (atol %g rtol %g)\n", what, k, n, atol, rtol);
  return k;
}

// Channel counts of a pruned network (--strategy prune) used by test_fd and test_fast_vs_ref
// when set: stem and separable inner channels drawn at random (1 .. the full count).
static const cost_widths *g_widths;

static void random_widths(cost_widths *w, int stem_full, int F_max, uint64_t seed) {
  space_rng r;
  space_rng_seed(&r, seed);
  memset(w, 0, sizeof *w);
  w->stem = 1 + space_rng_below(&r, stem_full);
  for (int c = 0; c < COST_MAX_CELLS; c++)
    for (int b = 0; b < SPACE_MAX_BLOCKS; b++)
      for (int br = 0; br < 2; br++) w->inner[c][b][br] = (int16_t)(1 + space_rng_below(&r, F_max));
}

// Pruned networks: parameters equal the cost model's for random widths (more than the full
// count means unpruned), on PNASNet-5 and NASNet-A, and fewer than unpruned.
static void test_widths(void) {
  kn_ctx ctx;
  kn_ctx_init(&ctx, kn_backend_cpu(), 1);
  const char *cells[2] = {"pnasnet-5", "nasnet-a"};
  int checked = 0;
  for (int t = 0; t < 8; t++) {
    space_cell c;
    char err[256];
    space_parse(cells[t % 2], &c, err, sizeof err);
    int N = 1 + t % 2, F = (int[]){8, 12, 6, 16}[t % 4];
    cost_widths w;
    random_widths(&w, 3 * F, 4 * F, 100 + (uint64_t)t);
    net_config nc = {N, F, 1, 28, 28, 10, 3.0, 1, &w};
    cost_config cc = {N, F, 1, 28, 28, 10, COST_STEM_CIFAR, 3.0, &w}, full = cc;
    full.widths = NULL;
    cost_result cr, cf;
    CHECK(cost_network(&c, &cc, &cr, err, sizeof err) == 0 && cost_network(&c, &full, &cf, err, sizeof err) == 0, "%s", err);
    net *n;
    if (net_create(&n, &c, &nc, &ctx, 1, err, sizeof err)) {
      CHECK(0, "net_create pruned: %s", err);
      continue;
    }
    CHECK(net_num_params(n) == cr.params, "%s pruned N=%d F=%d: net %lld, cost %lld", cells[t % 2],
          N, F, (long long)net_num_params(n), (long long)cr.params);
    CHECK(cr.params < cf.params && cr.mult_adds < cf.mult_adds, "pruned not smaller: %lld vs %lld",
          (long long)cr.params, (long long)cf.params);
    net_free(n);
    checked++;
  }
  printf("ok   pruned networks: parameter count == cost_network for %d configurations\n", checked);
  kn_ctx_release(&ctx);
}

static void test_param_count(void) {
  kn_ctx ctx;
  kn_ctx_init(&ctx, kn_backend_cpu(), 1);
  space_rng r;
  space_rng_seed(&r, 7);
  int checked = 0;
  for (int trial = 0; trial < 24; trial++) {
    space_cell c;
    if (trial == 0 || trial == 1) {
      char err[128];
      space_parse(trial ? "nasnet-a" : "pnasnet-5", &c, err, sizeof err);
    } else if (trial % 3 == 2) {
      space_sample_pair(&c, 1 + trial % 5, SPACE_ALL_OPS, &r); // NASNet's space
    } else {
      space_sample(&c, 1 + trial % 5, SPACE_PNAS_MASK, &r);
    }
    int N = 1 + trial % 3, F = (int[]){4, 8, 24, 12}[trial % 4];
    int rgb = trial % 2;
    net_config nc = {N, F, rgb ? 3 : 1, rgb ? 32 : 28, rgb ? 32 : 28, 10, 3.0, 1, NULL};
    cost_config cc = {N, F, nc.in_c, nc.in_h, nc.in_w, 10, COST_STEM_CIFAR, 3.0, NULL};
    cost_result cr;
    char err[256];
    net *n;
    CHECK(cost_network(&c, &cc, &cr, err, sizeof err) == 0, "cost: %s", err);
    if (net_create(&n, &c, &nc, &ctx, 1, err, sizeof err)) {
      CHECK(0, "net_create: %s", err);
      continue;
    }
    char txt[SPACE_TEXT_MAX];
    space_format(&c, txt, sizeof txt);
    CHECK(net_num_params(n) == cr.params, "%s N=%d F=%d: net %lld params, cost %lld", txt, N, F,
          (long long)net_num_params(n), (long long)cr.params);
    int64_t sum = 0;
    for (int i = 0; i < net_param_count(n); i++) {
      const net_param *p = net_param_at(n, i);
      CHECK(p->offset == sum, "param %d offset", i);
      sum += p->numel;
    }
    CHECK(sum == net_num_params(n), "sum of numel");
    net_free(n);
    checked++;
  }
  printf("ok   parameter count == cost_network for %d configurations\n", checked);
  kn_ctx_release(&ctx);
}

static void test_order(void) {
  kn_ctx ctx;
  kn_ctx_init(&ctx, kn_backend_cpu(), 1);
  space_cell c;
  char err[256];
  space_parse("pnasnet-5", &c, err, sizeof err);
  net_config nc = {1, 8, 1, 28, 28, 10, 3.0, 2, NULL};
  net *n;
  if (net_create(&n, &c, &nc, &ctx, 1, err, sizeof err)) {
    CHECK(0, "net_create: %s", err);
    return;
  }
  // expected first tensors: stem conv, stem bn, cell0 H[c-2] 1x1 (24->8), bn, H[c-1] 1x1, bn,
  // block 1 left = sep5x5 on input 1: dw1 (8,1,5,5), pw1 (8,8,1,1), bn1, dw2, pw2, bn2
  static const struct {
    const char *name;
    int nd, s[4];
  } want[] = {
      {"stem.conv", 4, {24, 1, 3, 3}},         {"stem.bn.gamma", 1, {24}},
      {"stem.bn.beta", 1, {24}},               {"cell0.pp.conv", 4, {8, 24, 1, 1}},
      {"cell0.pp.bn.gamma", 1, {8}},           {"cell0.pp.bn.beta", 1, {8}},
      {"cell0.prev.conv", 4, {8, 24, 1, 1}},   {"cell0.prev.bn.gamma", 1, {8}},
      {"cell0.prev.bn.beta", 1, {8}},          {"cell0.b1.left.sep5x5.dw1", 4, {8, 1, 5, 5}},
      {"cell0.b1.left.sep5x5.pw1", 4, {8, 8, 1, 1}},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const net_param *p = net_param_at(n, (int)i);
    CHECK(!strcmp(p->name, want[i].name), "param %zu is %s, want %s", i, p->name, want[i].name);
    CHECK(p->ndim == want[i].nd, "param %zu ndim", i);
    for (int k = 0; k < want[i].nd; k++)
      CHECK(p->shape[k] == want[i].s[k], "param %s dim %d: %d vs %d", p->name, k, p->shape[k],
            want[i].s[k]);
  }
  // cell 2 (stride 2, F=32) reads cell 0's 28x28 output as H[c-2]: factorized reduction
  int found = 0;
  for (int i = 0; i < net_param_count(n); i++) {
    const net_param *p = net_param_at(n, i);
    if (!strcmp(p->name, "cell2.pp.fr_a")) {
      found = 1;
      CHECK(p->shape[0] == 16 && p->shape[1] == 40, "fr_a shape %dx%d", p->shape[0], p->shape[1]);
      CHECK(!strcmp(net_param_at(n, i + 1)->name, "cell2.pp.fr_b"), "fr_b follows fr_a");
    }
  }
  CHECK(found, "cell2 has a factorized reduction");
  int last = net_param_count(n) - 1;
  CHECK(!strcmp(net_param_at(n, last)->name, "head.fc.bias"), "last is the fc bias");
  CHECK(net_param_at(n, last - 1)->shape[0] == 10 && net_param_at(n, last - 1)->shape[1] == 160,
        "fc weight (10, 160)");
  net_free(n);
  kn_ctx_release(&ctx);
  printf("ok   parameter order and shapes of PNASNet-5\n");
}

static double host_loss(const float *logits, const int32_t *labels, int nb, int classes) {
  double t = 0;
  for (int i = 0; i < nb; i++) {
    const float *z = logits + (size_t)i * classes;
    double mx = z[0], se = 0;
    for (int k = 1; k < classes; k++) mx = fmax(mx, z[k]);
    for (int k = 0; k < classes; k++) se += exp(z[k] - mx);
    t += mx + log(se) - z[labels[i]];
  }
  return t / nb;
}

// A cell that uses all 8 ops, inputs 0, 1 and blocks (strided and unstrided variants).
static const char *ALL_OPS_CELL = "0:sep3x3,1:identity;0:conv1x7_7x1,1:dil3x3;2:avg3x3,1:max3x3;"
                                  "0:sep5x5,3:identity;4:sep7x7,0:identity";

static void test_fd(const char *cell_text) {
  kn_ctx ctx;
  kn_ctx_init(&ctx, kn_backend_ref(), 1);
  space_cell c;
  char err[256];
  if (space_parse(cell_text, &c, err, sizeof err)) {
    CHECK(0, "parse: %s", err);
    return;
  }
  enum { NB = 4, CL = 5 };
  net_config nc = {1, 4, 2, 7, 6, CL, 3.0, NB, g_widths};
  net *n;
  if (net_create(&n, &c, &nc, &ctx, 3, err, sizeof err)) {
    CHECK(0, "net_create: %s", err);
    return;
  }
  float x[NB * 2 * 7 * 6], logits[NB * CL];
  int32_t labels[NB] = {0, 3, 4, 1};
  space_rng r;
  space_rng_seed(&r, 11);
  for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = (float)(2 * space_rng_uniform(&r) - 1);
  net_set_batch(n, x, labels, NB);
  int64_t P = net_num_params(n);
  float *w = malloc(P * sizeof(float)), *g = malloc(P * sizeof(float));
  net_params_get(n, w);
  net_forward(n, NB, 1);
  net_get_logits(n, logits, NB);
  float loss = net_backward(n, NB);
  CHECK(fabs(loss - host_loss(logits, labels, NB, CL)) < 1e-5, "loss %g vs host %g", loss,
        host_loss(logits, labels, NB, CL));
  net_grads_get(n, g);
  // Check a sample of parameters: 3 elements of every tensor. eps 1e-4: larger steps cross
  // ReLU / max-pool kinks somewhere in the ~200 layers (1e-2 gives ~10% outliers). The
  // reference forward accumulates in double, so the float logits carry ~1e-7 noise, i.e. ~5e-4
  // in the difference quotient. Tolerance |fd - analytic| <= 2e-3 + 5e-2*|analytic|.
  int checked = 0, fails = 0;
  for (int t = 0; t < net_param_count(n); t++) {
    const net_param *p = net_param_at(n, t);
    for (int k = 0; k < 3 && k < p->numel; k++) {
      int64_t j = p->offset + (int64_t)(space_rng_uniform(&r) * (double)p->numel);
      float v = w[j];
      double L[2];
      float h[2] = {v + 1e-4f, v - 1e-4f};
      for (int s = 0; s < 2; s++) {
        w[j] = h[s];
        net_params_set(n, w);
        net_forward(n, NB, 1);
        net_get_logits(n, logits, NB);
        L[s] = host_loss(logits, labels, NB, CL);
      }
      w[j] = v;
      double fd = (L[0] - L[1]) / ((double)h[0] - h[1]);
      if (!(fabs(fd - g[j]) <= 2e-3 + 5e-2 * fabs(g[j]))) {
        if (fails < 8) fprintf(stderr, "  %s[%lld]: analytic %.6g fd %.6g\n", p->name,
                               (long long)(j - p->offset), g[j], fd);
        fails++;
      }
      checked++;
    }
  }
  net_params_set(n, w);
  CHECK(fails == 0, "whole-network gradient check: %d of %d elements off", fails, checked);
  if (!fails)
    printf("ok   whole-network finite differences (%d parameter elements) %s\n", checked,
           cell_text);
  free(w);
  free(g);
  net_free(n);
  kn_ctx_release(&ctx);
}

static void test_fast_vs_ref(const char *cell_text, int N, int F) {
  kn_ctx ctx[2];
  kn_ctx_init(&ctx[0], kn_backend_ref(), 1);
  kn_ctx_init(&ctx[1], kn_backend_cpu(), 2);
  space_cell c;
  char err[256];
  space_parse(cell_text, &c, err, sizeof err);
  enum { NB = 6, CL = 10 };
  net_config nc = {N, F, 1, 12, 12, CL, 3.0, NB, g_widths};
  net *n[2];
  for (int b = 0; b < 2; b++)
    if (net_create(&n[b], &c, &nc, &ctx[b], 5, err, sizeof err)) {
      CHECK(0, "net_create: %s", err);
      return;
    }
  float x[NB * 144];
  int32_t labels[NB];
  space_rng r;
  space_rng_seed(&r, 3);
  for (int i = 0; i < NB * 144; i++) x[i] = (float)(2 * space_rng_uniform(&r) - 1);
  for (int i = 0; i < NB; i++) labels[i] = space_rng_below(&r, CL);
  int64_t P = net_num_params(n[0]);
  float *g[2], *w[2], lg[2][NB * CL], loss[2];
  for (int b = 0; b < 2; b++) {
    g[b] = malloc(P * sizeof(float));
    w[b] = malloc(P * sizeof(float));
    net_set_batch(n[b], x, labels, NB);
    net_forward(n[b], NB, 1);
    net_get_logits(n[b], lg[b], NB);
    loss[b] = net_backward(n[b], NB);
    net_grads_get(n[b], g[b]);
    net_sgd(n[b], 0.1f, 0.9f, 1e-4f);
    net_params_get(n[b], w[b]);
  }
  int k = compare("logits", lg[1], lg[0], NB * CL, 1e-4, 1e-4);
  k += compare("loss", &loss[1], &loss[0], 1, 1e-5, 1e-5);
  // gradients flow through up to ~40 layers: float vs double accumulation differences grow
  k += compare("param grads", g[1], g[0], (size_t)P, 2e-4, 2e-3);
  k += compare("params after sgd", w[1], w[0], (size_t)P, 1e-5, 1e-4);
  CHECK(k == 0, "fast backend vs reference for %s", cell_text);
  if (!k) printf("ok   fast vs ref full step N=%d F=%d %s\n", N, F, cell_text);
  for (int b = 0; b < 2; b++) {
    free(g[b]);
    free(w[b]);
    net_free(n[b]);
    kn_ctx_release(&ctx[b]);
  }
}

int main(void) {
  test_param_count();
  test_order();
  test_fd(ALL_OPS_CELL);
  // NASNet-A: a reduction cell of its own, concatenating blocks read by other blocks; the normal
  // cell concatenates H[c-2].
  test_fd("nasnet-a");
  test_fast_vs_ref("pnasnet-5", 1, 4);
  test_fast_vs_ref("nasnet-a", 1, 4);
  test_fast_vs_ref("0:sep3x3,1:sep3x3|0:sep3x3,1:sep3x3", 1, 8);
  test_fast_vs_ref(ALL_OPS_CELL, 1, 6);
  // A pruned PNASNet-5 (stem and separable inner channels at random): gradients by finite
  // differences, and the fast backend against the reference.
  test_widths();
  cost_widths w;
  random_widths(&w, 12, 4, 7);
  g_widths = &w;
  test_fd("pnasnet-5");
  test_fast_vs_ref("pnasnet-5", 1, 4);
  g_widths = NULL;
  if (bad) {
    fprintf(stderr, "%d checks failed\n", bad);
    return 1;
  }
  printf("all network checks passed\n");
  return 0;
}
