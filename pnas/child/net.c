// Child network construction and execution (see net.h): the builder emits a tape of nodes (one
// kernel call each) and tensors; the planner sizes the activation arena, packs gradient buffers
// by liveness over the backward sweep, and allocates everything once through the backend.
// ReLU of a tensor is computed once and shared by every op that reads it (same maths as TF,
// where each op applies its own ReLU).
#include "pnas/child/net.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "searchspace/layout.h"
#include "searchspace/ops.h"

typedef enum {
  ND_CONV,
  ND_DW,
  ND_BN,
  ND_RELU,
  ND_MAXPOOL,
  ND_AVGPOOL,
  ND_ADD,
  ND_CONCAT,
  ND_ADD_CONCAT, // a block's add written into its slice of the cell output (a = channel offset)
  ND_SUB,
  ND_GAP,
  ND_FC,
} nd_kind;

typedef struct {
  int c, h, w;
  size_t off, goff;   // floats into the activation / gradient arena
  int minprod;        // first node writing it (-1: the input image)
  int lastcons;       // last node reading it (-1: none)
} ntensor;

typedef struct {
  nd_kind k;
  int in, in2, out;   // tensor ids (in2 only for add)
  int p, p2;          // parameter ids (conv/dw weight; BN gamma/beta; fc weight/bias)
  size_t bn;          // BN: offset of (mean, invstd, run_mean, run_var) (4*C floats)
  int a;              // concat: channel offset; sub: offset; pool: stride
  int pk;             // pool: window pk x pk, padding pk / 2
  kn_conv cv;         // conv / dw geometry with n = batch
} nnode;

typedef enum { INIT_UNIFORM_FAN_IN, INIT_ONE, INIT_ZERO } init_kind;

struct net {
  kn_ctx *ctx;
  const kn_backend *be;
  net_config cfg;
  ntensor *t;
  int nt, capt;
  nnode *nd;
  int nn, capn;
  net_param *p;
  init_kind *pinit;
  int *pfan;
  int np, capp;
  int *relu_of; // memo: tensor id -> id of its ReLU (or -1), sized capt
  int64_t nparams;
  size_t act_floats, grad_floats, bn_floats;
  float *act, *grad, *params, *pgrad, *mom, *bnbuf, *loss;
  int32_t *labels;
  int input, logits;
  int oom;           // builder ran out of host memory
  char prefix[24];   // parameter name prefix of the part being built
};

// ---------------------------------------------------------------- builder
static void *grow(void *p, int *cap, int need, size_t elem) {
  if (need <= *cap) return p;
  int nc = *cap ? *cap * 2 : 64;
  while (nc < need) nc *= 2;
  void *q = realloc(p, (size_t)nc * elem);
  if (q) *cap = nc;
  return q;
}

static int new_tensor(net *n, int c, int h, int w) {
  int cap = n->capt;
  ntensor *t = grow(n->t, &cap, n->nt + 1, sizeof *t);
  if (!t) {
    n->oom = 1;
    return 0;
  }
  if (cap != n->capt) {
    int *r = realloc(n->relu_of, (size_t)cap * sizeof *r);
    if (!r) {
      n->t = t;
      n->oom = 1;
      return 0;
    }
    n->relu_of = r;
  }
  n->t = t;
  n->capt = cap;
  n->t[n->nt] = (ntensor){c, h, w, 0, 0, -1, -1};
  n->relu_of[n->nt] = -1;
  return n->nt++;
}

static nnode *new_node(net *n, nd_kind k, int in, int out) {
  nnode *nd = grow(n->nd, &n->capn, n->nn + 1, sizeof *nd);
  if (!nd) {
    n->oom = 1;
    return NULL;
  }
  n->nd = nd;
  nnode *x = &n->nd[n->nn++];
  memset(x, 0, sizeof *x);
  x->k = k;
  x->in = in;
  x->in2 = -1;
  x->out = out;
  x->p = x->p2 = -1;
  return x;
}

static int new_param(net *n, const char *part, init_kind init, int fan_in, int decay, int ndim,
                     int d0, int d1, int d2, int d3) {
  int cap = n->capp;
  net_param *p = grow(n->p, &cap, n->np + 1, sizeof *p);
  if (p) n->p = p;
  int cap2 = n->capp;
  init_kind *pi = grow(n->pinit, &cap2, n->np + 1, sizeof *pi);
  if (pi) n->pinit = pi;
  int cap3 = n->capp;
  int *pf = grow(n->pfan, &cap3, n->np + 1, sizeof *pf);
  if (pf) n->pfan = pf;
  if (!p || !pi || !pf) {
    n->oom = 1;
    return -1;
  }
  n->capp = cap;
  net_param *x = &n->p[n->np];
  memset(x, 0, sizeof *x);
  snprintf(x->name, sizeof x->name, "%s%s", n->prefix, part);
  x->ndim = ndim;
  int dims[4] = {d0, d1, d2, d3};
  x->numel = 1;
  for (int i = 0; i < 4; i++) {
    x->shape[i] = i < ndim ? dims[i] : 1;
    if (i < ndim) x->numel *= dims[i];
  }
  x->offset = n->nparams;
  x->decay = decay;
  n->nparams += x->numel;
  n->pinit[n->np] = init;
  n->pfan[n->np] = fan_in;
  return n->np++;
}

static int emit_relu(net *n, int x) {
  if (n->relu_of[x] >= 0) return n->relu_of[x];
  ntensor s = n->t[x];
  int y = new_tensor(n, s.c, s.h, s.w);
  if (!new_node(n, ND_RELU, x, y)) return 0;
  n->relu_of[x] = y;
  return y;
}

static int emit_conv(net *n, int x, int cout, int kh, int kw, int stride, int dil,
                     const char *pname) {
  ntensor s = n->t[x];
  kn_conv cv;
  kn_conv_init(&cv, n->cfg.batch, s.c, s.h, s.w, cout, kh, kw, stride, dil);
  int p = new_param(n, pname, INIT_UNIFORM_FAN_IN, s.c * kh * kw, 1, 4, cout, s.c, kh, kw);
  int y = new_tensor(n, cout, cv.ho, cv.wo);
  nnode *nd = new_node(n, ND_CONV, x, y);
  if (!nd) return 0;
  nd->p = p;
  nd->cv = cv;
  return y;
}

static int emit_dw(net *n, int x, int k, int stride, const char *pname) {
  ntensor s = n->t[x];
  kn_conv cv;
  kn_conv_init(&cv, n->cfg.batch, s.c, s.h, s.w, s.c, k, k, stride, 1);
  int p = new_param(n, pname, INIT_UNIFORM_FAN_IN, k * k, 1, 4, s.c, 1, k, k);
  int y = new_tensor(n, s.c, cv.ho, cv.wo);
  nnode *nd = new_node(n, ND_DW, x, y);
  if (!nd) return 0;
  nd->p = p;
  nd->cv = cv;
  return y;
}

static int emit_bn(net *n, int x, const char *pname) {
  ntensor s = n->t[x];
  char nm[80];
  snprintf(nm, sizeof nm, "%s.gamma", pname);
  int g = new_param(n, nm, INIT_ONE, 0, 0, 1, s.c, 0, 0, 0);
  snprintf(nm, sizeof nm, "%s.beta", pname);
  int b = new_param(n, nm, INIT_ZERO, 0, 0, 1, s.c, 0, 0, 0);
  int y = new_tensor(n, s.c, s.h, s.w);
  nnode *nd = new_node(n, ND_BN, x, y);
  if (!nd) return 0;
  nd->p = g;
  nd->p2 = b;
  nd->bn = n->bn_floats;
  n->bn_floats += 4 * (size_t)s.c;
  return y;
}

static int emit_pool(net *n, int x, int max, int k, int stride) {
  ntensor s = n->t[x];
  int y = new_tensor(n, s.c, (s.h - 1) / stride + 1, (s.w - 1) / stride + 1);
  nnode *nd = new_node(n, max ? ND_MAXPOOL : ND_AVGPOOL, x, y);
  if (!nd) return 0;
  nd->a = stride;
  nd->pk = k;
  return y;
}

static int emit_sub(net *n, int x, int off) {
  ntensor s = n->t[x];
  int y = new_tensor(n, s.c, (s.h + 1) / 2, (s.w + 1) / 2);
  nnode *nd = new_node(n, ND_SUB, x, y);
  if (!nd) return 0;
  nd->a = off;
  return y;
}

static int emit_add(net *n, int a, int b) {
  ntensor s = n->t[a];
  int y = new_tensor(n, s.c, s.h, s.w);
  nnode *nd = new_node(n, ND_ADD, a, y);
  if (!nd) return 0;
  nd->in2 = b;
  return y;
}

static void emit_concat(net *n, int x, int y, int coff) {
  nnode *nd = new_node(n, ND_CONCAT, x, y);
  if (nd) nd->a = coff;
}

static void emit_add_concat(net *n, int a, int b, int y, int coff) {
  nnode *nd = new_node(n, ND_ADD_CONCAT, a, y);
  if (!nd) return;
  nd->in2 = b;
  nd->a = coff;
}

// ReLU - 1x1 conv (optionally stride 2 by sampling) - BN
static int relu_conv1x1_bn(net *n, int x, int F, int stride, const char *what) {
  char nm[72];
  int r = emit_relu(n, x);
  if (stride == 2) r = emit_sub(n, r, 0); // TF SAME 1x1 stride 2 samples rows/cols 0, 2, ...
  snprintf(nm, sizeof nm, "%s.conv", what);
  int c = emit_conv(n, r, F, 1, 1, 1, 1, nm);
  snprintf(nm, sizeof nm, "%s.bn", what);
  return emit_bn(n, c, nm);
}

// One branch: the layers of the op's row in the operator table (searchspace/ops.h), the layer
// marked strided applying `stride`. A strided 1x1 conv samples rows/cols 0, 2, ... (TF SAME).
// inner: the channels of a separable op after its pw1 (F unless pruned; cost.h cost_widths).
static int emit_op(net *n, int x, int op, int F, int inner, int stride, const char *what) {
  const space_op_def *d = space_op_layers(op, stride == 2);
  PNAS_ASSERT(d);
  char nm[72];
  int y = x;
  for (int i = 0; i < d->nlayers; i++) {
    const space_layer *l = &d->layer[i];
    int s = l->strided ? stride : 1;
    if (l->name) snprintf(nm, sizeof nm, "%s.%s", what, l->name);
    switch (l->kind) {
    case SPACE_L_RELU:
      y = emit_relu(n, y);
      break;
    case SPACE_L_CONV:
      if (l->kh == 1 && l->kw == 1 && s == 2) {
        y = emit_sub(n, y, 0);
        s = 1;
      }
      y = emit_conv(n, y, space_layer_is_inner(l) ? inner : F, l->kh, l->kw, s, l->dil, nm);
      break;
    case SPACE_L_DWCONV:
      PNAS_ASSERT(l->kh == l->kw && l->dil == 1); // the depthwise kernels are square, undilated
      y = emit_dw(n, y, l->kh, s, nm);
      break;
    case SPACE_L_BN:
      y = emit_bn(n, y, nm);
      break;
    case SPACE_L_MAXPOOL:
    case SPACE_L_AVGPOOL:
      // the pooling kernels have a square window k in {3, 5, 7}, padding k/2
      PNAS_ASSERT(l->kh == l->kw && l->kh % 2 == 1 && l->kh >= 3 && l->kh <= 7);
      y = emit_pool(n, y, l->kind == SPACE_L_MAXPOOL, l->kh, s);
      break;
    default:
      PNAS_ASSERT(!"unknown layer kind");
    }
  }
  return y;
}

// One cell of the network walk (searchspace/layout.h: filters, stride, how H[c-2] is brought to
// the cell's shape); prev = H[c-1], pp = H[c-2]. Returns the output tensor (B*F ch).
static int emit_cell(net *n, const space_cell *cell, const space_cell_layout *L, int prev, int pp) {
  int F = L->filters, stride = L->stride;
  snprintf(n->prefix, sizeof n->prefix, "cell%d.", L->index);
  ntensor a = n->t[prev], b = n->t[pp];
  PNAS_ASSERT(a.c == L->prev_c && a.h == L->prev_h && a.w == L->prev_w && b.c == L->pp_c &&
              b.h == L->pp_h && b.w == L->pp_w); // the tape follows the walk
  int h1, h0;
  if (L->pp == SPACE_PP_FR) { // factorized reduction of H[c-2]
    int r = emit_relu(n, pp);
    int ca = emit_conv(n, emit_sub(n, r, 0), F / 2, 1, 1, 1, 1, "pp.fr_a");
    int cb = emit_conv(n, emit_sub(n, r, 1), F - F / 2, 1, 1, 1, 1, "pp.fr_b");
    ntensor s = n->t[ca];
    int cat = new_tensor(n, F, s.h, s.w);
    emit_concat(n, ca, cat, 0);
    emit_concat(n, cb, cat, F / 2);
    h1 = emit_bn(n, cat, "pp.bn");
  } else if (L->pp == SPACE_PP_CONV) {
    h1 = relu_conv1x1_bn(n, pp, F, 1, "pp");
  } else {
    h1 = pp;
  }
  h0 = relu_conv1x1_bn(n, prev, F, 1, "prev");
  int states[SPACE_MAX_BLOCKS + 2] = {0};
  states[0] = h0;
  states[1] = h1;
  int B;
  const space_block *blocks = space_cell_blocks(cell, L->kind, &B);
  unsigned cat = space_concat_mask(cell, L->kind);
  // A block whose output no later block reads is added straight into its slice of the cell
  // output (no separate sum tensor, no concat copy); the others are summed, then copied.
  int later[SPACE_MAX_BLOCKS] = {0}, brs[SPACE_MAX_BLOCKS][2] = {{0}};
  for (int j = 0; j < B; j++)
    for (int i = 0; i < B; i++)
      if (blocks[j].in1 == i + 2 || blocks[j].in2 == i + 2) later[i] = 1;
  for (int i = 0; i < B; i++) {
    const space_block *blk = &blocks[i];
    int in[2] = {blk->in1, blk->in2}, op[2] = {blk->op1, blk->op2};
    for (int s = 0; s < 2; s++) {
      char what[48];
      snprintf(what, sizeof what, "%sb%d.%s.%s", L->kind ? "red." : "", i + 1,
               s ? "right" : "left", space_op_name(op[s]));
      brs[i][s] = emit_op(n, states[in[s]], op[s], F, cost_inner(n->cfg.widths, L->index, i, s, F),
                          stride == 2 && in[s] < 2 ? 2 : 1, what);
    }
    states[i + 2] = later[i] ? emit_add(n, brs[i][0], brs[i][1]) : -1;
  }
  ntensor o = n->t[brs[0][0]];
  PNAS_ASSERT(L->out_c == L->nout * F);
  int out = new_tensor(n, L->out_c, o.h, o.w), off = 0;
  // The concatenated states in id order: a PNAS cell every block; a NASNet cell its list (the
  // inputs 0 and 1 only in a normal cell, where they have the output's shape).
  for (int k = 0; k < 2; k++)
    if ((cat >> k) & 1) emit_concat(n, states[k], out, (off++) * F);
  for (int i = 0; i < B; i++) {
    if (!((cat >> (i + 2)) & 1)) continue;
    if (later[i]) emit_concat(n, states[i + 2], out, off * F);
    else emit_add_concat(n, brs[i][0], brs[i][1], out, off * F);
    off++;
  }
  PNAS_ASSERT(off == L->nout);
  return out;
}

// ---------------------------------------------------------------- planning
static size_t round16(size_t x) { return (x + 15) / 16 * 16; }

typedef struct {
  size_t off, size;
} range;
static int cmp_range(const void *a, const void *b) {
  size_t x = ((const range *)a)->off, y = ((const range *)b)->off;
  return x < y ? -1 : x > y;
}

// Gradient buffers: tensor t's gradient is live over node indices [minprod, lastcons]; two
// tensors share memory only when those intervals are disjoint. Greedy first fit, largest first.
static size_t pack_grads(net *n, size_t *sizes) {
  int T = n->nt;
  int *order = malloc((size_t)T * sizeof *order);
  int *placed = malloc((size_t)T * sizeof *placed);
  range *busy = malloc((size_t)T * sizeof *busy);
  if (!order || !placed || !busy) {
    free(order);
    free(placed);
    free(busy);
    return (size_t)-1;
  }
  int k = 0;
  for (int i = 0; i < T; i++)
    if (sizes[i]) order[k++] = i;
  // insertion sort by size, descending (T is a few hundred)
  for (int i = 1; i < k; i++) {
    int v = order[i], j = i - 1;
    while (j >= 0 && sizes[order[j]] < sizes[v]) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = v;
  }
  size_t total = 0;
  int np = 0;
  for (int i = 0; i < k; i++) {
    int t = order[i];
    ntensor *a = &n->t[t];
    int nb = 0;
    for (int j = 0; j < np; j++) {
      ntensor *b = &n->t[placed[j]];
      if (a->minprod <= b->lastcons && b->minprod <= a->lastcons)
        busy[nb++] = (range){b->goff, sizes[placed[j]]};
    }
    qsort(busy, (size_t)nb, sizeof *busy, cmp_range);
    size_t off = 0;
    for (int j = 0; j < nb; j++) {
      if (busy[j].off >= off + sizes[t]) break;
      if (busy[j].off + busy[j].size > off) off = busy[j].off + busy[j].size;
    }
    a->goff = off;
    if (off + sizes[t] > total) total = off + sizes[t];
    placed[np++] = t;
  }
  free(order);
  free(placed);
  free(busy);
  return total;
}

static void init_params(net *n, uint64_t seed, float *host) {
  space_rng r;
  space_rng_seed(&r, seed);
  for (int i = 0; i < n->np; i++) {
    float *p = host + n->p[i].offset;
    for (int64_t j = 0; j < n->p[i].numel; j++) {
      switch (n->pinit[i]) {
      case INIT_UNIFORM_FAN_IN: {
        double bound = 1.0 / sqrt((double)n->pfan[i]);
        p[j] = (float)((2.0 * space_rng_uniform(&r) - 1.0) * bound);
        break;
      }
      case INIT_ONE:
        p[j] = 1.0f;
        break;
      case INIT_ZERO:
        p[j] = 0.0f;
        break;
      }
    }
  }
}

// The cells in the walk's order, each reading the two previous outputs.
typedef struct {
  net *n;
  const space_cell *cell;
  int prev, pp; // tensors H[c-1], H[c-2] for the next cell
} build_walk;

static void build_cell(void *ctx, const space_cell_layout *L) {
  build_walk *w = ctx;
  if (w->n->oom) return;
  int o = emit_cell(w->n, w->cell, L, w->prev, w->pp);
  w->pp = w->prev;
  w->prev = o;
}

int net_create(net **out, const space_cell *cell, const net_config *cfg, kn_ctx *ctx,
               uint64_t seed, char *err, size_t errlen) {
  *out = NULL;
  if (cell->nblocks < 1 || cell->nblocks > SPACE_MAX_BLOCKS || cfg->N < 1 || cfg->F < 2 ||
      cfg->in_c < 1 || cfg->in_h < 1 || cfg->in_w < 1 || cfg->classes < 1 || cfg->batch < 1 ||
      cfg->stem_mult <= 0)
    return pnas_seterr(err, errlen, "net: invalid configuration (N=%d F=%d input %dx%dx%d classes %d batch %d)",
                cfg->N, cfg->F, cfg->in_c, cfg->in_h, cfg->in_w, cfg->classes, cfg->batch);
  char why[160];
  if (space_check(cell, SPACE_ALL_OPS, why, sizeof why))
    return pnas_seterr(err, errlen, "net: invalid cell: %s", why);
  net *n = calloc(1, sizeof *n);
  if (!n) return pnas_seterr(err, errlen, "net: out of memory");
  n->ctx = ctx;
  n->be = ctx->be;
  n->cfg = *cfg;

  // --- build the tape
  n->input = new_tensor(n, cfg->in_c, cfg->in_h, cfg->in_w);
  snprintf(n->prefix, sizeof n->prefix, "stem.");
  cost_config cc = {.N = cfg->N, .F = cfg->F, .in_c = cfg->in_c, .in_h = cfg->in_h,
                    .in_w = cfg->in_w, .classes = cfg->classes, .stem = COST_STEM_CIFAR,
                    .stem_mult = cfg->stem_mult, .widths = cfg->widths};
  space_net_layout lay; // walked twice: the stem's channels first, then the cells in order
  if (space_net_walk(cell, &cc, &lay, NULL, NULL, err, errlen)) {
    net_free(n);
    return -1;
  }
  int stem = emit_bn(n, emit_conv(n, n->input, lay.c, 3, 3, 1, 1, "conv"), "bn");
  build_walk bw = {n, cell, stem, stem};
  space_net_walk(cell, &cc, &lay, build_cell, &bw, NULL, 0);
  int prev = bw.prev;
  snprintf(n->prefix, sizeof n->prefix, "head.");
  if (!n->oom) {
    ntensor last = n->t[prev];
    int g = new_tensor(n, last.c, 1, 1);
    nnode *gn = new_node(n, ND_GAP, emit_relu(n, prev), g);
    (void)gn;
    int w = new_param(n, "fc.weight", INIT_UNIFORM_FAN_IN, last.c, 1, 2, cfg->classes, last.c, 0, 0);
    int b = new_param(n, "fc.bias", INIT_UNIFORM_FAN_IN, last.c, 0, 1, cfg->classes, 0, 0, 0);
    n->logits = new_tensor(n, cfg->classes, 1, 1);
    nnode *fc = new_node(n, ND_FC, g, n->logits);
    if (fc) {
      fc->p = w;
      fc->p2 = b;
    }
  }
  if (n->oom) {
    net_free(n);
    return pnas_seterr(err, errlen, "net: out of memory while building the network");
  }

  // --- liveness of gradients
  for (int i = 0; i < n->nn; i++) {
    nnode *d = &n->nd[i];
    if (n->t[d->out].minprod < 0) n->t[d->out].minprod = i;
    n->t[d->in].lastcons = i;
    if (d->in2 >= 0) n->t[d->in2].lastcons = i;
  }
  n->t[n->logits].lastcons = n->nn; // written by the loss

  // --- sizes and arenas
  size_t *gsz = calloc((size_t)n->nt, sizeof *gsz);
  if (!gsz) {
    net_free(n);
    return pnas_seterr(err, errlen, "net: out of memory");
  }
  for (int i = 0; i < n->nt; i++) {
    ntensor *t = &n->t[i];
    size_t sz = round16((size_t)cfg->batch * t->c * t->h * t->w);
    t->off = n->act_floats;
    n->act_floats += sz;
    if (i != n->input && t->minprod >= 0 && t->lastcons >= 0) gsz[i] = sz;
  }
  n->grad_floats = pack_grads(n, gsz);
  free(gsz);
  if (n->grad_floats == (size_t)-1) {
    net_free(n);
    return pnas_seterr(err, errlen, "net: out of memory");
  }
  const kn_backend *be = n->be;
  n->act = be->alloc(ctx, n->act_floats * sizeof(float));
  n->grad = be->alloc(ctx, (n->grad_floats ? n->grad_floats : 1) * sizeof(float));
  n->params = be->alloc(ctx, (size_t)n->nparams * sizeof(float));
  n->pgrad = be->alloc(ctx, (size_t)n->nparams * sizeof(float));
  n->mom = be->alloc(ctx, (size_t)n->nparams * sizeof(float));
  n->bnbuf = be->alloc(ctx, n->bn_floats * sizeof(float));
  n->loss = be->alloc(ctx, 2 * sizeof(float)); // [0] the loss, [1] net_sgd's learning rate
  n->labels = be->alloc(ctx, (size_t)cfg->batch * sizeof(int32_t));
  if (!n->act || !n->grad || !n->params || !n->pgrad || !n->mom || !n->bnbuf || !n->loss ||
      !n->labels) {
    size_t mb = net_memory_bytes(n) >> 20;
    net_free(n);
    return pnas_seterr(err, errlen, "net: out of memory allocating %zu MiB of %s memory", mb, be->name);
  }
  for (int i = 0; i < n->np; i++) {
    n->p[i].data = n->params + n->p[i].offset;
    n->p[i].grad = n->pgrad + n->p[i].offset;
  }
  // host-side initial values, uploaded once
  float *host = malloc((size_t)(n->nparams > (int64_t)n->bn_floats ? n->nparams : (int64_t)n->bn_floats) *
                       sizeof(float));
  if (!host) {
    net_free(n);
    return pnas_seterr(err, errlen, "net: out of memory");
  }
  init_params(n, seed, host);
  be->upload(ctx, n->params, host, (size_t)n->nparams * sizeof(float));
  be->zero(ctx, n->mom, (size_t)n->nparams * sizeof(float));
  be->zero(ctx, n->act, n->act_floats * sizeof(float));
  memset(host, 0, n->bn_floats * sizeof(float));
  for (int i = 0; i < n->nn; i++)
    if (n->nd[i].k == ND_BN) {
      int c = n->t[n->nd[i].out].c;
      for (int j = 0; j < c; j++) host[n->nd[i].bn + 3 * (size_t)c + j] = 1.0f; // running var
    }
  be->upload(ctx, n->bnbuf, host, n->bn_floats * sizeof(float));
  free(host);
  *out = n;
  return 0;
}

void net_free(net *n) {
  if (!n) return;
  const kn_backend *be = n->be;
  float *bufs[] = {n->act, n->grad, n->params, n->pgrad, n->mom, n->bnbuf, n->loss};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
    if (bufs[i]) be->free(n->ctx, bufs[i]);
  if (n->labels) be->free(n->ctx, n->labels);
  free(n->t);
  free(n->nd);
  free(n->p);
  free(n->pinit);
  free(n->pfan);
  free(n->relu_of);
  free(n);
}

int net_param_count(const net *n) { return n->np; }
const net_param *net_param_at(const net *n, int i) { return &n->p[i]; }
int64_t net_num_params(const net *n) { return n->nparams; }
int net_num_nodes(const net *n) { return n->nn; }
size_t net_memory_bytes(const net *n) {
  return (n->act_floats + n->grad_floats + 3 * (size_t)n->nparams + n->bn_floats + 2) *
             sizeof(float) +
         (size_t)n->cfg.batch * sizeof(int32_t);
}

// Compulsory memory traffic of one training step (forward, backward, SGD) in bytes: every
// node reads its inputs and parameters once and writes its output once; backward reads the
// output gradient and what the op needs (its input for conv, depthwise, BN, ReLU, max pooling),
// and reads + writes (+=) the input and parameter gradients; SGD reads w, g, v and writes w, v.
// No cache reuse is assumed and scratch (padding copies, workspaces) is not counted.
double net_step_bytes(const net *n, int nb) {
  double fl = 0; // floats moved
  for (int i = 0; i < n->nn; i++) {
    const nnode *d = &n->nd[i];
    double in = (double)nb * n->t[d->in].c * n->t[d->in].h * n->t[d->in].w;
    double out = (double)nb * n->t[d->out].c * n->t[d->out].h * n->t[d->out].w;
    double par = 0;
    if (d->k == ND_CONV || d->k == ND_DW || d->k == ND_FC) par += (double)n->p[d->p].numel;
    if (d->k == ND_BN || d->k == ND_FC) par += (double)n->p[d->p2].numel;
    if (d->k == ND_BN) par += (double)n->p[d->p].numel;
    if (d->k == ND_ADD || d->k == ND_ADD_CONCAT) in *= 2;
    if (d->k == ND_CONCAT) out = in;        // writes its slice only
    if (d->k == ND_ADD_CONCAT) out = in / 2;
    fl += in + par + out;                       // forward
    int needs_x = d->k == ND_CONV || d->k == ND_DW || d->k == ND_BN || d->k == ND_RELU ||
                  d->k == ND_MAXPOOL || d->k == ND_FC;
    fl += out + (needs_x ? in : 0) + 2 * in + 2 * par; // backward
  }
  fl += 5.0 * (double)n->nparams; // SGD
  return 4.0 * fl;
}

// ---------------------------------------------------------------- execution
#define ACT(id) (n->act + n->t[id].off)
#define GRAD(id) (n->grad + n->t[id].goff)
#define SHAPE(id, nb) ((kn_shape){(nb), n->t[id].c, n->t[id].h, n->t[id].w})

void net_set_batch(net *n, const float *x, const int32_t *labels, int nb) {
  PNAS_ASSERT(nb >= 1 && nb <= n->cfg.batch);
  ntensor *in = &n->t[n->input];
  n->be->upload(n->ctx, ACT(n->input), x, (size_t)nb * in->c * in->h * in->w * sizeof(float));
  if (labels) n->be->upload(n->ctx, n->labels, labels, (size_t)nb * sizeof(int32_t));
}

void net_forward(net *n, int nb, int train) {
  PNAS_ASSERT(nb >= 1 && nb <= n->cfg.batch);
  const kn_backend *be = n->be;
  kn_ctx *ctx = n->ctx;
  for (int i = 0; i < n->nn; i++) {
    const nnode *d = &n->nd[i];
    kn_shape s = SHAPE(d->in, nb);
    switch (d->k) {
    case ND_CONV: {
      kn_conv cv = d->cv;
      cv.n = nb;
      be->conv_fwd(ctx, &cv, ACT(d->in), n->p[d->p].data, ACT(d->out));
      break;
    }
    case ND_DW: {
      kn_conv cv = d->cv;
      cv.n = nb;
      be->dw_fwd(ctx, &cv, ACT(d->in), n->p[d->p].data, ACT(d->out));
      break;
    }
    case ND_BN: {
      float *st = n->bnbuf + d->bn;
      if (train)
        be->bn_fwd_train(ctx, s, ACT(d->in), n->p[d->p].data, n->p[d->p2].data, ACT(d->out), st,
                         st + s.c, st + 2 * s.c, st + 3 * s.c);
      else
        be->bn_fwd_eval(ctx, s, ACT(d->in), n->p[d->p].data, n->p[d->p2].data, st + 2 * s.c,
                        st + 3 * s.c, ACT(d->out));
      break;
    }
    case ND_RELU:
      be->relu_fwd(ctx, kn_numel(s), ACT(d->in), ACT(d->out));
      break;
    case ND_MAXPOOL:
    case ND_AVGPOOL: {
      kn_pool pl;
      kn_pool_init(&pl, nb, s.c, s.h, s.w, d->pk, d->a);
      (d->k == ND_MAXPOOL ? be->maxpool_fwd : be->avgpool_fwd)(ctx, &pl, ACT(d->in), ACT(d->out));
      break;
    }
    case ND_ADD:
      be->add_fwd(ctx, kn_numel(s), ACT(d->in), ACT(d->in2), ACT(d->out));
      break;
    case ND_CONCAT:
      be->concat_fwd(ctx, s, n->t[d->out].c, d->a, ACT(d->in), ACT(d->out));
      break;
    case ND_ADD_CONCAT:
      be->add_concat(ctx, s, n->t[d->out].c, d->a, ACT(d->in), ACT(d->in2), ACT(d->out));
      break;
    case ND_SUB:
      be->sub_fwd(ctx, s, d->a, ACT(d->in), ACT(d->out));
      break;
    case ND_GAP:
      be->gap_fwd(ctx, s, ACT(d->in), ACT(d->out));
      break;
    case ND_FC:
      be->fc_fwd(ctx, nb, s.c, n->t[d->out].c, ACT(d->in), n->p[d->p].data, n->p[d->p2].data,
                 ACT(d->out));
      break;
    }
  }
}

void net_get_logits(net *n, float *logits, int nb) {
  n->be->download(n->ctx, logits, ACT(n->logits), (size_t)nb * n->cfg.classes * sizeof(float));
}

static void zero_grad_if_first(net *n, int t, int i, int nb) {
  if (t != n->input && n->t[t].lastcons == i)
    n->be->zero(n->ctx, GRAD(t), kn_numel(SHAPE(t, nb)) * sizeof(float));
}

float *net_input_buf(net *n) { return ACT(n->input); }
int32_t *net_labels_buf(net *n) { return n->labels; }
const float *net_loss_buf(const net *n) { return n->loss; }
const float *net_logits_buf(net *n) { return ACT(n->logits); }

float net_backward(net *n, int nb) {
  net_backward_dev(n, nb);
  float loss;
  n->be->download(n->ctx, &loss, n->loss, sizeof loss);
  return loss;
}

void net_backward_dev(net *n, int nb) {
  const kn_backend *be = n->be;
  kn_ctx *ctx = n->ctx;
  be->zero(ctx, n->pgrad, (size_t)n->nparams * sizeof(float));
  be->xent(ctx, nb, n->cfg.classes, ACT(n->logits), n->labels, n->loss, GRAD(n->logits));
  for (int i = n->nn - 1; i >= 0; i--) {
    const nnode *d = &n->nd[i];
    zero_grad_if_first(n, d->in, i, nb);
    if (d->in2 >= 0 && d->in2 != d->in) zero_grad_if_first(n, d->in2, i, nb);
    kn_shape s = SHAPE(d->in, nb);
    float *dx = d->in == n->input ? NULL : GRAD(d->in);
    const float *dy = GRAD(d->out);
    switch (d->k) {
    case ND_CONV: {
      kn_conv cv = d->cv;
      cv.n = nb;
      be->conv_bwd(ctx, &cv, ACT(d->in), n->p[d->p].data, dy, dx, n->p[d->p].grad);
      break;
    }
    case ND_DW: {
      kn_conv cv = d->cv;
      cv.n = nb;
      be->dw_bwd(ctx, &cv, ACT(d->in), n->p[d->p].data, dy, dx, n->p[d->p].grad);
      break;
    }
    case ND_BN: {
      float *st = n->bnbuf + d->bn;
      be->bn_bwd(ctx, s, ACT(d->in), n->p[d->p].data, st, st + s.c, dy, dx, n->p[d->p].grad,
                 n->p[d->p2].grad);
      break;
    }
    case ND_RELU:
      be->relu_bwd(ctx, kn_numel(s), ACT(d->in), dy, dx);
      break;
    case ND_MAXPOOL:
    case ND_AVGPOOL: {
      kn_pool pl;
      kn_pool_init(&pl, nb, s.c, s.h, s.w, d->pk, d->a);
      if (d->k == ND_MAXPOOL)
        be->maxpool_bwd(ctx, &pl, ACT(d->in), dy, dx);
      else
        be->avgpool_bwd(ctx, &pl, dy, dx);
      break;
    }
    case ND_ADD:
      be->acc(ctx, kn_numel(s), dy, dx);
      be->acc(ctx, kn_numel(s), dy, GRAD(d->in2));
      break;
    case ND_CONCAT:
      be->concat_bwd(ctx, s, n->t[d->out].c, d->a, dy, dx);
      break;
    case ND_ADD_CONCAT:
      be->concat_bwd(ctx, s, n->t[d->out].c, d->a, dy, dx);
      be->concat_bwd(ctx, s, n->t[d->out].c, d->a, dy, GRAD(d->in2));
      break;
    case ND_SUB:
      be->sub_bwd(ctx, s, d->a, dy, dx);
      break;
    case ND_GAP:
      be->gap_bwd(ctx, s, dy, dx);
      break;
    case ND_FC:
      be->fc_bwd(ctx, nb, s.c, n->t[d->out].c, ACT(d->in), n->p[d->p].data, dy, dx,
                 n->p[d->p].grad, n->p[d->p2].grad);
      break;
    }
  }
}

void net_sgd(net *n, float lr, float momentum, float wd) {
  n->be->upload(n->ctx, n->loss + 1, &lr, sizeof lr);
  net_sgd_dev(n, n->loss + 1, momentum, wd);
}

// Parameters are contiguous: one update per run of neighbours with the same decay flag.
void net_sgd_dev(net *n, const float *lr, float momentum, float wd) {
  for (int i = 0; i < n->np;) {
    int j = i + 1;
    while (j < n->np && n->p[j].decay == n->p[i].decay &&
           n->p[j].offset == n->p[j - 1].offset + n->p[j - 1].numel)
      j++;
    const net_param *p = &n->p[i];
    size_t count = (size_t)(n->p[j - 1].offset + n->p[j - 1].numel - p->offset);
    n->be->sgd(n->ctx, count, p->data, p->grad, n->mom + p->offset, lr, momentum,
               p->decay ? wd : 0.0f);
    i = j;
  }
}

void net_l1_bn_dev(net *n, float lambda) {
  // BN gammas are the parameters initialised to one (emit_bn); each is one contiguous tensor.
  for (int i = 0; i < n->np; i++)
    if (n->pinit[i] == INIT_ONE)
      n->be->l1_sign(n->ctx, (size_t)n->p[i].numel, n->p[i].data, lambda, n->p[i].grad);
}

void net_params_get(net *n, float *host) {
  n->be->download(n->ctx, host, n->params, (size_t)n->nparams * sizeof(float));
}
void net_params_set(net *n, const float *host) {
  n->be->upload(n->ctx, n->params, host, (size_t)n->nparams * sizeof(float));
}
void net_grads_get(net *n, float *host) {
  n->be->download(n->ctx, host, n->pgrad, (size_t)n->nparams * sizeof(float));
}
