// `pnas table build` as a strategy: every unique cell of levels 1..B of the space (within
// --max-params / --max-mult-adds) is evaluated once under the run's recipe, level by level,
// through the dispatcher (so --jobs and MPI workers train several at once). Resume is the
// strategy's replay: the store answers every finished cell. With --repeat-seeds S
// --repeat-sample M, M cells drawn at random (--seed) are then trained again under S other
// training seeds (train seed + 1 .. + S), each seed into its own run store DIR/repeat-<seed>,
// which is what the noise ceiling of `pnas table info` is measured from.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pnas/search/search.h"
#include "pnas/strategies/strategy_common.h"
#include "pnas/search/table.h"
#include "pnas/strategies/strategy.h"
#include "pnas/dispatch/eval.h"

// Appends the unique children of parents[0..np) within budget to *out (grown). -1 OOM.
static int expand_level(search_ctx *s, const space_cell *parents, int np, strategy_ledger *seen,
                        space_cell **out, int *n) {
  uint32_t ops = search_ctx_ops(s);
  int cap = 0;
  *out = NULL;
  *n = 0;
  space_cell empty = {0};
  int nroots = np ? np : 1;
  for (int p = 0; p < nroots; p++) {
    const space_cell *par = np ? &parents[p] : &empty;
    int k = space_expand(par, ops, NULL, 0);
    space_cell *kids = malloc(sizeof *kids * (size_t)(k ? k : 1));
    if (!kids) return -1;
    space_expand(par, ops, kids, k);
    for (int i = 0; i < k; i++) {
      space_canon(&kids[i]);
      if (!search_within_budget(s, &kids[i])) continue;
      int fresh = strategy_ledger_claim(seen, &kids[i]);
      if (fresh < 0) {
        free(kids);
        return -1;
      }
      if (!fresh) continue;
      if (*n == cap) {
        cap = cap ? 2 * cap : 256;
        space_cell *g = realloc(*out, sizeof *g * (size_t)cap);
        if (!g) {
          free(kids);
          return -1;
        }
        *out = g;
      }
      (*out)[(*n)++] = kids[i];
    }
    free(kids);
  }
  return 0;
}

int table_enumerate(search_ctx *s, int max_blocks, space_cell **cells, int *level_n,
                    char *err, size_t errlen) {
  strategy_ledger seen;
  if (strategy_ledger_init(&seen)) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  space_cell *all = NULL, *prev = NULL;
  int total = 0, nprev = 0, rc = 0;
  for (int b = 1; b <= max_blocks && !rc; b++) {
    space_cell *lv;
    int n;
    if (expand_level(s, prev, b == 1 ? 0 : nprev, &seen, &lv, &n)) {
      snprintf(err, errlen, "out of memory enumerating level %d", b);
      rc = -1;
      break;
    }
    if (b > 1 && nprev == 0) n = 0;
    level_n[b - 1] = n;
    space_cell *g = realloc(all, sizeof *g * (size_t)(total + n + 1));
    if (!g) {
      free(lv);
      snprintf(err, errlen, "out of memory enumerating level %d", b);
      rc = -1;
      break;
    }
    all = g;
    memcpy(all + total, lv, sizeof *lv * (size_t)n);
    total += n;
    free(prev);
    prev = lv;
    nprev = n;
  }
  free(prev);
  strategy_ledger_release(&seen);
  if (rc) {
    free(all);
    return -1;
  }
  *cells = all;
  return total;
}

// Evaluates cells[0..n) of one level through the dispatcher, updating the ledger. -1 stop.
static int eval_level(search_ctx *s, strategy_ledger *l, const space_cell *cells, int n,
                      int level, char *err, size_t errlen) {
  store_record *rec = malloc(sizeof *rec * (size_t)(n ? n : 1));
  int *cached = malloc(sizeof *cached * (size_t)(n ? n : 1));
  if (!rec || !cached) {
    free(rec);
    free(cached);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  int rc = dispatch_eval_batch(s, cells, n, level, NULL, rec, cached, err, errlen);
  for (int i = 0; i < n && !rc; i++)
    if (strategy_ledger_claim(l, &cells[i]) == 1) strategy_ledger_account(l, &rec[i]);
  free(rec);
  free(cached);
  return rc;
}

// The M cells to repeat: a partial Fisher-Yates shuffle of all cells, seeded by --seed, in
// table order (so the choice does not depend on what the training gave).
static int pick_repeats(const search_config *cfg, const space_cell *all, int total,
                        space_cell **out) {
  int m = cfg->repeat_sample < total ? cfg->repeat_sample : total;
  int *idx = malloc(sizeof *idx * (size_t)(total ? total : 1));
  space_cell *pick = malloc(sizeof *pick * (size_t)(m ? m : 1));
  if (!idx || !pick) {
    free(idx);
    free(pick);
    return -1;
  }
  for (int i = 0; i < total; i++) idx[i] = i;
  space_rng r;
  space_rng_seed(&r, (uint64_t)cfg->seed ^ 0x7461626c65ULL); // "table"
  for (int i = 0; i < m; i++) {
    int j = i + space_rng_below(&r, total - i);
    int t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
    pick[i] = all[idx[i]];
  }
  free(idx);
  *out = pick;
  return m;
}

static int run_repeats(search_ctx *s, const space_cell *all, int total, char *err,
                       size_t errlen) {
  const search_config *cfg = search_ctx_config(s);
  if (cfg->repeat_seeds <= 0 || cfg->repeat_sample <= 0) return 0;
  space_cell *pick;
  int m = pick_repeats(cfg, all, total, &pick);
  if (m < 0) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  int rc = 0;
  for (int k = 1; k <= cfg->repeat_seeds && !rc; k++) {
    search_config rc_cfg = *cfg;
    rc_cfg.train_seed = cfg->train_seed + k;
    rc_cfg.repeat_seeds = 0;
    rc_cfg.repeat_sample = 0;
    rc_cfg.cache_dir[0] = '\0';
    char dir[1200], log[1300], e2[900];
    table_repeat_dir(store_dir(search_ctx_store(s)), rc_cfg.train_seed, dir, sizeof dir);
    snprintf(log, sizeof log, "%s/%s", dir, STORE_LOG_NAME);
    FILE *f = fopen(log, "rb");
    int resume = f != NULL;
    if (f) fclose(f);
    search_ctx *r;
    if (search_ctx_open(&r, &rc_cfg, dir, resume, 0, e2, sizeof e2)) {
      snprintf(err, errlen, "repeat with train seed %lld: %s", (long long)rc_cfg.train_seed, e2);
      rc = -1;
      break;
    }
    fprintf(stderr, "pnas: table: %d cells again with train seed %lld (%s)\n", m,
            (long long)rc_cfg.train_seed, dir);
    // Level by level, so the progress line says which level a cell belongs to.
    strategy_ledger l;
    if (strategy_ledger_init(&l)) {
      search_ctx_close(r);
      snprintf(err, errlen, "out of memory");
      rc = -1;
      break;
    }
    for (int b = 1; b <= cfg->max_blocks && !rc; b++) {
      int nb = 0;
      space_cell *lv = malloc(sizeof *lv * (size_t)(m ? m : 1));
      if (!lv) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
        break;
      }
      for (int i = 0; i < m; i++)
        if (pick[i].nblocks == b) lv[nb++] = pick[i];
      if (nb) {
        search_progress_level(r, b, cfg->max_blocks, nb);
        rc = eval_level(r, &l, lv, nb, b, e2, sizeof e2);
        if (rc) snprintf(err, errlen, "repeat with train seed %lld: %s",
                         (long long)rc_cfg.train_seed, e2);
      }
      free(lv);
    }
    search_progress_done(r);
    strategy_ledger_release(&l);
    search_ctx_close(r);
  }
  free(pick);
  return rc;
}

// Each level is trained in a fixed pseudo-random order (a property of the space, not of --seed),
// so that a table stopped part-way holds a uniform sample of its level: usable, unbiased.
static void shuffle_level(space_cell *c, int n, int level) {
  space_rng r;
  space_rng_seed(&r, 0x70726f67ULL + (uint64_t)level);
  for (int i = n - 1; i > 0; i--) {
    int j = space_rng_below(&r, i + 1);
    space_cell t = c[i];
    c[i] = c[j];
    c[j] = t;
  }
}

int strategy_table(search_ctx *s, search_result *res, char *err, size_t errlen) {
  const search_config *cfg = search_ctx_config(s);
  int level_n[SPACE_MAX_BLOCKS] = {0};
  space_cell *all;
  int total = table_enumerate(s, cfg->max_blocks, &all, level_n, err, errlen);
  if (total < 0) return -1;
  char ops[160];
  space_format_ops(search_ctx_ops(s), ops, sizeof ops);
  fprintf(stderr, "pnas: table of ops %s, levels 1..%d:", ops, cfg->max_blocks);
  for (int b = 0; b < cfg->max_blocks; b++) fprintf(stderr, " %d", level_n[b]);
  fprintf(stderr, " cells (%d in all)\n", total);
  strategy_ledger l;
  if (strategy_ledger_init(&l)) {
    free(all);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  int rc = 0, off = 0;
  for (int b = 1, o = 0; b <= cfg->max_blocks; o += level_n[b - 1], b++)
    shuffle_level(all + o, level_n[b - 1], b);
  for (int b = 1; b <= cfg->max_blocks && !rc; b++) {
    int later = total - off - level_n[b - 1];
    search_progress_future(s, later);
    search_progress_level(s, b, cfg->max_blocks, level_n[b - 1]);
    rc = eval_level(s, &l, all + off, level_n[b - 1], b, err, errlen);
    off += level_n[b - 1];
  }
  search_progress_future(s, 0);
  search_progress_done(s);
  if (!rc) rc = strategy_write_state(s, &l, total, 1, 0, NULL, NULL, err, errlen);
  if (!rc) rc = run_repeats(s, all, total, err, errlen);
  strategy_ledger_result(&l, res);
  strategy_ledger_release(&l);
  free(all);
  return rc;
}
