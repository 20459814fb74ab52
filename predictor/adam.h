// Adam optimiser over one flat parameter buffer (Kingma & Ba; beta1 0.9, beta2 0.999,
// eps 1e-8, bias-corrected). No weight decay.
#ifndef PNAS_PREDICTOR_ADAM_H
#define PNAS_PREDICTOR_ADAM_H

typedef struct {
  int n, t;
  float lr, beta1, beta2, eps;
  float *m, *v; // (n) first and second moments
} pred_adam;

int pred_adam_init(pred_adam *a, int n, float lr); // 0 ok, -1 OOM
void pred_adam_release(pred_adam *a);
void pred_adam_step(pred_adam *a, float *param /* (n) */, const float *grad /* (n) */);

#endif
