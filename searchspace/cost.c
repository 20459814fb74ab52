// Cost model of the child network (DESIGN.md s.2): walks the same layout the trainer builds
// and sums trainable parameters (conv weights, depthwise weights, BN gamma+beta, FC weight+bias)
// and per-image multiply-adds (convolutions and the FC layer). It allocates nothing.
#include "searchspace/cost.h"

#include <stdarg.h>
#include <stdio.h>

typedef struct {
  int c, h, w;
} shape3;

typedef struct {
  int64_t params, madds;
} tally;

static void conv(tally *t, int cin, int cout, int kh, int kw, shape3 out) {
  t->params += (int64_t)cin * cout * kh * kw;
  t->madds += (int64_t)cin * cout * kh * kw * out.h * out.w;
}

static void dwconv(tally *t, int c, int k, shape3 out) {
  t->params += (int64_t)c * k * k;
  t->madds += (int64_t)c * k * k * out.h * out.w;
}

static void bn(tally *t, int c) { t->params += 2 * (int64_t)c; }

static int half(int x) { return (x + 1) / 2; } // 'same' padding, stride 2

// One branch op on F channels: out is the branch output shape, strided says whether the op
// itself applies stride 2 (only ops that read the cell inputs in a reduction cell).
static void op_cost(tally *t, int op, int F, int strided, shape3 out) {
  switch (op) {
  case SPACE_OP_SEP3X3:
  case SPACE_OP_SEP5X5:
  case SPACE_OP_SEP7X7: {
    int k = op == SPACE_OP_SEP3X3 ? 3 : op == SPACE_OP_SEP5X5 ? 5 : 7;
    for (int rep = 0; rep < 2; rep++) {
      dwconv(t, F, k, out);
      conv(t, F, F, 1, 1, out);
      bn(t, F);
    }
    break;
  }
  case SPACE_OP_IDENTITY:
    if (strided) {
      conv(t, F, F, 1, 1, out);
      bn(t, F);
    }
    break;
  case SPACE_OP_AVG3X3:
  case SPACE_OP_MAX3X3:
    break;
  case SPACE_OP_CONV1X7_7X1:
    conv(t, F, F, 1, 7, out);
    conv(t, F, F, 7, 1, out);
    bn(t, F);
    break;
  case SPACE_OP_DIL3X3:
    conv(t, F, F, 3, 3, out);
    bn(t, F);
    break;
  }
}

// One cell with F filters reading prev = H[c-1] and pp = H[c-2]; returns the output shape.
static shape3 cell_cost(tally *t, const space_cell *cell, int F, int stride, shape3 prev,
                        shape3 pp) {
  // H[c-2]: factorized reduction when the spatial size differs, 1x1 when channels differ.
  if (pp.h != prev.h || pp.w != prev.w) {
    shape3 o = {F, half(pp.h), half(pp.w)};
    conv(t, pp.c, F / 2, 1, 1, o);
    conv(t, pp.c, F - F / 2, 1, 1, o);
    bn(t, F);
  } else if (pp.c != F) {
    conv(t, pp.c, F, 1, 1, pp);
    bn(t, F);
  }
  // H[c-1]: always ReLU-1x1-BN.
  shape3 p1 = {F, prev.h, prev.w};
  conv(t, prev.c, F, 1, 1, p1);
  bn(t, F);
  shape3 out = {F, stride == 2 ? half(prev.h) : prev.h, stride == 2 ? half(prev.w) : prev.w};
  for (int i = 0; i < cell->nblocks; i++) {
    const space_block *b = &cell->b[i];
    op_cost(t, b->op1, F, stride == 2 && b->in1 < 2, out);
    op_cost(t, b->op2, F, stride == 2 && b->in2 < 2, out);
  }
  out.c = F * cell->nblocks;
  return out;
}

int cost_network(const space_cell *cell, const cost_config *cfg, cost_result *r, char *err,
                 size_t errlen) {
  if (cell->nblocks < 1 || cfg->N < 1 || cfg->F < 1 || cfg->in_c < 1 || cfg->in_h < 1 ||
      cfg->in_w < 1 || cfg->classes < 1 || cfg->stem_mult <= 0) {
    if (err && errlen)
      snprintf(err, errlen, "cost: invalid configuration (N=%d F=%d input %dx%dx%d classes %d)",
               cfg->N, cfg->F, cfg->in_c, cfg->in_h, cfg->in_w, cfg->classes);
    return -1;
  }
  tally t = {0, 0};
  int ncells = 3 * cfg->N;
  int red1 = ncells / 3, red2 = 2 * ncells / 3;
  shape3 prev, pp;
  if (cfg->stem == COST_STEM_IMAGENET) {
    if (cfg->in_h < 3 || cfg->in_w < 3) {
      if (err && errlen) snprintf(err, errlen, "cost: image smaller than the 3x3 stem");
      return -1;
    }
    int sc = (int)(32 * cfg->stem_mult);
    shape3 s = {sc, (cfg->in_h - 3) / 2 + 1, (cfg->in_w - 3) / 2 + 1}; // 3x3 stride-2 valid
    conv(&t, cfg->in_c, sc, 3, 3, s);
    bn(&t, sc);
    prev = pp = s;
    // Two stride-2 stem cells at F/4 and F/2; the first uses the stem conv for both inputs.
    for (int k = 0; k < 2; k++) {
      int Fk = k == 0 ? cfg->F / 4 : cfg->F / 2;
      shape3 o = cell_cost(&t, cell, Fk, 2, prev, pp);
      pp = prev;
      prev = o;
    }
  } else {
    int sc = (int)(cfg->F * cfg->stem_mult);
    shape3 s = {sc, cfg->in_h, cfg->in_w};
    conv(&t, cfg->in_c, sc, 3, 3, s);
    bn(&t, sc);
    prev = pp = s;
  }
  int F = cfg->F;
  for (int i = 0; i < ncells; i++) {
    int stride = 1;
    if (i == red1 || i == red2) {
      stride = 2;
      F *= 2;
    }
    shape3 o = cell_cost(&t, cell, F, stride, prev, pp);
    pp = prev;
    prev = o;
  }
  // Head: ReLU, global average pool, FC with bias.
  t.params += (int64_t)prev.c * cfg->classes + cfg->classes;
  t.madds += (int64_t)prev.c * cfg->classes;
  r->params = t.params;
  r->mult_adds = t.madds;
  return 0;
}
