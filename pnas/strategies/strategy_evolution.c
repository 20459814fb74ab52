// Regularized (aging) evolution baseline (Real et al. 2019, Algorithm 1): a population of P
// random cells; each cycle draws S members at random (with replacement, as the paper), mutates
// the best of them once (space_mutate: one input or op of one branch; identity with probability
// 0.05) into a child that joins the population, and removes the oldest member.
// [ours] P is capped to half the model budget and S scaled with it (see docs/baselines.md);
// a child whose cell this run already measured (identity, or a mutation back to a measured
// cell) joins the population with the known accuracy, costs nothing and does not count as a
// model. The population is saved in state.msgpack after every child; resume replays the run.
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pnas/strategies/strategy_common.h"
#include "pnas/strategies/strategy.h"

#define EVO_IDENTITY_P 0.05

typedef struct {
  space_cell *cell; // (P) ring buffer, oldest at head
  double *acc;      // (P)
  int P, S, head, n;
  int64_t cycles;
} evo_pop;

static void pop_push(evo_pop *p, const space_cell *c, double acc) {
  int i = (p->head + p->n) % p->P;
  if (p->n == p->P) {
    p->head = (p->head + 1) % p->P; // remove the oldest
    i = (p->head + p->n - 1) % p->P;
  } else {
    p->n++;
  }
  p->cell[i] = *c;
  p->acc[i] = acc;
}

static void pack_population(struct msgpack_packer *pk, void *user) {
  evo_pop *p = user;
  msgpack_packer *mp = (msgpack_packer *)pk;
  strategy_pack_key(pk, "population_size");
  msgpack_pack_int(mp, p->P);
  strategy_pack_key(pk, "sample_size");
  msgpack_pack_int(mp, p->S);
  strategy_pack_key(pk, "cycles");
  msgpack_pack_int64(mp, p->cycles);
  // Oldest first: [[cell, val_acc], ...]
  strategy_pack_key(pk, "population");
  msgpack_pack_array(mp, (size_t)p->n);
  for (int k = 0; k < p->n; k++) {
    int i = (p->head + k) % p->P;
    msgpack_pack_array(mp, 2);
    space_pack(&p->cell[i], pk);
    msgpack_pack_double(mp, p->acc[i]);
  }
}

// Population and tournament sizes for this budget [ours]: P = min(--population, budget / 2)
// (at least 2) so that at least half of the budget goes to evolved children; S keeps the
// paper's S/P ratio of the flags when P is capped (at least 2, at most P).
static void evo_sizes(const search_config *cfg, int budget, int *P, int *S) {
  int p = cfg->population, cap = budget / 2 > 2 ? budget / 2 : 2;
  if (p > cap) p = cap;
  int s = cfg->sample;
  if (p < cfg->population) s = (int)lround((double)cfg->sample * p / cfg->population);
  if (s < 2) s = 2;
  if (s > p) s = p;
  *P = p;
  *S = s;
}

int strategy_evolution(search_ctx *s, search_result *res, char *err, size_t errlen) {
  const search_config *cfg = search_ctx_config(s);
  uint32_t ops = search_ctx_ops(s);
  int budget = strategy_budget_models(s);
  evo_pop pop = {0};
  evo_sizes(cfg, budget, &pop.P, &pop.S);
  pop.cell = malloc(sizeof *pop.cell * (size_t)pop.P);
  pop.acc = malloc(sizeof *pop.acc * (size_t)pop.P);
  strategy_ledger l;
  if (!pop.cell || !pop.acc || strategy_ledger_init(&l)) {
    free(pop.cell);
    free(pop.acc);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  space_rng r;
  space_rng_seed(&r, (uint64_t)cfg->seed * 0x9E3779B97F4A7C15ULL + 0x45564FULL);
  fprintf(stderr, "pnas: aging evolution over %d-block cells, population %d, sample %d, "
                  "budget %d models\n",
          cfg->max_blocks, pop.P, pop.S, budget);
  search_progress_level(s, cfg->max_blocks, cfg->max_blocks, budget);
  int rc = -1, stale = 0, exhausted = 0;
  // Initial population: distinct random cells. They do not depend on results, so up to --jobs
  // of them train ahead; they join the population (and the state is written) in draw order.
  strategy_queue q;
  if (strategy_queue_open(&q, s, err, errlen)) goto out;
  for (;;) {
    while (!exhausted && pop.n + strategy_queue_pending(&q) < pop.P && l.n < budget &&
           strategy_queue_room(&q)) {
      space_cell c;
      if (strategy_sample_within(s, &r, &c, err, errlen)) goto out;
      if (strategy_ledger_has(&l, &c)) {
        if (++stale >= STRATEGY_MAX_STALE) exhausted = 1;
        continue;
      }
      stale = 0;
      if (strategy_queue_submit(&q, &l, &c, NULL, err, errlen)) goto out;
    }
    store_record rec;
    int got = strategy_queue_next(&q, &l, &rec, NULL, err, errlen);
    if (got < 0) goto out;
    if (got == 0) break;
    pop_push(&pop, &rec.cell, rec.ok ? rec.val_acc : 0.0);
    if (strategy_write_state(s, &l, budget, 0, 4, pack_population, &pop, err, errlen)) goto out;
  }
  // Each cycle's tournament sees the previous child's accuracy: the cycles run one child at a
  // time (search_eval, with every --threads), whatever --jobs says.
  strategy_queue_close(&q);
  stale = 0;
  while (l.models < budget && pop.n > 0) {
    // Tournament: S draws with replacement, the first of the highest accuracy wins.
    int win = -1;
    for (int k = 0; k < pop.S; k++) {
      int i = (pop.head + space_rng_below(&r, pop.n)) % pop.P;
      if (win < 0 || pop.acc[i] > pop.acc[win]) win = i;
    }
    space_cell child = pop.cell[win];
    int tries = 0;
    for (;;) {
      child = pop.cell[win];
      if (space_rng_uniform(&r) >= EVO_IDENTITY_P) space_mutate(&child, ops, &r);
      if (search_within_budget(s, &child)) break;
      if (++tries >= 1000) {
        child = pop.cell[win]; // no mutation within budget: the parent is copied
        break;
      }
    }
    store_record rec;
    int is_new;
    if (strategy_ledger_eval(s, &l, &child, &rec, &is_new, err, errlen)) goto out;
    pop_push(&pop, &rec.cell, rec.ok ? rec.val_acc : 0.0);
    pop.cycles++;
    stale = is_new ? 0 : stale + 1;
    if (stale >= STRATEGY_MAX_STALE) {
      search_progress_done(s);
      fprintf(stderr, "pnas: evolution: %d children in a row were already measured; stopping at "
                      "%d models (budget %d)\n",
              stale, l.models, budget);
      break;
    }
    if (is_new &&
        strategy_write_state(s, &l, budget, l.models >= budget, 4, pack_population, &pop, err,
                             errlen))
      goto out;
  }
  search_progress_done(s);
  if (strategy_write_state(s, &l, budget, 1, 4, pack_population, &pop, err, errlen)) goto out;
  strategy_ledger_result(&l, res);
  rc = 0;
out:
  strategy_queue_close(&q);
  strategy_ledger_release(&l);
  free(pop.cell);
  free(pop.acc);
  return rc;
}
