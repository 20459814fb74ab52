// Progressive Neural Architecture Search (Liu et al. 2018, Algorithm 1): train every 1-block
// cell, then per level expand the beam, score all children with the predictor ensemble, train
// the top K, refit. Resume is a replay: the store answers every finished child and saved
// per-level predictors are reloaded, so a resumed search takes exactly the same decisions.
#include <math.h>
#include <time.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "pnas/search/search.h"
#include "pnas/strategies/strategy.h"
#include "pnas/strategies/strategy_common.h"
#include "pnas/dispatch/eval.h"
#include "predictor/predictor.h"
#include "predictor/rank.h"

typedef struct {
  space_cell *cells;
  float *acc;
  int n, cap;
} measured;

static int measured_push(measured *m, const space_cell *c, float acc) {
  if (m->n == m->cap) {
    int nc = m->cap ? m->cap * 2 : 256;
    space_cell *ncells = realloc(m->cells, sizeof *ncells * (size_t)nc);
    if (!ncells) return -1;
    m->cells = ncells;
    float *nacc = realloc(m->acc, sizeof *nacc * (size_t)nc);
    if (!nacc) return -1;
    m->acc = nacc;
    m->cap = nc;
  }
  m->cells[m->n] = *c;
  m->acc[m->n++] = acc;
  return 0;
}

typedef struct {
  int idx;
  float score;
  uint64_t hash;
} scored;

// [ours] --per-parent P: walking down the ranking, the first k picks take at most P children
// of any one parent (par[idx]: the beam cell a child extends); a child skipped for its parent
// moves behind the picks, in rank order, where --explore and a cap too tight to fill k picks
// take from. Keeps the beam from collapsing onto one cell's children (docs/search-quality.md
// s.6). 0 ok, -1 out of memory.
static int cap_per_parent(scored *sc, int nc, int k, const int *par, int nparents, int P) {
  int *count = calloc((size_t)nparents, sizeof *count);
  unsigned char *pick = calloc((size_t)nc, 1);
  scored *tmp = malloc(sizeof *tmp * (size_t)nc);
  if (!count || !pick || !tmp) {
    free(count), free(pick), free(tmp);
    return -1;
  }
  for (int i = 0, n = 0; i < nc && n < k; i++)
    if (count[par[sc[i].idx]] < P) count[par[sc[i].idx]]++, pick[i] = 1, n++;
  int j = 0;
  for (int i = 0; i < nc; i++)
    if (pick[i]) tmp[j++] = sc[i];
  for (int i = 0; i < nc; i++)
    if (!pick[i]) tmp[j++] = sc[i];
  memcpy(sc, tmp, sizeof *sc * (size_t)nc);
  free(count), free(pick), free(tmp);
  return 0;
}

static int by_score_desc(const void *a, const void *b) {
  const scored *x = a, *y = b;
  if (x->score != y->score) return x->score > y->score ? -1 : 1;
  return x->hash < y->hash ? -1 : x->hash > y->hash; // deterministic tie-break
}

// state.msgpack: where the search stands (for inspection and reports; resume replays the log).
static int write_state(search_ctx *s, int level, int levels, const space_cell *beam, int nbeam,
                       const double *rank, int finished, char *err, size_t errlen) {
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  const char *keys[] = {"format", "strategy", "level", "levels", "finished", "seed", "beam",
                        "rank_spearman"};
  msgpack_pack_map(&pk, 9); // the 8 keys and crc32, the seal
  for (int k = 0; k < 8; k++) {
    msgpack_pack_str(&pk, strlen(keys[k]));
    msgpack_pack_str_body(&pk, keys[k], strlen(keys[k]));
    switch (k) {
    case 0: msgpack_pack_str(&pk, 19), msgpack_pack_str_body(&pk, "pnas-search-state-1", 19); break;
    case 1: msgpack_pack_str(&pk, 4), msgpack_pack_str_body(&pk, "pnas", 4); break;
    case 2: msgpack_pack_int(&pk, level); break;
    case 3: msgpack_pack_int(&pk, levels); break;
    case 4: finished ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk); break;
    case 5: msgpack_pack_int64(&pk, search_ctx_config(s)->seed); break;
    case 6:
      msgpack_pack_array(&pk, (size_t)nbeam);
      for (int i = 0; i < nbeam; i++) space_pack(&beam[i], (struct msgpack_packer *)&pk);
      break;
    case 7:
      // rank[b] = Spearman of the level-b predictions vs measurements, b = 2..level
      msgpack_pack_array(&pk, (size_t)(level > 1 ? level - 1 : 0));
      for (int b = 2; b <= level; b++)
        isfinite(rank[b]) ? msgpack_pack_double(&pk, rank[b]) : msgpack_pack_nil(&pk);
      break;
    }
  }
  int rc = strategy_write_sealed(s, "state.msgpack", &sb, err, errlen);
  msgpack_sbuffer_destroy(&sb);
  return rc;
}

// [ours] Children of one NASNet pair the predictor scores at most (see sample_children).
#define PNAS_PAIR_CHILDREN 4096

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

// The hash of every input of a fit: the fit is a deterministic function of it.
static uint64_t fit_key(const search_config *cfg, const pred_fit_config *pc, const measured *m) {
  uint64_t h = PNAS_FNV_BASIS;
#define MIX(p, n) h = pnas_fnv1a(h, (p), (n))
  MIX(cfg->predictor, strlen(cfg->predictor));
  MIX(&pc->members, sizeof pc->members);
  MIX(&pc->epochs, sizeof pc->epochs);
  MIX(&pc->batch, sizeof pc->batch);
  MIX(&pc->min_steps, sizeof pc->min_steps);
  MIX(&pc->lr, sizeof pc->lr);
  MIX(&pc->seed, sizeof pc->seed);
  MIX(&pc->embed, sizeof pc->embed);
  MIX(&pc->hidden, sizeof pc->hidden);
  MIX(&pc->ridge_lambda, sizeof pc->ridge_lambda);
  // The op vocabulary only when it is not PNAS's 8, so keys of PNAS-space searches are as they
  // were before the vocabulary existed.
  if (pc->vocab_ops != SPACE_PNAS_OPS) MIX(&pc->vocab_ops, sizeof pc->vocab_ops);
  for (int i = 0; i < m->n; i++) {
    uint64_t ch = space_hash(&m->cells[i]);
    MIX(&ch, sizeof ch);
    MIX(&m->acc[i], sizeof m->acc[i]);
  }
#undef MIX
  return h;
}

// Fits the level-b predictor on everything measured, or reloads the one saved by an earlier
// (interrupted) run of the same search, so that resume takes the same decisions. A saved
// predictor counts only when its key file (predictor-L<b>.key: the hash of every input of the
// fit) matches this fit's inputs: a predictor left by another search in the same directory, or
// fitted on other records, is refitted with a warning, never used.
static pred_ensemble *level_predictor(search_ctx *s, const measured *m, int level, char *err,
                                      size_t errlen) {
  const search_config *cfg = search_ctx_config(s);
  const char *dir = store_dir(search_ctx_store(s));
  char path[1200], kname[64], kpath[1300], want[32];
  snprintf(path, sizeof path, "%s/predictor-L%d.msgpack", dir, level);
  snprintf(kname, sizeof kname, "predictor-L%d.key", level);
  snprintf(kpath, sizeof kpath, "%s/%s", dir, kname);
  pred_fit_config pc;
  pred_kind kind = (pred_kind)pred_kind_from_name(cfg->predictor);
  pred_fit_config_default(&pc, kind);
  pc.members = cfg->members;
  if (cfg->pred_epochs > 0) pc.epochs = cfg->pred_epochs;
  pc.lr = pred_lr_for_level(level);
  pc.seed = (uint64_t)cfg->seed * 1000003ULL + (uint64_t)level;
  pc.threads = cfg->threads;
  pc.vocab_ops = search_config_pairs(cfg) ? SPACE_PAIR_VOCAB // NASNet's pairs
                                          : space_vocab_ops(search_ctx_ops(s)); // 8 or 13
  uint64_t key = fit_key(cfg, &pc, m);
  snprintf(want, sizeof want, "%016llx\n", (unsigned long long)key);
  pred_ensemble *e = NULL;
  FILE *f = fopen(path, "rb");
  if (f) {
    fclose(f);
    void *kd = NULL;
    size_t kl = 0;
    char e2[256];
    int match = store_read_file(kpath, &kd, &kl, e2, sizeof e2) == 0 && kl == strlen(want) &&
                !memcmp(kd, want, kl);
    free(kd);
    if (!match)
      fprintf(stderr, "pnas: warning: %s was not fitted on this search's records (stale, or "
                      "from another search); refitting\n", path);
    else if (pred_ensemble_load(&e, path, err, errlen) == PRED_OK)
      return e;
    else
      fprintf(stderr, "pnas: warning: %s unreadable (%s); refitting\n", path, err);
  }
  // A shared fit cache (compare --fit-cache), under the same key.
  char cpath[1400] = "";
  const char *fc = search_ctx_fit_cache(s);
  if (fc) {
    snprintf(cpath, sizeof cpath, "%s/fit-%016llx.msgpack", fc, (unsigned long long)key);
    char e2[256];
    if (pred_ensemble_load(&e, cpath, e2, sizeof e2) != PRED_OK) e = NULL;
  }
  int fitted = e == NULL;
  if (fitted) {
    e = pred_ensemble_new();
    if (!e) {
      snprintf(err, errlen, "out of memory");
      return NULL;
    }
    if (pred_ensemble_fit(e, m->cells, m->acc, m->n, &pc, err, errlen) != PRED_OK) {
      pred_ensemble_free(e);
      return NULL;
    }
  }
  if (pred_ensemble_save(e, path, err, errlen) != PRED_OK ||
      store_write_file(dir, kname, want, strlen(want), err, errlen)) {
    pred_ensemble_free(e);
    return NULL;
  }
  if (cpath[0] && fitted) { // publish atomically (tmp + rename): parallel replays share it
    char *buf;
    size_t len;
    char e2[256];
    if (pred_ensemble_save_mem(e, &buf, &len, e2, sizeof e2) == PRED_OK) {
      store_write_file(fc, strrchr(cpath, '/') + 1, buf, len, e2, sizeof e2);
      free(buf);
    }
  }
  return e;
}

// What a Spearman correlation over n trained picks can say (rank_spearman_critical).
static void spearman_chance(int n, char *buf, size_t len) {
  double crit = rank_spearman_critical(n);
  if (n < 3)
    snprintf(buf, len, "%d picks: no correlation to speak of", n);
  else if (isnan(crit))
    snprintf(buf, len, "%d picks: even a perfect order is within chance at 5%%; judge the "
                       "predictor with pnas predictor eval or a benchmark table", n);
  else
    snprintf(buf, len, "significant at 5%% only from |rho| >= %.2f", crit);
}

// n distinct children of pair c drawn uniformly (Floyd's algorithm over the child indices),
// in index order. Returns n, or -1 out of memory.
static int sample_children(const space_cell *c, uint32_t ops, int64_t seed, int level,
                           space_cell *out, int n) {
  int64_t total = space_expand(c, ops, NULL, 0);
  if (total <= n) return space_expand(c, ops, out, n);
  space_rng r;
  space_rng_seed(&r, (uint64_t)seed * 0x9E3779B97F4A7C15ULL ^ space_hash(c) ^ (uint64_t)level);
  int64_t *pick = malloc(sizeof *pick * (size_t)n);
  int cap = 1;
  while (cap < 2 * n) cap <<= 1;
  int64_t *set = malloc(sizeof *set * (size_t)cap);
  if (!pick || !set) {
    free(pick), free(set);
    return -1;
  }
  for (int i = 0; i < cap; i++) set[i] = -1;
  int k = 0;
  for (int64_t j = total - n; j < total; j++) {
    int64_t t = (int64_t)(space_rng_next(&r) % (uint64_t)(j + 1)), v = t;
    int h = (int)((uint64_t)t * 0x9E3779B97F4A7C15ULL >> 40) & (cap - 1);
    while (set[h] >= 0 && set[h] != t) h = (h + 1) & (cap - 1);
    if (set[h] == t) { // taken: take j instead (never taken before)
      v = j;
      h = (int)((uint64_t)j * 0x9E3779B97F4A7C15ULL >> 40) & (cap - 1);
      while (set[h] >= 0) h = (h + 1) & (cap - 1);
    }
    set[h] = v;
    pick[k++] = v;
  }
  qsort(pick, (size_t)n, sizeof *pick, cmp_i64);
  for (int i = 0; i < n; i++) space_child_at(c, ops, pick[i], &out[i]);
  free(pick), free(set);
  return n;
}

int strategy_pnas(search_ctx *s, search_result *res, char *err, size_t errlen) {
  const search_config *cfg = search_ctx_config(s);
  uint32_t ops = search_ctx_ops(s);
  int B = cfg->max_blocks, K = cfg->beam;
  measured m = {0};
  space_cell *beam = NULL, *kids = NULL;
  scored *sc = NULL;
  float *pred = NULL, *spread = NULL;
  uint64_t *seen = NULL;
  int *par = NULL; // (children) the index in beam of the cell each child extends
  pred_ensemble *ens = NULL;
  store_record *recs = NULL;
  int *cached = NULL;
  int nbeam = 0, rc = -1;
  memset(res, 0, sizeof *res);

  // Level 1: every unique 1-block cell within budget.
  int n1 = strategy_level1(s, NULL);
  beam = malloc(sizeof *beam * (size_t)(n1 > K ? n1 : K));
  kids = malloc(sizeof *kids * (size_t)n1);
  if (!beam || !kids) goto oom;
  strategy_level1(s, kids);
  int todo = 0;
  for (int i = 0; i < n1; i++)
    if (search_within_budget(s, &kids[i])) kids[todo++] = kids[i];
  search_progress_level(s, 1, B, todo);
  recs = malloc(sizeof *recs * (size_t)(todo > K ? todo : K));
  cached = malloc(sizeof *cached * (size_t)(todo > K ? todo : K));
  if (!recs || !cached) goto oom;
  if (dispatch_eval_batch(s, kids, todo, 1, NULL, recs, cached, err, errlen)) goto out;
  for (int i = 0; i < todo; i++) {
    if (!recs[i].ok) continue;
    if (measured_push(&m, &recs[i].cell, (float)recs[i].val_acc)) goto oom;
    beam[nbeam++] = recs[i].cell;
  }
  search_progress_done(s);
  if (nbeam == 0) {
    snprintf(err, errlen, "no 1-block cell trained successfully (see the failure reasons in "
                          "the results log: pnas inspect)");
    goto out;
  }
  double rank[SPACE_MAX_BLOCKS + 1];
  for (int b = 0; b <= SPACE_MAX_BLOCKS; b++) rank[b] = NAN;
  if (write_state(s, 1, B, beam, nbeam, rank, B == 1, err, errlen)) goto out;
  double level_best = -1;
  store_record best_rec;
  memset(&best_rec, 0, sizeof best_rec);
  for (int b = 2; b <= B; b++) {
    free(kids);
    kids = NULL;
    pred_ensemble_free(ens);
    struct timespec fit_t0, fit_t1;
    clock_gettime(CLOCK_MONOTONIC, &fit_t0);
    ens = level_predictor(s, &m, b - 1, err, errlen);
    if (!ens) goto out;
    // Expand the beam, dedup, drop over-budget cells.
    int per = space_expand(&beam[0], ops, NULL, 0);
    // [ours] A NASNet pair has n_x * n_y children (608,400 at level 2 with 13 operators): above
    // PNAS_PAIR_CHILDREN per parent, the predictor scores that many of them, drawn uniformly
    // without replacement (seeded by --seed, the level and the parent's hash: resumable).
    int sampled = search_config_pairs(cfg) && per > PNAS_PAIR_CHILDREN;
    if (sampled) per = PNAS_PAIR_CHILDREN;
    size_t total = (size_t)per * (size_t)nbeam;
    kids = malloc(sizeof *kids * total);
    seen = realloc(seen, sizeof *seen * total);
    par = realloc(par, sizeof *par * total);
    if (!kids || !seen || !par) goto oom;
    int nk = 0;
    for (int i = 0; i < nbeam; i++) {
      int n = sampled ? sample_children(&beam[i], ops, cfg->seed, b, kids + nk, per)
                      : space_expand(&beam[i], ops, kids + nk, per);
      if (n < 0) goto oom;
      for (int j = nk; j < nk + n; j++) par[j] = i;
      nk += n;
    }
    for (int i = 0; i < nk; i++) seen[i] = space_hash(&kids[i]);
    qsort(seen, (size_t)nk, sizeof *seen, cmp_u64);
    int dups = 0;
    for (int i = 1; i < nk; i++) dups += seen[i] == seen[i - 1];
    // Children of distinct parents are distinct under the within-block canonical form.
    if (dups) {
      snprintf(err, errlen, "internal error: %d duplicate children at level %d", dups, b);
      goto out;
    }
    int nc = 0;
    for (int i = 0; i < nk; i++)
      if (search_within_budget(s, &kids[i])) par[nc] = par[i], kids[nc++] = kids[i];
    if (nc == 0) {
      snprintf(err, errlen, "level %d: every child is over the --max-params/--max-mult-adds "
                            "budget", b);
      goto out;
    }
    pred = realloc(pred, sizeof *pred * (size_t)nc);
    spread = realloc(spread, sizeof *spread * (size_t)nc);
    sc = realloc(sc, sizeof *sc * (size_t)nc);
    if (!pred || !spread || !sc) goto oom;
    if (pred_ensemble_predict(ens, kids, nc, pred, spread, cfg->threads, err, errlen) != PRED_OK)
      goto out;
    clock_gettime(CLOCK_MONOTONIC, &fit_t1);
    search_progress_fit(s, (double)(fit_t1.tv_sec - fit_t0.tv_sec) +
                               1e-9 * (double)(fit_t1.tv_nsec - fit_t0.tv_nsec));
    // [ours] --select ucb ranks by mean + kappa x spread (optimism where the members disagree).
    int ucb = !strcmp(cfg->select, "ucb");
    for (int i = 0; i < nc; i++)
      sc[i] = (scored){i, ucb ? pred[i] + (float)cfg->kappa * spread[i] : pred[i],
                       space_hash(&kids[i])};
    qsort(sc, (size_t)nc, sizeof *sc, by_score_desc);
    int k = nc < K ? nc : K;
    if (cfg->per_parent > 0 && cap_per_parent(sc, nc, k, par, nbeam, cfg->per_parent)) goto oom;
    // [ours] --explore E: the last E of the K picks are drawn uniformly from the children
    // ranked below the first K - E (seeded by --seed and the level; deterministic on resume).
    int ex = cfg->explore < k ? cfg->explore : 0;
    if (ex > 0 && nc > k) {
      space_rng er;
      space_rng_seed(&er, (uint64_t)cfg->seed * 0x9E3779B97F4A7C15ULL + (uint64_t)b);
      for (int j = k - ex; j < k; j++) {
        int pick = j + space_rng_below(&er, nc - j);
        scored t = sc[j];
        sc[j] = sc[pick];
        sc[pick] = t;
      }
    }
    if (!search_ctx_is_replay(s))
      fprintf(stderr, "pnas: level %d: %d children of %d beam cells scored; training the top "
                      "%d\n", b, nc, nbeam, k);
    search_progress_level(s, b, B, k);
    nbeam = 0;
    float *p = malloc(sizeof *p * (size_t)k), *a = malloc(sizeof *a * (size_t)k);
    if (!p || !a) {
      free(p), free(a);
      goto oom;
    }
    int nm = 0;
    level_best = -1;
    space_cell *sel = malloc(sizeof *sel * (size_t)k);
    double *selp = malloc(sizeof *selp * (size_t)k);
    if (!sel || !selp) {
      free(p), free(a), free(sel), free(selp);
      goto oom;
    }
    for (int i = 0; i < k; i++) sel[i] = kids[sc[i].idx], selp[i] = sc[i].score;
    int erc = dispatch_eval_batch(s, sel, k, b, selp, recs, cached, err, errlen);
    free(sel), free(selp);
    if (erc) {
      free(p), free(a);
      goto out;
    }
    for (int i = 0; i < k; i++) {
      const store_record *r = &recs[i];
      if (!r->ok) continue;
      if (measured_push(&m, &r->cell, (float)r->val_acc)) {
        free(p), free(a);
        goto oom;
      }
      beam[nbeam++] = r->cell;
      p[nm] = sc[i].score;
      a[nm++] = (float)r->val_acc;
      if (search_record_better(r, level_best >= 0 ? &best_rec : NULL))
        level_best = r->val_acc, best_rec = *r;
    }
    double rho = nm >= 2 ? rank_spearman(p, a, nm) : NAN;
    rank[b] = rho;
    search_progress_set_rank(s, rho);
    search_progress_done(s);
    if (!search_ctx_is_replay(s)) {
      char chance[160];
      spearman_chance(nm, chance, sizeof chance);
      fprintf(stderr, "pnas: level %d done: best %.4f, predictor Spearman on the trained %d: "
                      "%.3f (%s)\n", b, level_best, nm, rho, chance);
    }
    free(p), free(a);
    if (nbeam == 0) {
      snprintf(err, errlen, "level %d: no child trained successfully", b);
      goto out;
    }
    if (write_state(s, b, B, beam, nbeam, rank, b == B, err, errlen)) goto out;
  }
  if (B > 1 && !search_ctx_is_replay(s)) {
    // Refit on everything measured: the final predictor is saved for `pnas predict` (not in a
    // replay from a table, where it would only cost time).
    pred_ensemble_free(ens);
    ens = level_predictor(s, &m, B, err, errlen);
    if (!ens) goto out;
  } else {
    for (int i = 0; i < store_count(search_ctx_store(s)); i++) {
      const store_record *r = store_get(search_ctx_store(s), i);
      if (r->ok && r->settings == search_ctx_settings(s) &&
          search_record_better(r, level_best >= 0 ? &best_rec : NULL))
        level_best = r->val_acc, best_rec = *r;
    }
  }
  res->found = level_best >= 0;
  res->best = best_rec;
  rc = 0;
  goto out;
oom:
  snprintf(err, errlen, "out of memory");
out:
  pred_ensemble_free(ens);
  free(m.cells);
  free(m.acc);
  free(beam);
  free(kids);
  free(sc);
  free(pred);
  free(spread);
  free(seen);
  free(par);
  free(recs);
  free(cached);
  return rc;
}
