// The trainer's CUDA-graph logic (pnas/child/trainer.c: run_unit, train_ops, eval_ops, sess_evaluate)
// run on the CPU under a simulation of CUDA-graph semantics, and checked bit-identical against
// the plain "cpu" backend.
//
// "graphsim" is a copy of the cpu backend table whose every op is wrapped. Outside a capture an
// op runs at once. Between graph_begin and graph_end it does not run: the call is recorded with
// its arguments BY VALUE (pointers as pointers, kn_conv / kn_pool / kn_shape / kn_aug copied),
// which is what a CUDA graph freezes at capture; graph_launch replays the records in order on the
// cpu ops. Host-synchronous calls inside a capture (alloc, free, upload, download: cudaMalloc,
// cudaFree, cudaMemcpy + sync) are illegal in CUDA: here they do nothing, fail the ctx like a
// CUDA error would, and make graph_end fail (-1, the ctx restored, a line on stderr), and they
// are counted. Further device faithfulness: every pointer given to an op must lie in a live
// backend allocation (a host pointer would fault on a GPU), a graph whose buffers were freed
// since its capture is not replayed, and a graph is stale (graph_launch 1) when the generation
// moved or the ctx scratch moved since capture (cuda_graph.c: kn_device.gen). Knobs: bump the
// generation (directly, or at the Nth graph_launch), and fail the Nth graph_end.
//
// Cases, each trained on graphsim and on cpu and compared field by field (final_loss, val/test
// top-1/top-5, steps, examples, reason, the progress callbacks): (a) plain; (b) augmentation;
// (c) a diverging child; (d) stale graphs: the generation bumped between epochs (training
// re-capture) and at a launch inside evaluation (evaluation re-capture); (e) forced capture
// failures (training's, then evaluation's) -> eager fallback with the stderr line, and graphs
// turned off (PNAS_CUDA_GRAPHS=0); (f) the device bookkeeping of train_child (loss read back
// only at epoch ends and logged steps) with a graphsim variant that has a dev_open; then
// train_bench on both. Counters pin the capture / launch / re-capture / fallback counts run_unit
// implies, and a hash of the executed op stream (replayed or eager) must be the same with graphs,
// with re-captures, after a fallback and with graphs off. Threads 1: results do not depend on the
// thread count, and 2 OpenMP threads crawl on a busy 2-core machine.
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernels/backend.h"
#include "pnas/child/trainer.h"
#define CHECK_COUNTER bad // each test function counts its own failures
#include "tests/check.h"

static int bad = 0;

// ------------------------------------------------------------------------ the simulation

enum {
  OP_ZERO, OP_CONV_FWD, OP_CONV_BWD, OP_DW_FWD, OP_DW_BWD, OP_MAXPOOL_FWD, OP_MAXPOOL_BWD,
  OP_AVGPOOL_FWD, OP_AVGPOOL_BWD, OP_BN_FWD_TRAIN, OP_BN_FWD_EVAL, OP_BN_BWD, OP_RELU_FWD,
  OP_RELU_BWD, OP_ADD_FWD, OP_ACC, OP_L1_SIGN, OP_CONCAT_FWD, OP_CONCAT_BWD, OP_ADD_CONCAT, OP_SUB_FWD, OP_SUB_BWD,
  OP_GAP_FWD, OP_GAP_BWD, OP_FC_FWD, OP_FC_BWD, OP_XENT, OP_SGD, OP_GATHER_U8, OP_LOSS_ACC,
  OP_TICK, OP_TOPK_COUNT, OP_COUNT
};

#define MAXP 10
typedef struct {
  int op;
  kn_conv cv;      // conv / dw descriptor, by value
  kn_pool pl;      // pool descriptor, by value
  kn_shape s;      // shape argument
  kn_aug aug;      // gather_u8 augmentation, by value (has_aug 0: NULL)
  int has_aug;
  size_t count;    // element / byte count
  int i[6];        // int arguments in call order
  float f[2];      // float arguments in call order
  int np;
  const void *p[MAXP];  // pointer arguments in call order (by value: the addresses)
  uint64_t pid[MAXP];   // the live allocation each pointer lay in at capture (0: NULL)
  size_t off[MAXP];     // ... and its offset there
} rec;

typedef struct {
  rec *r;
  int n;
  uint64_t gen;        // generation at capture
  void *scratch;       // ctx scratch at capture
  size_t scratch_bytes;
  const kn_ctx *ctx;
} simgraph;

typedef struct {
  char *base;
  size_t size;
  uint64_t id;
  int live;
} allocation;

typedef struct {
  long captures;        // graph_begin accepted
  long capture_ok;      // graph_end 0
  long capture_fail;    // graph_end -1
  long forced_fail;     // ... of which forced by the knob
  long launch_calls;
  long launch_ran;      // graph_launch 0
  long stale;           // graph_launch 1
  long illegal;         // alloc / free / upload / download inside a capture
  long foreign_ptr;     // op pointer argument outside every live allocation
  long dangling;        // a launch found a buffer of its capture freed
  long scratch_moved;   // ctx scratch grew while a graph was being replayed
  long bad_xfer;        // upload / download / free outside live allocations
  long recorded, replayed, eager_ops;
  long max_graph_ops;
  uint64_t stream;      // hash of every op executed (eager or replayed), in order, with its
                        // arguments (pointers as allocation number + offset)
} sim_counters;

static struct {
  const kn_backend *cpu;
  kn_ctx *cap;          // the ctx being captured, or NULL
  rec *recs;
  int nrec, caprec;
  int cap_bad;
  char cap_why[160];
  allocation *al;
  int nal, capal;
  uint64_t next_id;
  uint64_t gen;
  long stale_at_launch; // knob: the launch call with this number bumps the generation first
  long fail_end_at;     // knob: the graph_end with this number fails
  long ends;
  sim_counters c;
} G;

static void sim_reset(void) {
  free(G.recs);
  free(G.al);
  const kn_backend *cpu = G.cpu;
  uint64_t gen = G.gen;
  memset(&G, 0, sizeof G);
  G.cpu = cpu;
  G.gen = gen;
}

static allocation *find_alloc(const void *p) {
  const char *q = p;
  for (int k = G.nal - 1; k >= 0; k--)
    if (G.al[k].live && q >= G.al[k].base && q < G.al[k].base + G.al[k].size) return &G.al[k];
  return NULL;
}

static int id_live(uint64_t id) {
  for (int k = 0; k < G.nal; k++)
    if (G.al[k].id == id) return G.al[k].live;
  return 0;
}

static int capturing(const kn_ctx *ctx) { return G.cap && G.cap == ctx; }

// An illegal host-synchronous call inside a capture: the capture is invalidated and the ctx
// fails, as a CUDA error inside a capture does (graph_end undoes it).
static void illegal(kn_ctx *ctx, const char *what) {
  G.c.illegal++;
  if (!G.cap_bad) snprintf(G.cap_why, sizeof G.cap_why, "%s inside a capture", what);
  G.cap_bad = 1;
  if (!ctx->failed)
    snprintf(ctx->reason, sizeof ctx->reason, "graphsim: %s inside a capture", what);
  ctx->failed = 1;
}

static uint64_t mix(uint64_t h, const void *p, size_t n) {
  const unsigned char *q = p;
  for (size_t k = 0; k < n; k++) h = (h ^ q[k]) * 0x100000001b3ull;
  return h;
}

static void dispatch(kn_ctx *ctx, const rec *r) {
  uint64_t h = G.c.stream ? G.c.stream : 0xcbf29ce484222325ull;
  h = mix(h, &r->op, sizeof r->op);
  h = mix(h, &r->cv, sizeof r->cv);
  h = mix(h, &r->pl, sizeof r->pl);
  h = mix(h, &r->s, sizeof r->s);
  h = mix(h, &r->has_aug, sizeof r->has_aug);
  if (r->has_aug) {
    h = mix(h, &r->aug.pad, sizeof r->aug.pad);
    h = mix(h, &r->aug.flip, sizeof r->aug.flip);
    h = mix(h, &r->aug.seed, sizeof r->aug.seed);
  }
  h = mix(h, &r->count, sizeof r->count);
  h = mix(h, r->i, sizeof r->i);
  h = mix(h, r->f, sizeof r->f);
  h = mix(h, r->pid, (size_t)r->np * sizeof r->pid[0]);
  h = mix(h, r->off, (size_t)r->np * sizeof r->off[0]);
  G.c.stream = h;
  const kn_backend *b = G.cpu;
  const void *const *p = r->p;
#define F(k) ((float *)(uintptr_t)p[k])
#define I32(k) ((int32_t *)(uintptr_t)p[k])
  switch (r->op) {
  case OP_ZERO: b->zero(ctx, (void *)(uintptr_t)p[0], r->count); break;
  case OP_CONV_FWD: b->conv_fwd(ctx, &r->cv, F(0), F(1), F(2)); break;
  case OP_CONV_BWD: b->conv_bwd(ctx, &r->cv, F(0), F(1), F(2), F(3), F(4)); break;
  case OP_DW_FWD: b->dw_fwd(ctx, &r->cv, F(0), F(1), F(2)); break;
  case OP_DW_BWD: b->dw_bwd(ctx, &r->cv, F(0), F(1), F(2), F(3), F(4)); break;
  case OP_MAXPOOL_FWD: b->maxpool_fwd(ctx, &r->pl, F(0), F(1)); break;
  case OP_MAXPOOL_BWD: b->maxpool_bwd(ctx, &r->pl, F(0), F(1), F(2)); break;
  case OP_AVGPOOL_FWD: b->avgpool_fwd(ctx, &r->pl, F(0), F(1)); break;
  case OP_AVGPOOL_BWD: b->avgpool_bwd(ctx, &r->pl, F(0), F(1)); break;
  case OP_BN_FWD_TRAIN:
    b->bn_fwd_train(ctx, r->s, F(0), F(1), F(2), F(3), F(4), F(5), F(6), F(7));
    break;
  case OP_BN_FWD_EVAL: b->bn_fwd_eval(ctx, r->s, F(0), F(1), F(2), F(3), F(4), F(5)); break;
  case OP_BN_BWD: b->bn_bwd(ctx, r->s, F(0), F(1), F(2), F(3), F(4), F(5), F(6), F(7)); break;
  case OP_RELU_FWD: b->relu_fwd(ctx, r->count, F(0), F(1)); break;
  case OP_RELU_BWD: b->relu_bwd(ctx, r->count, F(0), F(1), F(2)); break;
  case OP_ADD_FWD: b->add_fwd(ctx, r->count, F(0), F(1), F(2)); break;
  case OP_ACC: b->acc(ctx, r->count, F(0), F(1)); break;
  case OP_L1_SIGN: b->l1_sign(ctx, r->count, F(0), r->f[0], F(1)); break;
  case OP_CONCAT_FWD: b->concat_fwd(ctx, r->s, r->i[0], r->i[1], F(0), F(1)); break;
  case OP_CONCAT_BWD: b->concat_bwd(ctx, r->s, r->i[0], r->i[1], F(0), F(1)); break;
  case OP_ADD_CONCAT: b->add_concat(ctx, r->s, r->i[0], r->i[1], F(0), F(1), F(2)); break;
  case OP_SUB_FWD: b->sub_fwd(ctx, r->s, r->i[0], F(0), F(1)); break;
  case OP_SUB_BWD: b->sub_bwd(ctx, r->s, r->i[0], F(0), F(1)); break;
  case OP_GAP_FWD: b->gap_fwd(ctx, r->s, F(0), F(1)); break;
  case OP_GAP_BWD: b->gap_bwd(ctx, r->s, F(0), F(1)); break;
  case OP_FC_FWD: b->fc_fwd(ctx, r->i[0], r->i[1], r->i[2], F(0), F(1), F(2), F(3)); break;
  case OP_FC_BWD:
    b->fc_bwd(ctx, r->i[0], r->i[1], r->i[2], F(0), F(1), F(2), F(3), F(4), F(5));
    break;
  case OP_XENT: b->xent(ctx, r->i[0], r->i[1], F(0), I32(1), F(2), F(3)); break;
  case OP_SGD: b->sgd(ctx, r->count, F(0), F(1), F(2), F(3), r->f[0], r->f[1]); break;
  case OP_GATHER_U8:
    b->gather_u8(ctx, r->i[0], r->i[1], r->i[2], r->i[3], (const uint8_t *)p[0], I32(1), I32(2),
                 I32(3), F(4), r->has_aug ? &r->aug : NULL, F(5), I32(6));
    break;
  case OP_LOSS_ACC: b->loss_acc(ctx, F(0), I32(1), (double *)(uintptr_t)p[2]); break;
  case OP_TICK: b->tick(ctx, I32(0), r->i[0], F(1), F(2)); break;
  case OP_TOPK_COUNT: b->topk_count(ctx, r->i[0], r->i[1], F(0), I32(1), I32(2)); break;
  default: abort();
  }
#undef F
#undef I32
}

// Every op goes through here: recorded while its ctx is being captured, else run now. Either
// way its pointers must be backend memory.
static void submit(kn_ctx *ctx, rec *r) {
  for (int k = 0; k < r->np; k++) {
    r->pid[k] = 0;
    r->off[k] = 0;
    if (!r->p[k]) continue;
    allocation *a = find_alloc(r->p[k]);
    if (a) {
      r->pid[k] = a->id;
      r->off[k] = (size_t)((const char *)r->p[k] - a->base);
    } else {
      G.c.foreign_ptr++;
    }
  }
  if (capturing(ctx)) {
    if (ctx->failed) return; // a failed ctx's ops are no-ops, captured or not
    if (G.nrec == G.caprec) {
      G.caprec = G.caprec ? 2 * G.caprec : 256;
      G.recs = realloc(G.recs, (size_t)G.caprec * sizeof *G.recs);
      if (!G.recs) abort();
    }
    G.recs[G.nrec++] = *r;
    G.c.recorded++;
    return;
  }
  G.c.eager_ops++;
  dispatch(ctx, r);
}

#define REC(OPID) rec r_ = {0}; r_.op = OPID
#define PTRS(...)                                                                                  \
  do {                                                                                             \
    const void *pp_[] = {__VA_ARGS__};                                                             \
    r_.np = (int)(sizeof pp_ / sizeof pp_[0]);                                                     \
    memcpy(r_.p, pp_, sizeof pp_);                                                                 \
  } while (0)
#define GO submit(ctx, &r_)

static void w_zero(kn_ctx *ctx, void *dst, size_t bytes) {
  REC(OP_ZERO); r_.count = bytes; PTRS(dst); GO;
}
static void w_conv_fwd(kn_ctx *ctx, const kn_conv *d, const float *x, const float *w, float *y) {
  REC(OP_CONV_FWD); r_.cv = *d; PTRS(x, w, y); GO;
}
static void w_conv_bwd(kn_ctx *ctx, const kn_conv *d, const float *x, const float *w,
                       const float *dy, float *dx, float *dw) {
  REC(OP_CONV_BWD); r_.cv = *d; PTRS(x, w, dy, dx, dw); GO;
}
static void w_dw_fwd(kn_ctx *ctx, const kn_conv *d, const float *x, const float *w, float *y) {
  REC(OP_DW_FWD); r_.cv = *d; PTRS(x, w, y); GO;
}
static void w_dw_bwd(kn_ctx *ctx, const kn_conv *d, const float *x, const float *w,
                     const float *dy, float *dx, float *dw) {
  REC(OP_DW_BWD); r_.cv = *d; PTRS(x, w, dy, dx, dw); GO;
}
static void w_maxpool_fwd(kn_ctx *ctx, const kn_pool *d, const float *x, float *y) {
  REC(OP_MAXPOOL_FWD); r_.pl = *d; PTRS(x, y); GO;
}
static void w_maxpool_bwd(kn_ctx *ctx, const kn_pool *d, const float *x, const float *dy,
                          float *dx) {
  REC(OP_MAXPOOL_BWD); r_.pl = *d; PTRS(x, dy, dx); GO;
}
static void w_avgpool_fwd(kn_ctx *ctx, const kn_pool *d, const float *x, float *y) {
  REC(OP_AVGPOOL_FWD); r_.pl = *d; PTRS(x, y); GO;
}
static void w_avgpool_bwd(kn_ctx *ctx, const kn_pool *d, const float *dy, float *dx) {
  REC(OP_AVGPOOL_BWD); r_.pl = *d; PTRS(dy, dx); GO;
}
static void w_bn_fwd_train(kn_ctx *ctx, kn_shape s, const float *x, const float *gamma,
                           const float *beta, float *y, float *mean, float *invstd,
                           float *run_mean, float *run_var) {
  REC(OP_BN_FWD_TRAIN); r_.s = s; PTRS(x, gamma, beta, y, mean, invstd, run_mean, run_var); GO;
}
static void w_bn_fwd_eval(kn_ctx *ctx, kn_shape s, const float *x, const float *gamma,
                          const float *beta, const float *run_mean, const float *run_var,
                          float *y) {
  REC(OP_BN_FWD_EVAL); r_.s = s; PTRS(x, gamma, beta, run_mean, run_var, y); GO;
}
static void w_bn_bwd(kn_ctx *ctx, kn_shape s, const float *x, const float *gamma,
                     const float *mean, const float *invstd, const float *dy, float *dx,
                     float *dgamma, float *dbeta) {
  REC(OP_BN_BWD); r_.s = s; PTRS(x, gamma, mean, invstd, dy, dx, dgamma, dbeta); GO;
}
static void w_relu_fwd(kn_ctx *ctx, size_t count, const float *x, float *y) {
  REC(OP_RELU_FWD); r_.count = count; PTRS(x, y); GO;
}
static void w_relu_bwd(kn_ctx *ctx, size_t count, const float *x, const float *dy, float *dx) {
  REC(OP_RELU_BWD); r_.count = count; PTRS(x, dy, dx); GO;
}
static void w_add_fwd(kn_ctx *ctx, size_t count, const float *a, const float *b, float *y) {
  REC(OP_ADD_FWD); r_.count = count; PTRS(a, b, y); GO;
}
static void w_acc(kn_ctx *ctx, size_t count, const float *src, float *dst) {
  REC(OP_ACC); r_.count = count; PTRS(src, dst); GO;
}
static void w_l1_sign(kn_ctx *ctx, size_t count, const float *x, float lambda, float *g) {
  REC(OP_L1_SIGN); r_.count = count; r_.f[0] = lambda; PTRS(x, g); GO;
}
static void w_concat_fwd(kn_ctx *ctx, kn_shape xs, int cy, int coff, const float *x, float *y) {
  REC(OP_CONCAT_FWD); r_.s = xs; r_.i[0] = cy; r_.i[1] = coff; PTRS(x, y); GO;
}
static void w_concat_bwd(kn_ctx *ctx, kn_shape xs, int cy, int coff, const float *dy, float *dx) {
  REC(OP_CONCAT_BWD); r_.s = xs; r_.i[0] = cy; r_.i[1] = coff; PTRS(dy, dx); GO;
}
static void w_add_concat(kn_ctx *ctx, kn_shape xs, int cy, int coff, const float *a,
                         const float *b, float *y) {
  REC(OP_ADD_CONCAT); r_.s = xs; r_.i[0] = cy; r_.i[1] = coff; PTRS(a, b, y); GO;
}
static void w_sub_fwd(kn_ctx *ctx, kn_shape xs, int off, const float *x, float *y) {
  REC(OP_SUB_FWD); r_.s = xs; r_.i[0] = off; PTRS(x, y); GO;
}
static void w_sub_bwd(kn_ctx *ctx, kn_shape xs, int off, const float *dy, float *dx) {
  REC(OP_SUB_BWD); r_.s = xs; r_.i[0] = off; PTRS(dy, dx); GO;
}
static void w_gap_fwd(kn_ctx *ctx, kn_shape xs, const float *x, float *y) {
  REC(OP_GAP_FWD); r_.s = xs; PTRS(x, y); GO;
}
static void w_gap_bwd(kn_ctx *ctx, kn_shape xs, const float *dy, float *dx) {
  REC(OP_GAP_BWD); r_.s = xs; PTRS(dy, dx); GO;
}
static void w_fc_fwd(kn_ctx *ctx, int n, int cin, int cout, const float *x, const float *w,
                     const float *b, float *y) {
  REC(OP_FC_FWD); r_.i[0] = n; r_.i[1] = cin; r_.i[2] = cout; PTRS(x, w, b, y); GO;
}
static void w_fc_bwd(kn_ctx *ctx, int n, int cin, int cout, const float *x, const float *w,
                     const float *dy, float *dx, float *dw, float *db) {
  REC(OP_FC_BWD); r_.i[0] = n; r_.i[1] = cin; r_.i[2] = cout; PTRS(x, w, dy, dx, dw, db); GO;
}
static void w_xent(kn_ctx *ctx, int n, int classes, const float *logits, const int32_t *labels,
                   float *loss, float *dlogits) {
  REC(OP_XENT); r_.i[0] = n; r_.i[1] = classes; PTRS(logits, labels, loss, dlogits); GO;
}
static void w_sgd(kn_ctx *ctx, size_t count, float *w, const float *g, float *v, const float *lr,
                  float momentum, float wd) {
  REC(OP_SGD); r_.count = count; r_.f[0] = momentum; r_.f[1] = wd; PTRS(w, g, v, lr); GO;
}
static void w_gather_u8(kn_ctx *ctx, int nb, int c, int h, int w, const uint8_t *images,
                        const int32_t *labels_all, const int32_t *perm, const int32_t *st,
                        const float *lut, const kn_aug *aug, float *x, int32_t *labels) {
  REC(OP_GATHER_U8);
  r_.i[0] = nb; r_.i[1] = c; r_.i[2] = h; r_.i[3] = w;
  if (aug) {
    r_.aug = *aug;
    r_.has_aug = 1;
  }
  PTRS(images, labels_all, perm, st, lut, x, labels);
  GO;
}
static void w_loss_acc(kn_ctx *ctx, const float *loss, const int32_t *st, double *acc) {
  REC(OP_LOSS_ACC); PTRS(loss, st, acc); GO;
}
static void w_tick(kn_ctx *ctx, int32_t *st, int batch, const float *lr_table, float *lr) {
  REC(OP_TICK); r_.i[0] = batch; PTRS(st, lr_table, lr); GO;
}
static void w_topk_count(kn_ctx *ctx, int n, int classes, const float *logits,
                         const int32_t *labels, int32_t *counts) {
  REC(OP_TOPK_COUNT); r_.i[0] = n; r_.i[1] = classes; PTRS(logits, labels, counts); GO;
}

// ---- memory and transfers: host-synchronous, illegal inside a capture
static void *w_alloc(kn_ctx *ctx, size_t bytes) {
  if (capturing(ctx)) {
    illegal(ctx, "alloc (cudaMalloc)");
    return NULL;
  }
  void *p = G.cpu->alloc(ctx, bytes);
  if (!p) return NULL;
  if (G.nal == G.capal) {
    G.capal = G.capal ? 2 * G.capal : 64;
    G.al = realloc(G.al, (size_t)G.capal * sizeof *G.al);
    if (!G.al) abort();
  }
  G.al[G.nal++] = (allocation){p, bytes ? bytes : 1, ++G.next_id, 1};
  return p;
}

static void w_free(kn_ctx *ctx, void *p) {
  if (capturing(ctx)) { // cudaFree fails inside a capture: the memory stays allocated
    illegal(ctx, "free (cudaFree)");
    return;
  }
  if (!p) return;
  allocation *a = find_alloc(p);
  if (!a || a->base != (char *)p) G.c.bad_xfer++;
  else a->live = 0;
  G.cpu->free(ctx, p);
}

static int xfer_ok(const void *dev, size_t bytes) {
  allocation *a = find_alloc(dev);
  return a && (const char *)dev + bytes <= a->base + a->size;
}

static void w_upload(kn_ctx *ctx, void *dst, const void *src, size_t bytes) {
  if (capturing(ctx)) {
    illegal(ctx, "upload (cudaMemcpy H2D)");
    return;
  }
  if (!xfer_ok(dst, bytes)) G.c.bad_xfer++;
  G.cpu->upload(ctx, dst, src, bytes);
}

static void w_download(kn_ctx *ctx, void *dst, const void *src, size_t bytes) {
  if (capturing(ctx)) {
    illegal(ctx, "download (cudaMemcpy D2H + sync)");
    return;
  }
  if (!xfer_ok(src, bytes)) G.c.bad_xfer++;
  G.cpu->download(ctx, dst, src, bytes);
}

// ---- graphs
static int g_begin(kn_ctx *ctx) {
  if (ctx->failed || G.cap) return -1;
  G.cap = ctx;
  G.nrec = 0;
  G.cap_bad = 0;
  G.cap_why[0] = 0;
  G.c.captures++;
  return 0;
}

static int g_end(kn_ctx *ctx, void **out) {
  *out = NULL;
  if (!capturing(ctx)) return -1;
  G.cap = NULL;
  G.ends++;
  char why[200] = "";
  if (G.cap_bad) snprintf(why, sizeof why, "%s", G.cap_why);
  else if (ctx->failed) snprintf(why, sizeof why, "%s", ctx->reason);
  else if (G.fail_end_at && G.ends == G.fail_end_at) {
    snprintf(why, sizeof why, "forced failure (test knob)");
    G.c.forced_fail++;
  }
  simgraph *g = NULL;
  if (!why[0]) {
    g = calloc(1, sizeof *g);
    if (!g || !(g->r = malloc((size_t)(G.nrec ? G.nrec : 1) * sizeof *g->r))) {
      free(g);
      g = NULL;
      snprintf(why, sizeof why, "out of host memory");
    }
  }
  if (why[0]) {
    ctx->failed = 0; // undo what the failed capture did to the ctx (cuda_graph.c)
    ctx->reason[0] = 0;
    G.c.capture_fail++;
    fprintf(stderr,
            "pnas: CUDA graph capture failed (graphsim: %s); this child trains without graphs\n",
            why);
    return -1;
  }
  memcpy(g->r, G.recs, (size_t)G.nrec * sizeof *g->r);
  g->n = G.nrec;
  g->gen = G.gen;
  g->scratch = ctx->scratch;
  g->scratch_bytes = ctx->scratch_bytes;
  g->ctx = ctx;
  if (G.nrec > G.c.max_graph_ops) G.c.max_graph_ops = G.nrec;
  G.c.capture_ok++;
  *out = g;
  return 0;
}

static int g_launch(kn_ctx *ctx, void *graph) {
  simgraph *g = graph;
  G.c.launch_calls++;
  if (G.stale_at_launch && G.c.launch_calls == G.stale_at_launch) G.gen++;
  if (ctx->failed) return -1;
  if (g->ctx != ctx) {
    ctx->failed = 1;
    snprintf(ctx->reason, sizeof ctx->reason, "graphsim: graph launched on another ctx");
    return -1;
  }
  if (g->gen != G.gen || g->scratch != ctx->scratch || g->scratch_bytes != ctx->scratch_bytes) {
    G.c.stale++;
    return 1;
  }
  for (int k = 0; k < g->n; k++)
    for (int j = 0; j < g->r[k].np; j++)
      if (g->r[k].pid[j] && !id_live(g->r[k].pid[j])) {
        G.c.dangling++;
        ctx->failed = 1;
        snprintf(ctx->reason, sizeof ctx->reason, "graphsim: graph uses freed memory");
        return -1;
      }
  for (int k = 0; k < g->n; k++) {
    void *s0 = ctx->scratch;
    size_t b0 = ctx->scratch_bytes;
    dispatch(ctx, &g->r[k]);
    if (ctx->scratch != s0 || ctx->scratch_bytes != b0) G.c.scratch_moved++;
    G.c.replayed++;
  }
  G.c.launch_ran++;
  return ctx->failed ? -1 : 0;
}

static void g_free(kn_ctx *ctx, void *graph) {
  (void)ctx;
  simgraph *g = graph;
  if (!g) return;
  free(g->r);
  free(g);
}

// A device variant (f): the same table with a dev_open, so train_child takes its device path.
static struct kn_device *const FAKE_DEV = (struct kn_device *)&G;
static int dev_opens;
static int d_open(kn_device **out, char *msg, size_t msglen) {
  *out = FAKE_DEV;
  dev_opens++;
  snprintf(msg, msglen, "graphsim device");
  return 0;
}
static void d_close(kn_device *dev) { (void)dev; dev_opens--; }
static const char *d_name(const kn_device *dev) { (void)dev; return "graphsim:0"; }

static kn_backend graphsim, graphsim_dev;

static void graphsim_init(void) {
  G.cpu = kn_backend_cpu();
  graphsim = *G.cpu;
  graphsim.name = "graphsim";
  graphsim.alloc = w_alloc;
  graphsim.free = w_free;
  graphsim.upload = w_upload;
  graphsim.download = w_download;
  graphsim.zero = w_zero;
  graphsim.conv_fwd = w_conv_fwd;
  graphsim.conv_bwd = w_conv_bwd;
  graphsim.dw_fwd = w_dw_fwd;
  graphsim.dw_bwd = w_dw_bwd;
  graphsim.maxpool_fwd = w_maxpool_fwd;
  graphsim.maxpool_bwd = w_maxpool_bwd;
  graphsim.avgpool_fwd = w_avgpool_fwd;
  graphsim.avgpool_bwd = w_avgpool_bwd;
  graphsim.bn_fwd_train = w_bn_fwd_train;
  graphsim.bn_fwd_eval = w_bn_fwd_eval;
  graphsim.bn_bwd = w_bn_bwd;
  graphsim.relu_fwd = w_relu_fwd;
  graphsim.relu_bwd = w_relu_bwd;
  graphsim.add_fwd = w_add_fwd;
  graphsim.acc = w_acc;
  graphsim.l1_sign = w_l1_sign;
  graphsim.concat_fwd = w_concat_fwd;
  graphsim.concat_bwd = w_concat_bwd;
  graphsim.add_concat = w_add_concat;
  graphsim.sub_fwd = w_sub_fwd;
  graphsim.sub_bwd = w_sub_bwd;
  graphsim.gap_fwd = w_gap_fwd;
  graphsim.gap_bwd = w_gap_bwd;
  graphsim.fc_fwd = w_fc_fwd;
  graphsim.fc_bwd = w_fc_bwd;
  graphsim.xent = w_xent;
  graphsim.sgd = w_sgd;
  graphsim.gather_u8 = w_gather_u8;
  graphsim.loss_acc = w_loss_acc;
  graphsim.tick = w_tick;
  graphsim.topk_count = w_topk_count;
  graphsim.graph_begin = g_begin;
  graphsim.graph_end = g_end;
  graphsim.graph_launch = g_launch;
  graphsim.graph_free = g_free;
  graphsim.dev_open = NULL; // a host backend
  graphsim_dev = graphsim;
  graphsim_dev.name = "graphsim-dev";
  graphsim_dev.dev_open = d_open;
  graphsim_dev.dev_close = d_close;
  graphsim_dev.dev_name = d_name;
  graphsim_dev.dev_mem = NULL;
}

// Every op entry of the table is wrapped (a new op in kn_backend must be added here).
static void check_table(void) {
  typedef void (*fnp)(void);
  const kn_backend *cpu = kn_backend_cpu();
  size_t first = offsetof(kn_backend, zero), last = offsetof(kn_backend, topk_count);
  int n = (int)((last - first) / sizeof(fnp)) + 1, same = 0;
  for (int k = 0; k < n; k++) {
    fnp x, y;
    memcpy(&x, (const char *)&graphsim + first + (size_t)k * sizeof x, sizeof x);
    memcpy(&y, (const char *)cpu + first + (size_t)k * sizeof y, sizeof y);
    same += x == y;
  }
  CHECK(n == OP_COUNT && same == 0, "op entries: %d (expected %d), %d not wrapped", n, OP_COUNT,
        same);
}

// ------------------------------------------------------------------------ data and runs

// 10 classes on 12x12: class k lights a 3x3 block at cell k of a 4x4 grid, plus noise.
static void make_set(data_set *d, int n, uint64_t seed) {
  enum { H = 12, W = 12 };
  d->n = n;
  d->c = 1;
  d->h = H;
  d->w = W;
  d->classes = 10;
  d->owns = 1;
  d->images = malloc((size_t)n * H * W);
  d->labels = malloc((size_t)n);
  space_rng r;
  space_rng_seed(&r, seed);
  for (int i = 0; i < n; i++) {
    int k = space_rng_below(&r, 10);
    d->labels[i] = (uint8_t)k;
    int by = 3 * (k / 4), bx = 3 * (k % 4);
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        int in = y >= by && y < by + 3 && x >= bx && x < bx + 3;
        d->images[(size_t)i * H * W + y * W + x] =
            (uint8_t)(space_rng_below(&r, 90) + (in ? 140 : 0));
      }
  }
}

typedef struct {
  int n;
  train_progress p[64];
} progress_log;

static int bump_after_epoch; // (d): the test bumps the generation after this epoch (0: never)

static void on_progress(void *user, const train_progress *p) {
  progress_log *l = user;
  if (l->n < 64) l->p[l->n++] = *p;
  int last_report = p->step == p->steps / p->epochs * p->epoch;
  if (bump_after_epoch && p->epoch == bump_after_epoch && last_report)
    G.gen++; // the epoch's last report: the next step's launch finds its graph stale
}

typedef struct {
  train_result r;
  int rc;
  progress_log log;
  sim_counters c;
} run_out;

static data_set TRAIN, VAL, TEST;
static space_cell CELL;

// Trains on `table` (NULL: plain "cpu") with the knobs set after the simulation's reset; with
// errbuf, stderr of the run is captured into it (and echoed).
static void run_ex(const train_config *base, const kn_backend *table, run_out *o, long stale_at,
                   long fail_at, char *errbuf, size_t errlen) {
  train_config c = *base;
  memset(o, 0, sizeof *o);
  c.backend_table = table;
  c.progress = on_progress;
  c.progress_user = &o->log;
  FILE *tmp = NULL;
  int saved = -1;
  if (errbuf) {
    fflush(stderr);
    tmp = tmpfile();
    saved = tmp ? dup(2) : -1;
    if (saved >= 0) dup2(fileno(tmp), 2);
  }
  sim_reset();
  G.stale_at_launch = stale_at;
  G.fail_end_at = fail_at;
  o->rc = train_child(&c, &CELL, &TRAIN, &VAL, &TEST, &o->r);
  o->c = G.c;
  G.stale_at_launch = G.fail_end_at = 0;
  if (errbuf) {
    fflush(stderr);
    errbuf[0] = 0;
    if (saved >= 0) {
      dup2(saved, 2);
      close(saved);
      rewind(tmp);
      errbuf[fread(errbuf, 1, errlen - 1, tmp)] = 0;
      fputs(errbuf, stderr);
    }
    if (tmp) fclose(tmp);
  }
  if (table) {
    int live = 0;
    for (int k = 0; k < G.nal; k++) live += G.al[k].live;
    CHECK(live == 0, "%s: %d backend allocations not freed", table->name, live);
  }
}

static void run(const train_config *base, const kn_backend *table, run_out *o) {
  run_ex(base, table, o, 0, 0, NULL, 0);
}

static int same_d(double a, double b) { return !memcmp(&a, &b, sizeof a); }

// Bit-identical results and progress reports (all but the wall times).
static void compare(const char *what, const run_out *g, const run_out *c) {
  const train_result *a = &g->r, *b = &c->r;
  int ok = g->rc == c->rc && a->ok == b->ok && !strcmp(a->reason, b->reason) &&
           same_d(a->final_loss, b->final_loss) && same_d(a->val_acc, b->val_acc) &&
           same_d(a->val_top5, b->val_top5) && same_d(a->test_acc, b->test_acc) &&
           same_d(a->test_top5, b->test_top5) && a->steps == b->steps &&
           a->examples == b->examples && a->params == b->params &&
           a->memory_bytes == b->memory_bytes;
  CHECK(ok,
        "%s: graphsim vs cpu differ: rc %d/%d ok %d/%d reason '%s'/'%s' loss %.17g/%.17g val "
        "%.17g/%.17g top5 %.17g/%.17g test %.17g/%.17g steps %lld/%lld examples %lld/%lld",
        what, g->rc, c->rc, a->ok, b->ok, a->reason, b->reason, a->final_loss, b->final_loss,
        a->val_acc, b->val_acc, a->val_top5, b->val_top5, a->test_acc, b->test_acc,
        (long long)a->steps, (long long)b->steps, (long long)a->examples, (long long)b->examples);
  int pok = g->log.n == c->log.n;
  for (int k = 0; pok && k < g->log.n; k++) {
    const train_progress *p = &g->log.p[k], *q = &c->log.p[k];
    pok = p->epoch == q->epoch && p->epochs == q->epochs && p->step == q->step &&
          p->steps == q->steps && same_d(p->loss, q->loss) && same_d(p->lr, q->lr);
  }
  CHECK(pok, "%s: progress reports differ (%d vs %d reports)", what, g->log.n, c->log.n);
}

static void show(const char *what, const run_out *o) {
  const sim_counters *c = &o->c;
  printf("  %-22s %s loss %.6f val %.2f/%.2f test %.2f steps %lld | captures %ld (ok %ld, "
         "failed %ld) launches %ld (ran %ld, stale %ld) ops recorded %ld replayed %ld eager "
         "%ld, graph <= %ld ops | illegal %ld foreign %ld dangling %ld scratch-moved %ld "
         "bad-xfer %ld\n",
         what, o->r.ok ? "ok" : o->r.reason, o->r.final_loss, o->r.val_acc, o->r.val_top5,
         o->r.test_acc, (long long)o->r.steps, c->captures, c->capture_ok, c->capture_fail,
         c->launch_calls, c->launch_ran, c->stale, c->recorded, c->replayed, c->eager_ops,
         c->max_graph_ops, c->illegal, c->foreign_ptr, c->dangling, c->scratch_moved,
         c->bad_xfer);
}

// No host round trip inside a step, no host pointer into an op, nothing replayed after a free.
static void check_clean(const char *what, const sim_counters *c) {
  CHECK(c->illegal == 0 && c->foreign_ptr == 0 && c->dangling == 0 && c->scratch_moved == 0 &&
            c->bad_xfer == 0,
        "%s: illegal %ld foreign %ld dangling %ld scratch-moved %ld bad-xfer %ld", what,
        c->illegal, c->foreign_ptr, c->dangling, c->scratch_moved, c->bad_xfer);
}

// Counters of an uneventful graph run: one capture per unit kind (training, each evaluation),
// after one eager warm-up each; every later unit a launch that ran.
static void check_plain_counts(const char *what, const sim_counters *c, long steps, long val_full,
                               long test_full) {
  long caps = 1 + (val_full >= 2) + (test_full >= 2);
  long launches = (steps - 1) + (val_full - 1) + (test_full - 1);
  CHECK(c->captures == caps && c->capture_ok == caps && c->capture_fail == 0,
        "%s: captures %ld ok %ld failed %ld, expected %ld", what, c->captures, c->capture_ok,
        c->capture_fail, caps);
  CHECK(c->launch_calls == launches && c->launch_ran == launches && c->stale == 0,
        "%s: launches %ld ran %ld stale %ld, expected %ld", what, c->launch_calls, c->launch_ran,
        c->stale, launches);
  CHECK(c->replayed > 0 && c->replayed >= c->launch_ran * 10, "%s: only %ld ops replayed", what,
        c->replayed);
}

static void cfg_base(train_config *c) {
  train_config_default(c);
  c->N = 1;
  c->F = 4;
  c->epochs = 2;
  c->batch = 16;
  c->lr = 0.05;
  c->threads = 1; // results do not depend on it; 2 OpenMP threads crawl on a busy 2-core host
  c->seed = 7;
  c->val_subset = 100;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void) {
  double t0 = now_s();
  graphsim_init();
  check_table();
  make_set(&TRAIN, 600, 1);
  make_set(&VAL, 120, 2);
  make_set(&TEST, 100, 3);
  char err[256];
  if (space_parse("0:sep3x3,1:max3x3;2:identity,0:avg3x3;1:dil3x3,0:conv1x7_7x1", &CELL, err,
                  sizeof err)) {
    fprintf(stderr, "parse: %s\n", err);
    return 1;
  }
  train_config base;
  cfg_base(&base);
  const long steps = 2 * (600 / 16), val_full = 100 / 16, test_full = 100 / 16;
  run_out g, c, cpu; // cpu: the plain run of the base configuration

  // (a) plain
  printf("(a) plain\n");
  run(&base, &graphsim, &g);
  run(&base, NULL, &cpu);
  c = cpu;
  show("graphsim", &g);
  show("cpu", &c);
  CHECK(g.rc == 0 && g.r.ok && g.r.val_acc > 0.3, "(a) training failed or learned nothing: %s %g",
        g.r.reason, g.r.val_acc);
  CHECK(g.r.steps == steps && g.r.examples == steps * 16, "(a) steps %lld", (long long)g.r.steps);
  compare("(a) plain", &g, &c);
  check_clean("(a) plain", &g.c);
  check_plain_counts("(a) plain", &g.c, steps, val_full, test_full);
  CHECK(c.c.captures == 0 && c.c.eager_ops == 0, "(a) the cpu run went through graphsim");
  long plain_ops = g.c.max_graph_ops;
  uint64_t plain_stream = g.c.stream;
  long plain_ops_run = g.c.eager_ops + g.c.replayed;

  // (b) augmentation
  printf("(b) augmentation pad 2 + flip\n");
  train_config cb = base;
  cb.aug_pad = 2;
  cb.aug_flip = 1;
  run(&cb, &graphsim, &g);
  run(&cb, NULL, &c);
  show("graphsim", &g);
  show("cpu", &c);
  CHECK(g.rc == 0 && g.r.ok, "(b) training failed: %s", g.r.reason);
  compare("(b) augmentation", &g, &c);
  check_clean("(b) augmentation", &g.c);
  check_plain_counts("(b) augmentation", &g.c, steps, val_full, test_full);
  CHECK(!same_d(cpu.r.final_loss, c.r.final_loss), "(b) augmentation changed nothing");
  CHECK(g.c.stream != plain_stream, "(b) the op stream ignores the augmentation");

  // (c) a diverging child
  printf("(c) diverging child (lr 1e6)\n");
  train_config cc = base;
  cc.lr = 1e6;
  run(&cc, &graphsim, &g);
  run(&cc, NULL, &c);
  show("graphsim", &g);
  show("cpu", &c);
  CHECK(g.rc == -1 && !g.r.ok && strstr(g.r.reason, "diverged") && strstr(g.r.reason, "at step"),
        "(c) divergence not reported: %s", g.r.reason);
  compare("(c) diverging", &g, &c);
  check_clean("(c) diverging", &g.c);
  printf("  reason: %s\n", g.r.reason);
  CHECK(g.r.steps >= 2, "(c) diverged at step %lld: no replayed step ran before",
        (long long)g.r.steps);
  CHECK(g.c.captures == 1 && g.c.capture_ok == 1 && g.c.launch_ran == g.r.steps,
        "(c) captures %ld launches ran %ld: expected 1 and one per step after the eager one up "
        "to the diverged step %lld",
        g.c.captures, g.c.launch_ran, (long long)g.r.steps);

  // (d) stale graphs
  printf("(d) stale: generation bumped after epoch 1 (training) and at a launch in evaluation\n");
  bump_after_epoch = 1;
  run(&base, &graphsim, &g);
  bump_after_epoch = 0;
  c = cpu;
  show("graphsim", &g);
  compare("(d) stale in training", &g, &c);
  check_clean("(d) stale in training", &g.c);
  CHECK(g.c.stale == 1 && g.c.captures == 4 && g.c.capture_ok == 4 &&
            g.c.launch_ran == (steps - 1) + (val_full - 1) + (test_full - 1) &&
            g.c.launch_calls == g.c.launch_ran + 1,
        "(d) training re-capture: stale %ld captures %ld launches %ld ran %ld", g.c.stale,
        g.c.captures, g.c.launch_calls, g.c.launch_ran);
  CHECK(g.c.stream == plain_stream, "(d) training re-capture changed the op stream");
  long recaptures = g.c.captures - 3;
  // the first evaluation's 3rd launch: training launches steps-1 times, then the evaluation
  run_ex(&base, &graphsim, &g, (steps - 1) + 3, 0, NULL, 0);
  show("graphsim (eval)", &g);
  compare("(d) stale in evaluation", &g, &c);
  check_clean("(d) stale in evaluation", &g.c);
  CHECK(g.c.stale == 1 && g.c.captures == 4 && g.c.launch_calls == g.c.launch_ran + 1 &&
            g.c.launch_ran == (steps - 1) + (val_full - 1) + (test_full - 1),
        "(d) evaluation re-capture: stale %ld captures %ld launches %ld ran %ld", g.c.stale,
        g.c.captures, g.c.launch_calls, g.c.launch_ran);
  CHECK(g.c.stream == plain_stream, "(d) evaluation re-capture changed the op stream");
  recaptures += g.c.captures - 3;

  // (e) capture failures -> eager
  printf("(e) forced capture failure of the training step, then of the first evaluation's\n");
  char buf[4096];
  run_ex(&base, &graphsim, &g, 0, 1, buf, sizeof buf);
  show("graphsim (train)", &g);
  compare("(e) training capture fails", &g, &c);
  check_clean("(e) training capture fails", &g.c);
  CHECK(strstr(buf, "capture failed") && strstr(buf, "trains without graphs"),
        "(e) no stderr line for the failed capture: '%s'", buf);
  CHECK(g.c.captures == 1 && g.c.capture_fail == 1 && g.c.forced_fail == 1 &&
            g.c.launch_calls == 0 && g.c.recorded > 0,
        "(e) training: captures %ld failed %ld launches %ld (expected 1, 1, 0: the child runs "
        "eagerly, evaluation too)",
        g.c.captures, g.c.capture_fail, g.c.launch_calls);
  CHECK(g.c.stream == plain_stream && g.c.eager_ops == plain_ops_run,
        "(e) the eager child ran another op stream (%ld ops vs %ld with graphs)", g.c.eager_ops,
        plain_ops_run);
  long fallbacks = g.c.capture_fail;
  run_ex(&base, &graphsim, &g, 0, 2, buf, sizeof buf);
  show("graphsim (eval)", &g);
  compare("(e) evaluation capture fails", &g, &c);
  check_clean("(e) evaluation capture fails", &g.c);
  CHECK(strstr(buf, "capture failed"), "(e) no stderr line for the failed evaluation capture");
  CHECK(g.c.captures == 2 && g.c.capture_fail == 1 && g.c.launch_ran == steps - 1,
        "(e) evaluation: captures %ld failed %ld launches ran %ld (expected 2, 1, %ld: the "
        "test set evaluates eagerly)",
        g.c.captures, g.c.capture_fail, g.c.launch_ran, steps - 1);
  CHECK(g.c.stream == plain_stream, "(e) evaluation fallback changed the op stream");
  fallbacks += g.c.capture_fail;
  setenv("PNAS_CUDA_GRAPHS", "0", 1); // graphs turned off: every unit eager, nothing captured
  run(&base, &graphsim, &g);
  unsetenv("PNAS_CUDA_GRAPHS");
  show("graphsim, graphs off", &g);
  compare("(e) PNAS_CUDA_GRAPHS=0", &g, &c);
  check_clean("(e) PNAS_CUDA_GRAPHS=0", &g.c);
  CHECK(g.c.captures == 0 && g.c.launch_calls == 0, "(e) PNAS_CUDA_GRAPHS=0: %ld captures",
        g.c.captures);
  CHECK(g.c.stream == plain_stream && g.c.eager_ops == plain_ops_run,
        "(e) graphs off: another op stream than with graphs (%ld ops vs %ld)", g.c.eager_ops,
        plain_ops_run);

  // (f) the device bookkeeping: loss read back only when logged and at epoch ends
  printf("(f) device path of train_child (graphsim with a dev_open), verbose progress\n");
  train_config cf = base;
  cf.verbose = 1;
  run(&cf, &graphsim_dev, &g);
  run(&cf, NULL, &c);
  show("graphsim-dev", &g);
  show("cpu", &c);
  compare("(f) device path", &g, &c);
  check_clean("(f) device path", &g.c);
  check_plain_counts("(f) device path", &g.c, steps, val_full, test_full);
  CHECK(g.log.n > 2 * 2, "(f) only %d progress reports", g.log.n);
  CHECK(dev_opens == 0, "(f) device opened %d more times than closed", dev_opens);
  cf.lr = 1e6;
  run(&cf, &graphsim_dev, &g);
  run(&cf, NULL, &c);
  show("graphsim-dev lr 1e6", &g);
  compare("(f) device path, diverging", &g, &c);
  check_clean("(f) device path, diverging", &g.c);
  cf.verbose = 0; // the loss is read back at the epoch's end only: the step of the first NaN
  run(&cf, &graphsim_dev, &g); // still comes from the backend's bookkeeping
  run(&cf, NULL, &c);
  show("graphsim-dev lr 1e6 quiet", &g);
  compare("(f) device path, diverging, quiet", &g, &c);
  check_clean("(f) device path, diverging, quiet", &g.c);
  CHECK(g.c.launch_ran == steps / 2 - 1, "(f) quiet: %ld launches, expected the whole epoch (%ld)",
        g.c.launch_ran, steps / 2 - 1);

  // train_bench on both
  printf("train_bench\n");
  double sec[6], bytes_g = 0, bytes_c = 0;
  train_config tb = base;
  tb.backend_table = &graphsim;
  sim_reset();
  int rb = train_bench(&tb, &CELL, &TRAIN, 2, 6, sec, &bytes_g, err, sizeof err);
  sim_counters bc = G.c;
  CHECK(rb == 0, "bench on graphsim: %s", err);
  tb.backend_table = NULL;
  CHECK(train_bench(&tb, &CELL, &TRAIN, 2, 6, sec, &bytes_c, err, sizeof err) == 0,
        "bench on cpu: %s", err);
  CHECK(bytes_g == bytes_c && bytes_g > 0, "bench step bytes %g vs %g", bytes_g, bytes_c);
  printf("  bench graphsim: captures %ld launches %ld ran %ld illegal %ld\n", bc.captures,
         bc.launch_calls, bc.launch_ran, bc.illegal);
  CHECK(bc.captures == 1 && bc.capture_ok == 1 && bc.launch_ran == 2 + 6 - 1,
        "bench: captures %ld launches ran %ld (expected 1, 7)", bc.captures, bc.launch_ran);
  check_clean("bench", &bc);

  sim_reset();
  free(TRAIN.images);
  free(TRAIN.labels);
  free(VAL.images);
  free(VAL.labels);
  free(TEST.images);
  free(TEST.labels);
  printf("training graph: %ld ops; re-captures %ld, eager fallbacks %ld; %.1f s\n", plain_ops,
         recaptures, fallbacks, now_s() - t0);
  if (bad) {
    fprintf(stderr, "%d checks failed\n", bad);
    return 1;
  }
  printf("all graph replay checks passed\n");
  return 0;
}
