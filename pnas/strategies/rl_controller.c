// RL controller: per-step LSTM forward with masked softmax heads, sampling, the REINFORCE loss
// and its exact gradient by backpropagation through time, Adam update and the msgpack image.
// Arithmetic is plain loops in double over float parameters: deterministic (no BLAS threading),
// so a replayed search takes the same decisions, and precise enough for finite differences.
#include "pnas/strategies/rl_controller.h"

#include <math.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "predictor/tokens.h"
#include "searchspace/msgpack_check.h"

#define NI SPACE_NUM_INPUTS
#define NO (c->nop) // op ids of the head: the vocabulary (8 or 13); 13 for pairs
// Widest head: rows of the probability scratch and the logits.
#define NZ (SPACE_NUM_INPUTS > SPACE_NUM_OPS ? SPACE_NUM_INPUTS : SPACE_NUM_OPS)

struct rl_ws;
static struct rl_ws *ws_new(int T, int H, int nparams);
static void ws_free(struct rl_ws *w);

int rl_controller_init(rl_controller *c, int E, int H, int nblocks, int pair, uint32_t ops,
                       uint64_t seed) {
  memset(c, 0, sizeof *c);
  if (E < 1 || H < 1 || nblocks < 1 || nblocks > SPACE_MAX_BLOCKS || !(ops & SPACE_ALL_OPS) ||
      (pair && 2 * nblocks > SPACE_MAX_BLOCKS))
    return -1;
  c->E = E;
  c->H = H;
  c->nblocks = nblocks;
  c->pair = pair != 0;
  c->ops = ops & SPACE_ALL_OPS;
  c->vocab = pair ? SPACE_PAIR_VOCAB : space_vocab_ops(c->ops);
  c->nop = pair ? SPACE_NUM_OPS : c->vocab;
  const int V = pred_vocab_rows(c->vocab);
  int nl = lstm_nparams(V, E, H);
  c->nparams = nl + H * NI + NI + H * NO + NO;
  c->p = calloc((size_t)c->nparams, sizeof *c->p);
  c->ws = ws_new(4 * nblocks * (pair ? 2 : 1), H, c->nparams);
  if (!c->p || !c->ws) {
    rl_controller_release(c);
    return -1;
  }
  c->lstm.V = V;
  c->lstm.E = E;
  c->lstm.H = H;
  c->lstm.nparams = nl;
  c->lstm.p = c->p;
  lstm_view(V, E, H, c->p, &c->lstm.v);
  c->w_in = c->p + nl;
  c->b_in = c->w_in + H * NI;
  c->w_op = c->b_in + NI;
  c->b_op = c->w_op + H * NO;
  space_rng r;
  space_rng_seed(&r, seed ^ 0x5EEDC0DEULL);
  lstm_randomize(&c->lstm, &r);
  // Heads start small so the first policy is close to uniform over the valid choices.
  for (int i = 0; i < H * NI + NI + H * NO + NO; i++)
    c->w_in[i] = (float)(0.2 * space_rng_uniform(&r) - 0.1);
  return 0;
}

void rl_controller_release(rl_controller *c) {
  free(c->p);
  ws_free(c->ws);
  memset(c, 0, sizeof *c);
}

// Valid choices at step t: input tokens of block b (1-based) read 0..b; op tokens the mask. A
// pair's steps from 4B on spell its reduction cell.
static int step_is_input(int t) { return (t % 4) < 2; }
static int step_valid(const rl_controller *c, int t, int k) {
  if (step_is_input(t)) return k <= (t % (4 * c->nblocks)) / 4 + 1;
  return (c->ops >> k) & 1;
}
// Unified token id of the action at step t (the next step's input), as predictor/tokens.h.
static int step_token(const rl_controller *c, int t, int a) {
  return step_is_input(t) ? a : NI + a + (t >= 4 * c->nblocks ? SPACE_NUM_OPS : 0);
}

// Activations of one episode, kept for backward, and backward scratch.
struct rl_ws {
  int T, H;
  double *gates; // (T, 4H) activated i, f, g, o
  double *c;     // (T, H)
  double *tc;    // (T, H) tanh(c)
  double *h;     // (T, H)
  double *prob;  // (T, NZ) masked softmax (zeros at invalid choices)
  double *dh, *dc, *dhp; // (H) each
  double *da;    // (4H)
  double *grad;  // (nparams) gradient accumulated in double
};
typedef struct rl_ws ep_ws;

static void ws_free(ep_ws *w) {
  if (!w) return;
  free(w->gates);
  free(w->c);
  free(w->tc);
  free(w->h);
  free(w->prob);
  free(w->dh);
  free(w->dc);
  free(w->dhp);
  free(w->da);
  free(w->grad);
  free(w);
}

static ep_ws *ws_new(int T, int H, int nparams) {
  ep_ws *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->T = T;
  w->H = H;
  w->gates = malloc(sizeof(double) * (size_t)T * 4 * H);
  w->c = malloc(sizeof(double) * (size_t)T * H);
  w->tc = malloc(sizeof(double) * (size_t)T * H);
  w->h = malloc(sizeof(double) * (size_t)T * H);
  w->prob = malloc(sizeof(double) * (size_t)T * NZ);
  w->dh = malloc(sizeof(double) * (size_t)H);
  w->dc = malloc(sizeof(double) * (size_t)H);
  w->dhp = malloc(sizeof(double) * (size_t)H);
  w->da = malloc(sizeof(double) * (size_t)4 * H);
  w->grad = malloc(sizeof(double) * (size_t)nparams);
  if (!w->gates || !w->c || !w->tc || !w->h || !w->prob || !w->dh || !w->dc || !w->dhp ||
      !w->da || !w->grad) {
    ws_free(w);
    return NULL;
  }
  return w;
}

static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

// Forward of one episode. With r != NULL the actions are sampled into ep->act, else the given
// actions are scored. Fills ep->logp, ep->entropy (and ep->cell when sampling).
static void forward(const rl_controller *c, rl_episode *ep, space_rng *r, ep_ws *w) {
  const int E = c->E, H = c->H, G = 4 * H, T = 4 * c->nblocks * (c->pair ? 2 : 1);
  const lstm_params *p = &c->lstm.v;
  ep->len = T;
  ep->logp = 0;
  ep->entropy = 0;
  for (int t = 0; t < T; t++) {
    double *g = w->gates + (size_t)t * G;
    // Step 0 reads a zero input; step t > 0 the embedding of the previous action.
    for (int j = 0; j < G; j++) g[j] = p->b[j];
    if (t > 0) {
      const float *x = p->emb + (size_t)step_token(c, t - 1, ep->act[t - 1]) * E;
      for (int e = 0; e < E; e++) {
        const float *wr = p->w_ih + (size_t)e * G;
        for (int j = 0; j < G; j++) g[j] += (double)x[e] * wr[j];
      }
      const double *hp = w->h + (size_t)(t - 1) * H;
      for (int k = 0; k < H; k++) {
        const float *wr = p->w_hh + (size_t)k * G;
        for (int j = 0; j < G; j++) g[j] += hp[k] * wr[j];
      }
    }
    double *ct = w->c + (size_t)t * H, *tc = w->tc + (size_t)t * H, *h = w->h + (size_t)t * H;
    for (int j = 0; j < H; j++) {
      g[j] = sigm(g[j]);
      g[H + j] = sigm(g[H + j]);
      g[2 * H + j] = tanh(g[2 * H + j]);
      g[3 * H + j] = sigm(g[3 * H + j]);
      double cp = t > 0 ? w->c[(size_t)(t - 1) * H + j] : 0.0;
      ct[j] = g[H + j] * cp + g[j] * g[2 * H + j];
      tc[j] = tanh(ct[j]);
      h[j] = g[3 * H + j] * tc[j];
    }
    // Masked softmax head.
    int V = step_is_input(t) ? NI : NO;
    const float *W = step_is_input(t) ? c->w_in : c->w_op;
    const float *bb = step_is_input(t) ? c->b_in : c->b_op;
    double z[NZ], zmax = -INFINITY;
    for (int k = 0; k < V; k++) {
      if (!step_valid(c, t, k)) continue;
      double s = bb[k];
      for (int j = 0; j < H; j++) s += h[j] * W[(size_t)j * V + k];
      z[k] = s;
      if (s > zmax) zmax = s;
    }
    double *pr = w->prob + (size_t)t * NZ, sum = 0;
    for (int k = 0; k < NZ; k++) pr[k] = 0;
    for (int k = 0; k < V; k++)
      if (step_valid(c, t, k)) sum += (pr[k] = exp(z[k] - zmax));
    double lse = zmax + log(sum), ent = 0;
    for (int k = 0; k < V; k++)
      if (step_valid(c, t, k)) {
        pr[k] /= sum;
        if (pr[k] > 0) ent -= pr[k] * (z[k] - lse);
      }
    if (r) {
      double u = space_rng_uniform(r), cum = 0;
      int a = -1;
      for (int k = 0; k < V; k++) {
        if (!step_valid(c, t, k)) continue;
        a = k; // the last valid choice absorbs rounding
        cum += pr[k];
        if (u < cum) break;
      }
      PNAS_ASSERT(a >= 0);
      ep->act[t] = (uint8_t)a;
    }
    PNAS_ASSERT(step_valid(c, t, ep->act[t]));
    ep->logp += z[ep->act[t]] - lse;
    ep->entropy += ent;
  }
  if (r) {
    memset(&ep->cell, 0, sizeof ep->cell);
    ep->cell.nblocks = c->nblocks;
    for (int b = 0; b < c->nblocks; b++) {
      ep->cell.b[b].in1 = ep->act[4 * b];
      ep->cell.b[b].in2 = ep->act[4 * b + 1];
      ep->cell.b[b].op1 = ep->act[4 * b + 2];
      ep->cell.b[b].op2 = ep->act[4 * b + 3];
    }
    if (c->pair) { // the reduction cell, sampled after the normal cell as NASNet's controller
      const uint8_t *a = ep->act + 4 * c->nblocks;
      ep->cell.nred = c->nblocks;
      for (int b = 0; b < c->nblocks; b++)
        ep->cell.r[b] = (space_block){a[4 * b], a[4 * b + 2], a[4 * b + 1], a[4 * b + 3]};
    }
  }
}

void rl_controller_sample(const rl_controller *c, space_rng *r, rl_episode *ep) {
  forward(c, ep, r, c->ws);
}

void rl_controller_score(const rl_controller *c, rl_episode *ep) { forward(c, ep, NULL, c->ws); }

// Adds the gradient of  wl * (-adv * logp - beta * entropy)  for one scored episode.
static void backward(const rl_controller *c, const rl_episode *ep, const ep_ws *w, double adv,
                     double beta, double wl, double *gr /* (nparams) */) {
  const int E = c->E, H = c->H, G = 4 * H, T = ep->len;
  const lstm_params *p = &c->lstm.v;
  // Gradient offsets in the flat layout (lstm_view order), accumulated in double.
  size_t o_emb = 0, o_wih = (size_t)c->lstm.V * E, o_whh = o_wih + (size_t)E * G,
         o_b = o_whh + (size_t)H * G;
  size_t o_win = (size_t)(c->w_in - c->p), o_bin = (size_t)(c->b_in - c->p),
         o_wop = (size_t)(c->w_op - c->p), o_bop = (size_t)(c->b_op - c->p);
  double *dh = w->dh, *dc = w->dc, *da = w->da, *dhp = w->dhp;
  for (int j = 0; j < H; j++) dh[j] = dc[j] = 0;
  for (int t = T - 1; t >= 0; t--) {
    const double *h = w->h + (size_t)t * H, *pr = w->prob + (size_t)t * NZ;
    int in = step_is_input(t), V = in ? NI : NO;
    const float *W = in ? c->w_in : c->w_op;
    size_t oW = in ? o_win : o_wop, ob = in ? o_bin : o_bop;
    // d/dz_k of (-adv log p_a - beta H) = adv (p_k - [k=a]) + beta p_k (log p_k + H_t).
    double ent = 0;
    for (int k = 0; k < V; k++)
      if (pr[k] > 0) ent -= pr[k] * log(pr[k]);
    for (int k = 0; k < V; k++) {
      if (!step_valid(c, t, k)) continue;
      double dz = adv * (pr[k] - (k == ep->act[t]));
      if (pr[k] > 0) dz += beta * pr[k] * (log(pr[k]) + ent);
      dz *= wl;
      gr[ob + k] += dz;
      for (int j = 0; j < H; j++) {
        gr[oW + (size_t)j * V + k] += dz * h[j];
        dh[j] += dz * W[(size_t)j * V + k];
      }
    }
    // LSTM cell backward.
    const double *g = w->gates + (size_t)t * G, *tc = w->tc + (size_t)t * H;
    for (int j = 0; j < H; j++) {
      double gi = g[j], gf = g[H + j], gg = g[2 * H + j], go = g[3 * H + j];
      double dcj = dc[j] + dh[j] * go * (1 - tc[j] * tc[j]);
      double cp = t > 0 ? w->c[(size_t)(t - 1) * H + j] : 0.0;
      da[j] = dcj * gg * gi * (1 - gi);
      da[H + j] = dcj * cp * gf * (1 - gf);
      da[2 * H + j] = dcj * gi * (1 - gg * gg);
      da[3 * H + j] = dh[j] * tc[j] * go * (1 - go);
      dc[j] = dcj * gf;
    }
    for (int j = 0; j < G; j++) gr[o_b + j] += da[j];
    for (int k = 0; k < H; k++) dhp[k] = 0;
    if (t > 0) {
      int tok = step_token(c, t - 1, ep->act[t - 1]);
      const float *x = p->emb + (size_t)tok * E;
      for (int e = 0; e < E; e++) {
        const float *wr = p->w_ih + (size_t)e * G;
        double *gw = gr + o_wih + (size_t)e * G, dx = 0;
        for (int j = 0; j < G; j++) {
          gw[j] += x[e] * da[j];
          dx += wr[j] * da[j];
        }
        gr[o_emb + (size_t)tok * E + e] += dx;
      }
      const double *hp = w->h + (size_t)(t - 1) * H;
      for (int k = 0; k < H; k++) {
        const float *wr = p->w_hh + (size_t)k * G;
        double *gw = gr + o_whh + (size_t)k * G, s = 0;
        for (int j = 0; j < G; j++) {
          gw[j] += hp[k] * da[j];
          s += wr[j] * da[j];
        }
        dhp[k] = s;
      }
    }
    memcpy(dh, dhp, sizeof *dh * (size_t)H);
  }
}

double rl_controller_loss(const rl_controller *c, const rl_episode *eps, const double *adv, int n,
                          double beta, float *grad) {
  ep_ws *w = c->ws;
  if (grad)
    for (int i = 0; i < c->nparams; i++) w->grad[i] = 0;
  double L = 0;
  for (int i = 0; i < n; i++) {
    rl_episode e = eps[i];
    forward(c, &e, NULL, w);
    L += (-adv[i] * e.logp - beta * e.entropy) / n;
    if (grad) backward(c, &e, w, adv[i], beta, 1.0 / n, w->grad);
  }
  if (grad)
    for (int i = 0; i < c->nparams; i++) grad[i] += (float)w->grad[i];
  return L;
}

int rl_controller_update(rl_controller *c, pred_adam *adam, const rl_episode *eps, const double *adv,
                         int n, double beta) {
  float *g = calloc((size_t)c->nparams, sizeof *g);
  if (!g) return -1;
  rl_controller_loss(c, eps, adv, n, beta, g);
  pred_adam_step(adam, c->p, g);
  free(g);
  return 0;
}

static void pack_key(msgpack_packer *pk, const char *k) {
  msgpack_pack_str(pk, strlen(k));
  msgpack_pack_str_body(pk, k, strlen(k));
}

static void pack_floats(msgpack_packer *pk, const float *x, int n) {
  // Little-endian IEEE floats as one bin (exact, compact).
  msgpack_pack_bin(pk, sizeof(float) * (size_t)n);
  for (int i = 0; i < n; i++) {
    uint32_t u;
    unsigned char b[4];
    memcpy(&u, &x[i], 4);
    for (int k = 0; k < 4; k++) b[k] = (unsigned char)(u >> (8 * k));
    msgpack_pack_bin_body(pk, b, 4);
  }
}

int rl_controller_save_mem(const rl_controller *c, const pred_adam *adam, double baseline,
                           int updates, char **buf, size_t *len) {
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_map(&pk, 14 + (size_t)c->pair); // 13 (14 for pairs) and crc32, the seal
  pack_key(&pk, "magic");
  pack_key(&pk, RL_FILE_MAGIC);
  pack_key(&pk, "version");
  msgpack_pack_int(&pk, RL_FILE_VERSION);
  pack_key(&pk, "embed");
  msgpack_pack_int(&pk, c->E);
  pack_key(&pk, "hidden");
  msgpack_pack_int(&pk, c->H);
  pack_key(&pk, "blocks");
  msgpack_pack_int(&pk, c->nblocks);
  pack_key(&pk, "ops");
  msgpack_pack_uint32(&pk, c->ops);
  if (c->pair) { // NASNet's pairs: 8B tokens (the entry is absent for single cells)
    pack_key(&pk, "pair");
    msgpack_pack_true(&pk);
  }
  pack_key(&pk, "baseline");
  isfinite(baseline) ? msgpack_pack_double(&pk, baseline) : msgpack_pack_nil(&pk);
  pack_key(&pk, "updates");
  msgpack_pack_int(&pk, updates);
  pack_key(&pk, "adam_t");
  msgpack_pack_int(&pk, adam ? adam->t : 0);
  pack_key(&pk, "layout");
  pack_key(&pk, "lstm(emb,w_ih,w_hh,b,w_fc,b_fc) w_in b_in w_op b_op");
  pack_key(&pk, "params");
  pack_floats(&pk, c->p, c->nparams);
  pack_key(&pk, "adam_m");
  if (adam) pack_floats(&pk, adam->m, adam->n);
  else msgpack_pack_nil(&pk);
  pack_key(&pk, "adam_v");
  if (adam) pack_floats(&pk, adam->v, adam->n);
  else msgpack_pack_nil(&pk);
  if (!sb.data || space_msgpack_seal(&sb)) {
    msgpack_sbuffer_destroy(&sb);
    return -1;
  }
  *buf = sb.data; // ownership passes to the caller (malloc'd by msgpack's sbuffer)
  *len = sb.size;
  return 0;
}
