// Adam step (see adam.h).
#include "predictor/adam.h"

#include <math.h>
#include <stdlib.h>

#include "predictor/fastmath.h"

int pred_adam_init(pred_adam *a, int n, float lr) {
  a->n = n;
  a->t = 0;
  a->lr = lr;
  a->beta1 = 0.9f;
  a->beta2 = 0.999f;
  a->eps = 1e-8f;
  a->m = calloc((size_t)n, sizeof *a->m);
  a->v = calloc((size_t)n, sizeof *a->v);
  if (!a->m || !a->v) {
    pred_adam_release(a);
    return -1;
  }
  return 0;
}

void pred_adam_release(pred_adam *a) {
  free(a->m);
  free(a->v);
  a->m = a->v = NULL;
}

PRED_CLONES void pred_adam_step(pred_adam *a, float *restrict param, const float *restrict grad) {
  a->t++;
  const float b1 = a->beta1, b2 = a->beta2;
  const float c1 = 1.0f - (float)pow(b1, a->t), c2 = 1.0f - (float)pow(b2, a->t);
  const float step = a->lr / c1, ic2 = 1.0f / c2;
  float *restrict m = a->m, *restrict v = a->v;
  for (int i = 0; i < a->n; i++) {
    float g = grad[i];
    m[i] = b1 * m[i] + (1.0f - b1) * g;
    v[i] = b2 * v[i] + (1.0f - b2) * g * g;
    param[i] -= step * m[i] / (sqrtf(v[i] * ic2) + a->eps);
  }
}
