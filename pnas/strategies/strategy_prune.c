// Pruning as architecture search (--strategy prune; DESIGN.md s.5): network slimming (Liu et
// al. 2017) as "Rethinking the Value of Network Pruning" (Liu et al. 2019) uses it. Train the
// network of one cell at F x --prune-width with an L1 penalty (--prune-l1) on every BN gamma;
// rank the prunable channels (the stem's, and each separable op's inner channels, by the |gamma|
// of their BN) globally; remove the smallest, keeping at least one per layer, until the network
// fits --max-params / --max-mult-adds; write the channel counts (pruned-arch.txt); train the
// pruned network from scratch with the same recipe. Both trainings are records in the run's log
// (the base one over the budget, so never the answer); the ledger counts both.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "pnas/child/net.h"
#include "pnas/search/prune_arch.h"
#include "pnas/strategies/strategy.h"
#include "pnas/strategies/strategy_common.h"

// One prunable channel: its layer (group: 0 the stem, 1 + the index of a separable op's inner
// layer in cost_widths order) and |gamma| after the base training.
typedef struct {
  int group, channel;
  float mag;
} candidate;

typedef struct {
  candidate *c;
  int n, cap;
  int group_size[1 + COST_MAX_CELLS * SPACE_MAX_BLOCKS * 2];
  int failed;
} gammas;

static int group_of(int cell, int block, int branch) {
  return 1 + (cell * SPACE_MAX_BLOCKS + block) * 2 + branch;
}

static void push(gammas *g, int group, const float *v, int64_t n) {
  if (g->n + n > g->cap) {
    int cap = (int)(g->cap * 2 + n);
    candidate *c = realloc(g->c, sizeof *c * (size_t)cap);
    if (!c) {
      g->failed = 1;
      return;
    }
    g->c = c, g->cap = cap;
  }
  for (int64_t j = 0; j < n; j++) g->c[g->n++] = (candidate){group, (int)j, fabsf(v[j])};
  g->group_size[group] = (int)n;
}

// train_config.on_trained: the BN gammas of the stem and of every separable op's bn1.
static void collect(void *user, struct net *nt) {
  gammas *g = user;
  int64_t P = net_num_params(nt);
  float *host = malloc(sizeof *host * (size_t)P);
  if (!host) {
    g->failed = 1;
    return;
  }
  net_params_get(nt, host);
  for (int i = 0; i < net_param_count(nt); i++) {
    const net_param *p = net_param_at(nt, i);
    const char *nm = p->name;
    int cell, block, used = 0;
    char side[8], op[32];
    if (!strcmp(nm, "stem.bn.gamma")) {
      push(g, 0, host + p->offset, p->numel);
      continue;
    }
    if (sscanf(nm, "cell%d.%n", &cell, &used) != 1 || !used) continue;
    const char *rest = nm + used;
    if (!strncmp(rest, "red.", 4)) rest += 4; // a NASNet pair's reduction cell
    used = 0;
    if (sscanf(rest, "b%d.%7[a-z].%31[^.].bn1.gamma%n", &block, side, op, &used) == 3 && used &&
        rest[used] == '\0' && cell >= 0 && cell < COST_MAX_CELLS && block >= 1 &&
        block <= SPACE_MAX_BLOCKS)
      push(g, group_of(cell, block - 1, !strcmp(side, "right")), host + p->offset, p->numel);
  }
  free(host);
}

static int by_mag(const void *a, const void *b) {
  const candidate *x = a, *y = b;
  if (x->mag != y->mag) return x->mag < y->mag ? -1 : 1;
  if (x->group != y->group) return x->group < y->group ? -1 : 1;
  return x->channel < y->channel ? -1 : x->channel > y->channel;
}

// The widths after removing the k smallest candidates (each layer keeps at least one channel).
static void widths_for(const gammas *g, int k, cost_widths *w) {
  static int pruned[1 + COST_MAX_CELLS * SPACE_MAX_BLOCKS * 2];
  memset(pruned, 0, sizeof pruned);
  for (int i = 0; i < k && i < g->n; i++) pruned[g->c[i].group]++;
  memset(w, 0, sizeof *w);
  for (int gi = 0; gi < (int)(sizeof pruned / sizeof pruned[0]); gi++) {
    if (!g->group_size[gi]) continue;
    int left = g->group_size[gi] - pruned[gi];
    if (left < 1) left = 1;
    if (gi == 0) {
      w->stem = left;
    } else {
      int x = gi - 1;
      w->inner[x / (SPACE_MAX_BLOCKS * 2)][(x / 2) % SPACE_MAX_BLOCKS][x % 2] = (int16_t)left;
    }
  }
}

int strategy_prune(search_ctx *s, search_result *res, char *err, size_t errlen) {
  const search_config *cfg = search_ctx_config(s);
  memset(res, 0, sizeof *res);
  space_cell cell;
  char why[300];
  if (space_parse_in(cfg->cell[0] ? cfg->cell : NULL, cfg->space, &cell, why, sizeof why))
    return pnas_seterr(err, errlen, "prune: bad --cell: %s", why);
  space_canon(&cell);
  uint64_t hash = space_hash(&cell);
  int Fb = search_config_prune_F(cfg);
  cost_config base_cc = *search_ctx_cost(s);
  base_cc.F = Fb;
  base_cc.widths = NULL;
  cost_result base_cost;
  if (cost_network(&cell, &base_cc, &base_cost, why, sizeof why))
    return pnas_seterr(err, errlen, "prune: %s", why);
  // The records' settings: the search's, the base network's F and the L1 strength.
  uint64_t sb = pnas_fnv1a(search_ctx_settings(s) ^ 0x50524E42ULL, &Fb, sizeof Fb);
  sb = pnas_fnv1a(sb, &cfg->prune_l1, sizeof cfg->prune_l1);
  // [ours] --seed is the only randomness of a pruning run: it seeds both trainings (mixed with
  // --train-seed), so seeds of a comparison are independent runs, as the searches' are.
  sb = pnas_fnv1a(sb, &cfg->seed, sizeof cfg->seed);
  uint64_t tseed = pnas_fnv1a(0x9E3779B97F4A7C15ULL ^ (uint64_t)cfg->train_seed, &cfg->seed, sizeof cfg->seed);
  char text[SPACE_TEXT_MAX];
  space_format(&cell, text, sizeof text);
  char budget[96];
  if (cfg->max_params && cfg->max_mult_adds)
    snprintf(budget, sizeof budget, "params <= %lld, mult-adds <= %lld",
             (long long)cfg->max_params, (long long)cfg->max_mult_adds);
  else if (cfg->max_params)
    snprintf(budget, sizeof budget, "params <= %lld", (long long)cfg->max_params);
  else
    snprintf(budget, sizeof budget, "mult-adds <= %lld", (long long)cfg->max_mult_adds);
  fprintf(stderr, "pnas: prune: network slimming of %s at F=%d (%lld params, %lld mult-adds), "
                  "L1 %g on BN gammas, to %s\n",
          text, Fb, (long long)base_cost.params, (long long)base_cost.mult_adds, cfg->prune_l1,
          budget);
  // What pruning can reach at most (every prunable layer down to one channel), checked before
  // anything trains.
  {
    cost_widths one;
    memset(&one, 0, sizeof one);
    one.stem = 1;
    for (int c = 0; c < COST_MAX_CELLS; c++)
      for (int b = 0; b < SPACE_MAX_BLOCKS; b++) one.inner[c][b][0] = one.inner[c][b][1] = 1;
    cost_config cc = base_cc;
    cc.widths = &one;
    cost_result r;
    if (cost_network(&cell, &cc, &r, why, sizeof why) == 0 &&
        !search_config_fits(cfg, r.params, r.mult_adds))
      return pnas_seterr(err, errlen,
                         "prune: the budget (%s) is out of reach: with every prunable channel "
                         "removed (one kept per layer) the network of %s at F=%d has %lld params "
                         "and %lld mult-adds; raise the budget or lower --prune-width (%g) or --F",
                         budget, text, Fb, (long long)r.params, (long long)r.mult_adds,
                         cfg->prune_width);
  }
  search_progress_level(s, 1, 1, 2);
  const char *dir = store_dir(search_ctx_store(s));
  prune_arch arch;
  const store_record *base = store_find(search_ctx_store(s), hash, sb);
  int have_arch = base && prune_arch_read(dir, &arch, why, sizeof why) == 0 &&
                  space_equal(&arch.cell, &cell) && arch.F == Fb;
  store_record rec;
  if (!have_arch) {
    // 1. The base network with L1 on its BN gammas; its gammas rank the channels.
    gammas g;
    memset(&g, 0, sizeof g);
    search_variant v = {Fb, NULL, cfg->prune_l1, sb, tseed, collect, &g};
    search_train_variant(s, &cell, &v, &rec);
    if (!rec.ok || g.failed || g.n == 0) {
      free(g.c);
      if (!rec.ok) search_commit(s, &rec, why, sizeof why);
      return pnas_seterr(err, errlen, "prune: the base network failed: %s",
                         rec.ok ? "out of memory reading its BN gammas" : rec.reason);
    }
    // 2. Global channel pruning: the smallest k |gamma| with the network within the budget.
    qsort(g.c, (size_t)g.n, sizeof *g.c, by_mag);
    cost_config cc = base_cc;
    cost_widths w;
    cc.widths = &w;
    cost_result r;
    widths_for(&g, g.n, &w);
    if (cost_network(&cell, &cc, &r, why, sizeof why) ||
        !search_config_fits(cfg, r.params, r.mult_adds)) {
      free(g.c);
      return pnas_seterr(err, errlen,
                         "prune: even with every prunable channel removed (one kept per layer) "
                         "the network has %lld params and %lld mult-adds, over the budget; raise "
                         "--max-params/--max-mult-adds or lower --prune-width (%g) or --F",
                         (long long)r.params, (long long)r.mult_adds, cfg->prune_width);
    }
    int lo = 0, hi = g.n; // fits(hi); find the smallest k that fits
    while (lo < hi) {
      int mid = lo + (hi - lo) / 2;
      widths_for(&g, mid, &w);
      cost_network(&cell, &cc, &r, why, sizeof why);
      if (search_config_fits(cfg, r.params, r.mult_adds)) hi = mid;
      else lo = mid + 1;
    }
    widths_for(&g, lo, &w);
    cost_network(&cell, &cc, &r, why, sizeof why);
    memset(&arch, 0, sizeof arch);
    arch.cell = cell;
    snprintf(arch.dataset, sizeof arch.dataset, "%s", cfg->dataset);
    arch.N = cfg->N, arch.F = Fb, arch.stem_mult = base_cc.stem_mult;
    arch.w = w;
    arch.params = r.params, arch.mult_adds = r.mult_adds;
    fprintf(stderr, "pnas: prune: %d of %d prunable channels removed (|gamma| <= %.6g): %lld "
                    "params, %lld mult-adds\n",
            lo, g.n, lo > 0 ? (double)g.c[lo - 1].mag : 0.0, (long long)r.params,
            (long long)r.mult_adds);
    free(g.c);
    // The channel counts first, then the base record: a run whose log has the base record
    // always has its pruned-arch.txt (a kill in between trains the base again, identically).
    if (prune_arch_write(dir, &arch, err, errlen)) return -1;
    if (!base && search_commit(s, &rec, err, errlen)) return -1;
    base = store_find(search_ctx_store(s), hash, sb);
  } else {
    fprintf(stderr, "pnas: prune: base network and %s found in the run\n", PRUNE_ARCH_FILE);
  }
  // 3. The pruned network, trained from scratch with the same recipe (no L1).
  char *buf;
  size_t len;
  if (prune_arch_format(&arch, &buf, &len)) return pnas_seterr(err, errlen, "out of memory");
  uint64_t sp = pnas_fnv1a(sb ^ 0x50524E50ULL, buf, len);
  free(buf);
  const store_record *pr = store_find(search_ctx_store(s), hash, sp);
  if (pr) {
    rec = *pr;
  } else {
    search_variant v = {Fb, &arch.w, 0.0, sp, tseed, NULL, NULL};
    search_train_variant(s, &cell, &v, &rec);
    if (search_commit(s, &rec, err, errlen)) return -1;
  }
  search_progress_done(s);
  res->found = rec.ok;
  if (rec.ok) res->best = rec;
  res->trained = 2;
  res->examples = rec.examples + (base ? base->examples : 0);
  res->seconds = rec.seconds + (base ? base->seconds : 0);
  if (!rec.ok) fprintf(stderr, "pnas: prune: the pruned network failed: %s\n", rec.reason);
  return 0;
}
