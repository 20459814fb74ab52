// The training-loop state ops of the CPU backends (kernels/cpu/host_train.c), which are the
// reference for their CUDA versions: gather_u8 against a direct computation, loss_acc keeping the
// first non-finite loss, tick advancing the state and reading the schedule, topk_count with ties
// (a label tied with the maximum counts as top-1), and both tables ("ref", "cpu") exposing them.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/backend.h"
#define CHECK_COUNTER bad // each test function counts its own failures
#include "tests/check.h"

static int bad = 0;

static void check_backend(const kn_backend *be) {
  kn_ctx ctx;
  kn_ctx_init(&ctx, be, 2);
  CHECK(be->gather_u8 && be->loss_acc && be->tick && be->topk_count, "%s: state ops missing",
        be->name);
  CHECK(!be->graph_begin && !be->graph_end && !be->graph_launch && !be->graph_free,
        "%s: a CPU backend has graph ops", be->name);
  // gather_u8: 7 images of 2 channels x 5 pixels, permutation reversed, batch of 3 at position 2
  enum { N = 7, C = 2, HW = 5, NB = 3 };
  uint8_t img[N * C * HW];
  int32_t lab[N], perm[N], st[2] = {11, 2}, xl[NB];
  float lut[C * 256], x[NB * C * HW];
  for (int i = 0; i < N * C * HW; i++) img[i] = (uint8_t)(i * 37 + 11);
  for (int i = 0; i < N; i++) lab[i] = 100 + i, perm[i] = N - 1 - i;
  for (int k = 0; k < C; k++)
    for (int v = 0; v < 256; v++) lut[256 * k + v] = (float)(k * 1000 + v) * 0.5f;
  be->gather_u8(&ctx, NB, C, 1, HW, img, lab, perm, st, lut, NULL, x, xl);
  for (int i = 0; i < NB; i++) {
    int j = N - 1 - (2 + i);
    CHECK(xl[i] == 100 + j, "%s gather_u8 label %d: %d, want %d", be->name, i, xl[i], 100 + j);
    for (int k = 0; k < C; k++)
      for (int p = 0; p < HW; p++) {
        float want = (float)(k * 1000 + img[(j * C + k) * HW + p]) * 0.5f;
        CHECK(x[(i * C + k) * HW + p] == want, "%s gather_u8 x[%d][%d][%d]", be->name, i, k, p);
      }
  }
  CHECK(st[0] == 11 && st[1] == 2, "%s gather_u8 changed the state", be->name);
  // loss_acc
  double acc[3] = {0, -1, 0};
  float l1 = 1.25f, l2 = NAN, l3 = INFINITY;
  be->loss_acc(&ctx, &l1, st, acc);
  CHECK(acc[0] == 1.25 && acc[1] == -1, "%s loss_acc finite", be->name);
  st[0] = 12;
  be->loss_acc(&ctx, &l2, st, acc);
  st[0] = 13;
  be->loss_acc(&ctx, &l3, st, acc);
  CHECK(isnan(acc[0]) && acc[1] == 12 && isnan(acc[2]),
        "%s loss_acc keeps the first non-finite loss: {%g %g %g}", be->name, acc[0], acc[1],
        acc[2]);
  // tick
  float table[5] = {0.5f, 0.4f, 0.3f, 0.2f, 0.0f}, lr = -1;
  int32_t s2[2] = {1, 16};
  be->tick(&ctx, s2, 16, table, &lr);
  CHECK(s2[0] == 2 && s2[1] == 32 && lr == 0.3f, "%s tick: {%d %d} lr %g", be->name, s2[0],
        s2[1], lr);
  be->tick(&ctx, s2, 5, NULL, NULL);
  CHECK(s2[0] == 3 && s2[1] == 37 && lr == 0.3f, "%s tick without a schedule", be->name);
  // topk_count: 4 rows of 6 classes
  float z[4 * 6] = {
      1, 5, 5, 0, 0, 0, // label 1 tied with the max -> top-1
      9, 8, 7, 6, 5, 4, // label 5: 5 classes higher -> neither
      9, 8, 7, 6, 5, 4, // label 4: 4 higher -> top-5 only
      0, 0, 0, 0, 0, 1, // label 5 -> top-1
  };
  int32_t zl[4] = {1, 5, 4, 5}, cnt[2] = {10, 20};
  be->topk_count(&ctx, 4, 6, z, zl, cnt);
  CHECK(cnt[0] == 12 && cnt[1] == 23, "%s topk_count: %d %d, want 12 23", be->name, cnt[0],
        cnt[1]);
  kn_ctx_release(&ctx);
  if (!bad) printf("ok   %s: gather_u8, loss_acc, tick, topk_count\n", be->name);
}

// Augmentation: every output image must be the source shifted by some (oy, ox) in [-pad, pad]
// (zero pixels outside) and possibly mirrored, found by search rather than by the op's own
// formula; over 64 rows both flips and several offsets must occur; the same step gives the same
// batch, another step another one.
static void check_aug(const kn_backend *be) {
  kn_ctx ctx;
  kn_ctx_init(&ctx, be, 1);
  enum { N = 64, C = 2, H = 6, W = 7, P = 2 };
  static uint8_t img[N * C * H * W];
  int32_t lab[N], perm[N], st[2] = {3, 0}, xl[N];
  static float lut[C * 256], x[N * C * H * W], x2[N * C * H * W];
  for (int i = 0; i < N * C * H * W; i++) img[i] = (uint8_t)(1 + (i * 97 + i / 5) % 250);
  for (int i = 0; i < N; i++) lab[i] = i, perm[i] = i;
  for (int k = 0; k < C; k++)
    for (int v = 0; v < 256; v++) lut[256 * k + v] = (float)(k * 256 + v);
  kn_aug aug = {P, 1, 99};
  be->gather_u8(&ctx, N, C, H, W, img, lab, perm, st, lut, &aug, x, xl);
  int flips = 0, offsets[2 * P + 1][2 * P + 1] = {{0}}, distinct = 0;
  for (int i = 0; i < N; i++) {
    int found = 0;
    for (int f = 0; f < 2 && !found; f++)
      for (int oy = -P; oy <= P && !found; oy++)
        for (int ox = -P; ox <= P && !found; ox++) {
          int ok = 1;
          for (int k = 0; k < C && ok; k++)
            for (int y = 0; y < H && ok; y++)
              for (int xx = 0; xx < W && ok; xx++) {
                int sy = y + oy, sx = (f ? W - 1 - xx : xx) + ox;
                int v = sy >= 0 && sy < H && sx >= 0 && sx < W ? img[((i * C + k) * H + sy) * W + sx] : 0;
                ok = x[((i * C + k) * H + y) * W + xx] == (float)(k * 256 + v);
              }
          if (ok) {
            found = 1;
            flips += f;
            distinct += offsets[oy + P][ox + P]++ == 0;
          }
        }
    CHECK(found, "%s augmented row %d is no shifted/flipped copy of its image", be->name, i);
  }
  CHECK(flips > 8 && flips < 56 && distinct >= 8,
        "%s augmentation not random enough: %d flips of 64, %d distinct offsets", be->name, flips,
        distinct);
  be->gather_u8(&ctx, N, C, H, W, img, lab, perm, st, lut, &aug, x2, xl);
  CHECK(!memcmp(x, x2, sizeof x), "%s augmentation differs for the same step", be->name);
  st[0] = 4;
  be->gather_u8(&ctx, N, C, H, W, img, lab, perm, st, lut, &aug, x2, xl);
  CHECK(memcmp(x, x2, sizeof x), "%s augmentation identical for another step", be->name);
  kn_ctx_release(&ctx);
  if (!bad) printf("ok   %s: augmentation (%d flips of 64, %d distinct offsets)\n", be->name, flips,
                   distinct);
}

int main(void) {
  check_aug(kn_backend_ref());
  check_aug(kn_backend_cpu());
  check_backend(kn_backend_ref());
  check_backend(kn_backend_cpu());
  return bad ? 1 : 0;
}
