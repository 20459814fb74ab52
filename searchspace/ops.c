// The operator table of ops.h. Rows are in the order of the space_op enum (cell.h).
#include "searchspace/ops.h"

#include <string.h>

#include "searchspace/cell.h"

#define RELU {SPACE_L_RELU, 0, 0, 0, 0, NULL}
#define BN(nm) {SPACE_L_BN, 0, 0, 0, 0, nm}
#define CONV(kh, kw, dil, s, nm) {SPACE_L_CONV, kh, kw, dil, s, nm}
#define DW(k, s, nm) {SPACE_L_DWCONV, k, k, 1, s, nm}
#define PW(nm) CONV(1, 1, 1, 0, nm)
// Separable kxk: two repetitions of ReLU, depthwise kxk, pointwise 1x1, BN; stride in the first.
#define SEP(k)                                                                                   \
  {RELU, DW(k, 1, "dw1"), PW("pw1"), BN("bn1"), RELU, DW(k, 0, "dw2"), PW("pw2"), BN("bn2")}

static const space_op_def OPS[SPACE_NUM_OPS] = {
    [SPACE_OP_IDENTITY] = {"identity", SPACE_FAMILY_IDENTITY, 0, {RELU}},
    [SPACE_OP_SEP3X3] = {"sep3x3", SPACE_FAMILY_SEP, 8, SEP(3)},
    [SPACE_OP_SEP5X5] = {"sep5x5", SPACE_FAMILY_SEP, 8, SEP(5)},
    [SPACE_OP_SEP7X7] = {"sep7x7", SPACE_FAMILY_SEP, 8, SEP(7)},
    [SPACE_OP_CONV1X7_7X1] = {"conv1x7_7x1",
                              SPACE_FAMILY_CONV,
                              4,
                              {RELU, CONV(1, 7, 1, 1, "conv1x7"), CONV(7, 1, 1, 0, "conv7x1"),
                               BN("bn")}},
    [SPACE_OP_AVG3X3] = {"avg3x3", SPACE_FAMILY_POOL, 1, {{SPACE_L_AVGPOOL, 3, 3, 1, 1, NULL}}},
    [SPACE_OP_MAX3X3] = {"max3x3", SPACE_FAMILY_POOL, 1, {{SPACE_L_MAXPOOL, 3, 3, 1, 1, NULL}}},
    [SPACE_OP_DIL3X3] = {"dil3x3", SPACE_FAMILY_CONV, 3, {RELU, CONV(3, 3, 2, 1, "conv"), BN("bn")}},
    // NASNet's five further operators (Zoph et al. 2018, s.3).
    [SPACE_OP_CONV1X3_3X1] = {"conv1x3_3x1",
                              SPACE_FAMILY_CONV,
                              4,
                              {RELU, CONV(1, 3, 1, 1, "conv1x3"), CONV(3, 1, 1, 0, "conv3x1"),
                               BN("bn")}},
    [SPACE_OP_MAX5X5] = {"max5x5", SPACE_FAMILY_POOL, 1, {{SPACE_L_MAXPOOL, 5, 5, 1, 1, NULL}}},
    [SPACE_OP_MAX7X7] = {"max7x7", SPACE_FAMILY_POOL, 1, {{SPACE_L_MAXPOOL, 7, 7, 1, 1, NULL}}},
    [SPACE_OP_CONV1X1] = {"conv1x1", SPACE_FAMILY_CONV, 3, {RELU, CONV(1, 1, 1, 1, "conv"), BN("bn")}},
    [SPACE_OP_CONV3X3] = {"conv3x3", SPACE_FAMILY_CONV, 3, {RELU, CONV(3, 3, 1, 1, "conv"), BN("bn")}},
};

static const space_op_def PROJECTION = {
    "projection", SPACE_FAMILY_IDENTITY, 3, {RELU, CONV(1, 1, 1, 1, "conv"), BN("bn")}};

const space_op_def *space_op_def_of(int op) {
  return (op >= 0 && op < SPACE_NUM_OPS) ? &OPS[op] : NULL;
}

const space_op_def *space_op_layers(int op, int strided) {
  const space_op_def *d = space_op_def_of(op);
  if (!d || !strided) return d;
  for (int i = 0; i < d->nlayers; i++)
    if (d->layer[i].strided) return d;
  return &PROJECTION;
}

const space_op_def *space_op_projection(void) { return &PROJECTION; }

const char *space_layer_kind_name(int kind) {
  static const char *const N[] = {"relu", "conv", "dw", "bn", "max", "avg"};
  return (kind >= 0 && kind < (int)(sizeof N / sizeof N[0])) ? N[kind] : "?";
}

int space_layer_is_inner(const space_layer *l) {
  return l->kind == SPACE_L_CONV && l->name && !strcmp(l->name, "pw1");
}

int space_op_has_inner(int op) {
  const space_op_def *d = space_op_def_of(op);
  for (int i = 0; d && i < d->nlayers; i++)
    if (space_layer_is_inner(&d->layer[i])) return 1;
  return 0;
}
