// Whole child networks on the CUDA backend against the CPU: same seed (same initial parameters),
// same batch; two SGD steps (momentum), then an evaluation forward on a smaller batch (BN running
// statistics, a batch size the cuDNN plans have not seen). Compared: training logits, loss, every
// parameter gradient, parameters after each step, evaluation logits. Cases: PNASNet-5 at N=2,
// F=24 on Fashion-MNIST-sized images against the fast CPU backend; a cell using all 8 ops on
// 12x12 images (even sizes at the reductions: TF 'SAME' asymmetric padding) against the
// reference; PNASNet-5 on 32x32x3. Also: a second child of the same shapes makes no new cuDNN
// plan (algorithms are found once per shape, not per child) and gets bit-identical gradients; a
// child too big for the GPU fails with a message and the device keeps working. And train_child
// on the GPU (check_train_child): CUDA graph replay equals eager, GPU agrees with the CPU,
// divergence and augmentation.
// TF32 off. Tolerances |got-ref| <= atol + rtol*|ref| (gradients pass through ~60 layers where
// cuDNN's algorithms and float reductions differ from the CPU's order):
//   logits 1e-3 / 1e-3, loss 1e-4 / 1e-4, gradients 1e-3 / 1e-2, parameters 2e-5 / 1e-4 (lr 0.01).
// Without a usable GPU it prints SKIPPED and exits 77.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cudnn_ops.h"
#include "pnas/child/net.h"
#include "pnas/child/trainer.h"

#define SKIP 77

static int bad = 0;
static kn_device *DEV;

static int compare(const char *what, const float *got, const float *ref, size_t n, double atol,
                   double rtol) {
  int k = 0;
  double maxabs = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - ref[i]);
    if (!(d <= atol + rtol * fabs((double)ref[i]))) {
      if (k < 5) fprintf(stderr, "  %s[%zu]: got %.8g ref %.8g\n", what, i, got[i], ref[i]);
      k++;
    }
    if (d > maxabs || d != d) maxabs = d;
  }
  printf("     %-28s max |diff| %.3g over %zu values\n", what, maxabs, n);
  if (k) fprintf(stderr, "FAIL %s: %d of %zu mismatch (atol %g rtol %g)\n", what, k, n, atol, rtol);
  return k != 0;
}

typedef struct {
  float *logits, *grads, *params1, *params2, *eval;
  float loss;
} step_out;

// Two training steps and an evaluation forward on the first nb_eval images.
static int run(net *n, kn_ctx *ctx, const float *x, const int32_t *lab, int nb, int nb_eval,
               int classes, step_out *o) {
  int64_t P = net_num_params(n);
  o->logits = malloc((size_t)nb * classes * sizeof(float));
  o->grads = malloc((size_t)P * sizeof(float));
  o->params1 = malloc((size_t)P * sizeof(float));
  o->params2 = malloc((size_t)P * sizeof(float));
  o->eval = malloc((size_t)nb_eval * classes * sizeof(float));
  if (!o->logits || !o->grads || !o->params1 || !o->params2 || !o->eval) return -1;
  net_set_batch(n, x, lab, nb);
  net_forward(n, nb, 1);
  net_get_logits(n, o->logits, nb);
  o->loss = net_backward(n, nb);
  net_grads_get(n, o->grads);
  net_sgd(n, 0.01f, 0.9f, 5e-4f);
  net_params_get(n, o->params1);
  net_forward(n, nb, 1);
  net_backward(n, nb);
  net_sgd(n, 0.01f, 0.9f, 5e-4f);
  net_params_get(n, o->params2);
  net_set_batch(n, x, NULL, nb_eval);
  net_forward(n, nb_eval, 0);
  net_get_logits(n, o->eval, nb_eval);
  return ctx->failed ? -1 : 0;
}

static void out_free(step_out *o) {
  free(o->logits), free(o->grads), free(o->params1), free(o->params2), free(o->eval);
}

static void check_case(const char *cell_text, int N, int F, int C, int H, int W, int nb,
                       const kn_backend *oracle) {
  space_cell cell;
  char err[256];
  if (space_parse(cell_text, &cell, err, sizeof err)) {
    fprintf(stderr, "FAIL parse %s: %s\n", cell_text, err);
    bad++;
    return;
  }
  enum { CL = 10 };
  net_config nc = {N, F, C, H, W, CL, 3.0, nb, NULL};
  kn_ctx cpu, gpu, gpu2;
  kn_ctx_init(&cpu, oracle, 2);
  kn_ctx_init(&gpu, kn_backend_by_name("cuda"), 1);
  kn_ctx_init(&gpu2, kn_backend_by_name("cuda"), 1);
  gpu.dev = gpu2.dev = DEV;
  net *nc_cpu = NULL, *nc_gpu = NULL, *nc_gpu2 = NULL;
  size_t xl = (size_t)nb * C * H * W;
  float *x = malloc(xl * sizeof(float));
  int32_t *lab = malloc((size_t)nb * sizeof *lab);
  space_rng r;
  space_rng_seed(&r, 11);
  for (size_t i = 0; i < xl; i++) x[i] = (float)(2 * space_rng_uniform(&r) - 1);
  for (int i = 0; i < nb; i++) lab[i] = space_rng_below(&r, CL);
  char name[160];
  snprintf(name, sizeof name, "%s N=%d F=%d %dx%dx%d batch %d vs %s", cell_text, N, F, C, H, W,
           nb, oracle->name);
  printf("case %s\n", name);
  step_out oc, og, og2;
  memset(&oc, 0, sizeof oc), memset(&og, 0, sizeof og), memset(&og2, 0, sizeof og2);
  int nb_eval = nb > 3 ? nb - 3 : 1;
  if (net_create(&nc_cpu, &cell, &nc, &cpu, 5, err, sizeof err) ||
      net_create(&nc_gpu, &cell, &nc, &gpu, 5, err, sizeof err)) {
    fprintf(stderr, "FAIL %s: net_create: %s\n", name, err);
    bad++;
    goto out;
  }
  if (run(nc_cpu, &cpu, x, lab, nb, nb_eval, CL, &oc) ||
      run(nc_gpu, &gpu, x, lab, nb, nb_eval, CL, &og)) {
    fprintf(stderr, "FAIL %s: step failed: %s\n", name, gpu.failed ? gpu.reason : "out of memory");
    bad++;
    goto out;
  }
  size_t P = (size_t)net_num_params(nc_cpu);
  int k = 0;
  k += compare("train logits", og.logits, oc.logits, (size_t)nb * CL, 1e-3, 1e-3);
  k += compare("loss", &og.loss, &oc.loss, 1, 1e-4, 1e-4);
  k += compare("param grads", og.grads, oc.grads, P, 1e-3, 1e-2);
  k += compare("params after step 1", og.params1, oc.params1, P, 2e-5, 1e-4);
  k += compare("params after step 2", og.params2, oc.params2, P, 2e-5, 1e-4);
  k += compare("eval logits (running stats)", og.eval, oc.eval, (size_t)nb_eval * CL, 1e-3, 1e-3);
  // A second child of the same shapes: no new cuDNN plan, bit-identical results.
  int plans = kn_dnn_cached_shapes(DEV);
  if (net_create(&nc_gpu2, &cell, &nc, &gpu2, 5, err, sizeof err) ||
      run(nc_gpu2, &gpu2, x, lab, nb, nb_eval, CL, &og2)) {
    fprintf(stderr, "FAIL %s: second child: %s %s\n", name, err, gpu2.reason);
    k++;
  } else {
    if (kn_dnn_cached_shapes(DEV) != plans) {
      fprintf(stderr, "FAIL %s: the second child made %d new cuDNN plans\n", name,
              kn_dnn_cached_shapes(DEV) - plans);
      k++;
    }
    if (memcmp(og2.grads, og.grads, P * sizeof(float)) ||
        memcmp(og2.params2, og.params2, P * sizeof(float))) {
      fprintf(stderr, "FAIL %s: a second child with the same seed differs (not deterministic)\n",
              name);
      k++;
    }
  }
  bad += k;
  if (!k) printf("ok   %s (%d cuDNN plans cached)\n", name, kn_dnn_cached_shapes(DEV));
out:
  out_free(&oc), out_free(&og), out_free(&og2);
  net_free(nc_cpu), net_free(nc_gpu), net_free(nc_gpu2);
  kn_ctx_release(&cpu), kn_ctx_release(&gpu), kn_ctx_release(&gpu2);
  free(x);
  free(lab);
}

// A child whose buffers cannot fit: net_create fails with a message, nothing aborts, and the
// device trains the next child normally.
static void check_too_big(void) {
  space_cell cell;
  char err[256] = "";
  space_parse("pnasnet-5", &cell, err, sizeof err);
  net_config big = {2, 24, 1, 28, 28, 10, 3.0, 1 << 22, NULL},
             small = {1, 4, 1, 8, 8, 10, 3.0, 2, NULL};
  kn_ctx ctx;
  kn_ctx_init(&ctx, kn_backend_by_name("cuda"), 1);
  ctx.dev = DEV;
  net *n = NULL;
  int k = 0;
  if (net_create(&n, &cell, &big, &ctx, 1, err, sizeof err) == 0) {
    fprintf(stderr, "FAIL a 4M-image batch fit on the GPU?\n");
    net_free(n);
    n = NULL;
    k++;
  } else if (!strstr(err, "out of memory")) {
    fprintf(stderr, "FAIL too-big child: unexpected message '%s'\n", err);
    k++;
  }
  printf("     too-big child: %s\n", err);
  kn_ctx_release(&ctx);
  kn_ctx_init(&ctx, kn_backend_by_name("cuda"), 1);
  ctx.dev = DEV;
  float x[2 * 64] = {0}, logits[20];
  int32_t lab[2] = {1, 2};
  if (net_create(&n, &cell, &small, &ctx, 1, err, sizeof err)) {
    fprintf(stderr, "FAIL small child after the too-big one: %s\n", err);
    k++;
  } else {
    net_set_batch(n, x, lab, 2);
    net_forward(n, 2, 1);
    float loss = net_backward(n, 2);
    net_get_logits(n, logits, 2);
    if (ctx.failed || !isfinite(loss)) {
      fprintf(stderr, "FAIL small child after the too-big one: %s loss %g\n", ctx.reason, loss);
      k++;
    }
    net_free(n);
  }
  kn_ctx_release(&ctx);
  bad += k;
  if (!k) printf("ok   a child too big for the GPU fails with a message; the next one trains\n");
}

// train_child on the GPU, the path a search takes: a learnable synthetic data set (class-specific
// pattern plus noise), one epoch, then validation. The CUDA graph replay must equal the eager
// GPU run exactly (same kernels, deterministic algorithms); both must agree with the CPU within
// float noise of 16 steps; a diverging child (huge lr) fails with "diverged" and an augmented
// run trains.
static void make_data(data_set *d, int n, uint64_t seed) {
  d->n = n, d->c = 1, d->h = 28, d->w = 28, d->classes = 10, d->owns = 1;
  d->images = malloc((size_t)n * 784);
  d->labels = malloc((size_t)n);
  uint64_t s = seed;
  for (int i = 0; i < n; i++) {
    int y = i % 10;
    d->labels[i] = (uint8_t)y;
    for (int p = 0; p < 784; p++) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      int on = (p / 28) / 3 == y || (p % 28) / 3 == y; // a cross at the class's row/column band
      d->images[(size_t)i * 784 + p] = (uint8_t)((on ? 160 : 40) + (int)(s >> 58));
    }
  }
}

static int run_child(const char *backend, int graphs, double lr, int aug, const data_set *tr,
                     const data_set *va, train_result *r) {
  setenv("PNAS_CUDA_GRAPHS", graphs ? "1" : "0", 1);
  train_config tc;
  train_config_default(&tc);
  tc.backend = backend;
  tc.device = strcmp(backend, "cuda") ? NULL : DEV;
  tc.batch = 32;
  tc.lr = lr;
  tc.aug_pad = aug ? 2 : 0;
  tc.aug_flip = aug;
  space_cell cell;
  char err[256];
  space_parse("pnasnet-5", &cell, err, sizeof err);
  return train_child(&tc, &cell, tr, va, NULL, r);
}

static void check_train_child(void) {
  data_set tr, va;
  make_data(&tr, 512, 1);
  make_data(&va, 200, 2);
  train_result cpu, g1, g0, dv, au;
  run_child("cpu", 0, 0.05, 0, &tr, &va, &cpu);
  run_child("cuda", 1, 0.05, 0, &tr, &va, &g1);
  run_child("cuda", 0, 0.05, 0, &tr, &va, &g0);
  printf("train_child: cpu val %.4f loss %.6f | cuda graphs val %.4f loss %.6f %.3f s | eager "
         "val %.4f loss %.6f %.3f s\n", cpu.val_acc, cpu.final_loss, g1.val_acc, g1.final_loss,
         g1.train_seconds, g0.val_acc, g0.final_loss, g0.train_seconds);
  if (!cpu.ok || !g1.ok || !g0.ok) {
    fprintf(stderr, "FAIL train_child: cpu %s / graphs %s / eager %s\n", cpu.reason, g1.reason,
            g0.reason);
    bad++;
  } else {
    if (g1.final_loss != g0.final_loss || g1.val_acc != g0.val_acc) {
      fprintf(stderr, "FAIL graph replay differs from eager: loss %.9g vs %.9g, val %.4f vs %.4f\n",
              g1.final_loss, g0.final_loss, g1.val_acc, g0.val_acc);
      bad++;
    }
    if (fabs(g1.final_loss - cpu.final_loss) > 1e-3 * (1 + fabs(cpu.final_loss)) ||
        fabs(g1.val_acc - cpu.val_acc) > 0.03) {
      fprintf(stderr, "FAIL train_child GPU vs CPU: loss %.6f vs %.6f, val %.4f vs %.4f\n",
              g1.final_loss, cpu.final_loss, g1.val_acc, cpu.val_acc);
      bad++;
    }
  }
  run_child("cuda", 1, 1e7, 0, &tr, &va, &dv);
  if (dv.ok || !strstr(dv.reason, "diverged")) {
    fprintf(stderr, "FAIL a diverging GPU child: ok %d, reason '%s'\n", dv.ok, dv.reason);
    bad++;
  } else {
    printf("ok   diverging GPU child: %s\n", dv.reason);
  }
  run_child("cuda", 1, 0.05, 1, &tr, &va, &au);
  if (!au.ok) {
    fprintf(stderr, "FAIL augmented GPU child: %s\n", au.reason);
    bad++;
  } else {
    printf("ok   augmented GPU child: val %.4f\n", au.val_acc);
  }
  setenv("PNAS_CUDA_GRAPHS", "1", 1);
  data_release(&tr);
  data_release(&va);
}

int main(void) {
  setenv("NVIDIA_TF32_OVERRIDE", "0", 1);
  setenv("PNAS_CUDA_TF32", "0", 1);
  kn_cuda_info info;
  if (kn_cuda_probe(&info) < 1) {
    printf("SKIPPED: no usable GPU (%s)\n", info.why);
    return SKIP;
  }
  const kn_backend *cuda = kn_backend_by_name("cuda");
  char msg[512];
  if (!cuda || cuda->dev_open(&DEV, msg, sizeof msg)) {
    fprintf(stderr, "FAIL a GPU is present but the cuda backend cannot open it: %s\n",
            cuda ? msg : "not registered");
    return 1;
  }
  printf("device: %s\n", msg);
  check_case("pnasnet-5", 2, 24, 1, 28, 28, 16, kn_backend_cpu());
  check_case("0:sep3x3,1:identity;0:conv1x7_7x1,1:dil3x3;2:avg3x3,1:max3x3;0:sep5x5,3:identity;"
             "4:sep7x7,0:identity",
             1, 8, 1, 12, 12, 6, kn_backend_ref());
  check_case("pnasnet-5", 1, 8, 3, 32, 32, 8, kn_backend_cpu());
  check_too_big();
  check_train_child();
  cuda->dev_close(DEV);
  if (bad) {
    fprintf(stderr, "%d CUDA network checks failed\n", bad);
    return 1;
  }
  printf("CUDA training steps match the CPU\n");
  return 0;
}
