// Cost model of the child network (DESIGN.md s.2): reads the network walk (layout.h) the
// exporter and the network builder read too, and sums trainable parameters (conv weights, depthwise weights, BN gamma+beta, FC weight+bias)
// and per-image multiply-adds (convolutions and the FC layer). It allocates nothing.
#include "searchspace/cost.h"

#include <string.h>

#include "searchspace/layout.h"
#include "searchspace/ops.h"

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

static void dwconv(tally *t, int c, int kh, int kw, shape3 out) {
  t->params += (int64_t)c * kh * kw;
  t->madds += (int64_t)c * kh * kw * out.h * out.w;
}

static void bn(tally *t, int c) { t->params += 2 * (int64_t)c; }

static int half(int x) { return (x + 1) / 2; } // 'same' padding, stride 2

// One branch op on F channels (its rows in ops.h): out is the branch output shape, strided says
// whether the op applies stride 2 (only ops that read the cell inputs in a reduction cell).
// Every layer's output has the branch's output shape.
// inner: the channels after a separable op's pw1 (space_op_inner; F when unpruned).
static void op_cost(tally *t, int op, int F, int inner, int strided, shape3 out) {
  const space_op_def *d = space_op_layers(op, strided);
  int c = F; // channels flowing through the layers
  for (int i = 0; i < d->nlayers; i++) {
    const space_layer *l = &d->layer[i];
    if (l->kind == SPACE_L_CONV) {
      int cout = space_layer_is_inner(l) ? inner : F;
      conv(t, c, cout, l->kh, l->kw, out);
      c = cout;
    } else if (l->kind == SPACE_L_DWCONV) {
      dwconv(t, c, l->kh, l->kw, out);
    } else if (l->kind == SPACE_L_BN) {
      bn(t, c);
    }
  }
}

typedef struct {
  tally t;
  const space_cell *cell;
  const cost_widths *widths;
} walk_ctx;

// One cell of the walk (layout.h): H[c-2] and H[c-1] preprocessing, then every branch op.
static void cell_cost(void *ctx, const space_cell_layout *L) {
  walk_ctx *w = ctx;
  tally *t = &w->t;
  int F = L->filters;
  if (L->pp == SPACE_PP_FR) {
    shape3 o = {F, half(L->pp_h), half(L->pp_w)};
    conv(t, L->pp_c, F / 2, 1, 1, o);
    conv(t, L->pp_c, F - F / 2, 1, 1, o);
    bn(t, F);
  } else if (L->pp == SPACE_PP_CONV) {
    conv(t, L->pp_c, F, 1, 1, (shape3){L->pp_c, L->pp_h, L->pp_w});
    bn(t, F);
  }
  // H[c-1]: always ReLU-1x1-BN.
  conv(t, L->prev_c, F, 1, 1, (shape3){F, L->prev_h, L->prev_w});
  bn(t, F);
  shape3 out = {F, L->out_h, L->out_w};
  int nb;
  const space_block *blocks = space_cell_blocks(w->cell, L->kind, &nb);
  for (int i = 0; i < nb; i++) {
    const space_block *b = &blocks[i];
    const cost_widths *cw = w->widths;
    op_cost(t, b->op1, F, cost_inner(cw, L->index, i, 0, F), L->stride == 2 && b->in1 < 2, out);
    op_cost(t, b->op2, F, cost_inner(cw, L->index, i, 1, F), L->stride == 2 && b->in2 < 2, out);
  }
}

int cost_config_for_dataset(const char *name, cost_config *cfg) {
  cost_config c = {.N = 3, .F = 48, .stem = COST_STEM_CIFAR, .stem_mult = 3, .classes = 10};
  if (!strcmp(name, "cifar10")) {
    c.in_c = 3, c.in_h = c.in_w = 32;
  } else if (!strcmp(name, "fashion-mnist")) {
    c.in_c = 1, c.in_h = c.in_w = 28;
  } else if (!strcmp(name, "imagenet")) {
    c.in_c = 3, c.in_h = c.in_w = 224, c.classes = 1000;
    c.stem = COST_STEM_IMAGENET, c.stem_mult = 1;
  } else {
    return -1;
  }
  *cfg = c;
  return 0;
}

int cost_network(const space_cell *cell, const cost_config *cfg, cost_result *r, char *err,
                 size_t errlen) {
  walk_ctx w = {{0, 0}, cell, cfg->widths};
  space_net_layout net;
  if (space_net_walk(cell, cfg, &net, cell_cost, &w, err, errlen)) return -1;
  // Stem: 3x3 conv + BN (ImageNet: stride-2 valid; CIFAR: stride 1 'same').
  conv(&w.t, cfg->in_c, net.c, 3, 3, (shape3){net.c, net.h, net.w});
  bn(&w.t, net.c);
  // Head: ReLU, global average pool, FC with bias.
  w.t.params += (int64_t)net.final_c * cfg->classes + cfg->classes;
  w.t.madds += (int64_t)net.final_c * cfg->classes;
  r->params = w.t.params;
  r->mult_adds = w.t.madds;
  return 0;
}
