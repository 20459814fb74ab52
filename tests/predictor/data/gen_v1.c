// How v1-lstm-vocab8.msgpack and v1-ridge-vocab8.msgpack were made: this program, compiled
// against the predictor library of commit 82f624d (before the op vocabulary existed; SPACE_ALL_OPS
// was then PNAS's 8 operators), run as `gen_v1 v1-lstm-vocab8.msgpack` and
// `gen_v1 v1-ridge-vocab8.msgpack r`. It prints the loaded file's predictions of three cells as
// hex floats; tests/predictor/test_vocab.c checks today's build against them. Not built.
#include <stdio.h>
#include "predictor/predictor.h"
int main(int argc, char **argv) {
  space_rng r;
  space_rng_seed(&r, 3);
  enum { N = 40 };
  space_cell cells[N];
  float acc[N];
  for (int i = 0; i < N; i++) {
    space_sample(&cells[i], 1 + i % 3, SPACE_ALL_OPS, &r);
    acc[i] = (float)(0.7 + 0.02 * cells[i].nblocks + 0.01 * cells[i].b[0].op1);
  }
  pred_fit_config cfg;
  pred_fit_config_default(&cfg, argc > 2 && argv[2][0] == 'r' ? PRED_RIDGE : PRED_LSTM);
  cfg.members = 2; cfg.embed = 3; cfg.hidden = 4; cfg.epochs = 2; cfg.min_steps = 10; cfg.batch = 8;
  char err[256];
  if (pred_fit_and_save(cells, acc, N, &cfg, argv[1], err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
  const char *txt[] = {"0:sep3x3,1:max3x3", "1:identity,1:dil3x3;0:sep7x7,2:avg3x3",
                       "0:conv1x7_7x1,0:sep5x5;2:max3x3,1:sep3x3;3:identity,0:avg3x3"};
  pred_ensemble *e;
  if (pred_ensemble_load(&e, argv[1], err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
  for (int i = 0; i < 3; i++) {
    space_cell c; space_parse(txt[i], &c, err, sizeof err);
    float m, s;
    pred_ensemble_predict(e, &c, 1, &m, &s, 1, err, sizeof err);
    printf("%s %a %a\n", txt[i], m, s);
  }
  return 0;
}
