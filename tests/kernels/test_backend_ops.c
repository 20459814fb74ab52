// One op test body for every backend (ggml's test-backend-ops): each op of the backend named on
// the command line ("cpu", "cuda"; the default is PNAS_TEST_BACKEND), forward and backward,
// driven only through the seam (alloc, upload, download and the op table), against the CPU
// reference backend ("ref", the oracle) on random inputs and odd shapes: odd sizes, stride 2 with TF 'SAME' asymmetric
// padding (cuDNN gets an explicitly padded input), dilation, batches of 1 and batches that do not
// fill the depthwise reduction chunks. Initial gradients are random (not zero) to check the
// accumulate (+=) contract. Also: determinism (ops run twice give identical bits), that the
// cuDNN plan cache does not grow when a shape repeats, parameters at 4-byte (not 16-byte) aligned
// addresses (as inside the network's parameter vector), and that an impossible allocation is a
// NULL return, not an abort, with the device usable afterwards (the last three, the cuDNN plan
// cache and the CUDA graph replay are device checks: cuda only).
// TF32 is OFF (NVIDIA_TF32_OVERRIDE=0, PNAS_CUDA_TF32=0). Tolerances |got-ref| <= atol + rtol*|ref|:
//   layout ops (relu, add, acc, concat, sub), max pooling: exact (0, 0)
//   avg pooling, gap, xent, sgd, fc bias: 1e-6 .. 1e-5 (float vs the reference's double sums)
//   gather_u8, topk_count, loss_acc, tick: exact; a CUDA graph replay of gather + sgd + tick:
//     sgd tolerance
//   dense conv y and dx: 1e-3 / 1e-3 (cuDNN may choose FFT or Winograd algorithms, whose fp32
//     error is larger than a direct sum's; wrong padding or layout gives O(1) errors)
//   conv dw, depthwise dw, BN dgamma/dbeta (reductions over the batch): 2e-3 / 1e-3
//   depthwise y and dx: 1e-4 / 1e-4; batch norm y, dx: 1e-4 / 1e-3, statistics 1e-5 / 1e-4
// The tolerances are the CUDA backend's; the fast CPU backend meets them too.
// cuda without a usable GPU prints SKIPPED and exits 77 (ctest SKIP_RETURN_CODE).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/backend.h"
#ifdef PNAS_HAVE_CUDA
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cudnn_ops.h"
#endif
#include "tests/kernels/kt.h"

#define SKIP 77
#ifndef PNAS_TEST_BACKEND
#define PNAS_TEST_BACKEND "cpu"
#endif

static kn_ctx REF, TST; // the reference and the backend under test (TST.dev: its device or NULL)
static int bad = 0;

// Device copy of a host array (aborts the test on failure: the test cannot go on).
static float *up(const float *h, size_t n) {
  float *d = TST.be->alloc(&TST, n * sizeof(float) + 4);
  if (!d) {
    fprintf(stderr, "FAIL device alloc of %zu floats\n", n);
    exit(1);
  }
  if (n) TST.be->upload(&TST, d, h, n * sizeof(float));
  return d;
}
// The same at a 4-byte (not 16-byte) aligned address, like a parameter inside the network's
// parameter vector; free with gfree(p - 1).
static float *upm(const float *h, size_t n) {
  float *d = TST.be->alloc(&TST, (n + 1) * sizeof(float) + 4);
  if (!d) {
    fprintf(stderr, "FAIL device alloc of %zu floats\n", n + 1);
    exit(1);
  }
  if (n) TST.be->upload(&TST, d + 1, h, n * sizeof(float));
  return d + 1;
}
static float *down(const float *d, size_t n) { // host copy (caller frees)
  float *h = kt_alloc(n);
  if (n) TST.be->download(&TST, h, d, n * sizeof(float));
  return h;
}
static int cmp_dev(const char *what, const float *dev, const float *ref, size_t n, double atol,
                   double rtol) {
  float *h = down(dev, n);
  int k = kt_compare(what, h, ref, n, atol, rtol);
  free(h);
  return k != 0;
}
static int same_dev(const char *what, const float *a, const float *b, size_t n) {
  float *x = down(a, n), *y = down(b, n);
  int k = memcmp(x, y, n * sizeof(float)) != 0;
  if (k) fprintf(stderr, "FAIL %s: two identical runs differ (not deterministic)\n", what);
  free(x);
  free(y);
  return k;
}
static void gfree(void *p) { TST.be->free(&TST, p); }
static int tst_failed(const char *what) {
  if (!TST.failed) return 0;
  fprintf(stderr, "FAIL %s: %s backend failed: %s\n", what, TST.be->name, TST.reason);
  return 1;
}

// cuDNN plans the device holds (0 for a backend without a device).
static int cached_plans(void) {
#ifdef PNAS_HAVE_CUDA
  if (TST.dev) return kn_dnn_cached_shapes(TST.dev);
#endif
  return 0;
}

static int check_conv(int dw, int n, int cin, int h, int w, int cout, int kh, int kw, int s,
                      int dil) {
  kn_conv d;
  kn_conv_init(&d, n, cin, h, w, dw ? cin : cout, kh, kw, s, dil);
  char name[128], what[192];
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
  float *y = kt_alloc(yl), *dx = kt_dup(dx0, xl), *dW = kt_dup(dw0, wl);
  const kn_backend *r = REF.be, *g = TST.be;
  (dw ? r->dw_fwd : r->conv_fwd)(&REF, &d, x, wt, y);
  (dw ? r->dw_bwd : r->conv_bwd)(&REF, &d, x, wt, dy, dx, dW);
  float *gx = up(x, xl), *gw = up(wt, wl), *gdy = up(dy, yl), *gy = up(y, yl); // y: overwritten
  float *gdx[2] = {up(dx0, xl), up(dx0, xl)}, *gdW[2] = {up(dw0, wl), up(dw0, wl)};
  float *gy2 = up(y, yl);
  int before = cached_plans();
  for (int rep = 0; rep < 2; rep++) {
    (dw ? g->dw_fwd : g->conv_fwd)(&TST, &d, gx, gw, rep ? gy2 : gy);
    (dw ? g->dw_bwd : g->conv_bwd)(&TST, &d, gx, gw, gdy, gdx[rep], gdW[rep]);
  }
  int k = tst_failed(name);
  double ta = dw ? 1e-4 : 1e-3, tr = dw ? 1e-4 : 1e-3;
  snprintf(what, sizeof what, "%s y", name);
  k += cmp_dev(what, gy, y, yl, ta, tr);
  snprintf(what, sizeof what, "%s dx", name);
  k += cmp_dev(what, gdx[0], dx, xl, ta, tr);
  snprintf(what, sizeof what, "%s dw", name);
  k += cmp_dev(what, gdW[0], dW, wl, 2e-3, 1e-3);
  k += same_dev(name, gy, gy2, yl) + same_dev(name, gdx[0], gdx[1], xl) +
       same_dev(name, gdW[0], gdW[1], wl);
  // a repeated shape must reuse its cuDNN plan (at most one new plan, made by the first run)
  int after = cached_plans();
  if (!dw && after - before > 1) {
    fprintf(stderr, "FAIL %s: %d new cuDNN plans for one shape\n", name, after - before);
    k++;
  }
  // no input gradient wanted (dx NULL): dw still accumulates
  float *gdW3 = up(dw0, wl);
  (dw ? g->dw_bwd : g->conv_bwd)(&TST, &d, gx, gw, gdy, NULL, gdW3);
  snprintf(what, sizeof what, "%s dw (dx NULL)", name);
  k += cmp_dev(what, gdW3, dW, wl, 2e-3, 1e-3);
  // weights and their gradient at 4-byte aligned addresses (cuDNN gets aligned copies)
  float *gwm = upm(wt, wl), *gdWm = upm(dw0, wl), *gdxm = up(dx0, xl), *gym = up(y, yl);
  (dw ? g->dw_fwd : g->conv_fwd)(&TST, &d, gx, gwm, gym);
  (dw ? g->dw_bwd : g->conv_bwd)(&TST, &d, gx, gwm, gdy, gdxm, gdWm);
  k += tst_failed(name);
  snprintf(what, sizeof what, "%s misaligned w: y", name);
  k += cmp_dev(what, gym, y, yl, ta, tr);
  snprintf(what, sizeof what, "%s misaligned w: dx", name);
  k += cmp_dev(what, gdxm, dx, xl, ta, tr);
  snprintf(what, sizeof what, "%s misaligned w: dw", name);
  k += cmp_dev(what, gdWm, dW, wl, 2e-3, 1e-3);
  gfree(gwm - 1), gfree(gdWm - 1);
  float *bufs[] = {gx, gw, gdy, gy, gy2, gdx[0], gdx[1], gdW[0], gdW[1], gdW3, gdxm, gym};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) gfree(bufs[i]);
  free(x), free(wt), free(dy), free(dx0), free(dw0), free(y), free(dx), free(dW);
  if (!k) printf("ok   %s\n", name);
  return k;
}

static int check_pool(int max, int n, int c, int h, int w, int win, int s) {
  kn_pool p;
  kn_pool_init(&p, n, c, h, w, win, s);
  size_t xl = (size_t)n * c * h * w, yl = (size_t)n * c * p.ho * p.wo;
  float *x = kt_alloc(xl), *dy = kt_alloc(yl), *dx0 = kt_alloc(xl);
  // distinct values, plus exact ties in the first plane (first-maximum rule)
  kt_fill_distinct(x, xl, 1e-3f);
  for (int i = 0; i < h * w && i < (int)xl; i += 3) x[i] = 0.25f;
  kt_fill(dy, yl, -1, 1);
  kt_fill(dx0, xl, -1, 1);
  float *y = kt_alloc(yl), *dx = kt_dup(dx0, xl);
  float *gx = up(x, xl), *gdy = up(dy, yl), *gy = up(y, yl), *gdx = up(dx0, xl);
  if (max) {
    REF.be->maxpool_fwd(&REF, &p, x, y);
    REF.be->maxpool_bwd(&REF, &p, x, dy, dx);
    TST.be->maxpool_fwd(&TST, &p, gx, gy);
    TST.be->maxpool_bwd(&TST, &p, gx, gdy, gdx);
  } else {
    REF.be->avgpool_fwd(&REF, &p, x, y);
    REF.be->avgpool_bwd(&REF, &p, dy, dx);
    TST.be->avgpool_fwd(&TST, &p, gx, gy);
    TST.be->avgpool_bwd(&TST, &p, gdy, gdx);
  }
  char what[96];
  snprintf(what, sizeof what, "%spool%d n%d c%d %dx%d s%d", max ? "max" : "avg", win, n, c, h, w,
           s);
  int k = tst_failed(what);
  k += cmp_dev(what, gy, y, yl, max ? 0 : 1e-6, max ? 0 : 1e-5);
  k += cmp_dev(what, gdx, dx, xl, max ? 0 : 1e-6, max ? 0 : 1e-5);
  gfree(gx), gfree(gdy), gfree(gy), gfree(gdx);
  free(x), free(dy), free(dx0), free(y), free(dx);
  if (!k) printf("ok   %s\n", what);
  return k;
}

static int check_bn(kn_shape s, int mis) {
  size_t cnt = kn_numel(s);
  int C = s.c, k = 0;
  float *x = kt_alloc(cnt), *ga = kt_alloc(C), *be = kt_alloc(C), *dy = kt_alloc(cnt),
        *dx = kt_alloc(cnt), *rv0 = kt_alloc(C), *rm0 = kt_alloc(C), *dg0 = kt_alloc(C),
        *db0 = kt_alloc(C);
  kt_fill(x, cnt, -2, 4);
  kt_fill(ga, C, 0.5f, 1.5f);
  kt_fill(be, C, -1, 1);
  kt_fill(dy, cnt, -1, 1);
  kt_fill(dx, cnt, -1, 1);
  kt_fill(rm0, C, -0.5f, 0.5f);
  kt_fill(rv0, C, 0.5f, 2.0f);
  kt_fill(dg0, C, -1, 1);
  kt_fill(db0, C, -1, 1);
  // mis: the per-channel vectors at 4-byte aligned addresses, like parameters in the network
  float *(*pu)(const float *, size_t) = mis ? upm : up;
  float *gx = up(x, cnt), *gga = pu(ga, C), *gbe = pu(be, C), *gdy = up(dy, cnt),
        *gdx = up(dx, cnt), *gy = up(x, cnt), *gye = up(x, cnt), *gmean = pu(rm0, C),
        *gis = pu(rm0, C), *grm = pu(rm0, C), *grv = pu(rv0, C), *gdg = pu(dg0, C),
        *gdb = pu(db0, C);
  float *y = kt_alloc(cnt), *ye = kt_alloc(cnt), *mean = kt_alloc(C), *is = kt_alloc(C),
        *rm = kt_dup(rm0, C), *rv = kt_dup(rv0, C), *dg = kt_dup(dg0, C), *db = kt_dup(db0, C);
  REF.be->bn_fwd_train(&REF, s, x, ga, be, y, mean, is, rm, rv);
  REF.be->bn_bwd(&REF, s, x, ga, mean, is, dy, dx, dg, db);
  REF.be->bn_fwd_eval(&REF, s, x, ga, be, rm, rv, ye);
  TST.be->bn_fwd_train(&TST, s, gx, gga, gbe, gy, gmean, gis, grm, grv);
  TST.be->bn_bwd(&TST, s, gx, gga, gmean, gis, gdy, gdx, gdg, gdb);
  TST.be->bn_fwd_eval(&TST, s, gx, gga, gbe, grm, grv, gye);
  char name[64];
  snprintf(name, sizeof name, "batchnorm n%d c%d %dx%d%s", s.n, s.c, s.h, s.w,
           mis ? " (misaligned gamma, beta, statistics)" : "");
  k += tst_failed(name);
  k += cmp_dev("bn y", gy, y, cnt, 1e-4, 1e-3);
  k += cmp_dev("bn mean", gmean, mean, C, 1e-5, 1e-4);
  k += cmp_dev("bn invstd", gis, is, C, 1e-5, 1e-4);
  k += cmp_dev("bn running mean", grm, rm, C, 1e-5, 1e-4);
  k += cmp_dev("bn running var (unbiased)", grv, rv, C, 1e-5, 1e-4);
  k += cmp_dev("bn eval y", gye, ye, cnt, 1e-4, 1e-3);
  k += cmp_dev("bn dx", gdx, dx, cnt, 1e-4, 1e-3);
  k += cmp_dev("bn dgamma", gdg, dg, C, 2e-3, 1e-3);
  k += cmp_dev("bn dbeta", gdb, db, C, 2e-3, 1e-3);
  float *bufs[] = {gx, gdy, gdx, gy, gye}, *vecs[] = {gga, gbe, gmean, gis, grm, grv, gdg, gdb};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) gfree(bufs[i]);
  for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) gfree(vecs[i] - mis);
  float *hb[] = {x, ga, be, dy, dx, rv0, rm0, dg0, db0, y, ye, mean, is, rm, rv, dg, db};
  for (size_t i = 0; i < sizeof hb / sizeof hb[0]; i++) free(hb[i]);
  if (!k) printf("ok   %s\n", name);
  return k;
}

static int check_elementwise(kn_shape s) {
  int k = 0;
  size_t cnt = kn_numel(s);
  float *a = kt_alloc(cnt), *b = kt_alloc(cnt), *acc0 = kt_alloc(cnt);
  kt_fill(a, cnt, -1, 1);
  kt_fill(b, cnt, -1, 1);
  kt_fill(acc0, cnt, -1, 1);
  for (size_t i = 0; i < cnt; i += 7) a[i] = 0.0f; // ReLU at exactly 0: no gradient
  float *ga = up(a, cnt), *gb = up(b, cnt);
  const kn_backend *R = REF.be, *G = TST.be;
  // relu fwd; relu bwd then acc into the same buffer; add
  float *r0 = kt_alloc(cnt), *r1 = kt_dup(acc0, cnt), *r2 = kt_alloc(cnt);
  float *g0 = up(r0, cnt), *g1 = up(acc0, cnt), *g2 = up(r2, cnt);
  R->relu_fwd(&REF, cnt, a, r0), G->relu_fwd(&TST, cnt, ga, g0);
  R->relu_bwd(&REF, cnt, a, b, r1), G->relu_bwd(&TST, cnt, ga, gb, g1);
  R->acc(&REF, cnt, a, r1), G->acc(&TST, cnt, ga, g1);
  R->add_fwd(&REF, cnt, a, b, r2), G->add_fwd(&TST, cnt, ga, gb, g2);
  k += cmp_dev("relu", g0, r0, cnt, 0, 0);
  k += cmp_dev("relu_bwd+acc", g1, r1, cnt, 0, 0);
  k += cmp_dev("add", g2, r2, cnt, 0, 0);
  gfree(g0), gfree(g1), gfree(g2), free(r0), free(r1), free(r2);
  // l1_sign (network slimming's L1 on BN gammas): g += lambda * sign(a), exactly; the reference
  // against the definition first (a has exact zeros every 7th element: sign 0).
  float *l0 = kt_dup(acc0, cnt), *gl = up(acc0, cnt);
  R->l1_sign(&REF, cnt, a, 0.25f, l0), G->l1_sign(&TST, cnt, ga, 0.25f, gl);
  int bad_def = 0;
  for (size_t i = 0; i < cnt; i++)
    bad_def += l0[i] != acc0[i] + (a[i] > 0 ? 0.25f : a[i] < 0 ? -0.25f : 0.0f);
  if (bad_def) fprintf(stderr, "reference l1_sign differs from lambda * sign(x) at %d elements\n", bad_def);
  k += bad_def != 0;
  k += cmp_dev("l1_sign", gl, l0, cnt, 0, 0);
  gfree(gl), free(l0);
  // concat into channels [coff, coff + c) of a cy-channel tensor, and back
  int cy = s.c + 5, coff = 3;
  size_t catl = (size_t)s.n * cy * s.h * s.w;
  float *cat0 = kt_alloc(catl), *cat = kt_alloc(catl), *cb = kt_dup(acc0, cnt);
  kt_fill(cat0, catl, -1, 1);
  memcpy(cat, cat0, catl * sizeof(float));
  float *gcat = up(cat0, catl), *gcb = up(acc0, cnt);
  R->concat_fwd(&REF, s, cy, coff, a, cat), G->concat_fwd(&TST, s, cy, coff, ga, gcat);
  R->concat_bwd(&REF, s, cy, coff, cat, cb), G->concat_bwd(&TST, s, cy, coff, gcat, gcb);
  k += cmp_dev("concat (whole output: other channels untouched)", gcat, cat, catl, 0, 0);
  k += cmp_dev("concat_bwd", gcb, cb, cnt, 0, 0);
  gfree(gcat), gfree(gcb), free(cat0), free(cat), free(cb);
  // stride-2 sampling, offsets 0 and 1
  int ho = (s.h + 1) / 2, wo = (s.w + 1) / 2;
  size_t subl = (size_t)s.n * s.c * ho * wo;
  for (int off = 0; off < 2; off++) {
    float *sy = kt_alloc(subl), *sdx = kt_dup(acc0, cnt), *dyy = kt_alloc(subl);
    kt_fill(dyy, subl, -1, 1);
    float *gsy = up(sy, subl), *gsdx = up(acc0, cnt), *gdyy = up(dyy, subl);
    R->sub_fwd(&REF, s, off, a, sy), G->sub_fwd(&TST, s, off, ga, gsy);
    R->sub_bwd(&REF, s, off, dyy, sdx), G->sub_bwd(&TST, s, off, gdyy, gsdx);
    k += cmp_dev(off ? "sub off 1" : "sub off 0", gsy, sy, subl, 0, 0);
    k += cmp_dev(off ? "sub_bwd off 1" : "sub_bwd off 0", gsdx, sdx, cnt, 0, 0);
    gfree(gsy), gfree(gsdx), gfree(gdyy), free(sy), free(sdx), free(dyy);
  }
  // global average pool
  size_t pl = (size_t)s.n * s.c;
  float *gp = kt_alloc(pl), *gpb = kt_dup(acc0, cnt), *dyp = kt_alloc(pl);
  kt_fill(dyp, pl, -1, 1);
  float *ggp = up(gp, pl), *ggpb = up(acc0, cnt), *gdyp = up(dyp, pl);
  R->gap_fwd(&REF, s, a, gp), G->gap_fwd(&TST, s, ga, ggp);
  R->gap_bwd(&REF, s, dyp, gpb), G->gap_bwd(&TST, s, gdyp, ggpb);
  k += cmp_dev("gap", ggp, gp, pl, 1e-6, 1e-6);
  k += cmp_dev("gap_bwd", ggpb, gpb, cnt, 1e-6, 1e-6);
  // fully connected on the pooled features, cross-entropy on its output, SGD
  int n = s.n, cin = s.c, classes = 10;
  size_t wl = (size_t)classes * cin, ol = (size_t)n * classes;
  float *fw = kt_alloc(wl), *fb = kt_alloc(classes), *fdy = kt_alloc(ol), *fy = kt_alloc(ol),
        *fdx = kt_dup(acc0, pl), *fdw = kt_dup(acc0, wl), *fdb = kt_dup(acc0, classes);
  kt_fill(fw, wl, -1, 1);
  kt_fill(fb, classes, -1, 1);
  kt_fill(fdy, ol, -1, 1);
  // each op gets the reference's inputs, so tolerances measure that op alone
  float *gfw = up(fw, wl), *gfb = up(fb, classes), *gfdy = up(fdy, ol), *gfy = up(fy, ol),
        *gfdx = up(acc0, pl), *gfdw = up(acc0, wl), *gfdb = up(acc0, classes), *gfx = up(gp, pl);
  R->fc_fwd(&REF, n, cin, classes, gp, fw, fb, fy), G->fc_fwd(&TST, n, cin, classes, gfx, gfw, gfb, gfy);
  R->fc_bwd(&REF, n, cin, classes, gp, fw, fdy, fdx, fdw, fdb);
  G->fc_bwd(&TST, n, cin, classes, gfx, gfw, gfdy, gfdx, gfdw, gfdb);
  k += cmp_dev("fc y", gfy, fy, ol, 1e-5, 1e-5);
  k += cmp_dev("fc dx", gfdx, fdx, pl, 1e-5, 1e-5);
  k += cmp_dev("fc dw", gfdw, fdw, wl, 1e-5, 1e-5);
  k += cmp_dev("fc db", gfdb, fdb, classes, 1e-5, 1e-5);
  int32_t *lab = malloc((size_t)n * sizeof *lab);
  for (int i = 0; i < n; i++) lab[i] = (int32_t)(kt_uniform() * classes);
  int32_t *glab = (int32_t *)up((const float *)lab, (size_t)n); // int32 and float are 4 bytes
  float loss = 0, *lg = kt_alloc(ol), *glg = up(lg, ol), *gloss = up(&loss, 1), *gz = up(fy, ol);
  R->xent(&REF, n, classes, fy, lab, &loss, lg);
  G->xent(&TST, n, classes, gz, glab, gloss, glg);
  k += cmp_dev("xent loss", gloss, &loss, 1, 1e-6, 1e-6);
  k += cmp_dev("xent dlogits", glg, lg, ol, 1e-7, 1e-6);
  float *w = kt_dup(a, cnt), *v = kt_dup(acc0, cnt), *gw = up(a, cnt), *gv = up(acc0, cnt);
  const float lr = 0.05f;
  float *glr = up(&lr, 1);
  R->sgd(&REF, cnt, w, b, v, &lr, 0.9f, 1e-3f), G->sgd(&TST, cnt, gw, gb, gv, glr, 0.9f, 1e-3f);
  k += cmp_dev("sgd w", gw, w, cnt, 1e-6, 1e-6);
  k += cmp_dev("sgd v", gv, v, cnt, 1e-6, 1e-6);
  k += tst_failed("element-wise");
  float *bufs[] = {ga, gb, ggp, ggpb, gdyp, gfw, gfb, gfdy, gfy, gfdx, gfdw, gfdb, gfx,
                   (float *)glab, glg, gloss, gz, gw, gv, glr};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) gfree(bufs[i]);
  float *hb[] = {a, b, acc0, gp, gpb, dyp, fw, fb, fdy, fy, fdx, fdw, fdb, lg, w, v};
  for (size_t i = 0; i < sizeof hb / sizeof hb[0]; i++) free(hb[i]);
  free(lab);
  if (!k)
    printf("ok   relu, add, acc, concat, sub, gap, fc, xent, sgd on n%d c%d %dx%d\n", s.n, s.c,
           s.h, s.w);
  return k;
}

// Out of memory is a NULL from alloc (no abort, ctx not failed) and the device stays usable.
static int check_oom(void) {
  void *p = TST.be->alloc(&TST, (size_t)1 << 50); // 1 PiB
  int k = 0;
  if (p) {
    fprintf(stderr, "FAIL a 1 PiB allocation succeeded?\n");
    gfree(p);
    k++;
  }
  if (TST.failed) {
    fprintf(stderr, "FAIL out of memory at alloc marked the ctx failed: %s\n", TST.reason);
    k++;
  }
  float one = 1.0f, *g = up(&one, 1), back = 0;
  TST.be->relu_fwd(&TST, 1, g, g);
  TST.be->download(&TST, &back, g, sizeof back);
  gfree(g);
  if (TST.failed || back != 1.0f) {
    fprintf(stderr, "FAIL device unusable after an out-of-memory allocation (%s)\n", TST.reason);
    k++;
  }
  if (!k) printf("ok   out of memory is a NULL allocation; the device keeps working\n");
  return k;
}

// The training loop's state ops (gather_u8, loss_acc, tick, topk_count) against the CPU
// reference, then a CUDA graph: gather + tick + sgd captured once and replayed `reps` times must
// equal the same ops run eagerly on the reference (the graph reads the step state each replay).
static int check_train_state(int nimg, int c, int hw, int nb, int reps) {
  const kn_backend *R = REF.be, *G = TST.be;
  int k = 0;
  size_t chw = (size_t)c * hw, total = (size_t)nimg * chw;
  uint8_t *img = calloc((total + 3) / 4, 4); // whole floats: it is uploaded as floats
  int32_t *lab = malloc((size_t)nimg * 4), *perm = malloc((size_t)nimg * 4);
  float *lut = kt_alloc((size_t)c * 256);
  for (size_t i = 0; i < total; i++) img[i] = (uint8_t)(kt_uniform() * 256);
  for (int i = 0; i < nimg; i++) lab[i] = (int32_t)(kt_uniform() * 10), perm[i] = nimg - 1 - i;
  kt_fill(lut, (size_t)c * 256, -2, 2);
  float *gimg = up((const float *)img, (total + 3) / 4); // uint8 data in a float-sized buffer
  int32_t *glab = (int32_t *)up((const float *)lab, (size_t)nimg);
  int32_t *gperm = (int32_t *)up((const float *)perm, (size_t)nimg);
  float *glut = up(lut, (size_t)c * 256);
  int32_t st[2] = {5, nb}, *gst = (int32_t *)up((const float *)st, 2);
  float *x = kt_alloc((size_t)nb * chw), *gx = up(x, (size_t)nb * chw);
  int32_t *xl = malloc((size_t)nb * 4), *gxl = (int32_t *)up((const float *)xl, (size_t)nb);
  R->gather_u8(&REF, nb, c, 1, hw, img, lab, perm, st, lut, NULL, x, xl);
  G->gather_u8(&TST, nb, c, 1, hw, (const uint8_t *)gimg, glab, gperm, gst, glut, NULL, gx, gxl);
  k += cmp_dev("gather_u8 x", gx, x, (size_t)nb * chw, 0, 0);
  k += cmp_dev("gather_u8 labels", (float *)gxl, (float *)xl, (size_t)nb, 0, 0);
  // with augmentation (crop of the image padded by 3, flips): hw as a 1 x hw or h x w image
  int ah = hw % 5 == 0 ? 5 : 1, aw = hw / ah;
  kn_aug aug = {3, 1, 12345};
  R->gather_u8(&REF, nb, c, ah, aw, img, lab, perm, st, lut, &aug, x, xl);
  G->gather_u8(&TST, nb, c, ah, aw, (const uint8_t *)gimg, glab, gperm, gst, glut, &aug, gx, gxl);
  k += cmp_dev("gather_u8 augmented x", gx, x, (size_t)nb * chw, 0, 0);
  // loss_acc: a finite loss, then inf, then NaN: the first non-finite one is kept
  double acc[3] = {0.25, -1, 0};
  double *gacc = (double *)up((const float *)acc, 6);
  float losses[3] = {1.5f, INFINITY, NAN};
  for (int i = 0; i < 3; i++) {
    float *gl = up(&losses[i], 1);
    R->loss_acc(&REF, &losses[i], st, acc);
    G->loss_acc(&TST, gl, gst, gacc);
    gfree(gl);
  }
  double hacc[3];
  G->download(&TST, hacc, gacc, sizeof hacc);
  if (!(isinf(hacc[0]) || isnan(hacc[0])) || hacc[1] != acc[1] || hacc[2] != acc[2]) {
    fprintf(stderr, "FAIL loss_acc: gpu {%g %g %g} cpu {%g %g %g}\n", hacc[0], hacc[1], hacc[2],
            acc[0], acc[1], acc[2]);
    k++;
  } else {
    printf("ok   loss_acc keeps the first non-finite loss (step %g)\n", hacc[1]);
  }
  // topk_count on logits with ties
  int n = 300, cl = 10;
  float *z = kt_alloc((size_t)n * cl);
  for (size_t i = 0; i < (size_t)n * cl; i++) z[i] = (float)(int)(kt_uniform() * 4);
  int32_t *zl = malloc((size_t)n * 4), cnt[2] = {3, 4};
  for (int i = 0; i < n; i++) zl[i] = (int32_t)(kt_uniform() * cl);
  float *gz = up(z, (size_t)n * cl);
  int32_t *gzl = (int32_t *)up((const float *)zl, (size_t)n), *gcnt = (int32_t *)up((const float *)cnt, 2);
  R->topk_count(&REF, n, cl, z, zl, cnt);
  G->topk_count(&TST, n, cl, gz, gzl, gcnt);
  k += cmp_dev("topk_count", (float *)gcnt, (float *)cnt, 2, 0, 0);
  // graph: gather, sgd on x with lr from a table, tick; replayed reps times
  int steps = reps + 1;
  float *table = kt_alloc((size_t)steps + 1), lr = 0;
  for (int i = 0; i <= steps; i++) table[i] = 0.01f * (float)(steps - i);
  float *gtable = up(table, (size_t)steps + 1), *glr = up(&lr, 1);
  float *w = kt_alloc((size_t)nb * chw), *v = kt_alloc((size_t)nb * chw);
  kt_fill(w, (size_t)nb * chw, -1, 1);
  memset(v, 0, (size_t)nb * chw * 4);
  float *gw = up(w, (size_t)nb * chw), *gv = up(v, (size_t)nb * chw);
  st[0] = 0, st[1] = 0;
  lr = table[0];
  G->upload(&TST, gst, st, sizeof st);
  G->upload(&TST, glr, &lr, sizeof lr);
  int bt = nimg / steps < nb ? nimg / steps : nb;
  for (int r = 0; r < steps; r++) { // reference: eager
    R->gather_u8(&REF, bt, c, 1, hw, img, lab, perm, st, lut, NULL, x, xl);
    R->sgd(&REF, (size_t)bt * chw, w, x, v, &lr, 0.9f, 1e-3f);
    R->tick(&REF, st, bt, table, &lr);
  }
  void *graph = NULL;
  int gk = 0;
  if (!G->graph_begin) { // a backend without a device has no graphs
    gk = -1;
  } else if (G->graph_begin(&TST)) {
    fprintf(stderr, "FAIL graph_begin: %s\n", TST.reason);
    gk = 1;
  } else {
    G->gather_u8(&TST, bt, c, 1, hw, (const uint8_t *)gimg, glab, gperm, gst, glut, NULL, gx, gxl);
    G->sgd(&TST, (size_t)bt * chw, gw, gx, gv, glr, 0.9f, 1e-3f);
    G->tick(&TST, gst, bt, gtable, glr);
    if (G->graph_end(&TST, &graph)) {
      fprintf(stderr, "FAIL graph capture of gather + sgd + tick\n");
      gk = 1;
    }
  }
  for (int r = 0; !gk && r < steps; r++)
    if (G->graph_launch(&TST, graph) != 0) {
      fprintf(stderr, "FAIL graph_launch %d: %s\n", r, TST.reason);
      gk = 1;
    }
  if (!gk) {
    gk += cmp_dev("graph replay: w", gw, w, (size_t)bt * chw, 1e-6, 1e-6); // FMA contraction
    gk += cmp_dev("graph replay: v", gv, v, (size_t)bt * chw, 1e-6, 1e-6);
    gk += cmp_dev("graph replay: lr", glr, &lr, 1, 0, 0);
    gk += cmp_dev("graph replay: step state", (float *)gst, (float *)st, 2, 0, 0);
    if (!gk) printf("ok   CUDA graph of gather + sgd + tick replayed %d times\n", steps);
  }
  if (gk >= 0) G->graph_free(&TST, graph);
  k += gk > 0 ? gk : 0;
  k += tst_failed("train state");
  float *gb[] = {gimg, (float *)glab, (float *)gperm, glut, (float *)gst, gx, (float *)gxl,
                 (float *)gacc, gz, (float *)gzl, (float *)gcnt, gtable, glr, gw, gv};
  for (size_t i = 0; i < sizeof gb / sizeof gb[0]; i++) gfree(gb[i]);
  free(img), free(lab), free(perm), free(lut), free(x), free(xl), free(z), free(zl), free(table);
  free(w), free(v);
  if (!k) printf("ok   gather_u8, loss_acc, tick, topk_count on %d images %dx%d\n", nimg, c, hw);
  return k;
}

int main(int argc, char **argv) {
  const char *name = argc > 1 ? argv[1] : PNAS_TEST_BACKEND;
  kn_device *dev = NULL;
  const kn_backend *be = kn_backend_by_name(name);
  if (!be || !strcmp(name, "ref")) {
    fprintf(stderr, "usage: %s [cpu|cuda] (%s: not a backend to test)\n", argv[0], name);
    return 2;
  }
  if (!strcmp(name, "cuda")) {
#ifdef PNAS_HAVE_CUDA
    setenv("NVIDIA_TF32_OVERRIDE", "0", 1); // before any CUDA library initialises
    setenv("PNAS_CUDA_TF32", "0", 1);
    kn_cuda_info info;
    if (kn_cuda_probe(&info) < 1) {
      printf("SKIPPED: no usable GPU (%s)\n", info.why);
      return SKIP;
    }
#endif
    char msg[512];
    if (be->dev_open(&dev, msg, sizeof msg)) {
      fprintf(stderr, "FAIL a GPU is present but the cuda backend cannot open it: %s\n", msg);
      return 1;
    }
    printf("device: %s\n", msg);
  }
  printf("backend under test: %s (against ref)\n", be->name);
  kn_ctx_init(&REF, kn_backend_ref(), 1);
  kn_ctx_init(&TST, be, 1);
  TST.dev = dev;
  static const int cv[][9] = {
      // n cin h w cout kh kw stride dil (geometry as in tests/kernels; * = explicit padding)
      {9, 8, 28, 28, 8, 1, 1, 1, 1},    {3, 24, 14, 14, 16, 1, 1, 1, 1},
      {4, 1, 28, 28, 24, 3, 3, 1, 1},   {4, 3, 13, 11, 6, 3, 3, 2, 1},
      {4, 8, 14, 14, 8, 1, 1, 2, 1},    {4, 8, 7, 7, 8, 1, 1, 2, 1},
      {4, 16, 14, 14, 16, 1, 7, 1, 1},  {4, 16, 14, 14, 16, 7, 1, 1, 1},
      {4, 16, 14, 14, 16, 1, 7, 2, 1} /* * */, {4, 8, 14, 14, 8, 3, 3, 1, 2},
      {4, 8, 14, 14, 8, 3, 3, 2, 2} /* * */,   {4, 8, 7, 7, 8, 3, 3, 2, 2},
      {5, 6, 28, 28, 10, 3, 3, 2, 1} /* * */,  {1, 7, 9, 12, 5, 5, 5, 2, 1} /* * */,
      {2, 8, 32, 32, 12, 7, 1, 2, 1} /* * */,
  };
  int nconv = (int)(sizeof cv / sizeof cv[0]);
  for (int i = 0; i < nconv; i++)
    bad += check_conv(0, cv[i][0], cv[i][1], cv[i][2], cv[i][3], cv[i][4], cv[i][5], cv[i][6],
                      cv[i][7], cv[i][8]);
  // every shape again: no new plan may be made (a device's plan cache)
  int plans = cached_plans();
  for (int i = 0; dev && i < nconv; i++)
    bad += check_conv(0, cv[i][0], cv[i][1], cv[i][2], cv[i][3], cv[i][4], cv[i][5], cv[i][6],
                      cv[i][7], cv[i][8]);
  if (dev && cached_plans() != plans) {
    fprintf(stderr, "FAIL cuDNN plans: %d after the first pass, %d after repeating it\n", plans,
            cached_plans());
    bad++;
  } else if (dev) {
    printf("ok   %d cuDNN plans, none re-made when the shapes repeat\n", plans);
  }
  static const int dw[][6] = {
      // n c h w k stride
      {9, 8, 28, 28, 3, 1}, {4, 8, 28, 28, 5, 2}, {4, 8, 28, 28, 7, 1}, {4, 8, 28, 28, 7, 2},
      {3, 16, 14, 14, 5, 1}, {4, 16, 7, 7, 7, 1}, {4, 16, 7, 7, 5, 2},  {4, 5, 9, 11, 3, 2},
      {1, 3, 5, 5, 7, 2},   {67, 4, 8, 8, 3, 1},  {3, 2, 33, 31, 5, 1},
  };
  for (size_t i = 0; i < sizeof dw / sizeof dw[0]; i++)
    bad += check_conv(1, dw[i][0], dw[i][1], dw[i][2], dw[i][3], 0, dw[i][4], dw[i][4], dw[i][5], 1);
  for (int max = 0; max < 2; max++)
    for (int win = 3; win <= 7; win += 2) // the pooling windows: 3x3, 5x5, 7x7, padding win/2
      for (int s = 1; s <= 2; s++) {
        bad += check_pool(max, 3, 5, 28, 28, win, s);
        bad += check_pool(max, 2, 3, 7, 9, win, s);
        bad += check_pool(max, 1, 1, 1, 2, win, s);
        bad += check_pool(max, 2, 2, 4, 3, win, s); // plane smaller than the 5x5 / 7x7 window
      }
  bad += check_bn((kn_shape){9, 6, 14, 14}, 0);
  bad += check_bn((kn_shape){4, 5, 7, 9}, 0);
  bad += check_bn((kn_shape){4, 5, 7, 9}, 1);
  bad += check_bn((kn_shape){64, 24, 28, 28}, 0);
  bad += check_elementwise((kn_shape){5, 6, 13, 11});
  bad += check_elementwise((kn_shape){300, 3, 2, 1}); // more rows than xent's block
  bad += check_train_state(200, 1, 784, 64, 3);
  bad += check_train_state(97, 3, 35, 13, 5);
  if (dev) bad += check_oom(); // a host allocator may abort (ASan) instead of returning NULL
  kn_ctx_release(&TST);
  kn_ctx_release(&REF);
  if (dev) be->dev_close(dev);
  if (bad) {
    fprintf(stderr, "%d %s op checks failed\n", bad, be->name);
    return 1;
  }
  printf("all %s ops match the reference\n", be->name);
  return 0;
}
