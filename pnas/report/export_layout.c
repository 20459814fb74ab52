// The resolved layout of the child network for export (see export.h): per-cell filters, stride,
// H[c-2] preprocessing and shapes from the network walk (searchspace/layout.h), and the ordered
// list of trainable tensors, whose total is checked against cost_network().
#include "pnas/report/export.h"

#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "searchspace/ops.h"


const char *export_pp_name(space_pp pp) {
  switch (pp) {
  case SPACE_PP_NONE:
    return "none";
  case SPACE_PP_FR:
    return "fr";
  case SPACE_PP_CONV:
    return "conv";
  }
  return "?";
}

// Stores one cell of the walk (searchspace/layout.h).
static void keep_cell(void *ctx, const space_cell_layout *L) {
  export_net *net = ctx;
  if (L->index < EXPORT_MAX_CELLS) net->cells[L->index] = *L;
}

static void count_tensor(void *ctx, const char *name, const int *shape, int ndim) {
  (void)ctx, (void)name, (void)shape, (void)ndim;
}

int export_net_init(export_net *net, const space_cell *cell, const cost_config *cfg, char *err,
                    size_t errlen) {
  memset(net, 0, sizeof *net);
  if (cell->nblocks < 1 || cell->nblocks > SPACE_MAX_BLOCKS) {
    pnas_seterr(err, errlen, "cell has %d blocks", cell->nblocks);
    return -1;
  }
  if (cfg->N < 1 || 3 * cfg->N + 4 > EXPORT_MAX_CELLS) {
    pnas_seterr(err, errlen, "N=%d is out of range (1..%d)", cfg->N, (EXPORT_MAX_CELLS - 4) / 3);
    return -1;
  }
  // cost_network validates the rest of the configuration and gives the totals we check against.
  if (cost_network(cell, cfg, &net->cost, err, errlen)) return -1;
  net->cell = *cell;
  net->cfg = *cfg;
  space_net_layout L;
  if (space_net_walk(cell, cfg, &L, keep_cell, net, err, errlen)) return -1;
  net->stem_c = L.c, net->stem_stride = L.stride, net->stem_pad = L.pad;
  net->stem_h = L.h, net->stem_w = L.w;
  if (net->stem_c < 1 || (cfg->F < 4 && cfg->stem == COST_STEM_IMAGENET) || cfg->F < 2) {
    pnas_seterr(err, errlen, "F=%d / stem multiplier %g leave a layer without channels", cfg->F,
            cfg->stem_mult);
    return -1;
  }
  net->nstem_cells = cfg->stem == COST_STEM_IMAGENET ? 2 : 0;
  if (L.ncells > EXPORT_MAX_CELLS) // never with N <= 64 (checked above); the array's bound
    return pnas_seterr(err, errlen, "%d cells: more than the exporter holds (%d)", L.ncells,
                       EXPORT_MAX_CELLS);
  net->ncells = L.ncells;
  net->final_c = L.final_c;
  // The exported module and the cost model must describe the same network.
  int64_t total = export_tensors(net, count_tensor, NULL);
  if (total != net->cost.params) {
    pnas_seterr(err, errlen,
            "internal error: export layout has %lld parameters but the cost model says %lld",
            (long long)total, (long long)net->cost.params);
    return -1;
  }
  return 0;
}

// ---------------------------------------------------------------- tensor enumeration

typedef struct {
  export_tensor_fn fn;
  void *ctx;
  int64_t total;
} walker;

static void emit(walker *w, const char *name, int ndim, int a, int b, int c, int d) {
  int shape[4] = {a, b, c, d};
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  w->total += n;
  w->fn(w->ctx, name, shape, ndim);
}

// A conv weight `prefix.weight` (cout, cin, kh, kw).
static void conv_w(walker *w, const char *prefix, int cout, int cin, int kh, int kw) {
  char name[176];
  snprintf(name, sizeof name, "%s.weight", prefix);
  emit(w, name, 4, cout, cin, kh, kw);
}

static void bn_wb(walker *w, const char *prefix, int c) {
  char name[176];
  snprintf(name, sizeof name, "%s.weight", prefix);
  emit(w, name, 1, c, 0, 0, 0);
  snprintf(name, sizeof name, "%s.bias", prefix);
  emit(w, name, 1, c, 0, 0, 0);
}

// An op's tensors follow its rows in the operator table (searchspace/ops.h): the exported
// module is an nn.Sequential of the layers, so a layer's index there is its index in the row
// (ReLU and pooling hold no parameters but take an index).
// inner: a separable op's channels after its pw1 (C unless pruned, searchspace/cost.h).
static void op_tensors(walker *w, const char *p, int op, int C, int inner, int strided) {
  const space_op_def *d = space_op_layers(op, strided);
  char q[160];
  int c = C; // channels flowing through the layers
  for (int i = 0; i < d->nlayers; i++) {
    const space_layer *l = &d->layer[i];
    snprintf(q, sizeof q, "%s.%d", p, i);
    if (l->kind == SPACE_L_CONV) {
      int cout = space_layer_is_inner(l) ? inner : C;
      conv_w(w, q, cout, c, l->kh, l->kw);
      c = cout;
    } else if (l->kind == SPACE_L_DWCONV) {
      conv_w(w, q, c, 1, l->kh, l->kw); // groups = c
    } else if (l->kind == SPACE_L_BN) {
      bn_wb(w, q, c);
    }
  }
}

int64_t export_tensors(const export_net *net, export_tensor_fn fn, void *ctx) {
  walker w = {fn, ctx, 0};
  char p[160];
  conv_w(&w, "stem.0", net->stem_c, net->cfg.in_c, 3, 3);
  bn_wb(&w, "stem.1", net->stem_c);
  for (int i = 0; i < net->ncells; i++) {
    const export_cell_layout *L = &net->cells[i];
    int F = L->filters;
    if (L->pp == SPACE_PP_FR) {
      snprintf(p, sizeof p, "cells.%d.pre_pp.conv_a", i);
      conv_w(&w, p, F / 2, L->pp_c, 1, 1);
      snprintf(p, sizeof p, "cells.%d.pre_pp.conv_b", i);
      conv_w(&w, p, F - F / 2, L->pp_c, 1, 1);
      snprintf(p, sizeof p, "cells.%d.pre_pp.bn", i);
      bn_wb(&w, p, F);
    } else if (L->pp == SPACE_PP_CONV) {
      snprintf(p, sizeof p, "cells.%d.pre_pp.1", i);
      conv_w(&w, p, F, L->pp_c, 1, 1);
      snprintf(p, sizeof p, "cells.%d.pre_pp.2", i);
      bn_wb(&w, p, F);
    }
    snprintf(p, sizeof p, "cells.%d.pre_prev.1", i);
    conv_w(&w, p, F, L->prev_c, 1, 1);
    snprintf(p, sizeof p, "cells.%d.pre_prev.2", i);
    bn_wb(&w, p, F);
    int nb;
    const space_block *blocks = space_cell_blocks(&net->cell, L->kind, &nb);
    for (int b = 0; b < nb; b++) {
      const space_block *blk = &blocks[b];
      snprintf(p, sizeof p, "cells.%d.ops.%d", i, 2 * b);
      op_tensors(&w, p, blk->op1, F, cost_inner(net->cfg.widths, i, b, 0, F),
                 L->stride == 2 && blk->in1 < 2);
      snprintf(p, sizeof p, "cells.%d.ops.%d", i, 2 * b + 1);
      op_tensors(&w, p, blk->op2, F, cost_inner(net->cfg.widths, i, b, 1, F),
                 L->stride == 2 && blk->in2 < 2);
    }
  }
  emit(&w, "classifier.weight", 2, net->cfg.classes, net->final_c, 0, 0);
  emit(&w, "classifier.bias", 1, net->cfg.classes, 0, 0, 0);
  return w.total;
}
