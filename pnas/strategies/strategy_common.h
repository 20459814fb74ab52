// What the strategies share (strategy_common.c; entry points are in strategy.h): the model
// budget, and a ledger of the distinct cells one strategy run has evaluated. The ledger counts
// models itself (not store_count), because resume replays the run from the start: the store
// already holds every finished child, and the budget must be spent in the same order again.
#ifndef PNAS_STRATEGY_COMMON_H
#define PNAS_STRATEGY_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "pnas/search/search.h"

// Models a baseline trains: --budget-models, or when 0 what PNAS would train with the same
// flags: the unique 1-block cells within --max-params/--max-mult-adds + (B-1) x beam.
int strategy_budget_models(search_ctx *s);
// The cells PNAS trains at level 1 (every unique 1-block cell; with --space nasnet each as the
// tied pair (c, c)) written to out (may be NULL to count; room for the count). Returns the count.
int strategy_level1(search_ctx *s, space_cell *out);

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
void strategy_ledger_release(strategy_ledger *l);
int strategy_ledger_has(const strategy_ledger *l, const space_cell *c);
// dispatch_eval + bookkeeping. *is_new = 1 when the cell was not evaluated by this run before
// (it then counts as one model). Returns dispatch_eval's status (-1: stop, err set).
int strategy_ledger_eval(search_ctx *s, strategy_ledger *l, const space_cell *c,
                         store_record *out, int *is_new, char *err, size_t errlen);
// strategy_ledger_eval in two steps, for children evaluated ahead (strategy_queue): claim marks
// the cell as evaluated by this run (1 when it was not: a new model; l->n counts the claimed
// cells), account adds a new model's result. 0 / 1, or -1 out of memory.
int strategy_ledger_claim(strategy_ledger *l, const space_cell *c);
void strategy_ledger_account(strategy_ledger *l, const store_record *r);

// Children evaluated ahead through the dispatcher (pnas/dispatch/pool.h), handed back in the order
// they were submitted, so that a strategy's decisions never depend on which child finished
// first: with --jobs 1 it is dispatch_eval in order; with --jobs J or MPI workers up to J children
// train at once and the run is the same (same cells, same results, same state files in the same
// order; only the log's record order may differ). One queue at a time, and no dispatch_eval while
// it is open (one dispatcher per search).
struct dispatch_pool;
typedef struct {
  struct dispatch_pool *pool;
  int window;          // children submitted and not yet handed back, at most
  int64_t head, tail;  // next ticket to hand back / to submit
  store_record *rec;   // (window) ring by ticket
  int *got, *is_new;   // (window)
} strategy_queue;

int strategy_queue_open(strategy_queue *q, search_ctx *s, char *err, size_t errlen);
void strategy_queue_close(strategy_queue *q);
// Submitted and not yet handed back; 1 when another may be submitted now.
int strategy_queue_pending(const strategy_queue *q);
int strategy_queue_room(const strategy_queue *q);
// Claims c in the ledger (*is_new as strategy_ledger_eval, may be NULL) and submits it.
int strategy_queue_submit(strategy_queue *q, strategy_ledger *l, const space_cell *c,
                          int *is_new, char *err, size_t errlen);
// The oldest submitted child's record, accounted in the ledger when new (waits for it). 1 one
// returned, 0 none pending, -1 stop (err).
int strategy_queue_next(strategy_queue *q, strategy_ledger *l, store_record *out, int *is_new,
                        char *err, size_t errlen);
void strategy_ledger_result(const strategy_ledger *l, search_result *res);

// Samples a uniform B-block cell within --max-params/--max-mult-adds (resampling cells over
// budget). 0 ok; -1 when none of 100000 draws was within budget (err set).
int strategy_sample_within(search_ctx *s, space_rng *r, space_cell *out, char *err,
                           size_t errlen);

// state.msgpack of a baseline: {format, strategy, models, budget, finished, seed, extra...,
// crc32}.
// extra_pack (may be NULL) packs nextra more key/value pairs.
struct msgpack_packer;
int strategy_write_state(search_ctx *s, const strategy_ledger *l, int budget, int finished,
                         int nextra, void (*extra_pack)(struct msgpack_packer *pk, void *user),
                         void *user, char *err, size_t errlen);
// Packs a string key (for extra_pack callbacks).
void strategy_pack_key(struct msgpack_packer *pk, const char *key);
// Seals sb (a packed map whose header counts one more entry: crc32, see common/crc32.h) and
// writes it atomically as the run directory's file name. 0 ok, -1 with err.
struct msgpack_sbuffer;
int strategy_write_sealed(search_ctx *s, const char *name, struct msgpack_sbuffer *sb, char *err,
                          size_t errlen);

// A strategy gives up (with a warning, not an error) after this many evaluations in a row that
// brought no new model: the controller or population has collapsed onto measured cells.
#define STRATEGY_MAX_STALE 20000

#endif
