// Test fixture for the `pnas predict` CLI test: fits a small ridge ensemble on synthetic
// targets and saves it to argv[1].
#include <stdio.h>

#include "predictor/predictor.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: pred_make_model OUT.msgpack\n");
    return 2;
  }
  space_rng r;
  space_rng_seed(&r, 1);
  enum { N = 200 };
  space_cell cells[N];
  float acc[N];
  for (int i = 0; i < N; i++) {
    space_sample(&cells[i], 1 + i % 5, SPACE_PNAS_MASK, &r);
    acc[i] = (float)(0.8 + 0.01 * cells[i].nblocks + 0.01 * cells[i].b[0].op1);
  }
  pred_fit_config cfg;
  pred_fit_config_default(&cfg, PRED_RIDGE);
  char err[256];
  if (pred_fit_and_save(cells, acc, N, &cfg, argv[1], err, sizeof err)) {
    fprintf(stderr, "pred_make_model: %s\n", err);
    return 1;
  }
  return 0;
}
