// Random search baseline: uniform B-block cells (space_sample: each block uniform over the
// unique blocks at its position), skipping cells over --max-params/--max-mult-adds and cells
// this run already evaluated, until the model budget is spent. Deterministic given --seed, so
// resume replays it from the store.
#include <stdio.h>

#include "pnas/strategies/strategy_common.h"
#include "pnas/strategies/strategy.h"

int strategy_random(search_ctx *s, search_result *res, char *err, size_t errlen) {
  const search_config *cfg = search_ctx_config(s);
  int budget = strategy_budget_models(s);
  strategy_ledger l;
  if (strategy_ledger_init(&l)) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  space_rng r;
  space_rng_seed(&r, (uint64_t)cfg->seed * 0x2545F4914F6CDD1DULL + 0x52414E44ULL);
  fprintf(stderr, "pnas: random search over %d-block cells, budget %d models\n", cfg->max_blocks,
          budget);
  search_progress_level(s, cfg->max_blocks, cfg->max_blocks, budget);
  int rc = -1, stale = 0, exhausted = 0;
  // The cells drawn do not depend on results: up to --jobs children train ahead; results are
  // taken (and the state written) in the order the cells were drawn.
  strategy_queue q;
  if (strategy_queue_open(&q, s, err, errlen)) {
    strategy_ledger_release(&l);
    return -1;
  }
  for (;;) {
    while (!exhausted && l.n < budget && strategy_queue_room(&q)) {
      space_cell c;
      if (strategy_sample_within(s, &r, &c, err, errlen)) goto out;
      if (strategy_ledger_has(&l, &c)) {
        // The space (or its within-budget part) may be smaller than the budget.
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
    if (strategy_write_state(s, &l, budget, l.models >= budget, 0, NULL, NULL, err, errlen))
      goto out;
  }
  strategy_queue_close(&q);
  if (exhausted) {
    search_progress_done(s);
    fprintf(stderr, "pnas: random: %d draws in a row were already evaluated; the space "
                    "seems exhausted at %d models (budget %d)\n",
            stale, l.models, budget);
  }
  search_progress_done(s);
  if (strategy_write_state(s, &l, budget, 1, 0, NULL, NULL, err, errlen)) goto out;
  strategy_ledger_result(&l, res);
  rc = 0;
out:
  strategy_queue_close(&q);
  strategy_ledger_release(&l);
  return rc;
}
