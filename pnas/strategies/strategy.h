// The search strategies' entry points (pnas/strategies/): each runs a search on an open context
// to completion, resuming from the store when records exist. 0 ok, -1 error (err set).
// strategy_run dispatches on the context's config (--strategy).
#ifndef PNAS_STRATEGY_H
#define PNAS_STRATEGY_H

#include <stddef.h>

#include "pnas/search/search.h"

int strategy_run(search_ctx *s, search_result *res, char *err, size_t errlen);
int strategy_pnas(search_ctx *s, search_result *res, char *err, size_t errlen);
int strategy_random(search_ctx *s, search_result *res, char *err, size_t errlen);
int strategy_evolution(search_ctx *s, search_result *res, char *err, size_t errlen);
int strategy_rl(search_ctx *s, search_result *res, char *err, size_t errlen);
int strategy_table(search_ctx *s, search_result *res, char *err, size_t errlen);
int strategy_prune(search_ctx *s, search_result *res, char *err, size_t errlen);

#endif
