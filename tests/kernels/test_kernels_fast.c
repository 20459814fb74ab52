// Every op of the fast CPU backend against the reference backend on network-like shapes
// (including odd sizes, strides, dilation, batches not divisible by the reduction chunks), with
// non-zero initial gradients to check the accumulate (+=) contract. Also checks that the fast
// backend gives bit-identical results with 1, 2 and 3 threads (determinism).
// Tolerances: |got-ref| <= atol + rtol*|ref|; 1e-5/1e-5 for element-wise ops, 1e-4/1e-4 for
// conv outputs and input gradients, 2e-3/1e-4 for reductions over the batch (weight grads, BN).
#include "kernels/backend.h"
#include "tests/kernels/kt.h"

static kn_ctx REF, CPU[3]; // CPU[t] has t+1 threads

static int same_bits(const char *what, const float *a, const float *b, size_t n) {
  if (memcmp(a, b, n * sizeof(float))) {
    fprintf(stderr, "FAIL %s: fast backend differs between thread counts\n", what);
    return 1;
  }
  return 0;
}

static int check_conv(int dw, int n, int cin, int h, int w, int cout, int kh, int kw, int s,
                      int dil) {
  kn_conv d;
  kn_conv_init(&d, n, cin, h, w, dw ? cin : cout, kh, kw, s, dil);
  char name[128];
  snprintf(name, sizeof name, "%s n%d c%d %dx%d->%d k%dx%d s%d d%d", dw ? "dw" : "conv", n, cin, h,
           w, d.cout, kh, kw, s, dil);
  size_t xl = (size_t)n * cin * h * w, wl = (size_t)d.cout * (dw ? 1 : cin) * kh * kw,
         yl = (size_t)n * d.cout * d.ho * d.wo;
  float *x = kt_alloc(xl), *wt = kt_alloc(wl), *dy = kt_alloc(yl), *dx0 = kt_alloc(xl),
        *dw0 = kt_alloc(wl);
  kt_fill(x, xl, -1, 1);
  kt_fill(wt, wl, -1, 1);
  kt_fill(dy, yl, -1, 1);
  kt_fill(dx0, xl, -1, 1);
  kt_fill(dw0, wl, -1, 1);
  float *y[4], *dx[4], *dW[4];
  int bad = 0;
  for (int b = 0; b < 4; b++) { // 0: ref, 1..3: cpu with 1..3 threads
    kn_ctx *c = b ? &CPU[b - 1] : &REF;
    y[b] = kt_alloc(yl);
    dx[b] = kt_dup(dx0, xl);
    dW[b] = kt_dup(dw0, wl);
    if (dw) {
      c->be->dw_fwd(c, &d, x, wt, y[b]);
      c->be->dw_bwd(c, &d, x, wt, dy, dx[b], dW[b]);
    } else {
      c->be->conv_fwd(c, &d, x, wt, y[b]);
      c->be->conv_bwd(c, &d, x, wt, dy, dx[b], dW[b]);
    }
  }
  char what[160];
  snprintf(what, sizeof what, "%s y", name);
  bad += kt_compare(what, y[2], y[0], yl, 1e-4, 1e-4) != 0;
  snprintf(what, sizeof what, "%s dx", name);
  bad += kt_compare(what, dx[2], dx[0], xl, 1e-4, 1e-4) != 0;
  snprintf(what, sizeof what, "%s dw", name);
  bad += kt_compare(what, dW[2], dW[0], wl, 2e-3, 1e-4) != 0;
  for (int b = 1; b < 4; b += 2) {
    bad += same_bits(name, y[b], y[2], yl);
    bad += same_bits(name, dx[b], dx[2], xl);
    bad += same_bits(name, dW[b], dW[2], wl);
  }
  for (int b = 0; b < 4; b++) {
    free(y[b]);
    free(dx[b]);
    free(dW[b]);
  }
  free(x);
  free(wt);
  free(dy);
  free(dx0);
  free(dw0);
  if (!bad) printf("ok   %s\n", name);
  return bad;
}

static int check_pool(int max, int n, int c, int h, int w, int k, int s) {
  kn_pool p;
  kn_pool_init(&p, n, c, h, w, k, s);
  size_t xl = (size_t)n * c * h * w, yl = (size_t)n * c * p.ho * p.wo;
  float *x = kt_alloc(xl), *dy = kt_alloc(yl), *dx0 = kt_alloc(xl), *y[2], *dx[2];
  kt_fill_distinct(x, xl, 1e-3f);
  kt_fill(dy, yl, -1, 1);
  kt_fill(dx0, xl, -1, 1);
  for (int b = 0; b < 2; b++) {
    kn_ctx *k = b ? &CPU[1] : &REF;
    y[b] = kt_alloc(yl);
    dx[b] = kt_dup(dx0, xl);
    if (max) {
      k->be->maxpool_fwd(k, &p, x, y[b]);
      k->be->maxpool_bwd(k, &p, x, dy, dx[b]);
    } else {
      k->be->avgpool_fwd(k, &p, x, y[b]);
      k->be->avgpool_bwd(k, &p, dy, dx[b]);
    }
  }
  char what[96];
  snprintf(what, sizeof what, "%spool%d n%d c%d %dx%d s%d", max ? "max" : "avg", k, n, c, h, w,
           s);
  int bad = kt_compare(what, y[1], y[0], yl, 1e-5, 1e-5) != 0;
  bad += kt_compare(what, dx[1], dx[0], xl, 1e-5, 1e-5) != 0;
  if (!bad) printf("ok   %s\n", what);
  for (int b = 0; b < 2; b++) {
    free(y[b]);
    free(dx[b]);
  }
  free(x);
  free(dy);
  free(dx0);
  return bad;
}

// Pooling values worked by hand on x = 0..24 (one 5x5 plane, x[r][c] = 5r + c), for the
// reference and the fast path: padding k/2 on every side, averages over the in-image taps only
// (PyTorch's AvgPool2d(k, s, k // 2, count_include_pad=False) gives the same numbers).
static int check_pool_values(void) {
  static const struct {
    int k, s, oy, ox;
    float max, avg;
  } want[] = {
      {3, 1, 0, 0, 6, 3},    // rows 0..1, cols 0..1
      {3, 1, 2, 2, 18, 12},  // rows 1..3, cols 1..3
      {5, 1, 0, 0, 12, 6},   // rows 0..2, cols 0..2
      {5, 1, 1, 3, 19, 10},  // rows 0..3, cols 1..4: mean 1.5*5 + 2.5
      {5, 1, 2, 2, 24, 12},  // the whole plane
      {5, 2, 2, 2, 24, 18},  // rows 2..4, cols 2..4
      {7, 1, 0, 0, 18, 9},   // rows 0..3, cols 0..3
      {7, 2, 1, 1, 24, 12},  // rows 0..4, cols 0..4
      {7, 2, 0, 1, 19, 9.5f}, // rows 0..3, cols 0..4
  };
  float x[25], y[25];
  for (int i = 0; i < 25; i++) x[i] = (float)i;
  int bad = 0;
  for (int b = 0; b < 2; b++) {
    kn_ctx *ctx = b ? &CPU[1] : &REF;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
      kn_pool p;
      kn_pool_init(&p, 1, 1, 5, 5, want[i].k, want[i].s);
      for (int max = 0; max < 2; max++) {
        (max ? ctx->be->maxpool_fwd : ctx->be->avgpool_fwd)(ctx, &p, x, y);
        float got = y[want[i].oy * p.wo + want[i].ox], w = max ? want[i].max : want[i].avg;
        if (got != w) {
          fprintf(stderr, "FAIL %s %spool%d s%d at (%d,%d): %g, want %g\n", b ? "cpu" : "ref",
                  max ? "max" : "avg", want[i].k, want[i].s, want[i].oy, want[i].ox, got, w);
          bad++;
        }
      }
    }
  }
  if (!bad) printf("ok   pooling values by hand (5x5 plane, k 3/5/7)\n");
  return bad;
}

static int check_bn(kn_shape s) {
  size_t cnt = kn_numel(s);
  int C = s.c, bad = 0;
  float *x = kt_alloc(cnt), *g = kt_alloc(C), *be = kt_alloc(C), *dy = kt_alloc(cnt),
        *dx0 = kt_alloc(cnt);
  kt_fill(x, cnt, -2, 4);
  kt_fill(g, C, 0.5f, 1.5f);
  kt_fill(be, C, -1, 1);
  kt_fill(dy, cnt, -1, 1);
  kt_fill(dx0, cnt, -1, 1);
  float *y[4], *ye[4], *mean[4], *is[4], *rm[4], *rv[4], *dx[4], *dg[4], *db[4];
  for (int b = 0; b < 4; b++) {
    kn_ctx *k = b ? &CPU[b - 1] : &REF;
    y[b] = kt_alloc(cnt);
    ye[b] = kt_alloc(cnt);
    mean[b] = kt_alloc(C);
    is[b] = kt_alloc(C);
    rm[b] = kt_alloc(C);
    rv[b] = kt_alloc(C);
    dg[b] = kt_alloc(C);
    db[b] = kt_alloc(C);
    for (int i = 0; i < C; i++) {
      rv[b][i] = 1.0f;
      dg[b][i] = 0.25f;
      db[b][i] = -0.5f;
    }
    dx[b] = kt_dup(dx0, cnt);
    k->be->bn_fwd_train(k, s, x, g, be, y[b], mean[b], is[b], rm[b], rv[b]);
    k->be->bn_bwd(k, s, x, g, mean[b], is[b], dy, dx[b], dg[b], db[b]);
    k->be->bn_fwd_eval(k, s, x, g, be, rm[b], rv[b], ye[b]);
  }
  bad += kt_compare("bn y", y[2], y[0], cnt, 1e-4, 1e-4) != 0;
  bad += kt_compare("bn mean", mean[2], mean[0], C, 1e-5, 1e-5) != 0;
  bad += kt_compare("bn invstd", is[2], is[0], C, 1e-5, 1e-5) != 0;
  bad += kt_compare("bn running mean", rm[2], rm[0], C, 1e-5, 1e-5) != 0;
  bad += kt_compare("bn running var", rv[2], rv[0], C, 1e-5, 1e-5) != 0;
  bad += kt_compare("bn eval y", ye[2], ye[0], cnt, 1e-4, 1e-4) != 0;
  bad += kt_compare("bn dx", dx[2], dx[0], cnt, 1e-4, 1e-4) != 0;
  bad += kt_compare("bn dgamma", dg[2], dg[0], C, 2e-3, 1e-4) != 0;
  bad += kt_compare("bn dbeta", db[2], db[0], C, 2e-3, 1e-4) != 0;
  for (int b = 1; b < 4; b += 2) {
    bad += same_bits("bn y", y[b], y[2], cnt) + same_bits("bn dx", dx[b], dx[2], cnt) +
           same_bits("bn dgamma", dg[b], dg[2], C);
  }
  // eval mode against the formula with the reference's running stats
  for (size_t i = 0; i < cnt; i++) {
    int c = (int)((i / ((size_t)s.h * s.w)) % C);
    float want = g[c] * (x[i] - rm[0][c]) / sqrtf(rv[0][c] + KN_BN_EPS) + be[c];
    if (fabsf(want - ye[0][i]) > 1e-4f + 1e-4f * fabsf(want)) {
      fprintf(stderr, "FAIL bn eval formula at %zu: %g vs %g\n", i, ye[0][i], want);
      bad++;
      break;
    }
  }
  if (!bad) printf("ok   batchnorm n%d c%d %dx%d\n", s.n, s.c, s.h, s.w);
  for (int b = 0; b < 4; b++) {
    free(y[b]);
    free(ye[b]);
    free(mean[b]);
    free(is[b]);
    free(rm[b]);
    free(rv[b]);
    free(dx[b]);
    free(dg[b]);
    free(db[b]);
  }
  free(x);
  free(g);
  free(be);
  free(dy);
  free(dx0);
  return bad;
}

static int check_elementwise(void) {
  int bad = 0;
  kn_shape s = {5, 6, 13, 11};
  size_t cnt = kn_numel(s);
  float *a = kt_alloc(cnt), *b = kt_alloc(cnt), *acc0 = kt_alloc(cnt);
  kt_fill(a, cnt, -1, 1);
  kt_fill(b, cnt, -1, 1);
  kt_fill(acc0, cnt, -1, 1);
  float *r[2][7];
  int cy = 10, coff = 3, ho = (s.h + 1) / 2, wo = (s.w + 1) / 2;
  size_t catl = (size_t)s.n * cy * s.h * s.w, subl = (size_t)s.n * s.c * ho * wo;
  for (int k = 0; k < 2; k++) {
    kn_ctx *c = k ? &CPU[1] : &REF;
    r[k][0] = kt_alloc(cnt); // relu fwd
    c->be->relu_fwd(c, cnt, a, r[k][0]);
    r[k][1] = kt_dup(acc0, cnt); // relu bwd, acc, add
    c->be->relu_bwd(c, cnt, a, b, r[k][1]);
    c->be->acc(c, cnt, a, r[k][1]);
    r[k][2] = kt_alloc(cnt);
    c->be->add_fwd(c, cnt, a, b, r[k][2]);
    r[k][3] = kt_alloc(catl); // concat fwd, then backward into a copy of acc0
    c->be->concat_fwd(c, s, cy, coff, a, r[k][3]);
    r[k][4] = kt_dup(acc0, cnt);
    kn_shape cs = s;
    c->be->concat_bwd(c, cs, cy, coff, r[k][3], r[k][4]);
    r[k][5] = kt_alloc(2 * subl + 2 * cnt); // subsample off 0/1 fwd + bwd
    c->be->sub_fwd(c, s, 0, a, r[k][5]);
    c->be->sub_fwd(c, s, 1, a, r[k][5] + subl);
    memcpy(r[k][5] + 2 * subl, acc0, cnt * sizeof(float));
    memcpy(r[k][5] + 2 * subl + cnt, acc0, cnt * sizeof(float));
    c->be->sub_bwd(c, s, 0, b, r[k][5] + 2 * subl);
    c->be->sub_bwd(c, s, 1, b, r[k][5] + 2 * subl + cnt);
    r[k][6] = kt_alloc(catl); // a + b into channels [4, 10)
    c->be->add_concat(c, s, cy, 4, a, b, r[k][6]);
  }
  bad += kt_compare("relu", r[1][0], r[0][0], cnt, 1e-6, 0) != 0;
  bad += kt_compare("relu_bwd+acc", r[1][1], r[0][1], cnt, 1e-6, 1e-6) != 0;
  bad += kt_compare("add", r[1][2], r[0][2], cnt, 1e-6, 1e-6) != 0;
  for (int n = 0; n < s.n; n++) // only the written slice of the concat output is defined
    bad += kt_compare("concat", r[1][3] + ((size_t)n * cy + coff) * s.h * s.w,
                      r[0][3] + ((size_t)n * cy + coff) * s.h * s.w, (size_t)s.c * s.h * s.w,
                      0, 0) != 0;
  bad += kt_compare("concat_bwd", r[1][4], r[0][4], cnt, 1e-6, 1e-6) != 0;
  bad += kt_compare("subsample", r[1][5], r[0][5], 2 * subl + 2 * cnt, 1e-6, 1e-6) != 0;
  for (int n = 0; n < s.n; n++) // the written slice only
    bad += kt_compare("add_concat", r[1][6] + ((size_t)n * cy + 4) * s.h * s.w,
                      r[0][6] + ((size_t)n * cy + 4) * s.h * s.w, (size_t)s.c * s.h * s.w,
                      0, 0) != 0;
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < 7; i++) free(r[k][i]);
  // gap, fc, xent, sgd
  float *g[2], *gb[2], *fy[2], *fdx[2], *fdw[2], *fdb[2], *lg[2], loss[2], *w[2], *v[2];
  int C = 7, classes = 10, n = s.n;
  size_t pl = (size_t)n * s.c;
  float *fw = kt_alloc((size_t)classes * s.c), *fb = kt_alloc(classes), *fdy = kt_alloc((size_t)n * classes);
  kt_fill(fw, (size_t)classes * s.c, -1, 1);
  kt_fill(fb, classes, -1, 1);
  kt_fill(fdy, (size_t)n * classes, -1, 1);
  int32_t labels[5] = {3, 0, 9, 9, 4};
  (void)C;
  for (int k = 0; k < 2; k++) {
    kn_ctx *c = k ? &CPU[1] : &REF;
    g[k] = kt_alloc(pl);
    c->be->gap_fwd(c, s, a, g[k]);
    gb[k] = kt_dup(acc0, cnt);
    c->be->gap_bwd(c, s, b, gb[k]);
    fy[k] = kt_alloc((size_t)n * classes);
    c->be->fc_fwd(c, n, s.c, classes, g[0], fw, fb, fy[k]);
    fdx[k] = kt_dup(acc0, pl);
    fdw[k] = kt_dup(acc0, (size_t)classes * s.c);
    fdb[k] = kt_dup(acc0, classes);
    c->be->fc_bwd(c, n, s.c, classes, g[0], fw, fdy, fdx[k], fdw[k], fdb[k]);
    lg[k] = kt_alloc((size_t)n * classes);
    c->be->xent(c, n, classes, fy[0], labels, &loss[k], lg[k]);
    w[k] = kt_dup(a, cnt);
    v[k] = kt_dup(acc0, cnt);
    const float lr = 0.05f; // backend memory is host memory on the CPU
    c->be->sgd(c, cnt, w[k], b, v[k], &lr, 0.9f, 1e-3f);
  }
  bad += kt_compare("gap", g[1], g[0], pl, 1e-5, 1e-5) != 0;
  bad += kt_compare("gap_bwd", gb[1], gb[0], cnt, 1e-6, 1e-6) != 0;
  bad += kt_compare("fc", fy[1], fy[0], (size_t)n * classes, 1e-5, 1e-5) != 0;
  bad += kt_compare("fc dx", fdx[1], fdx[0], pl, 1e-5, 1e-5) != 0;
  bad += kt_compare("fc dw", fdw[1], fdw[0], (size_t)classes * s.c, 1e-5, 1e-5) != 0;
  bad += kt_compare("fc db", fdb[1], fdb[0], classes, 1e-5, 1e-5) != 0;
  bad += kt_compare("xent loss", &loss[1], &loss[0], 1, 1e-6, 1e-6) != 0;
  bad += kt_compare("xent dlogits", lg[1], lg[0], (size_t)n * classes, 1e-6, 1e-6) != 0;
  bad += kt_compare("sgd w", w[1], w[0], cnt, 1e-6, 1e-6) != 0;
  bad += kt_compare("sgd v", v[1], v[0], cnt, 1e-6, 1e-6) != 0;
  // sgd against the formula for one element
  float want_v = 0.9f * acc0[7] + (b[7] + 1e-3f * a[7]), want_w = a[7] - 0.05f * want_v;
  if (fabsf(v[0][7] - want_v) > 1e-6f || fabsf(w[0][7] - want_w) > 1e-6f) {
    fprintf(stderr, "FAIL sgd formula\n");
    bad++;
  }
  // xent loss against a hand computation for example 0
  double mx = -1e30, se = 0, tot = 0;
  for (int i = 0; i < n; i++) {
    mx = -1e30;
    se = 0;
    for (int k = 0; k < classes; k++) mx = fmax(mx, fy[0][i * classes + k]);
    for (int k = 0; k < classes; k++) se += exp(fy[0][i * classes + k] - mx);
    tot += mx + log(se) - fy[0][i * classes + labels[i]];
  }
  if (fabs(tot / n - loss[0]) > 1e-5) {
    fprintf(stderr, "FAIL xent formula: %g vs %g\n", loss[0], tot / n);
    bad++;
  }
  for (int k = 0; k < 2; k++) {
    free(g[k]);
    free(gb[k]);
    free(fy[k]);
    free(fdx[k]);
    free(fdw[k]);
    free(fdb[k]);
    free(lg[k]);
    free(w[k]);
    free(v[k]);
  }
  free(fw);
  free(fb);
  free(fdy);
  free(a);
  free(b);
  free(acc0);
  if (!bad) printf("ok   element-wise, concat, subsample, gap, fc, xent, sgd\n");
  return bad;
}

int main(void) {
  kn_ctx_init(&REF, kn_backend_ref(), 1);
  for (int t = 0; t < 3; t++) kn_ctx_init(&CPU[t], kn_backend_cpu(), t + 1);
  int bad = 0;
  { // TF 'SAME' geometry: out = ceil(in/stride), the extra padding row/column goes bottom/right
    kn_conv d;
    kn_conv_init(&d, 1, 1, 28, 28, 1, 5, 5, 2, 1); // total pad 3: top 1, bottom 2
    bad += !(d.ho == 14 && d.pad_t == 1 && d.pad_l == 1);
    kn_conv_init(&d, 1, 1, 7, 7, 1, 1, 7, 2, 1); // 1x7 stride 2 on 7: out 4, pad left 3
    bad += !(d.ho == 4 && d.wo == 4 && d.pad_t == 0 && d.pad_l == 3);
    kn_conv_init(&d, 1, 1, 14, 14, 1, 3, 3, 1, 2); // dilated 3x3: pad 2 each side
    bad += !(d.ho == 14 && d.pad_t == 2);
    kn_pool p;
    kn_pool_init(&p, 1, 1, 7, 7, 3, 2);
    bad += !(p.ho == 4 && p.wo == 4);
    kn_pool_init(&p, 1, 1, 7, 6, 7, 2); // padding k/2: out = (in - 1) / stride + 1 for every k
    bad += !(p.ho == 4 && p.wo == 3 && p.k == 7);
    if (bad) fprintf(stderr, "FAIL conv/pool geometry\n");
  }
  static const int cv[][10] = {
      // n cin h w cout kh kw stride dil
      {9, 8, 28, 28, 8, 1, 1, 1, 1},  {3, 24, 14, 14, 16, 1, 1, 1, 1}, {4, 1, 28, 28, 24, 3, 3, 1, 1},
      {4, 3, 13, 11, 6, 3, 3, 2, 1},  {4, 8, 14, 14, 8, 1, 1, 2, 1},   {4, 8, 7, 7, 8, 1, 1, 2, 1},
      {4, 16, 14, 14, 16, 1, 7, 1, 1}, {4, 16, 14, 14, 16, 7, 1, 1, 1}, {4, 16, 14, 14, 16, 1, 7, 2, 1},
      {4, 8, 14, 14, 8, 3, 3, 1, 2},  {4, 8, 14, 14, 8, 3, 3, 2, 2},   {4, 8, 7, 7, 8, 3, 3, 2, 2},
  };
  for (size_t i = 0; i < sizeof cv / sizeof cv[0]; i++)
    bad += check_conv(0, cv[i][0], cv[i][1], cv[i][2], cv[i][3], cv[i][4], cv[i][5], cv[i][6],
                      cv[i][7], cv[i][8]);
  static const int dw[][6] = {
      // n c h w k stride
      {9, 8, 28, 28, 3, 1}, {4, 8, 28, 28, 5, 2}, {4, 8, 28, 28, 7, 1}, {4, 8, 28, 28, 7, 2},
      {3, 16, 14, 14, 5, 1}, {4, 16, 7, 7, 7, 1}, {4, 16, 7, 7, 5, 2},  {4, 5, 9, 11, 3, 2},
  };
  for (size_t i = 0; i < sizeof dw / sizeof dw[0]; i++)
    bad += check_conv(1, dw[i][0], dw[i][1], dw[i][2], dw[i][3], 0, dw[i][4], dw[i][4], dw[i][5], 1);
  bad += check_pool_values();
  for (int max = 0; max < 2; max++)
    for (int k = 3; k <= 7; k += 2)
      for (int s = 1; s <= 2; s++) {
        bad += check_pool(max, 3, 5, 28, 28, k, s);
        bad += check_pool(max, 2, 3, 7, 9, k, s);
        bad += check_pool(max, 1, 2, 3, 2, k, s); // plane smaller than the window
        bad += check_pool(max, 2, 2, 1, 6, k, s);
      }
  bad += check_bn((kn_shape){9, 6, 14, 14});
  bad += check_bn((kn_shape){4, 5, 7, 9});
  bad += check_elementwise();
  kn_ctx_release(&REF);
  for (int t = 0; t < 3; t++) kn_ctx_release(&CPU[t]);
  if (bad) {
    fprintf(stderr, "%d fast-path checks failed\n", bad);
    return 1;
  }
  printf("all fast paths match the reference\n");
  return 0;
}
