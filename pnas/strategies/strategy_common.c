// The pieces the strategies share (pnas/strategies/strategy_common.h): model budget, the ledger
// of evaluated cells, the queue of children evaluated ahead through the dispatcher,
// budget-respecting sampling and the state file. No strategy and no registry here.
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pnas/dispatch/pool.h"
#include "pnas/search/search.h"
#include "pnas/strategies/strategy_common.h"
#include "common/common.h"
#include "searchspace/msgpack_check.h"
#include "pnas/dispatch/eval.h"

int strategy_level1(search_ctx *s, space_cell *out) {
  space_cell empty = {0};
  uint32_t ops = search_ctx_ops(s);
  int n1 = space_expand(&empty, ops, out, out ? INT32_MAX : 0);
  // [ours] NASNet's space: level 1 is every 1-block cell as both the normal and the reduction
  // cell (the tied pairs; all pairs of 1-block cells would be n1^2, 123,201 with 13 operators).
  if (out && search_config_pairs(search_ctx_config(s)))
    for (int i = 0; i < n1; i++) out[i] = space_pair_of(&out[i]);
  return n1;
}

int strategy_budget_models(search_ctx *s) {
  const search_config *cfg = search_ctx_config(s);
  if (cfg->budget_models > 0) return cfg->budget_models;
  int n1 = strategy_level1(s, NULL);
  space_cell *kids = malloc(sizeof *kids * (size_t)n1);
  int within = n1;
  if (kids) {
    strategy_level1(s, kids);
    within = 0;
    for (int i = 0; i < n1; i++) within += search_within_budget(s, &kids[i]);
    free(kids);
  }
  return within + (cfg->max_blocks - 1) * cfg->beam;
}

int strategy_ledger_init(strategy_ledger *l) {
  memset(l, 0, sizeof *l);
  l->cap = 1024;
  l->keys = calloc((size_t)l->cap, sizeof *l->keys);
  return l->keys ? 0 : -1;
}

void strategy_ledger_release(strategy_ledger *l) {
  free(l->keys);
  l->keys = NULL;
}

static uint64_t key_of(const space_cell *c) {
  uint64_t h = space_hash(c);
  return h ? h : 1; // 0 marks an empty slot
}

static int find_slot(const uint64_t *keys, int cap, uint64_t k) {
  int i = (int)(k & (uint64_t)(cap - 1));
  while (keys[i] && keys[i] != k) i = (i + 1) & (cap - 1);
  return i;
}

int strategy_ledger_has(const strategy_ledger *l, const space_cell *c) {
  uint64_t k = key_of(c);
  return l->keys[find_slot(l->keys, l->cap, k)] == k;
}

static int ledger_add(strategy_ledger *l, uint64_t k) {
  if (2 * (l->n + 1) > l->cap) {
    int nc = l->cap * 2;
    uint64_t *nk = calloc((size_t)nc, sizeof *nk);
    if (!nk) return -1;
    for (int i = 0; i < l->cap; i++)
      if (l->keys[i]) nk[find_slot(nk, nc, l->keys[i])] = l->keys[i];
    free(l->keys);
    l->keys = nk;
    l->cap = nc;
  }
  l->keys[find_slot(l->keys, l->cap, k)] = k;
  l->n++;
  return 0;
}

int strategy_ledger_claim(strategy_ledger *l, const space_cell *c) {
  uint64_t k = key_of(c);
  if (l->keys[find_slot(l->keys, l->cap, k)] == k) return 0;
  return ledger_add(l, k) ? -1 : 1;
}

void strategy_ledger_account(strategy_ledger *l, const store_record *r) {
  l->models++;
  l->examples += r->examples;
  l->seconds += r->seconds;
  if (r->ok && search_record_better(r, l->found ? &l->best : NULL)) {
    l->best = *r;
    l->found = 1;
  }
}

int strategy_ledger_eval(search_ctx *s, strategy_ledger *l, const space_cell *c,
                         store_record *out, int *is_new, char *err, size_t errlen) {
  int cached;
  uint64_t k = key_of(c);
  *is_new = l->keys[find_slot(l->keys, l->cap, k)] != k;
  if (dispatch_eval(s, c, c->nblocks, NAN, out, &cached, err, errlen)) return -1;
  if (!*is_new) return 0;
  if (ledger_add(l, k)) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  strategy_ledger_account(l, out);
  return 0;
}

int strategy_queue_open(strategy_queue *q, search_ctx *s, char *err, size_t errlen) {
  memset(q, 0, sizeof *q);
  if (pool_open(&q->pool, s, err, errlen)) return -1;
  q->window = pool_capacity(q->pool);
  q->rec = calloc((size_t)q->window, sizeof *q->rec);
  q->got = calloc((size_t)q->window, sizeof *q->got);
  q->is_new = calloc((size_t)q->window, sizeof *q->is_new);
  if (!q->rec || !q->got || !q->is_new) {
    strategy_queue_close(q);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  return 0;
}

void strategy_queue_close(strategy_queue *q) {
  pool_close(q->pool);
  free(q->rec);
  free(q->got);
  free(q->is_new);
  memset(q, 0, sizeof *q);
}

int strategy_queue_pending(const strategy_queue *q) { return (int)(q->tail - q->head); }
int strategy_queue_room(const strategy_queue *q) { return q->tail - q->head < q->window; }

int strategy_queue_submit(strategy_queue *q, strategy_ledger *l, const space_cell *c,
                          int *is_new, char *err, size_t errlen) {
  if (!strategy_queue_room(q)) {
    snprintf(err, errlen, "internal error: strategy queue full");
    return -1;
  }
  int fresh = strategy_ledger_claim(l, c);
  if (fresh < 0) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  int slot = (int)(q->tail % q->window);
  q->got[slot] = 0;
  q->is_new[slot] = fresh;
  // Tickets number the submissions (a run submits far fewer than 2^31 children).
  if (pool_submit(q->pool, c, c->nblocks, NAN, (int)q->tail, err, errlen)) return -1;
  q->tail++;
  if (is_new) *is_new = fresh;
  return 0;
}

int strategy_queue_next(strategy_queue *q, strategy_ledger *l, store_record *out, int *is_new,
                        char *err, size_t errlen) {
  if (q->head == q->tail) return 0;
  int slot = (int)(q->head % q->window);
  while (!q->got[slot]) {
    store_record r;
    int cached, ticket;
    int rc = pool_wait(q->pool, &r, &cached, &ticket, err, errlen);
    if (rc < 0) return -1;
    int64_t t = ticket;
    if (rc == 0 || t < q->head || t >= q->tail) {
      snprintf(err, errlen, "internal error: the dispatcher lost a child");
      return -1;
    }
    q->rec[t % q->window] = r;
    q->got[t % q->window] = 1;
  }
  *out = q->rec[slot];
  q->got[slot] = 0;
  if (is_new) *is_new = q->is_new[slot];
  if (q->is_new[slot]) strategy_ledger_account(l, out);
  q->head++;
  return 1;
}

void strategy_ledger_result(const strategy_ledger *l, search_result *res) {
  memset(res, 0, sizeof *res);
  res->found = l->found;
  if (l->found) res->best = l->best;
  res->trained = l->models;
  res->examples = l->examples;
  res->seconds = l->seconds;
}

int strategy_sample_within(search_ctx *s, space_rng *r, space_cell *out, char *err,
                           size_t errlen) {
  const search_config *cfg = search_ctx_config(s);
  for (int tries = 0; tries < 100000; tries++) {
    if (search_config_pairs(cfg))
      space_sample_pair(out, cfg->max_blocks, search_ctx_ops(s), r);
    else
      space_sample(out, cfg->max_blocks, search_ctx_ops(s), r);
    space_canon(out);
    if (search_within_budget(s, out)) return 0;
  }
  snprintf(err, errlen, "no %d-block cell within --max-params/--max-mult-adds in 100000 random "
                        "draws; raise the limits",
           cfg->max_blocks);
  return -1;
}

void strategy_pack_key(struct msgpack_packer *pk, const char *key) {
  msgpack_packer *p = (msgpack_packer *)pk;
  msgpack_pack_str(p, strlen(key));
  msgpack_pack_str_body(p, key, strlen(key));
}

int strategy_write_state(search_ctx *s, const strategy_ledger *l, int budget, int finished,
                         int nextra, void (*extra_pack)(struct msgpack_packer *pk, void *user),
                         void *user, char *err, size_t errlen) {
  const search_config *cfg = search_ctx_config(s);
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  struct msgpack_packer *pp = (struct msgpack_packer *)&pk;
  msgpack_pack_map(&pk, 8 + (size_t)(extra_pack ? nextra : 0)); // 7, the extra, crc32
  strategy_pack_key(pp, "format");
  strategy_pack_key(pp, "pnas-search-state-1");
  strategy_pack_key(pp, "strategy");
  strategy_pack_key(pp, cfg->strategy);
  strategy_pack_key(pp, "models");
  msgpack_pack_int(&pk, l->models);
  strategy_pack_key(pp, "budget");
  msgpack_pack_int(&pk, budget);
  strategy_pack_key(pp, "finished");
  finished ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
  strategy_pack_key(pp, "seed");
  msgpack_pack_int64(&pk, cfg->seed);
  strategy_pack_key(pp, "best_val_acc");
  l->found ? msgpack_pack_double(&pk, l->best.val_acc) : msgpack_pack_nil(&pk);
  if (extra_pack) extra_pack(pp, user);
  int rc = strategy_write_sealed(s, "state.msgpack", &sb, err, errlen);
  msgpack_sbuffer_destroy(&sb);
  return rc;
}

int strategy_write_sealed(search_ctx *s, const char *name, struct msgpack_sbuffer *sb, char *err,
                          size_t errlen) {
  if (space_msgpack_seal(sb)) return pnas_seterr(err, errlen, "out of memory writing %s", name);
  return store_write_file(store_dir(search_ctx_store(s)), name, sb->data, sb->size, err, errlen);
}
