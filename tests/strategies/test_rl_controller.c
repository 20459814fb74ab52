// RL controller: masking (sampled cells are always valid for the block and op mask),
// determinism, finite-difference check of the REINFORCE gradient (every parameter), and a
// learning check (REINFORCE + Adam raises a synthetic reward far above its random level), and
// the saved image (rl-controller.msgpack): one msgpack map sealed by its crc32 entry, whose
// check refuses a flipped parameter byte.
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crc32.h"
#include "pnas/strategies/rl_controller.h"
#include "searchspace/msgpack_check.h"
#include "tests/check.h"


static void test_masking_and_determinism(void) {
  uint32_t ops = (1u << SPACE_OP_SEP3X3) | (1u << SPACE_OP_MAX3X3) | (1u << SPACE_OP_IDENTITY);
  rl_controller c;
  CHECK(rl_controller_init(&c, 16, 12, 5, 0, ops, 7) == 0, "init");
  space_rng r1, r2;
  space_rng_seed(&r1, 11);
  space_rng_seed(&r2, 11);
  int seen_input5 = 0;
  for (int i = 0; i < 400; i++) {
    rl_episode a, b;
    rl_controller_sample(&c, &r1, &a);
    rl_controller_sample(&c, &r2, &b);
    CHECK(!memcmp(a.act, b.act, (size_t)a.len) && a.logp == b.logp, "same seed, different sample");
    char err[160];
    CHECK(space_check(&a.cell, ops, err, sizeof err) == 0, "invalid sampled cell: %s", err);
    CHECK(a.logp < 0 && a.entropy > 0, "logp %g entropy %g", a.logp, a.entropy);
    rl_episode s = a;
    rl_controller_score(&c, &s);
    CHECK(fabs(s.logp - a.logp) < 1e-12, "score differs from sampling: %g vs %g", s.logp, a.logp);
    seen_input5 |= a.cell.b[4].in1 == 5 || a.cell.b[4].in2 == 5;
  }
  CHECK(seen_input5, "block 5 never read block 4's output in 400 samples");
  rl_controller_release(&c);
}

// NASNet's space: the controller samples the normal cell, then the reduction cell.
static void test_pairs(void) {
  uint32_t ops = SPACE_ALL_OPS;
  rl_controller c;
  CHECK(rl_controller_init(&c, 8, 8, 5, 1, ops, 5) == 0, "init pairs");
  CHECK(rl_controller_init(&(rl_controller){0}, 8, 8, 6, 1, ops, 5) != 0, "6+6 blocks accepted");
  space_rng r;
  space_rng_seed(&r, 3);
  int differ = 0;
  for (int i = 0; i < 200; i++) {
    rl_episode a;
    rl_controller_sample(&c, &r, &a);
    char err[160];
    CHECK(a.len == 40 && space_is_pair(&a.cell) && a.cell.nred == 5, "episode %d: %d steps", i,
          a.len);
    CHECK(space_check(&a.cell, ops, err, sizeof err) == 0, "invalid sampled pair: %s", err);
    differ += memcmp(a.cell.b, a.cell.r, sizeof a.cell.b) != 0;
    rl_episode s = a;
    rl_controller_score(&c, &s);
    CHECK(fabs(s.logp - a.logp) < 1e-12, "score differs from sampling");
  }
  CHECK(differ > 190, "the two cells are the same in %d of 200 samples", 200 - differ);
  rl_controller_release(&c);
}

static void test_gradient(uint32_t ops, int pair) {
  rl_controller c;
  CHECK(rl_controller_init(&c, 5, 4, 2, pair, ops, 3) == 0, "init");
  // Larger weights than the init so every path carries a visible gradient.
  space_rng r;
  space_rng_seed(&r, 99);
  for (int i = 0; i < c.nparams; i++) c.p[i] = (float)(space_rng_uniform(&r) - 0.5);
  rl_episode eps[3];
  for (int i = 0; i < 3; i++) rl_controller_sample(&c, &r, &eps[i]);
  double adv[3] = {0.7, -0.4, 0.25}, beta = 0.3;
  float *g = calloc((size_t)c.nparams, sizeof *g);
  rl_controller_loss(&c, eps, adv, 3, beta, g);
  int bad = 0, nonzero = 0;
  double maxerr = 0;
  for (int i = 0; i < c.nparams; i++) {
    float p0 = c.p[i];
    float pp = p0 + 1e-3f, pm = p0 - 1e-3f;
    c.p[i] = pp;
    double lp = rl_controller_loss(&c, eps, adv, 3, beta, NULL);
    c.p[i] = pm;
    double lm = rl_controller_loss(&c, eps, adv, 3, beta, NULL);
    c.p[i] = p0;
    double fd = (lp - lm) / ((double)pp - (double)pm);
    double e = fabs(g[i] - fd);
    if (e > maxerr) maxerr = e;
    if (e > 2e-5 + 1e-3 * fabs(fd)) {
      if (bad++ < 5) fprintf(stderr, "  param %d: analytic %.8g, finite difference %.8g\n", i, g[i], fd);
    }
    nonzero += fabs(fd) > 1e-6;
  }
  CHECK(bad == 0, "%d of %d gradients disagree with finite differences", bad, c.nparams);
  // The predictor's unused scalar head (w_fc, b_fc: H + 1) has no gradient; most others do.
  CHECK(nonzero > c.nparams / 2, "only %d of %d parameters have a gradient", nonzero, c.nparams);
  printf("gradient check (vocabulary %d%s): %d parameters, max |analytic - fd| = %.3g\n", c.vocab,
         pair ? ", pairs" : "", c.nparams, maxerr);
  free(g);
  rl_controller_release(&c);
}

// The op vocabulary follows the mask (space_vocab_ops): 8 and the PNAS sizes for PNAS's
// operators, 13 as soon as a NASNet operator is in; sampling stays in the mask either way.
static void test_vocabulary(void) {
  const int E = 6, H = 5, NI = SPACE_NUM_INPUTS;
  rl_controller c;
  uint32_t pnas = (1u << SPACE_OP_SEP3X3) | (1u << SPACE_OP_MAX3X3) | (1u << SPACE_OP_IDENTITY);
  CHECK(rl_controller_init(&c, E, H, 2, 0, pnas, 1) == 0, "init");
  CHECK(c.vocab == 8 && c.lstm.V == NI + 8 &&
            c.nparams == lstm_nparams(NI + 8, E, H) + H * NI + NI + H * 8 + 8,
        "PNAS mask: vocabulary %d, %d parameters", c.vocab, c.nparams);
  rl_controller_release(&c);
  uint32_t nas = (1u << SPACE_OP_IDENTITY) | (1u << SPACE_OP_CONV1X3_3X1) |
                 (1u << SPACE_OP_MAX7X7) | (1u << SPACE_OP_CONV3X3);
  CHECK(rl_controller_init(&c, E, H, 3, 0, nas, 2) == 0, "init");
  CHECK(c.vocab == 13 && c.lstm.V == NI + 13 &&
            c.nparams == lstm_nparams(NI + 13, E, H) + H * NI + NI + H * 13 + 13,
        "NASNet mask: vocabulary %d, %d parameters", c.vocab, c.nparams);
  space_rng r;
  space_rng_seed(&r, 4);
  uint32_t seen = 0;
  for (int i = 0; i < 600; i++) {
    rl_episode a;
    rl_controller_sample(&c, &r, &a);
    char err[160];
    CHECK(space_check(&a.cell, nas, err, sizeof err) == 0, "invalid sampled cell: %s", err);
    for (int t = 0; t < a.len; t++)
      if ((t % 4) >= 2) {
        CHECK(a.act[t] < 13 && ((nas >> a.act[t]) & 1), "op %d outside the mask", a.act[t]);
        seen |= 1u << (a.act[t] & 31);
      }
    rl_episode s = a;
    rl_controller_score(&c, &s);
    CHECK(fabs(s.logp - a.logp) < 1e-12, "score differs from sampling");
  }
  CHECK(seen == nas, "ops sampled 0x%x, mask 0x%x", seen, nas);
  rl_controller_release(&c);
}

// Reward = fraction of op tokens equal to max3x3 plus fraction of inputs equal to 1: random
// level about 0.33 + 0.4; REINFORCE must push it well up within a few hundred updates.
static double reward(const rl_episode *e) {
  int ops = 0, good_op = 0, ins = 0, good_in = 0;
  for (int t = 0; t < e->len; t++) {
    if ((t % 4) < 2) ins++, good_in += e->act[t] == 1;
    else ops++, good_op += e->act[t] == SPACE_OP_MAX3X3;
  }
  return 0.5 * good_op / ops + 0.5 * good_in / ins;
}

static void test_learning(void) {
  uint32_t ops = (1u << SPACE_OP_SEP3X3) | (1u << SPACE_OP_MAX3X3) | (1u << SPACE_OP_IDENTITY);
  rl_controller c;
  CHECK(rl_controller_init(&c, 20, 20, 3, 0, ops, 5) == 0, "init");
  pred_adam adam;
  CHECK(pred_adam_init(&adam, c.nparams, 0.01f) == 0, "adam");
  space_rng r;
  space_rng_seed(&r, 17);
  double baseline = NAN, first = 0, last = 0;
  for (int it = 0; it < 150; it++) {
    rl_episode eps[5];
    double R[5], adv[5], mean = 0;
    for (int i = 0; i < 5; i++) {
      rl_controller_sample(&c, &r, &eps[i]);
      R[i] = reward(&eps[i]);
      mean += R[i] / 5;
    }
    if (!isfinite(baseline)) baseline = mean;
    for (int i = 0; i < 5; i++) adv[i] = R[i] - baseline;
    for (int i = 0; i < 5; i++) baseline = 0.95 * baseline + 0.05 * R[i];
    CHECK(rl_controller_update(&c, &adam, eps, adv, 5, 0.001) == 0, "update");
    if (it < 10) first += mean / 10;
    if (it >= 140) last += mean / 10;
  }
  printf("learning: mean reward %.3f in the first 10 updates, %.3f in the last 10\n", first, last);
  CHECK(first < 0.65, "random start should be near 0.5, got %.3f", first);
  CHECK(last > 0.85, "REINFORCE did not learn: %.3f -> %.3f", first, last);
  char *buf;
  size_t len;
  CHECK(rl_controller_save_mem(&c, &adam, baseline, 150, &buf, &len) == 0 &&
            len > sizeof(float) * (size_t)c.nparams * 3,
        "save image too small");
  free(buf);
  pred_adam_release(&adam);
  rl_controller_release(&c);
}

// 1 when image[0..len) is one msgpack map of the controller, sealed (space_msgpack_sealed).
static int sealed_image(const char *image, size_t len) {
  msgpack_unpacked up;
  msgpack_unpacked_init(&up);
  int ok = space_msgpack_check(image, len, NULL, 0) == 0 &&
           msgpack_unpack_next(&up, image, len, NULL) == MSGPACK_UNPACK_SUCCESS &&
           up.data.type == MSGPACK_OBJECT_MAP && up.data.via.map.size == 14 &&
           space_msgpack_sealed(&up.data, image, len);
  msgpack_unpacked_destroy(&up);
  return ok;
}

static void test_saved_image(void) {
  rl_controller c;
  CHECK(rl_controller_init(&c, 8, 6, 2, 0, 0x7f, 3) == 0, "init");
  char *buf = NULL, why[160];
  size_t len = 0;
  CHECK(rl_controller_save_mem(&c, NULL, NAN, 0, &buf, &len) == 0, "save");
  CHECK(buf && sealed_image(buf, len) && pnas_crc_check(buf, len, why, sizeof why) == 0,
        "the image is not a sealed map: %s", why);
  // A flipped bit in the parameters (the "params" bin, mid-file): the check refuses it.
  for (int bit = 0; buf && bit < 8; bit++) {
    buf[len / 2] ^= (char)(1 << bit);
    CHECK(sealed_image(buf, len) && pnas_crc_check(buf, len, why, sizeof why) == -1 &&
              strstr(why, "checksum mismatch"),
          "bit %d of byte %zu not detected: %s", bit, len / 2, why);
    buf[len / 2] ^= (char)(1 << bit);
  }
  free(buf);
  rl_controller_release(&c);
}

int main(void) {
  test_pairs();
  test_gradient(SPACE_ALL_OPS, 1);
  test_saved_image();
  test_masking_and_determinism();
  test_gradient((1u << SPACE_OP_SEP3X3) | (1u << SPACE_OP_AVG3X3) | (1u << SPACE_OP_DIL3X3), 0);
  // A NASNet mask: vocabulary 13, the op head wider than the input head.
  test_gradient((1u << SPACE_OP_SEP3X3) | (1u << SPACE_OP_CONV1X1) | (1u << SPACE_OP_MAX7X7) |
                (1u << SPACE_OP_CONV3X3), 0);
  test_vocabulary();
  test_learning();
  if (check_failures) {
    fprintf(stderr, "%d failure(s)\n", check_failures);
    return 1;
  }
  printf("ok\n");
  return 0;
}
