// RL baseline (Zoph & Le 2017; NASNet, Zoph et al. 2018): an LSTM controller (pnas/strategies/rl_controller.c,
// 1 layer, 100 hidden) samples whole B-block cells; REINFORCE with an exponential moving average
// reward baseline (decay 0.95), Adam (--rl-lr), entropy bonus (--rl-entropy), one update per
// minibatch of --rl-batch sampled cells; reward = validation accuracy (0 for a failed child).
// [ours] A sampled cell over --max-params/--max-mult-adds is resampled and never rewarded; a
// cell this run already measured is rewarded with its stored accuracy and is not a new model.
// The controller (weights, Adam moments, baseline) is saved as rl-controller.msgpack after each
// update; resume replays the run from the store, which reproduces the controller exactly.
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pnas/strategies/rl_controller.h"
#include "pnas/strategies/strategy_common.h"
#include "pnas/strategies/strategy.h"

#define RL_EMBED 100
#define RL_HIDDEN 100
#define RL_BASELINE_DECAY 0.95

typedef struct {
  double baseline;
  int updates;
  double last_mean_reward;
} rl_state;

static void pack_rl(struct msgpack_packer *pk, void *user) {
  rl_state *st = user;
  msgpack_packer *mp = (msgpack_packer *)pk;
  strategy_pack_key(pk, "updates");
  msgpack_pack_int(mp, st->updates);
  strategy_pack_key(pk, "baseline");
  isfinite(st->baseline) ? msgpack_pack_double(mp, st->baseline) : msgpack_pack_nil(mp);
  strategy_pack_key(pk, "last_batch_mean_reward");
  isfinite(st->last_mean_reward) ? msgpack_pack_double(mp, st->last_mean_reward)
                                 : msgpack_pack_nil(mp);
}

static int save_controller(search_ctx *s, const rl_controller *c, const pred_adam *adam,
                           const rl_state *st, char *err, size_t errlen) {
  char *buf;
  size_t len;
  if (rl_controller_save_mem(c, adam, st->baseline, st->updates, &buf, &len)) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  int rc = store_write_file(store_dir(search_ctx_store(s)), "rl-controller.msgpack", buf, len, err,
                            errlen);
  free(buf);
  return rc;
}

// The reward of the oldest sampled child still in the queue (its validation accuracy, 0 when
// it failed). 0 ok, -1 stop (err).
static int take_reward(strategy_queue *q, strategy_ledger *l, double *reward, char *err,
                       size_t errlen) {
  store_record rec;
  int got = strategy_queue_next(q, l, &rec, NULL, err, errlen);
  if (got == 0) snprintf(err, errlen, "internal error: a sampled child was lost");
  if (got != 1) return -1;
  *reward = rec.ok ? rec.val_acc : 0.0;
  return 0;
}

int strategy_rl(search_ctx *s, search_result *res, char *err, size_t errlen) {
  const search_config *cfg = search_ctx_config(s);
  int budget = strategy_budget_models(s);
  int batch = cfg->rl_batch;
  rl_controller c;
  pred_adam adam;
  strategy_ledger l;
  rl_episode *eps = malloc(sizeof *eps * (size_t)batch);
  double *R = malloc(sizeof *R * (size_t)batch), *adv = malloc(sizeof *adv * (size_t)batch);
  if (!eps || !R || !adv) {
    free(eps), free(R), free(adv);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  if (rl_controller_init(&c, RL_EMBED, RL_HIDDEN, cfg->max_blocks, search_config_pairs(cfg),
                         search_ctx_ops(s),
                         (uint64_t)cfg->seed)) {
    free(eps), free(R), free(adv);
    snprintf(err, errlen, "out of memory for the RL controller");
    return -1;
  }
  if (pred_adam_init(&adam, c.nparams, (float)cfg->rl_lr)) {
    rl_controller_release(&c);
    free(eps), free(R), free(adv);
    snprintf(err, errlen, "out of memory for the RL controller");
    return -1;
  }
  if (strategy_ledger_init(&l)) {
    pred_adam_release(&adam);
    rl_controller_release(&c);
    free(eps), free(R), free(adv);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  space_rng r;
  space_rng_seed(&r, (uint64_t)cfg->seed * 0xD1B54A32D192ED03ULL + 0x524CULL);
  rl_state st = {NAN, 0, NAN};
  fprintf(stderr, "pnas: RL controller over %d-block cells (lr %g, entropy %g, batch %d), budget "
                  "%d models\n",
          cfg->max_blocks, cfg->rl_lr, cfg->rl_entropy, batch, budget);
  search_progress_level(s, cfg->max_blocks, cfg->max_blocks, budget);
  int rc = -1, stale = 0, stop = 0;
  // A minibatch's cells are sampled before its update, from the controller alone: up to --jobs
  // of them train ahead; rewards are taken in sampling order.
  strategy_queue q;
  if (strategy_queue_open(&q, s, err, errlen)) goto out;
  while (l.models < budget && !stop) {
    int n = 0, got = 0;
    while (n < batch && l.n < budget) {
      int tries = 0;
      do {
        rl_controller_sample(&c, &r, &eps[n]);
        space_canon(&eps[n].cell);
        if (++tries > 100000) {
          snprintf(err, errlen, "the RL controller sampled no cell within --max-params/"
                                "--max-mult-adds in 100000 draws; raise the limits");
          goto out;
        }
      } while (!search_within_budget(s, &eps[n].cell));
      int is_new;
      if (strategy_queue_submit(&q, &l, &eps[n].cell, &is_new, err, errlen)) goto out;
      n++;
      while (!strategy_queue_room(&q))
        if (take_reward(&q, &l, &R[got++], err, errlen)) goto out;
      stale = is_new ? 0 : stale + 1;
      if (stale >= STRATEGY_MAX_STALE) {
        search_progress_done(s);
        fprintf(stderr, "pnas: rl: %d samples in a row were already measured (the controller "
                        "has converged); stopping at %d models (budget %d)\n",
                stale, l.n, budget);
        stop = 1;
        break;
      }
    }
    while (got < n)
      if (take_reward(&q, &l, &R[got++], err, errlen)) goto out;
    if (n == 0) break;
    // EMA baseline [ours: started at the first batch's mean reward, not 0, so the first
    // update does not push every sampled token up].
    double mean = 0;
    for (int i = 0; i < n; i++) mean += R[i] / n;
    if (!isfinite(st.baseline)) st.baseline = mean;
    for (int i = 0; i < n; i++) adv[i] = R[i] - st.baseline;
    for (int i = 0; i < n; i++)
      st.baseline = RL_BASELINE_DECAY * st.baseline + (1 - RL_BASELINE_DECAY) * R[i];
    if (rl_controller_update(&c, &adam, eps, adv, n, cfg->rl_entropy)) {
      snprintf(err, errlen, "out of memory");
      goto out;
    }
    st.updates++;
    st.last_mean_reward = mean;
    if (save_controller(s, &c, &adam, &st, err, errlen)) goto out;
    if (strategy_write_state(s, &l, budget, l.models >= budget || stop, 3, pack_rl, &st, err,
                             errlen))
      goto out;
  }
  strategy_queue_close(&q);
  search_progress_done(s);
  if (strategy_write_state(s, &l, budget, 1, 3, pack_rl, &st, err, errlen)) goto out;
  strategy_ledger_result(&l, res);
  rc = 0;
out:
  strategy_queue_close(&q);
  strategy_ledger_release(&l);
  pred_adam_release(&adam);
  rl_controller_release(&c);
  free(eps), free(R), free(adv);
  return rc;
}
