// Our CUDA kernels (kernels/cuda/*.cu), RUN on the CPU under the cuda-emu execution model
// (tests/cuda_emu/emu, kn_emu_runtime.cpp), checked launcher by launcher against the reference
// backend (kn_backend_ref) or, for pad / crop_acc / bias_rows / bias_grad, a few lines of C here.
//  - Random inputs (fixed seed), odd shapes, TF-SAME asymmetric padding, strides 1/2, dilation
//    1/2, every depthwise kernel size 1..7 (square or not: a size cuda_spatial.cu does not
//    support must be refused with cudaErrorInvalidValue), multi-block and multi-chunk grids,
//    empty calls (nothing may be launched).
//  - Backward ops accumulate: dx / dw / db start from the same random values in both paths.
//  - Device buffers have their exact size (ASan reports any out-of-bounds access; otherwise
//    guard bytes are checked after every op) and start as NaN garbage, like cudaMalloc memory.
//  - Everything runs twice: threads (and blocks) in forward order, then in reverse order, so a
//    missing barrier or an ordering assumption between threads shows up in one of the two.
//  - Every launcher declared in kernels/cuda/cuda_kernels.h must have a check here (KN_EMU_LAUNCHERS).
// Tolerance per op: |got - ref| <= atol + rtol*|ref| (stated in each line and the summary).
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cuda_kernels_emu.h" // generated from kernels/cuda/cuda_kernels.h: kn_emu_cuk_* + the shim
#include "kernels/backend.h"

// ------------------------------------------------------------------ infrastructure
static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static double urand(void) { // [0, 1)
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) / 9007199254740992.0;
}
static int irand(int n) { return (int)(urand() * n); }
static void fill(float *p, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; i++) p[i] = lo + (hi - lo) * (float)urand();
}
static void *xalloc(size_t bytes) {
  void *p = calloc(bytes ? bytes : 1, 1);
  if (!p) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  return p;
}
static float *hbuf(size_t n) { return xalloc(n * sizeof(float)); }
static float *hrand(size_t n, float lo, float hi) {
  float *p = hbuf(n);
  fill(p, n, lo, hi);
  return p;
}
static float *hdup(const float *p, size_t n) {
  float *q = hbuf(n);
  memcpy(q, p, n * sizeof(float));
  return q;
}

int kn_emu_selfcheck(void); // emu_selfcheck.cu: the emulator's own barriers and error checks

static int failures;
static int reversed;         // the current schedule
static const kn_backend *R;  // the reference backend
static kn_ctx RC;            // its context

// Device buffer of exactly `bytes`, initialised from host (or left as cudaMalloc garbage).
static void *dev(const void *host, size_t bytes) {
  void *p = NULL;
  if (cudaMalloc(&p, bytes) != cudaSuccess) {
    fprintf(stderr, "cudaMalloc(%zu) failed\n", bytes);
    exit(2);
  }
  if (host && bytes) cudaMemcpy(p, host, bytes, cudaMemcpyHostToDevice);
  return p;
}
static float *devf(const float *host, size_t n) { return dev(host, n * sizeof(float)); }
static void get(void *host, const void *d, size_t bytes) {
  if (bytes) cudaMemcpy(host, d, bytes, cudaMemcpyDeviceToHost);
}
static float *getf(const float *d, size_t n) {
  float *h = hbuf(n);
  get(h, d, n * sizeof(float));
  return h;
}

typedef struct {
  const char *op;
  double atol, rtol, maxdiff;
  int checks, fails;
  const char *note;
} opstat;
static opstat ops[64];
static int nops;
static opstat *op_stat(const char *op, double atol, double rtol, const char *note) {
  for (int i = 0; i < nops; i++)
    if (!strcmp(ops[i].op, op)) return &ops[i];
  opstat *s = &ops[nops++];
  s->op = op;
  s->atol = atol;
  s->rtol = rtol;
  s->note = note;
  return s;
}

static const char *sched(void) { return reversed ? " [rev]" : ""; }

// The launcher's status and the guard bytes of every live device buffer.
static int launched(const char *op, const char *shape, cudaError_t e) {
  int g = kn_emu_check_guards();
  if (e == cudaSuccess && g == 0) return 1;
  opstat *s = op_stat(op, 0, 0, "");
  s->checks++;
  s->fails++;
  failures++;
  if (e != cudaSuccess)
    printf("FAIL %-16s %-36s launcher returned %s: %s%s\n", op, shape, cudaGetErrorName(e),
           kn_emu_last_message(), sched());
  else
    printf("FAIL %-16s %-36s wrote outside its buffers (%d guard bytes)%s\n", op, shape, g,
           sched());
  kn_emu_reset();
  return 0;
}

// Element-wise comparison, one line per call: |got - ref| <= atol + rtol*|ref| (+ kscale*scale[i]
// when a per-element scale is given: the sum of |terms| of a long float sum).
static void check_ex(const char *op, const char *shape, const char *what, const float *got,
                     const float *ref, size_t n, double atol, double rtol, const double *scale,
                     double kscale, const char *note) {
  opstat *s = op_stat(op, atol, rtol, note);
  double maxd = 0;
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < n; i++) {
    double g = got[i], r = ref[i], d = fabs(g - r);
    double tol = atol + rtol * fabs(r) + (scale ? kscale * scale[i] : 0);
    int ok = (isnan(g) && isnan(r)) || d <= tol;
    if (isnan(g) != isnan(r)) d = INFINITY;
    if (!isnan(d) && d > maxd) maxd = d;
    if (!ok && bad++ == 0) first = i;
  }
  s->checks++;
  if (maxd > s->maxdiff) s->maxdiff = maxd;
  if (bad) {
    s->fails++;
    failures++;
    printf("FAIL %-16s %-36s %-6s max|diff| %.3g, %zu of %zu outside %.0e + %.0e|ref|%s; first "
           "[%zu] got %.9g ref %.9g%s\n",
           op, shape, what, maxd, bad, n, atol, rtol, note, first, got[first], ref[first],
           sched());
  } else {
    printf("ok   %-16s %-36s %-6s max|diff| %.3g (tol %.0e + %.0e|ref|%s)%s\n", op, shape, what,
           maxd, atol, rtol, note, sched());
  }
}
static void check(const char *op, const char *shape, const char *what, const float *got,
                  const float *ref, size_t n, double atol, double rtol) {
  check_ex(op, shape, what, got, ref, n, atol, rtol, NULL, 0, "");
}
static void check_i32(const char *op, const char *shape, const char *what, const int32_t *got,
                      const int32_t *ref, size_t n) {
  float *g = hbuf(n), *r = hbuf(n);
  for (size_t i = 0; i < n; i++) {
    g[i] = (float)got[i];
    r[i] = (float)ref[i];
  }
  check(op, shape, what, g, r, n, 0, 0);
  free(g);
  free(r);
}
static void check_f64(const char *op, const char *shape, const char *what, const double *got,
                      const double *ref, size_t n) {
  int bad = 0;
  for (size_t i = 0; i < n; i++)
    if (!(got[i] == ref[i] || (isnan(got[i]) && isnan(ref[i])))) bad++;
  opstat *s = op_stat(op, 0, 0, "");
  s->checks++;
  if (bad) {
    s->fails++;
    failures++;
    printf("FAIL %-16s %-36s %-6s %d of %zu differ%s\n", op, shape, what, bad, n, sched());
    for (size_t i = 0; i < n; i++) printf("       [%zu] got %.17g ref %.17g\n", i, got[i], ref[i]);
  } else {
    printf("ok   %-16s %-36s %-6s identical (%zu doubles)%s\n", op, shape, what, n, sched());
  }
}
// A size-0 call must succeed without launching anything.
static void check_empty(const char *op, const char *shape, cudaError_t e, unsigned long long l0) {
  unsigned long long l1, b, t, sw;
  kn_emu_stats(&l1, &b, &t, &sw);
  opstat *s = op_stat(op, 0, 0, "");
  s->checks++;
  if (e != cudaSuccess || l1 != l0) {
    s->fails++;
    failures++;
    printf("FAIL %-16s %-36s empty call: %s, %llu launches%s\n", op, shape, cudaGetErrorName(e),
           l1 - l0, sched());
    kn_emu_reset();
  } else {
    printf("ok   %-16s %-36s empty call: cudaSuccess, nothing launched%s\n", op, shape, sched());
  }
}
static unsigned long long launches_now(void) {
  unsigned long long l, b, t, sw;
  kn_emu_stats(&l, &b, &t, &sw);
  return l;
}

// Tolerances (atol, rtol). Exact where both sides do the same float operations in the same order
// (copies, one add, maxima, the pooling gathers that add in the reference's order); otherwise
// the summation order (or float vs double accumulation) differs.
#define EXACT 0.0, 0.0
#define TOL_DOUBLE_SUM 1e-7, 1e-6 // both sum in double, in a different order
#define TOL_AVG_FWD 1e-6, 1e-6    // float sum of <= 9 taps vs double
#define TOL_DW 2e-5, 1e-5         // float sum of <= 49 products vs double (fwd) / other order (dx)
// The depthwise weight gradient sums n*ho*wo products in float on both sides (in different
// partitions and orders): 1e-6 + 1e-6 * (sum of |dy*x| over the weight's terms), see dw_case.

// ------------------------------------------------------------------ element-wise
static void t_elementwise(void) {
  const size_t counts[] = {1, 257, 4099};
  char shape[96];
  for (int ci = 0; ci < 3; ci++) {
    size_t n = counts[ci];
    snprintf(shape, sizeof shape, "count %zu", n);
    float *x = hrand(n, -1, 1), *a = hrand(n, -1, 1), *dy = hrand(n, -1, 1), *dx0 = hrand(n, -1, 1);
    for (size_t i = 0; i < n; i += 7) x[i] = 0.0f; // ReLU at exactly 0
    float *dX = devf(x, n), *dA = devf(a, n), *dDY = devf(dy, n), *dO = devf(NULL, n);

    float *ref = hbuf(n);
    R->relu_fwd(&RC, n, x, ref);
    if (launched("relu_fwd", shape, kn_emu_cuk_relu_fwd(0, n, dX, dO))) {
      float *got = getf(dO, n);
      check("relu_fwd", shape, "y", got, ref, n, EXACT);
      free(got);
    }
    float *dxr = hdup(dx0, n), *dDX = devf(dx0, n);
    R->relu_bwd(&RC, n, x, dy, dxr);
    if (launched("relu_bwd", shape, kn_emu_cuk_relu_bwd(0, n, dX, dDY, dDX))) {
      float *got = getf(dDX, n);
      check("relu_bwd", shape, "dx", got, dxr, n, EXACT);
      free(got);
    }
    R->add_fwd(&RC, n, x, a, ref);
    if (launched("add", shape, kn_emu_cuk_add(0, n, dX, dA, dO))) {
      float *got = getf(dO, n);
      check("add", shape, "y", got, ref, n, EXACT);
      free(got);
    }
    float *accr = hdup(dx0, n), *dAcc = devf(dx0, n);
    R->acc(&RC, n, a, accr);
    if (launched("acc", shape, kn_emu_cuk_acc(0, n, dA, dAcc))) {
      float *got = getf(dAcc, n);
      check("acc", shape, "dst", got, accr, n, EXACT);
      free(got);
    }
    // l1_sign: g += lambda * sign(x) (x has exact zeros: sign 0)
    float *l1r = hdup(dx0, n), *dL1 = devf(dx0, n);
    R->l1_sign(&RC, n, x, 1e-3f, l1r);
    if (launched("l1_sign", shape, kn_emu_cuk_l1_sign(0, n, dX, 1e-3f, dL1))) {
      float *got = getf(dL1, n);
      check("l1_sign", shape, "g", got, l1r, n, EXACT);
      free(got);
    }
    cudaFree(dL1);
    free(l1r);

    // SGD with its learning rate in device memory (kn_cuk_sgd_dev).
    const float lr = 0.05f, mom = 0.9f, wd = 4e-5f;
    float *w = hrand(n, -1, 1), *g = hrand(n, -1, 1), *v = hrand(n, -0.1f, 0.1f);
    float *wr = hdup(w, n), *vr = hdup(v, n);
    R->sgd(&RC, n, wr, g, vr, &lr, mom, wd);
    float *dW = devf(w, n), *dG = devf(g, n), *dV = devf(v, n);
    float *dLR = devf(&lr, 1);
    if (launched("sgd_dev", shape, kn_emu_cuk_sgd_dev(0, n, dW, dG, dV, dLR, mom, wd))) {
      float *gw = getf(dW, n), *gv = getf(dV, n);
      check("sgd_dev", shape, "w", gw, wr, n, 1e-7, 1e-6);
      check("sgd_dev", shape, "v", gv, vr, n, 1e-7, 1e-6);
      free(gw);
      free(gv);
    }
    cudaFree(dLR);
    cudaFree(dW);
    cudaFree(dG);
    cudaFree(dV);
    free(w);
    free(g);
    free(v);
    free(wr);
    free(vr);
    cudaFree(dX);
    cudaFree(dA);
    cudaFree(dDY);
    cudaFree(dO);
    cudaFree(dDX);
    cudaFree(dAcc);
    free(x);
    free(a);
    free(dy);
    free(dx0);
    free(ref);
    free(dxr);
    free(accr);
  }
  // count 0: nothing is launched (the pointers are never touched)
  unsigned long long l0 = launches_now();
  check_empty("relu_fwd", "count 0", kn_emu_cuk_relu_fwd(0, 0, NULL, NULL), l0);
  check_empty("relu_bwd", "count 0", kn_emu_cuk_relu_bwd(0, 0, NULL, NULL, NULL), l0);
  check_empty("add", "count 0", kn_emu_cuk_add(0, 0, NULL, NULL, NULL), l0);
  check_empty("acc", "count 0", kn_emu_cuk_acc(0, 0, NULL, NULL), l0);
  check_empty("l1_sign", "count 0", kn_emu_cuk_l1_sign(0, 0, NULL, 1e-3f, NULL), l0);
  check_empty("sgd_dev", "count 0", kn_emu_cuk_sgd_dev(0, 0, NULL, NULL, NULL, NULL, 0.9f, 0), l0);
}

// ------------------------------------------------------------------ layout
static void t_concat(void) {
  const struct {
    int n, c, h, w, cy, coff;
  } cs[] = {{2, 3, 5, 7, 8, 0}, {2, 3, 5, 7, 8, 2}, {2, 3, 5, 7, 8, 5},
            {1, 1, 1, 1, 1, 0}, {3, 2, 4, 4, 5, 3}, {1, 5, 9, 3, 6, 1}};
  char shape[96];
  for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++) {
    kn_shape xs = {cs[k].n, cs[k].c, cs[k].h, cs[k].w};
    size_t hw = (size_t)xs.h * xs.w, xl = kn_numel(xs), yl = (size_t)xs.n * cs[k].cy * hw;
    snprintf(shape, sizeof shape, "n%d c%d %dx%d cy%d coff%d", xs.n, xs.c, xs.h, xs.w, cs[k].cy,
             cs[k].coff);
    float *x = hrand(xl, -1, 1), *y0 = hrand(yl, -1, 1), *yr = hdup(y0, yl);
    float *dX = devf(x, xl), *dY = devf(y0, yl);
    R->concat_fwd(&RC, xs, cs[k].cy, cs[k].coff, x, yr);
    if (launched("concat_fwd", shape,
                 kn_emu_cuk_concat_fwd(0, xs.n, xs.c, hw, cs[k].cy, cs[k].coff, dX, dY))) {
      float *got = getf(dY, yl);
      check("concat_fwd", shape, "y", got, yr, yl, EXACT);
      free(got);
    }
    float *dy = hrand(yl, -1, 1), *dx0 = hrand(xl, -1, 1), *dxr = hdup(dx0, xl);
    float *dDY = devf(dy, yl), *dDX = devf(dx0, xl);
    R->concat_bwd(&RC, xs, cs[k].cy, cs[k].coff, dy, dxr);
    if (launched("concat_bwd", shape,
                 kn_emu_cuk_concat_bwd(0, xs.n, xs.c, hw, cs[k].cy, cs[k].coff, dDY, dDX))) {
      float *got = getf(dDX, xl);
      check("concat_bwd", shape, "dx", got, dxr, xl, EXACT);
      free(got);
    }
    // a + b into the slice (a block's sum written into the cell output)
    float *b2 = hrand(xl, -1, 1), *ya = hdup(y0, yl);
    float *dB = devf(b2, xl), *dYA = devf(y0, yl);
    R->add_concat(&RC, xs, cs[k].cy, cs[k].coff, x, b2, ya);
    if (launched("add_concat", shape,
                 kn_emu_cuk_add_concat(0, xs.n, xs.c, hw, cs[k].cy, cs[k].coff, dX, dB, dYA))) {
      float *got = getf(dYA, yl);
      check("add_concat", shape, "y", got, ya, yl, EXACT);
      free(got);
    }
    cudaFree(dB);
    cudaFree(dYA);
    free(b2);
    free(ya);
    cudaFree(dX);
    cudaFree(dY);
    cudaFree(dDY);
    cudaFree(dDX);
    free(x);
    free(y0);
    free(yr);
    free(dy);
    free(dx0);
    free(dxr);
  }
  unsigned long long l0 = launches_now();
  check_empty("concat_fwd", "n0", kn_emu_cuk_concat_fwd(0, 0, 3, 35, 8, 0, NULL, NULL), l0);
  check_empty("concat_bwd", "n0", kn_emu_cuk_concat_bwd(0, 0, 3, 35, 8, 0, NULL, NULL), l0);
  check_empty("add_concat", "n0", kn_emu_cuk_add_concat(0, 0, 3, 35, 8, 0, NULL, NULL, NULL), l0);
}

static void t_sub(void) {
  const kn_shape ss[] = {{2, 3, 7, 9}, {1, 2, 8, 6}, {1, 1, 1, 1}, {2, 2, 5, 4}, {1, 1, 2, 3}};
  char shape[96];
  for (size_t k = 0; k < sizeof ss / sizeof ss[0]; k++)
    for (int off = 0; off < 2; off++) {
      kn_shape xs = ss[k];
      size_t planes = (size_t)xs.n * xs.c, xl = kn_numel(xs);
      size_t yl = planes * ((xs.h + 1) / 2) * ((xs.w + 1) / 2);
      snprintf(shape, sizeof shape, "n%d c%d %dx%d off%d", xs.n, xs.c, xs.h, xs.w, off);
      const char *fwd = off ? "sub_fwd off1" : "sub_fwd off0", *bwd = off ? "sub_bwd off1" : "sub_bwd off0";
      float *x = hrand(xl, -1, 1), *yr = hbuf(yl), *dX = devf(x, xl), *dY = devf(NULL, yl);
      R->sub_fwd(&RC, xs, off, x, yr);
      if (launched(fwd, shape, kn_emu_cuk_sub_fwd(0, planes, xs.h, xs.w, off, dX, dY))) {
        float *got = getf(dY, yl);
        check(fwd, shape, "y", got, yr, yl, EXACT);
        free(got);
      }
      float *dy = hrand(yl, -1, 1), *dx0 = hrand(xl, -1, 1), *dxr = hdup(dx0, xl);
      float *dDY = devf(dy, yl), *dDX = devf(dx0, xl);
      R->sub_bwd(&RC, xs, off, dy, dxr);
      if (launched(bwd, shape, kn_emu_cuk_sub_bwd(0, planes, xs.h, xs.w, off, dDY, dDX))) {
        float *got = getf(dDX, xl);
        check(bwd, shape, "dx", got, dxr, xl, EXACT);
        free(got);
      }
      cudaFree(dX);
      cudaFree(dY);
      cudaFree(dDY);
      cudaFree(dDX);
      free(x);
      free(yr);
      free(dy);
      free(dx0);
      free(dxr);
    }
}

// ------------------------------------------------------------------ reductions and loss
static void t_gap(void) {
  // 9 and 66 planes span several blocks (8 warps per block; the spare warps return at once);
  // hw < 32 leaves lanes without elements.
  const kn_shape ss[] = {{1, 1, 1, 1}, {2, 3, 5, 7}, {3, 3, 6, 6},
                         {5, 8, 4, 3}, {1, 2, 13, 11}, {2, 33, 1, 2}};
  char shape[96];
  for (size_t k = 0; k < sizeof ss / sizeof ss[0]; k++) {
    kn_shape xs = ss[k];
    size_t planes = (size_t)xs.n * xs.c, xl = kn_numel(xs);
    int hw = xs.h * xs.w;
    snprintf(shape, sizeof shape, "n%d c%d %dx%d", xs.n, xs.c, xs.h, xs.w);
    float *x = hrand(xl, -1, 1), *yr = hbuf(planes), *dX = devf(x, xl), *dY = devf(NULL, planes);
    R->gap_fwd(&RC, xs, x, yr);
    if (launched("gap_fwd", shape, kn_emu_cuk_gap_fwd(0, planes, hw, dX, dY))) {
      float *got = getf(dY, planes);
      check("gap_fwd", shape, "y", got, yr, planes, TOL_DOUBLE_SUM);
      free(got);
    }
    float *dy = hrand(planes, -1, 1), *dx0 = hrand(xl, -1, 1), *dxr = hdup(dx0, xl);
    float *dDY = devf(dy, planes), *dDX = devf(dx0, xl);
    R->gap_bwd(&RC, xs, dy, dxr);
    if (launched("gap_bwd", shape, kn_emu_cuk_gap_bwd(0, planes, hw, dDY, dDX))) {
      float *got = getf(dDX, xl);
      check("gap_bwd", shape, "dx", got, dxr, xl, EXACT);
      free(got);
    }
    cudaFree(dX);
    cudaFree(dY);
    cudaFree(dDY);
    cudaFree(dDX);
    free(x);
    free(yr);
    free(dy);
    free(dx0);
    free(dxr);
  }
  unsigned long long l0 = launches_now();
  check_empty("gap_fwd", "planes 0", kn_emu_cuk_gap_fwd(0, 0, 5, NULL, NULL), l0);
  check_empty("gap_bwd", "planes 0", kn_emu_cuk_gap_bwd(0, 0, 5, NULL, NULL), l0);
}

static void t_xent(void) {
  // n > 256: threads own several rows; n < 256: most threads contribute 0 to the tree.
  const int cs[][2] = {{1, 1}, {3, 10}, {7, 5}, {256, 3}, {300, 10}, {513, 2}};
  char shape[96];
  for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++) {
    int n = cs[k][0], classes = cs[k][1];
    size_t l = (size_t)n * classes;
    snprintf(shape, sizeof shape, "n%d classes %d", n, classes);
    float *z = hrand(l, -4, 4), *gr = hbuf(l), lossr = 0;
    int32_t *lab = xalloc(n * sizeof(int32_t));
    for (int i = 0; i < n; i++) lab[i] = irand(classes);
    R->xent(&RC, n, classes, z, lab, &lossr, gr);
    float *dZ = devf(z, l), *dG = devf(NULL, l), *dL = devf(NULL, 1);
    int32_t *dLab = dev(lab, n * sizeof(int32_t));
    if (launched("xent", shape, kn_emu_cuk_xent(0, n, classes, dZ, dLab, dL, dG))) {
      float *got = getf(dG, l), gl = 0;
      get(&gl, dL, sizeof gl);
      check("xent", shape, "loss", &gl, &lossr, 1, TOL_DOUBLE_SUM);
      check("xent", shape, "dlogit", got, gr, l, TOL_DOUBLE_SUM);
      free(got);
    }
    cudaFree(dZ);
    cudaFree(dG);
    cudaFree(dL);
    cudaFree(dLab);
    free(z);
    free(gr);
    free(lab);
  }
  unsigned long long l0 = launches_now();
  check_empty("xent", "n0", kn_emu_cuk_xent(0, 0, 10, NULL, NULL, NULL, NULL), l0);
}

// ------------------------------------------------------------------ FC bias, explicit padding
static void t_bias(void) {
  const int cs[][2] = {{1, 1}, {5, 130}, {3, 7}, {64, 10}, {2, 257}};
  char shape[96];
  for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++) {
    int n = cs[k][0], cout = cs[k][1];
    size_t l = (size_t)n * cout;
    snprintf(shape, sizeof shape, "n%d cout %d", n, cout);
    float *b = hrand(cout, -1, 1), *yr = hbuf(l), *dB = devf(b, cout), *dY = devf(NULL, l);
    for (int i = 0; i < n; i++)
      for (int o = 0; o < cout; o++) yr[(size_t)i * cout + o] = b[o];
    if (launched("bias_rows", shape, kn_emu_cuk_bias_rows(0, n, cout, dB, dY))) {
      float *got = getf(dY, l);
      check("bias_rows", shape, "y", got, yr, l, EXACT);
      free(got);
    }
    float *dy = hrand(l, -1, 1), *db0 = hrand(cout, -1, 1), *dbr = hdup(db0, cout);
    for (int o = 0; o < cout; o++) { // db += column sums, rows in order
      float s = 0;
      for (int i = 0; i < n; i++) s += dy[(size_t)i * cout + o];
      dbr[o] += s;
    }
    float *dDY = devf(dy, l), *dDB = devf(db0, cout);
    if (launched("bias_grad", shape, kn_emu_cuk_bias_grad(0, n, cout, dDY, dDB))) {
      float *got = getf(dDB, cout);
      check("bias_grad", shape, "db", got, dbr, cout, EXACT);
      free(got);
    }
    cudaFree(dB);
    cudaFree(dY);
    cudaFree(dDY);
    cudaFree(dDB);
    free(b);
    free(yr);
    free(dy);
    free(db0);
    free(dbr);
  }
  unsigned long long l0 = launches_now();
  check_empty("bias_rows", "n0", kn_emu_cuk_bias_rows(0, 0, 10, NULL, NULL), l0);
  check_empty("bias_grad", "cout 0", kn_emu_cuk_bias_grad(0, 4, 0, NULL, NULL), l0);
}

static void t_pad(void) {
  // (planes, h, w, hp, wp, pt, pl): TF-SAME-like asymmetric windows (more bottom/right).
  const int cs[][7] = {{3, 5, 7, 8, 9, 1, 2}, {2, 4, 4, 5, 5, 0, 0}, {2, 6, 3, 9, 6, 1, 1},
                       {1, 1, 1, 3, 4, 1, 2}, {4, 7, 7, 13, 13, 3, 3}};
  char shape[96];
  for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++) {
    size_t planes = (size_t)cs[k][0];
    int h = cs[k][1], w = cs[k][2], hp = cs[k][3], wp = cs[k][4], pt = cs[k][5], pl = cs[k][6];
    size_t xl = planes * h * w, pl_ = planes * hp * wp;
    snprintf(shape, sizeof shape, "p%zu %dx%d -> %dx%d at (%d,%d)", planes, h, w, hp, wp, pt, pl);
    float *x = hrand(xl, -1, 1), *xpr = hbuf(pl_);
    for (size_t p = 0; p < planes; p++)
      for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
          xpr[(p * hp + r + pt) * wp + c + pl] = x[(p * h + r) * w + c];
    float *dX = devf(x, xl), *dXP = devf(NULL, pl_);
    if (launched("pad", shape, kn_emu_cuk_pad(0, planes, h, w, hp, wp, pt, pl, dX, dXP))) {
      float *got = getf(dXP, pl_);
      check("pad", shape, "xp", got, xpr, pl_, EXACT);
      free(got);
    }
    float *dxp = hrand(pl_, -1, 1), *dx0 = hrand(xl, -1, 1), *dxr = hdup(dx0, xl);
    for (size_t p = 0; p < planes; p++)
      for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
          dxr[(p * h + r) * w + c] += dxp[(p * hp + r + pt) * wp + c + pl];
    float *dDXP = devf(dxp, pl_), *dDX = devf(dx0, xl);
    if (launched("crop_acc", shape,
                 kn_emu_cuk_crop_acc(0, planes, h, w, hp, wp, pt, pl, dDXP, dDX))) {
      float *got = getf(dDX, xl);
      check("crop_acc", shape, "dx", got, dxr, xl, EXACT);
      free(got);
    }
    cudaFree(dX);
    cudaFree(dXP);
    cudaFree(dDXP);
    cudaFree(dDX);
    free(x);
    free(xpr);
    free(dxp);
    free(dx0);
    free(dxr);
  }
}

// ------------------------------------------------------------------ depthwise convolution
static int dw_refused; // (kernel size, shape) cases the launchers refuse (cudaErrorInvalidValue)

static void dw_case(int n, int c, int h, int w, int kh, int kw, int s, int dil) {
  kn_conv d;
  kn_conv_init(&d, n, c, h, w, c, kh, kw, s, dil);
  char shape[96];
  snprintf(shape, sizeof shape, "n%d c%d %dx%d k%dx%d s%d d%d pad%d,%d", n, c, h, w, kh, kw, s,
           dil, d.pad_t, d.pad_l);
  // cuda_spatial.cu documents square kernels of size 1, 3, 5, 7 and cudaErrorInvalidValue for
  // the others; a refused size is accepted (and counted), a supported one must match.
  const int documented = kh == kw && (kh == 1 || kh == 3 || kh == 5 || kh == 7);
  size_t xl = (size_t)n * c * h * w, wl = (size_t)c * kh * kw, yl = (size_t)n * c * d.ho * d.wo;
  float *x = hrand(xl, -1, 1), *wt = hrand(wl, -1, 1), *dy = hrand(yl, -1, 1);
  float *dx0 = hrand(xl, -1, 1), *dw0 = hrand(wl, -1, 1);
  float *yr = hbuf(yl), *dxr = hdup(dx0, xl), *dwr = hdup(dw0, wl);
  R->dw_fwd(&RC, &d, x, wt, yr);
  R->dw_bwd(&RC, &d, x, wt, dy, dxr, dwr);
  double *sabs = xalloc(wl * sizeof(double)); // per weight: sum of |dy*x| over its terms
  for (int i = 0; i < n; i++)
    for (int ch = 0; ch < c; ch++)
      for (int oy = 0; oy < d.ho; oy++)
        for (int ox = 0; ox < d.wo; ox++)
          for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++) {
              int iy = oy * s - d.pad_t + ky * dil, ix = ox * s - d.pad_l + kx * dil;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              sabs[((size_t)ch * kh + ky) * kw + kx] +=
                  fabs((double)dy[(((size_t)i * c + ch) * d.ho + oy) * d.wo + ox] *
                       x[(((size_t)i * c + ch) * h + iy) * w + ix]);
            }
  float *dX = devf(x, xl), *dWt = devf(wt, wl), *dY = devf(NULL, yl), *dDY = devf(dy, yl);
  float *dDX = devf(dx0, xl), *dDW = devf(dw0, wl);
  size_t pf = kn_emu_cuk_dw_partial_floats(&d);
  float *dP = devf(NULL, pf); // exactly what the launcher asks for

  cudaError_t e[3];
  e[0] = kn_emu_cuk_dw_fwd(0, &d, dX, dWt, dY);
  if (e[0] == cudaSuccess) e[0] = kn_emu_check_guards() ? cudaErrorUnknown : cudaSuccess;
  e[1] = kn_emu_cuk_dw_bwd_dx(0, &d, dWt, dDY, dDX);
  if (e[1] == cudaSuccess) e[1] = kn_emu_check_guards() ? cudaErrorUnknown : cudaSuccess;
  e[2] = kn_emu_cuk_dw_bwd_dw(0, &d, dX, dDY, dDW, dP);
  if (e[2] == cudaSuccess) e[2] = kn_emu_check_guards() ? cudaErrorUnknown : cudaSuccess;
  const char *names[3] = {"dw_fwd", "dw_bwd_dx", "dw_bwd_dw"};
  for (int i = 0; i < 3; i++) {
    if (!documented && e[i] == cudaErrorInvalidValue) {
      printf("ok   %-16s %-36s refused: cudaErrorInvalidValue (size not supported)%s\n", names[i],
             shape, sched());
      op_stat(names[i], 0, 0, "")->checks++;
      dw_refused++;
      continue;
    }
    if (!launched(names[i], shape, e[i])) continue;
    if (i == 0) {
      float *got = getf(dY, yl);
      check("dw_fwd", shape, "y", got, yr, yl, TOL_DW);
      free(got);
    } else if (i == 1) {
      float *got = getf(dDX, xl);
      check("dw_bwd_dx", shape, "dx", got, dxr, xl, TOL_DW);
      free(got);
    } else {
      float *got = getf(dDW, wl);
      check_ex("dw_bwd_dw", shape, "dw", got, dwr, wl, 1e-6, 0.0, sabs, 1e-6, " + 1e-6*sum|dy*x|");
      free(got);
    }
  }
  cudaFree(dX);
  cudaFree(dWt);
  cudaFree(dY);
  cudaFree(dDY);
  cudaFree(dDX);
  cudaFree(dDW);
  cudaFree(dP);
  free(x);
  free(wt);
  free(dy);
  free(dx0);
  free(dw0);
  free(yr);
  free(dxr);
  free(dwr);
  free(sabs);
}

static void t_dw(void) {
  const int ks[][2] = {{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}, {6, 6}, {7, 7},
                       {1, 3}, {3, 1}, {3, 5}, {5, 3}, {1, 7}, {7, 1}, {2, 3}};
  const int shapes[][4] = {{2, 3, 7, 9}, {1, 2, 6, 11}, {1, 1, 1, 1}};
  for (size_t k = 0; k < sizeof ks / sizeof ks[0]; k++)
    for (int s = 1; s <= 2; s++)
      for (int dil = 1; dil <= 2; dil++)
        for (int sh = 0; sh < 3; sh++)
          dw_case(shapes[sh][0], shapes[sh][1], shapes[sh][2], shapes[sh][3], ks[k][0], ks[k][1], s,
                  dil);
  // Weight-gradient partitions with several image chunks (2048 output positions per block),
  // the last one short.
  dw_case(5, 2, 23, 23, 3, 3, 1, 1);  // 529 positions: 4 images per chunk, chunks 4 + 1
  dw_case(3, 2, 47, 46, 5, 5, 1, 1);  // 2162 positions: 1 image per chunk
  dw_case(23, 2, 30, 30, 7, 7, 2, 1); // 225 positions: 10 per chunk, chunks 10 + 10 + 3
  dw_case(6, 3, 33, 31, 3, 3, 2, 2);  // odd sizes, stride 2, dilation 2, 2 chunks
}

// ------------------------------------------------------------------ k x k pooling (k 3, 5, 7)
static void pool_fill(float *x, size_t n, int kind) {
  if (kind == 0) fill(x, n, -1, 1);
  if (kind == 1) // ties everywhere: the first maximum in scan order gets the gradient
    for (size_t i = 0; i < n; i++) x[i] = (float)(irand(3) - 1);
  if (kind == 2) fill(x, n, -3, -1); // all negative: the padding must not count as 0
}

static int pool_refused; // window sizes the launchers refuse (cudaErrorInvalidValue)

static void t_pool(void) {
  // sizes below the 5x5 and 7x7 windows, odd sizes, and one plane of several blocks
  const kn_shape ss[] = {{2, 3, 7, 9}, {1, 2, 1, 1}, {1, 1, 2, 5}, {2, 2, 8, 8},
                         {1, 1, 5, 1}, {1, 3, 6, 7}, {1, 2, 3, 4}, {1, 2, 17, 19}};
  const char *kinds[] = {"rand", "ties", "neg"};
  char shape[96];
  for (size_t k = 0; k < sizeof ss / sizeof ss[0]; k++)
    for (int win = 3; win <= 7; win += 2)
      for (int s = 1; s <= 2; s++)
        for (int kind = 0; kind < 3; kind++) {
          kn_shape xs = ss[k];
          kn_pool p;
          kn_pool_init(&p, xs.n, xs.c, xs.h, xs.w, win, s);
          size_t xl = kn_numel(xs), yl = (size_t)p.n * p.c * p.ho * p.wo;
          snprintf(shape, sizeof shape, "n%d c%d %dx%d k%d s%d %s", xs.n, xs.c, xs.h, xs.w, win, s,
                   kinds[kind]);
          float *x = hbuf(xl), *dy = hrand(yl, -1, 1), *dx0 = hrand(xl, -1, 1), *yr = hbuf(yl);
          pool_fill(x, xl, kind);
          float *dX = devf(x, xl), *dY = devf(NULL, yl), *dDY = devf(dy, yl), *dDX = devf(dx0, xl);
          float *dxr = hdup(dx0, xl);
          R->maxpool_fwd(&RC, &p, x, yr);
          if (launched("maxpool_fwd", shape, kn_emu_cuk_maxpool_fwd(0, &p, dX, dY))) {
            float *got = getf(dY, yl);
            check("maxpool_fwd", shape, "y", got, yr, yl, EXACT);
            free(got);
          }
          R->maxpool_bwd(&RC, &p, x, dy, dxr);
          if (launched("maxpool_bwd", shape, kn_emu_cuk_maxpool_bwd(0, &p, dX, dDY, dDX))) {
            float *got = getf(dDX, xl);
            check("maxpool_bwd", shape, "dx", got, dxr, xl, EXACT);
            free(got);
          }
          if (kind != 1) { // average pooling does not care about ties
            R->avgpool_fwd(&RC, &p, x, yr);
            if (launched("avgpool_fwd", shape, kn_emu_cuk_avgpool_fwd(0, &p, dX, dY))) {
              float *got = getf(dY, yl);
              check("avgpool_fwd", shape, "y", got, yr, yl, TOL_AVG_FWD);
              free(got);
            }
            memcpy(dxr, dx0, xl * sizeof(float));
            cudaMemcpy(dDX, dx0, xl * sizeof(float), cudaMemcpyHostToDevice);
            R->avgpool_bwd(&RC, &p, dy, dxr);
            if (launched("avgpool_bwd", shape, kn_emu_cuk_avgpool_bwd(0, &p, dDY, dDX))) {
              float *got = getf(dDX, xl);
              check("avgpool_bwd", shape, "dx", got, dxr, xl, EXACT);
              free(got);
            }
          }
          cudaFree(dX);
          cudaFree(dY);
          cudaFree(dDY);
          cudaFree(dDX);
          free(x);
          free(dy);
          free(dx0);
          free(yr);
          free(dxr);
        }
  // cuda_spatial.cu documents windows 3, 5, 7 and cudaErrorInvalidValue for the others: every
  // launcher must refuse them without launching anything
  const int odd[] = {1, 2, 4, 9};
  for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
    kn_pool p;
    kn_pool_init(&p, 1, 2, 6, 5, odd[i], 1);
    size_t xl = 60, yl = (size_t)p.n * p.c * p.ho * p.wo;
    float *dX = devf(NULL, xl), *dY = devf(NULL, yl), *dDY = devf(NULL, yl), *dDX = devf(NULL, xl);
    unsigned long long l0, l1, b, t, sw;
    kn_emu_stats(&l0, &b, &t, &sw);
    cudaError_t e[4] = {kn_emu_cuk_maxpool_fwd(0, &p, dX, dY),
                        kn_emu_cuk_maxpool_bwd(0, &p, dX, dDY, dDX),
                        kn_emu_cuk_avgpool_fwd(0, &p, dX, dY),
                        kn_emu_cuk_avgpool_bwd(0, &p, dDY, dDX)};
    const char *names[4] = {"maxpool_fwd", "maxpool_bwd", "avgpool_fwd", "avgpool_bwd"};
    kn_emu_stats(&l1, &b, &t, &sw);
    snprintf(shape, sizeof shape, "n1 c2 6x5 k%d s1", odd[i]);
    if (l1 != l0) {
      failures++;
      printf("FAIL pooling window %d: %llu kernels launched, none expected\n", odd[i], l1 - l0);
    }
    for (int j = 0; j < 4; j++) {
      opstat *st = op_stat(names[j], 0, 0, "");
      st->checks++;
      if (e[j] == cudaErrorInvalidValue && kn_emu_check_guards() == 0) {
        pool_refused++;
        continue;
      }
      st->fails++;
      failures++;
      printf("FAIL %-16s %-36s window %d not refused (%s)%s\n", names[j], shape, odd[i],
             cudaGetErrorName(e[j]), sched());
      kn_emu_reset();
    }
    cudaFree(dX);
    cudaFree(dY);
    cudaFree(dDY);
    cudaFree(dDX);
  }
}

// ------------------------------------------------------------------ training-loop state
static void t_train_state(void) {
#ifdef KN_EMU_HAVE_kn_cuk_gather_u8
  { // gather_u8: images perm[st[1] + i] through the per-channel LUT; without augmentation and
    // with padded random crops and flips (counter-based: kn_aug_hash of seed, step, row)
    const int N = 10, c = 3, h = 5, w = 7;
    const size_t chw = (size_t)c * h * w, il = (size_t)N * chw;
    uint8_t *img = xalloc(il);
    for (size_t i = 0; i < il; i++) img[i] = (uint8_t)irand(256);
    int32_t lab_all[10], perm[10], st[2] = {5, 3};
    for (int i = 0; i < N; i++) {
      lab_all[i] = irand(10);
      perm[i] = i;
    }
    for (int i = N - 1; i > 0; i--) {
      int j = irand(i + 1), t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    float *lut = hrand(256 * c, -2, 2);
    uint8_t *dImg = dev(img, il);
    int32_t *dLabAll = dev(lab_all, sizeof lab_all), *dPerm = dev(perm, sizeof perm);
    int32_t *dSt = dev(NULL, sizeof st);
    float *dLut = devf(lut, 256 * c);
    const kn_aug augs[] = {{0, 0, 0}, {2, 1, 12345}, {4, 0, 99}, {0, 1, 7}, {1, 1, 3}};
    char shape[96];
    for (int a = -1; a < (int)(sizeof augs / sizeof augs[0]); a++)
      for (int nb = 1; nb <= 7; nb += 3) {
        const kn_aug *aug = a < 0 ? NULL : &augs[a];
        st[0] = 11 + nb + a; // the step feeds the augmentation hash
        cudaMemcpy(dSt, st, sizeof st, cudaMemcpyHostToDevice);
        if (aug)
          snprintf(shape, sizeof shape, "nb%d c%d %dx%d pad%d flip%d step%d", nb, c, h, w,
                   aug->pad, aug->flip, st[0]);
        else
          snprintf(shape, sizeof shape, "nb%d c%d %dx%d no aug", nb, c, h, w);
        size_t xl = (size_t)nb * chw;
        float *xr = hbuf(xl);
        int32_t labr[16], labg[16];
        R->gather_u8(&RC, nb, c, h, w, img, lab_all, perm, st, lut, aug, xr, labr);
        float *dXo = devf(NULL, xl);
        int32_t *dLab = dev(NULL, nb * sizeof(int32_t));
        if (launched("gather_u8", shape,
                     kn_emu_cuk_gather_u8(0, nb, c, h, w, dImg, dLabAll, dPerm, dSt, dLut, aug,
                                          dXo, dLab))) {
          float *got = getf(dXo, xl);
          get(labg, dLab, nb * sizeof(int32_t));
          check("gather_u8", shape, "x", got, xr, xl, EXACT);
          check_i32("gather_u8", shape, "labels", labg, labr, nb);
          free(got);
        }
        cudaFree(dXo);
        cudaFree(dLab);
        free(xr);
      }
    unsigned long long l0 = launches_now();
    check_empty("gather_u8", "nb0",
                kn_emu_cuk_gather_u8(0, 0, c, h, w, dImg, dLabAll, dPerm, dSt, dLut, NULL, NULL,
                                     NULL),
                l0);
    cudaFree(dImg);
    cudaFree(dLabAll);
    cudaFree(dPerm);
    cudaFree(dSt);
    cudaFree(dLut);
    free(img);
    free(lut);
  }
#endif
#ifdef KN_EMU_HAVE_kn_cuk_loss_acc
  { // loss_acc: a finite loss, the first non-finite one (remembered), a later one (not)
    const float losses[] = {0.25f, INFINITY, NAN, 1.0f};
    double acc[3] = {1.5, -1, 0}, accr[3] = {1.5, -1, 0};
    int32_t st[2] = {17, 0};
    double *dAcc = dev(acc, sizeof acc);
    int32_t *dSt = dev(st, sizeof st);
    float *dLoss = devf(NULL, 1);
    char shape[96];
    for (int i = 0; i < 4; i++) {
      st[0] = 17 + i;
      cudaMemcpy(dSt, st, sizeof st, cudaMemcpyHostToDevice);
      cudaMemcpy(dLoss, &losses[i], sizeof(float), cudaMemcpyHostToDevice);
      R->loss_acc(&RC, &losses[i], st, accr);
      snprintf(shape, sizeof shape, "loss %g step %d", losses[i], st[0]);
      if (launched("loss_acc", shape, kn_emu_cuk_loss_acc(0, dLoss, dSt, dAcc))) {
        get(acc, dAcc, sizeof acc);
        check_f64("loss_acc", shape, "acc", acc, accr, 3);
      }
    }
    cudaFree(dAcc);
    cudaFree(dSt);
    cudaFree(dLoss);
  }
#endif
#ifdef KN_EMU_HAVE_kn_cuk_tick
  { // tick: with and without a learning-rate table
    int32_t st[2] = {7, 64}, str[2] = {7, 64}, stg[2];
    float table[12], lr = 0.5f, lrr = 0.5f, lrg;
    fill(table, 12, 0, 1);
    int32_t *dSt = dev(st, sizeof st);
    float *dTable = devf(table, 12), *dLr = devf(&lr, 1);
    for (int i = 0; i < 4; i++) {
      int with = i % 2 == 0;
      char shape[96];
      snprintf(shape, sizeof shape, "st (%d,%d) batch 32 %s", str[0], str[1],
               with ? "table" : "no table");
      R->tick(&RC, str, 32, with ? table : NULL, with ? &lrr : NULL);
      if (launched("tick", shape,
                   kn_emu_cuk_tick(0, dSt, 32, with ? dTable : NULL, with ? dLr : NULL))) {
        get(stg, dSt, sizeof stg);
        get(&lrg, dLr, sizeof lrg);
        check_i32("tick", shape, "st", stg, str, 2);
        check("tick", shape, "lr", &lrg, &lrr, 1, EXACT);
      }
    }
    cudaFree(dSt);
    cudaFree(dTable);
    cudaFree(dLr);
  }
#endif
#ifdef KN_EMU_HAVE_kn_cuk_topk_count
  { // topk_count: quantised logits, so the label often ties (ties favour the label)
    const int cs[][2] = {{1, 10}, {7, 3}, {300, 10}, {513, 7}};
    for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++) {
      int n = cs[k][0], classes = cs[k][1];
      size_t l = (size_t)n * classes;
      char shape[96];
      snprintf(shape, sizeof shape, "n%d classes %d", n, classes);
      float *z = hbuf(l);
      for (size_t i = 0; i < l; i++) z[i] = (float)irand(4);
      int32_t *lab = xalloc(n * sizeof(int32_t)), cnt[2] = {3, 4}, cntr[2] = {3, 4}, cntg[2];
      for (int i = 0; i < n; i++) lab[i] = irand(classes);
      R->topk_count(&RC, n, classes, z, lab, cntr);
      float *dZ = devf(z, l);
      int32_t *dLab = dev(lab, n * sizeof(int32_t)), *dCnt = dev(cnt, sizeof cnt);
      if (launched("topk_count", shape, kn_emu_cuk_topk_count(0, n, classes, dZ, dLab, dCnt))) {
        get(cntg, dCnt, sizeof cntg);
        check_i32("topk_count", shape, "counts", cntg, cntr, 2);
      }
      cudaFree(dZ);
      cudaFree(dLab);
      cudaFree(dCnt);
      free(z);
      free(lab);
    }
    unsigned long long l0 = launches_now();
    check_empty("topk_count", "n0", kn_emu_cuk_topk_count(0, 0, 10, NULL, NULL, NULL), l0);
  }
#endif
}

// ------------------------------------------------------------------ coverage
// The launchers this file checks; every launcher of kernels/cuda/cuda_kernels.h must be here.
static const char *const CHECKED[] = {
    "kn_cuk_selftest",   "kn_cuk_relu_fwd",     "kn_cuk_relu_bwd",     "kn_cuk_add",
    "kn_cuk_acc",        "kn_cuk_l1_sign",      "kn_cuk_concat_fwd",   "kn_cuk_concat_bwd",   "kn_cuk_add_concat",   "kn_cuk_sub_fwd",
    "kn_cuk_sub_bwd",    "kn_cuk_gap_fwd",      "kn_cuk_gap_bwd",      "kn_cuk_xent",
    "kn_cuk_bias_rows",    "kn_cuk_bias_grad",    "kn_cuk_pad",
    "kn_cuk_crop_acc",   "kn_cuk_dw_fwd",       "kn_cuk_dw_bwd_dx",    "kn_cuk_dw_partial_floats",
    "kn_cuk_dw_bwd_dw",  "kn_cuk_maxpool_fwd",  "kn_cuk_maxpool_bwd",  "kn_cuk_avgpool_fwd",
    "kn_cuk_avgpool_bwd", "kn_cuk_gather_u8",   "kn_cuk_loss_acc",     "kn_cuk_tick",
    "kn_cuk_topk_count", "kn_cuk_sgd_dev"};

static void t_coverage(void) {
  char all[] = KN_EMU_LAUNCHERS;
  int missing = 0;
  for (char *tok = strtok(all, " "); tok; tok = strtok(NULL, " ")) {
    int found = 0;
    for (size_t i = 0; i < sizeof CHECKED / sizeof CHECKED[0]; i++) found |= !strcmp(tok, CHECKED[i]);
    if (!found) {
      printf("FAIL coverage: %s (kernels/cuda/cuda_kernels.h) has no check in tests/cuda_emu/test_cuda_emu.c\n",
             tok);
      missing++;
    }
  }
  failures += missing;
  if (!missing) printf("ok   coverage: every launcher of kernels/cuda/cuda_kernels.h is checked\n");
}

static void run_all(void) {
  cudaError_t e = kn_emu_cuk_selftest(0);
  op_stat("selftest", 0, 0, "")->checks++;
  if (e != cudaSuccess) {
    printf("FAIL selftest: %s %s%s\n", cudaGetErrorName(e), kn_emu_last_message(), sched());
    op_stat("selftest", 0, 0, "")->fails++;
    failures++;
    kn_emu_reset();
  } else {
    printf("ok   %-16s %-36s cudaSuccess, flag 42 read back%s\n", "selftest", "1 thread", sched());
  }
  t_elementwise();
  t_concat();
  t_sub();
  t_gap();
  t_xent();
  t_bias();
  t_pad();
  t_dw();
  t_pool();
  t_train_state();
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  R = kn_backend_ref();
  kn_ctx_init(&RC, R, 1);
  failures += kn_emu_selfcheck();
  t_coverage();
  for (reversed = 0; reversed < 2; reversed++) {
    kn_emu_set_reverse(reversed);
    rng_state = 0x2545F4914F6CDD1Dull; // the same inputs in both schedules
    run_all();
  }
  kn_ctx_release(&RC);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  unsigned long long launches, blocks, threads, switches;
  kn_emu_stats(&launches, &blocks, &threads, &switches);
  printf("\nsummary (both schedules): op, checks, max|diff| vs reference, tolerance atol + "
         "rtol*|ref|\n");
  for (int i = 0; i < nops; i++)
    printf("  %-14s %4d checks  max|diff| %-9.3g tol %.0e + %.0e|ref|%s  %s\n", ops[i].op,
           ops[i].checks, ops[i].maxdiff, ops[i].atol, ops[i].rtol, ops[i].note,
           ops[i].fails ? "FAILED" : "ok");
  printf("depthwise cases refused with cudaErrorInvalidValue (sizes other than 1/3/5/7 square): "
         "%d\n",
         dw_refused);
  printf("pooling cases refused with cudaErrorInvalidValue (windows other than 3/5/7): %d\n",
         pool_refused);
  printf("emulated: %llu launches, %llu blocks, %llu threads, %llu fiber switches in %.2f s\n",
         launches, blocks, threads, switches,
         (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
  if (failures) {
    printf("%d FAILED checks\n", failures);
    return 1;
  }
  printf("all checks passed\n");
  return 0;
}
