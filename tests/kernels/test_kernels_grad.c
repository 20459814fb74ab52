// Finite-difference gradient checks for every differentiable op of both CPU backends (ref and
// cpu), on small shapes. Loss L = sum(r * y) with random r, accumulated in double; central
// differences with eps = 1e-2 divided by the actually representable step. Tolerance:
// |analytic - numeric| <= 3e-3 + 1e-2*|numeric| (float outputs make L noisy at ~1e-4).
#include "kernels/backend.h"
#include "tests/kernels/kt.h"

typedef struct gc gc;
struct gc {
  char name[96];
  const kn_backend *be;
  kn_ctx *ctx;
  int nin;
  float *in[3];
  size_t len[3];
  size_t ylen;
  void (*fwd)(gc *g, float *y);
  void (*bwd)(gc *g, const float *dy, float **grads);
  kn_conv cv;
  kn_pool pl;
  kn_shape sh;
  int a, b;
  float *aux[4];
  int32_t labels[8];
};

static int gradcheck(gc *g) {
  const double eps = 1e-2, atol = 3e-3, rtol = 1e-2;
  float *y = kt_alloc(g->ylen), *r = kt_alloc(g->ylen), *grads[3], *num[3];
  kt_fill(r, g->ylen, -1, 1);
  for (int i = 0; i < g->nin; i++) {
    grads[i] = kt_alloc(g->len[i]);
    num[i] = kt_alloc(g->len[i]);
  }
  g->fwd(g, y);
  g->bwd(g, r, grads);
  int bad = 0;
  for (int i = 0; i < g->nin; i++) {
    for (size_t j = 0; j < g->len[i]; j++) {
      float v = g->in[i][j], vp = (float)(v + eps), vm = (float)(v - eps);
      double L[2];
      for (int s = 0; s < 2; s++) {
        g->in[i][j] = s ? vm : vp;
        g->fwd(g, y);
        double acc = 0;
        for (size_t k = 0; k < g->ylen; k++) acc += (double)r[k] * y[k];
        L[s] = acc;
      }
      g->in[i][j] = v;
      num[i][j] = (float)((L[0] - L[1]) / ((double)vp - (double)vm));
    }
    char what[128];
    snprintf(what, sizeof what, "%s [%s] d_in%d", g->name, g->be->name, i);
    bad += kt_compare(what, grads[i], num[i], g->len[i], atol, rtol) ? 1 : 0;
    free(grads[i]);
    free(num[i]);
  }
  free(y);
  free(r);
  if (!bad) printf("ok   %s [%s]\n", g->name, g->be->name);
  return bad;
}

// ---- per-op forward/backward adapters ----
static void conv_f(gc *g, float *y) { g->be->conv_fwd(g->ctx, &g->cv, g->in[0], g->in[1], y); }
static void conv_b(gc *g, const float *dy, float **d) {
  g->be->conv_bwd(g->ctx, &g->cv, g->in[0], g->in[1], dy, d[0], d[1]);
}
static void dw_f(gc *g, float *y) { g->be->dw_fwd(g->ctx, &g->cv, g->in[0], g->in[1], y); }
static void dw_b(gc *g, const float *dy, float **d) {
  g->be->dw_bwd(g->ctx, &g->cv, g->in[0], g->in[1], dy, d[0], d[1]);
}
static void maxp_f(gc *g, float *y) { g->be->maxpool_fwd(g->ctx, &g->pl, g->in[0], y); }
static void maxp_b(gc *g, const float *dy, float **d) {
  g->be->maxpool_bwd(g->ctx, &g->pl, g->in[0], dy, d[0]);
}
static void avgp_f(gc *g, float *y) { g->be->avgpool_fwd(g->ctx, &g->pl, g->in[0], y); }
static void avgp_b(gc *g, const float *dy, float **d) {
  g->be->avgpool_bwd(g->ctx, &g->pl, dy, d[0]);
}
static void bn_f(gc *g, float *y) {
  g->be->bn_fwd_train(g->ctx, g->sh, g->in[0], g->in[1], g->in[2], y, g->aux[0], g->aux[1],
                      g->aux[2], g->aux[3]);
}
static void bn_b(gc *g, const float *dy, float **d) {
  g->be->bn_bwd(g->ctx, g->sh, g->in[0], g->in[1], g->aux[0], g->aux[1], dy, d[0], d[1], d[2]);
}
static void relu_f(gc *g, float *y) { g->be->relu_fwd(g->ctx, g->len[0], g->in[0], y); }
static void relu_b(gc *g, const float *dy, float **d) {
  g->be->relu_bwd(g->ctx, g->len[0], g->in[0], dy, d[0]);
}
static void add_f(gc *g, float *y) { g->be->add_fwd(g->ctx, g->len[0], g->in[0], g->in[1], y); }
static void add_b(gc *g, const float *dy, float **d) {
  g->be->acc(g->ctx, g->len[0], dy, d[0]);
  g->be->acc(g->ctx, g->len[0], dy, d[1]);
}
static void cat_f(gc *g, float *y) {
  memset(y, 0, g->ylen * sizeof(float));
  g->be->concat_fwd(g->ctx, g->sh, g->a, g->b, g->in[0], y);
}
static void cat_b(gc *g, const float *dy, float **d) {
  g->be->concat_bwd(g->ctx, g->sh, g->a, g->b, dy, d[0]);
}
static void addcat_f(gc *g, float *y) {
  memset(y, 0, g->ylen * sizeof(float));
  g->be->add_concat(g->ctx, g->sh, g->a, g->b, g->in[0], g->in[1], y);
}
static void addcat_b(gc *g, const float *dy, float **d) { // the network's backward of add_concat
  g->be->concat_bwd(g->ctx, g->sh, g->a, g->b, dy, d[0]);
  g->be->concat_bwd(g->ctx, g->sh, g->a, g->b, dy, d[1]);
}
static void sub_f(gc *g, float *y) { g->be->sub_fwd(g->ctx, g->sh, g->a, g->in[0], y); }
static void sub_b(gc *g, const float *dy, float **d) {
  g->be->sub_bwd(g->ctx, g->sh, g->a, dy, d[0]);
}
static void gap_f(gc *g, float *y) { g->be->gap_fwd(g->ctx, g->sh, g->in[0], y); }
static void gap_b(gc *g, const float *dy, float **d) { g->be->gap_bwd(g->ctx, g->sh, dy, d[0]); }
static void fc_f(gc *g, float *y) {
  g->be->fc_fwd(g->ctx, g->sh.n, g->sh.c, g->a, g->in[0], g->in[1], g->in[2], y);
}
static void fc_b(gc *g, const float *dy, float **d) {
  g->be->fc_bwd(g->ctx, g->sh.n, g->sh.c, g->a, g->in[0], g->in[1], dy, d[0], d[1], d[2]);
}
static void xent_f(gc *g, float *y) {
  g->be->xent(g->ctx, g->sh.n, g->sh.c, g->in[0], g->labels, y, g->aux[0]);
}
static void xent_b(gc *g, const float *dy, float **d) {
  float loss;
  g->be->xent(g->ctx, g->sh.n, g->sh.c, g->in[0], g->labels, &loss, g->aux[0]);
  for (size_t i = 0; i < g->len[0]; i++) d[0][i] += dy[0] * g->aux[0][i];
}

static void free_inputs(gc *g) {
  for (int i = 0; i < g->nin; i++) free(g->in[i]);
  for (int i = 0; i < 4; i++) free(g->aux[i]);
}

static int check_conv(kn_ctx *ctx, int dw, int n, int cin, int h, int w, int cout, int kh, int kw,
                      int s, int dil) {
  gc g = {0};
  g.be = ctx->be;
  g.ctx = ctx;
  kn_conv_init(&g.cv, n, cin, h, w, dw ? cin : cout, kh, kw, s, dil);
  snprintf(g.name, sizeof g.name, "%s n%d c%d %dx%d -> %d k%dx%d s%d d%d", dw ? "dwconv" : "conv",
           n, cin, h, w, g.cv.cout, kh, kw, s, dil);
  g.nin = 2;
  g.len[0] = (size_t)n * cin * h * w;
  g.len[1] = (size_t)g.cv.cout * (dw ? 1 : cin) * kh * kw;
  g.ylen = (size_t)n * g.cv.cout * g.cv.ho * g.cv.wo;
  for (int i = 0; i < 2; i++) {
    g.in[i] = kt_alloc(g.len[i]);
    kt_fill(g.in[i], g.len[i], -1, 1);
  }
  g.fwd = dw ? dw_f : conv_f;
  g.bwd = dw ? dw_b : conv_b;
  int bad = gradcheck(&g);
  free_inputs(&g);
  return bad;
}

static int check_pool(kn_ctx *ctx, int max, int n, int c, int h, int w, int k, int s) {
  gc g = {0};
  g.be = ctx->be;
  g.ctx = ctx;
  kn_pool_init(&g.pl, n, c, h, w, k, s);
  snprintf(g.name, sizeof g.name, "%spool%dx%d n%d c%d %dx%d s%d", max ? "max" : "avg", k, k, n, c,
           h, w, s);
  g.nin = 1;
  g.len[0] = (size_t)n * c * h * w;
  g.ylen = (size_t)n * c * g.pl.ho * g.pl.wo;
  g.in[0] = kt_alloc(g.len[0]);
  if (max)
    kt_fill_distinct(g.in[0], g.len[0], 0.05f);
  else
    kt_fill(g.in[0], g.len[0], -1, 1);
  g.fwd = max ? maxp_f : avgp_f;
  g.bwd = max ? maxp_b : avgp_b;
  int bad = gradcheck(&g);
  free_inputs(&g);
  return bad;
}

static int check_misc(kn_ctx *ctx) {
  int bad = 0;
  kn_shape s = {3, 4, 5, 3};
  size_t cnt = kn_numel(s);
  { // batch norm (train mode): d x, d gamma, d beta
    gc g = {0};
    g.be = ctx->be;
    g.ctx = ctx;
    snprintf(g.name, sizeof g.name, "batchnorm n3 c4 5x3");
    g.sh = s;
    g.nin = 3;
    g.len[0] = cnt;
    g.len[1] = g.len[2] = 4;
    g.ylen = cnt;
    for (int i = 0; i < 3; i++) g.in[i] = kt_alloc(g.len[i]);
    kt_fill(g.in[0], cnt, -2, 3);
    kt_fill(g.in[1], 4, 0.5f, 1.5f);
    kt_fill(g.in[2], 4, -0.5f, 0.5f);
    for (int i = 0; i < 4; i++) g.aux[i] = kt_alloc(4);
    g.fwd = bn_f;
    g.bwd = bn_b;
    bad += gradcheck(&g);
    free_inputs(&g);
  }
  { // relu, add
    gc g = {0};
    g.be = ctx->be;
    g.ctx = ctx;
    snprintf(g.name, sizeof g.name, "relu 180");
    g.nin = 1;
    g.len[0] = g.ylen = cnt;
    g.in[0] = kt_alloc(cnt);
    kt_fill_away(g.in[0], cnt, 0.05f);
    g.fwd = relu_f;
    g.bwd = relu_b;
    bad += gradcheck(&g);
    free_inputs(&g);
    gc a = {0};
    a.be = ctx->be;
    a.ctx = ctx;
    snprintf(a.name, sizeof a.name, "add 180");
    a.nin = 2;
    a.len[0] = a.len[1] = a.ylen = cnt;
    for (int i = 0; i < 2; i++) {
      a.in[i] = kt_alloc(cnt);
      kt_fill(a.in[i], cnt, -1, 1);
    }
    a.fwd = add_f;
    a.bwd = add_b;
    bad += gradcheck(&a);
    free_inputs(&a);
  }
  { // concat into channels [2, 6) of 7
    gc g = {0};
    g.be = ctx->be;
    g.ctx = ctx;
    snprintf(g.name, sizeof g.name, "concat c4 into c7 at 2");
    g.sh = s;
    g.a = 7;
    g.b = 2;
    g.nin = 1;
    g.len[0] = cnt;
    g.ylen = (size_t)s.n * 7 * s.h * s.w;
    g.in[0] = kt_alloc(cnt);
    kt_fill(g.in[0], cnt, -1, 1);
    g.fwd = cat_f;
    g.bwd = cat_b;
    bad += gradcheck(&g);
    free_inputs(&g);
  }
  { // a + b into channels [3, 7) of 7 (a block's sum written into the cell output)
    gc g = {0};
    g.be = ctx->be;
    g.ctx = ctx;
    snprintf(g.name, sizeof g.name, "add_concat c4 into c7 at 3");
    g.sh = s;
    g.a = 7;
    g.b = 3;
    g.nin = 2;
    g.len[0] = g.len[1] = cnt;
    g.ylen = (size_t)s.n * 7 * s.h * s.w;
    for (int i = 0; i < 2; i++) {
      g.in[i] = kt_alloc(cnt);
      kt_fill(g.in[i], cnt, -1, 1);
    }
    g.fwd = addcat_f;
    g.bwd = addcat_b;
    bad += gradcheck(&g);
    free_inputs(&g);
  }
  for (int off = 0; off < 2; off++)
    for (int odd = 0; odd < 2; odd++) { // stride-2 sampling / factorized-reduction shift
      gc g = {0};
      g.be = ctx->be;
      g.ctx = ctx;
      g.sh = (kn_shape){2, 3, 6 + odd, 4 + odd};
      snprintf(g.name, sizeof g.name, "subsample off%d %dx%d", off, g.sh.h, g.sh.w);
      g.a = off;
      g.nin = 1;
      g.len[0] = kn_numel(g.sh);
      g.ylen = (size_t)2 * 3 * ((g.sh.h + 1) / 2) * ((g.sh.w + 1) / 2);
      g.in[0] = kt_alloc(g.len[0]);
      kt_fill(g.in[0], g.len[0], -1, 1);
      g.fwd = sub_f;
      g.bwd = sub_b;
      bad += gradcheck(&g);
      free_inputs(&g);
    }
  { // global average pool
    gc g = {0};
    g.be = ctx->be;
    g.ctx = ctx;
    snprintf(g.name, sizeof g.name, "global avg pool");
    g.sh = s;
    g.nin = 1;
    g.len[0] = cnt;
    g.ylen = (size_t)s.n * s.c;
    g.in[0] = kt_alloc(cnt);
    kt_fill(g.in[0], cnt, -1, 1);
    g.fwd = gap_f;
    g.bwd = gap_b;
    bad += gradcheck(&g);
    free_inputs(&g);
  }
  { // fully connected: x (3,5), w (4,5), b (4)
    gc g = {0};
    g.be = ctx->be;
    g.ctx = ctx;
    snprintf(g.name, sizeof g.name, "fc 5 -> 4");
    g.sh = (kn_shape){3, 5, 1, 1};
    g.a = 4;
    g.nin = 3;
    g.len[0] = 15;
    g.len[1] = 20;
    g.len[2] = 4;
    g.ylen = 12;
    for (int i = 0; i < 3; i++) {
      g.in[i] = kt_alloc(g.len[i]);
      kt_fill(g.in[i], g.len[i], -1, 1);
    }
    g.fwd = fc_f;
    g.bwd = fc_b;
    bad += gradcheck(&g);
    free_inputs(&g);
  }
  { // softmax cross-entropy, 4 examples, 6 classes
    gc g = {0};
    g.be = ctx->be;
    g.ctx = ctx;
    snprintf(g.name, sizeof g.name, "softmax xent 4x6");
    g.sh = (kn_shape){4, 6, 1, 1};
    g.nin = 1;
    g.len[0] = 24;
    g.ylen = 1;
    g.in[0] = kt_alloc(24);
    kt_fill(g.in[0], 24, -2, 2);
    g.aux[0] = kt_alloc(24);
    for (int i = 0; i < 4; i++) g.labels[i] = (i * 5 + 1) % 6;
    g.fwd = xent_f;
    g.bwd = xent_b;
    bad += gradcheck(&g);
    free_inputs(&g);
  }
  return bad;
}

int main(void) {
  int bad = 0;
  const kn_backend *bes[2] = {kn_backend_ref(), kn_backend_cpu()};
  for (int b = 0; b < 2; b++) {
    kn_ctx ctx;
    kn_ctx_init(&ctx, bes[b], 2);
    static const int cv[][9] = {
        // n cin h w cout kh kw stride dil
        {2, 3, 5, 6, 4, 1, 1, 1, 1}, {2, 3, 5, 6, 4, 1, 1, 2, 1}, {2, 3, 5, 6, 4, 3, 3, 1, 1},
        {2, 3, 6, 5, 4, 3, 3, 2, 1}, {1, 2, 6, 8, 3, 1, 7, 1, 1}, {1, 2, 8, 6, 3, 7, 1, 1, 1},
        {1, 2, 7, 8, 3, 1, 7, 2, 1}, {1, 2, 7, 6, 3, 3, 3, 1, 2}, {1, 2, 6, 7, 2, 3, 3, 2, 2},
    };
    for (size_t i = 0; i < sizeof cv / sizeof cv[0]; i++)
      bad += check_conv(&ctx, 0, cv[i][0], cv[i][1], cv[i][2], cv[i][3], cv[i][4], cv[i][5],
                        cv[i][6], cv[i][7], cv[i][8]);
    static const int dw[][6] = {
        // n c h w k stride
        {2, 3, 5, 6, 3, 1}, {2, 3, 6, 5, 3, 2}, {1, 2, 7, 8, 5, 1},
        {1, 2, 8, 7, 5, 2}, {1, 2, 7, 7, 7, 1}, {1, 2, 8, 9, 7, 2},
    };
    for (size_t i = 0; i < sizeof dw / sizeof dw[0]; i++)
      bad += check_conv(&ctx, 1, dw[i][0], dw[i][1], dw[i][2], dw[i][3], 0, dw[i][4], dw[i][4],
                        dw[i][5], 1);
    // pooling: windows 3, 5, 7; even and odd sizes, and planes smaller than the window
    static const int pl[][4] = {
        // n c h w
        {2, 2, 5, 6}, {1, 2, 6, 7}, {1, 2, 9, 7}, {2, 1, 3, 2}, {1, 2, 1, 4}, {1, 1, 4, 5},
    };
    for (int max = 0; max < 2; max++)
      for (int k = 3; k <= 7; k += 2)
        for (int s = 1; s <= 2; s++)
          for (size_t i = 0; i < sizeof pl / sizeof pl[0]; i++)
            bad += check_pool(&ctx, max, pl[i][0], pl[i][1], pl[i][2], pl[i][3], k, s);
    bad += check_misc(&ctx);
    kn_ctx_release(&ctx);
  }
  if (bad) {
    fprintf(stderr, "%d gradient checks failed\n", bad);
    return 1;
  }
  printf("all gradient checks passed\n");
  return 0;
}
