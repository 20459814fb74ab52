// Strategy registry: one entry point for every search strategy, keyed by --strategy. The
// strategies live in strategy_*.c, what they share in strategy_common.c; nothing here is
// called by them.
#include <stdio.h>
#include <string.h>

#include "pnas/strategies/strategy.h"

int strategy_run(search_ctx *s, search_result *res, char *err, size_t errlen) {
  const char *name = search_ctx_config(s)->strategy;
  if (!strcmp(name, "pnas")) return strategy_pnas(s, res, err, errlen);
  if (!strcmp(name, "random")) return strategy_random(s, res, err, errlen);
  if (!strcmp(name, "evolution")) return strategy_evolution(s, res, err, errlen);
  if (!strcmp(name, "rl")) return strategy_rl(s, res, err, errlen);
  if (!strcmp(name, "table")) return strategy_table(s, res, err, errlen);
  if (!strcmp(name, "prune")) return strategy_prune(s, res, err, errlen);
  snprintf(err, errlen, "strategy '%s' is not implemented in this build", name);
  return -1;
}
