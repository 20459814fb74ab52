// Trainer tests on a synthetic 4-class dataset (a bright quadrant per class plus noise): a tiny
// child learns it; a fixed seed gives bit-identical loss and accuracy across runs and across
// thread counts; a different seed gives a different run; a diverging child (huge learning rate)
// is reported as failed with a reason instead of crashing; bad configurations fail cleanly.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pnas/child/trainer.h"
#define CHECK_COUNTER bad // each test function counts its own failures
#include "tests/check.h"

static int bad = 0;

static void make_set(data_set *d, int n, uint64_t seed) {
  enum { H = 8, W = 8 };
  d->n = n;
  d->c = 1;
  d->h = H;
  d->w = W;
  d->classes = 4;
  d->owns = 1;
  d->images = malloc((size_t)n * H * W);
  d->labels = malloc((size_t)n);
  space_rng r;
  space_rng_seed(&r, seed);
  for (int i = 0; i < n; i++) {
    int k = space_rng_below(&r, 4);
    d->labels[i] = (uint8_t)k;
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        int in = (y < H / 2) == (k < 2) && (x < W / 2) == (k % 2 == 0);
        d->images[(size_t)i * H * W + y * W + x] =
            (uint8_t)(space_rng_below(&r, 80) + (in ? 150 : 0));
      }
  }
}

static void free_set(data_set *d) {
  free(d->images);
  free(d->labels);
}

int main(void) {
  data_set train, val;
  make_set(&train, 256, 1);
  make_set(&val, 128, 2);
  space_cell cell;
  char err[256];
  if (space_parse("0:sep3x3,1:max3x3;2:identity,0:avg3x3", &cell, err, sizeof err)) {
    fprintf(stderr, "parse: %s\n", err);
    return 1;
  }
  train_config c;
  train_config_default(&c);
  c.N = 1;
  c.F = 4;
  c.epochs = 4;
  c.batch = 32;
  c.lr = 0.1;
  c.threads = 2;
  c.seed = 42;

  train_result a, b, t1, other;
  CHECK(train_child(&c, &cell, &train, &val, &val, &a) == 0, "training failed: %s", a.reason);
  printf("tiny child: val %.3f test %.3f loss %.4f, %lld examples, %.2f s\n", a.val_acc,
         a.test_acc, a.final_loss, (long long)a.examples, a.seconds);
  CHECK(a.ok && a.val_acc >= 0.9, "the child did not learn the synthetic task: val %.3f", a.val_acc);
  CHECK(a.examples == 4 * (256 / 32) * 32, "examples %lld", (long long)a.examples);
  CHECK(a.params > 0 && a.mult_adds > 0, "params / mult-adds from the cost model");
  CHECK(a.val_top5 == 1.0, "top-5 over 4 classes must be 1, got %g", a.val_top5);

  CHECK(train_child(&c, &cell, &train, &val, NULL, &b) == 0, "second run failed");
  CHECK(!memcmp(&a.final_loss, &b.final_loss, sizeof(double)) && a.val_acc == b.val_acc,
        "same seed, different result: loss %.17g vs %.17g", a.final_loss, b.final_loss);
  CHECK(isnan(b.test_acc), "no test set -> test accuracy NAN");
  train_config c1 = c;
  c1.threads = 1;
  CHECK(train_child(&c1, &cell, &train, &val, NULL, &t1) == 0, "1-thread run failed");
  CHECK(!memcmp(&a.final_loss, &t1.final_loss, sizeof(double)) && a.val_acc == t1.val_acc,
        "1 vs 2 threads differ: loss %.17g vs %.17g", a.final_loss, t1.final_loss);
  train_config c2 = c;
  c2.seed = 43;
  CHECK(train_child(&c2, &cell, &train, &val, NULL, &other) == 0, "seed 43 failed");
  CHECK(other.final_loss != a.final_loss, "a different seed gave the same loss bits");
  if (!bad) printf("ok   bit-identical for a fixed seed (2 runs, 1 and 2 threads)\n");

  train_config cd = c;
  cd.lr = 1e30; // weights explode: the loss becomes inf or NaN
  train_result d;
  int rc = train_child(&cd, &cell, &train, &val, NULL, &d);
  CHECK(rc == -1 && !d.ok && strstr(d.reason, "diverged"), "divergence not reported: rc %d ok %d '%s'",
        rc, d.ok, d.reason);
  printf("diverging child: %s\n", d.reason);

  train_config cb = c;
  cb.batch = 0;
  train_result e;
  CHECK(train_child(&cb, &cell, &train, &val, NULL, &e) == -1 && !e.ok && e.reason[0],
        "invalid batch accepted");
  data_set empty = val;
  empty.n = 0;
  CHECK(train_child(&c, &cell, &train, &empty, NULL, &e) == -1 && e.reason[0],
        "empty validation set accepted");
  free_set(&train);
  free_set(&val);
  if (bad) {
    fprintf(stderr, "%d checks failed\n", bad);
    return 1;
  }
  printf("all trainer checks passed\n");
  return 0;
}
