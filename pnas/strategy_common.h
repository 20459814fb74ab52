// What the baseline strategies (rl, random, evolution) share: their entry points, the model
// budget, and a ledger of the distinct cells one strategy run has evaluated. The ledger counts
// models itself (not store_count), because resume replays the run from the start: the store
// already holds every finished child, and the budget must be spent in the same order again.
#ifndef PNAS_STRATEGY_COMMON_H
#define PNAS_STRATEGY_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "pnas/search.h"

int strategy_random(search_ctx *s, search_result *res, char *err, size_t errlen);
int strategy_evolution(search_ctx *s, search_result *res, char *err, size_t errlen);
int strategy_rl(search_ctx *s, search_result *res, char *err, size_t errlen);

// Models a baseline trains: --budget-models, or when 0 what PNAS would train with the same
// flags: the unique 1-block cells within --max-params/--max-mult-adds + (B-1) x beam.
int strategy_budget_models(search_ctx *s);

// Distinct cells evaluated by this strategy run, the model count and the best record.
typedef struct {
  uint64_t *keys;    // open-addressing hash set of cell hashes (0 = empty slot)
  int cap, n;
  int models;        // distinct cells evaluated (= records this run added to its log)
  int found;
  store_record best; // first record with the highest val_acc among ok ones
  int64_t examples;
  double seconds;
} strategy_ledger;

int strategy_ledger_init(strategy_ledger *l); // 0 ok, -1 OOM
void strategy_ledger_free(strategy_ledger *l);
int strategy_ledger_has(const strategy_ledger *l, const space_cell *c);
// search_eval + bookkeeping. *is_new = 1 when the cell was not evaluated by this run before
// (it then counts as one model). Returns search_eval's status (-1: stop, err set).
int strategy_ledger_eval(search_ctx *s, strategy_ledger *l, const space_cell *c,
                         store_record *out, int *is_new, char *err, size_t errlen);
void strategy_ledger_result(const strategy_ledger *l, search_result *res);

// Samples a uniform B-block cell within --max-params/--max-mult-adds (resampling cells over
// budget). 0 ok; -1 when none of 100000 draws was within budget (err set).
int strategy_sample_within(search_ctx *s, space_rng *r, space_cell *out, char *err,
                           size_t errlen);

// state.msgpack of a baseline: {format, strategy, models, budget, finished, seed, extra...}.
// extra_pack (may be NULL) packs nextra more key/value pairs.
struct msgpack_packer;
int strategy_write_state(search_ctx *s, const strategy_ledger *l, int budget, int finished,
                         int nextra, void (*extra_pack)(struct msgpack_packer *pk, void *user),
                         void *user, char *err, size_t errlen);
// Packs a string key (for extra_pack callbacks).
void strategy_pack_key(struct msgpack_packer *pk, const char *key);

// A strategy gives up (with a warning, not an error) after this many evaluations in a row that
// brought no new model: the controller or population has collapsed onto measured cells.
#define STRATEGY_MAX_STALE 20000

#endif
