// Search configuration: one field table drives the CLI flags, config.msgpack in the run
// directory and the training-settings string that keys the cache. Adding a field here adds it
// everywhere.
#include <math.h>
#include <msgpack.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pnas/search/search.h"
#include "pnas/store/store.h"
#include "pnas/child/trainer.h"
#include "common/common.h"
#include "common/crc32.h"
#include "searchspace/msgpack_check.h"
#include "predictor/predictor.h"

typedef struct {
  const char *name;
  arg_type type;   // ARG_INT, ARG_I64, ARG_DOUBLE or ARG_BUF
  size_t off;
  double min, max; // ARG_BUF: max = buffer size
  int key;         // 1 = part of the training settings (cache key)
} field;

#define FI(n, m, lo, hi, k) {n, ARG_INT, offsetof(search_config, m), lo, hi, k}
#define FL(n, m, lo, hi, k) {n, ARG_I64, offsetof(search_config, m), lo, hi, k}
#define FD(n, m, lo, hi, k) {n, ARG_DOUBLE, offsetof(search_config, m), lo, hi, k}
#define FS(n, m, k) {n, ARG_BUF, offsetof(search_config, m), 0, sizeof(((search_config *)0)->m), k}

static const field FIELDS[] = {
    FS("strategy", strategy, 0),
    FI("beam", beam, 1, 100000, 0),
    FI("max-blocks", max_blocks, 1, SPACE_MAX_BLOCKS, 0),
    FS("ops", ops, 0),
    FS("space", space, 0),
    FI("budget-models", budget_models, 0, 10000000, 0),
    FI("population", population, 2, 1000000, 0),
    FI("sample", sample, 1, 1000000, 0),
    FD("rl-lr", rl_lr, 1e-7, 1, 0),
    FD("rl-entropy", rl_entropy, 0, 10, 0),
    FI("rl-batch", rl_batch, 1, 10000, 0),
    FS("cell", cell, 0),
    FD("prune-width", prune_width, 1, 64, 0),
    FD("prune-l1", prune_l1, 0, 1, 0),
    FS("predictor", predictor, 0),
    FI("members", members, 1, 50, 0),
    FI("predictor-epochs", pred_epochs, 0, 100000, 0),
    FS("select", select, 0),
    FD("kappa", kappa, 0, 100, 0),
    FI("explore", explore, 0, 100000, 0),
    FI("per-parent", per_parent, 0, 100000, 0),
    FS("dataset", dataset, 1),
    FS("data", data_dir, 1),
    FI("N", N, 1, 16, 1),
    FI("F", F, 1, 4096, 1),
    FI("epochs", epochs, 1, 10000, 1),
    FI("batch", batch, 1, 65536, 1),
    FD("lr", lr, 1e-7, 100, 1),
    FD("momentum", momentum, 0, 0.9999, 1),
    FD("weight-decay", weight_decay, 0, 1, 1),
    FI("train-subset", train_subset, 0, 100000000, 1),
    FI("val-subset", val_subset, 0, 100000000, 1),
    FL("train-seed", train_seed, 0, 9.0e18, 1),
    FL("max-params", max_params, 0, 9.0e18, 0),
    FL("max-mult-adds", max_mult_adds, 0, 9.0e18, 0),
    FL("seed", seed, 0, 9.0e18, 0),
    FS("cache", cache_dir, 0),
    FS("device", device, 0),
    FI("threads", threads, 0, 1024, 0),
    FI("jobs", jobs, 1, 64, 0), // like threads and device: where, not what (not in the key)
    FI("repeat-seeds", repeat_seeds, 0, 100, 0),
    FI("repeat-sample", repeat_sample, 0, 100000000, 0),
};
#define NFIELDS ((int)(sizeof FIELDS / sizeof FIELDS[0]))

const char SEARCH_FLAGS_HELP[] =
    "search flags (defaults in brackets):\n"
    "  --strategy S          pnas | rl | random | evolution [pnas] (table: see pnas table)\n"
    "  --beam K              PNAS: children trained per level [default search: 4]\n"
    "  --max-blocks B        blocks per cell, 1..10 [default search: 3]\n"
    "  --space pnas|nasnet   PNAS's one cell, or NASNet's normal + reduction cell pair,\n"
    "                        searched together (B <= 5; ops default: nasnet's 13) [pnas]\n"
    "  --ops LIST            operators, comma-separated, 'all' (PNAS's 8) or 'nasnet' (13:\n"
    "                        + conv1x3_3x1,max5x5,max7x7,conv1x1,conv3x3) [default search: 4 ops]\n"
    "  --budget-models M     baselines: models to train [0 = what PNAS trains]\n"
    "  --population P --sample S   evolution [100 / 25, capped to the budget]\n"
    "  --rl-lr X --rl-entropy X --rl-batch N   RL controller [0.01 / 0.01 / 5]\n"
    "  --strategy prune: network slimming of CELL's network at F x W, L1 X on BN gammas, pruned\n"
    "                        to --max-params/--max-mult-adds and retrained from scratch:\n"
    "                        --cell CELL [pnasnet-5; nasnet-a with --space nasnet]\n"
    "                        --prune-width W [2] --prune-l1 X [1e-4]\n"
    "  --predictor mlp|lstm|ridge  surrogate [mlp; lstm = the paper's Algorithm 1]\n"
    "  --members M           ensemble size [5]\n"
    "  --predictor-epochs E  surrogate training epochs [predictor default]\n"
    "  --select mean|ucb     PNAS: rank children by the ensemble mean (the paper) or by mean +\n"
    "                        kappa x the members' spread [mean]   --kappa X [1]\n"
    "  --explore E           PNAS: E of the K children per level drawn at random [0]\n"
    "  --per-parent P        PNAS: at most P of the K children per level extend one beam cell\n"
    "                        [0 = no cap, the paper]\n"
    "  --dataset fashion-mnist|cifar10 [fashion-mnist]   --data DIR  dataset directory\n"
    "  --N n --F f           child network size [1 / 8]\n"
    "  --epochs e --batch b --lr x --momentum m --weight-decay w   child training\n"
    "  --train-subset n --val-subset n   images used (0 = all) [search default: 4000 / 2000]\n"
    "  --train-seed s        children's training seed (part of the cache key) [1]\n"
    "  --max-params n --max-mult-adds n  skip cells over budget (cost model) [no limit]\n"
    "  --seed s              strategy seed [1]\n"
    "  --cache DIR           share trained children with other runs through this store\n"
    "  --device cpu|cuda|auto [auto]   --threads t [all cores]\n"
    "  --jobs J              children trained at once in this process, 1..64, each with\n"
    "                        max(1, t / J) threads (on a GPU: J per GPU; alias --jobs-per-gpu;\n"
    "                        same results as 1; ignored under MPI) [1]\n"
    "  --repeat-seeds S --repeat-sample M   pnas table build: M random cells trained again\n"
    "                        with S other training seeds (the noise ceiling) [0 / 0]\n";

void search_config_default(search_config *c) {
  memset(c, 0, sizeof *c);
  snprintf(c->strategy, sizeof c->strategy, "pnas");
  // The default search is sized for 2 CPU cores and < 10 minutes (README "main command").
  c->beam = 4;
  c->max_blocks = 3;
  snprintf(c->ops, sizeof c->ops, "identity,sep3x3,avg3x3,max3x3");
  snprintf(c->space, sizeof c->space, "pnas");
  c->population = 100;
  c->sample = 25;
  c->rl_lr = 0.01; // [ours] NASNet uses 0.00035 over 20,000 models; at our budgets it learns nothing
  c->rl_entropy = 0.01;
  c->rl_batch = 5;
  c->prune_width = 2.0; // [ours] the wide base network: twice the searches' F
  c->prune_l1 = 1e-4;   // network slimming's lambda for its CIFAR runs (Liu et al. 2017, s.4)
  // [ours] The MLP ensemble by default: on the benchmark table data/tables/fm-3ops-b2 it made PNAS
  // beat random search and RL (seeds 1-100 to choose, 101-300 reported: docs/search-quality.md),
  // where the LSTM, the paper's main-text predictor, did not; the paper's Table 2 also favours
  // the MLP ensemble. --predictor lstm is the paper's Algorithm 1 unchanged.
  snprintf(c->predictor, sizeof c->predictor, "mlp");
  snprintf(c->select, sizeof c->select, "mean");
  c->kappa = 1.0;
  c->members = 5;
  snprintf(c->dataset, sizeof c->dataset, "fashion-mnist");
  train_config tc; // the trainer's defaults are the search's defaults
  train_config_default(&tc);
  c->N = tc.N;
  c->F = tc.F;
  c->epochs = tc.epochs;
  c->batch = tc.batch;
  c->lr = tc.lr;
  c->momentum = tc.momentum;
  c->weight_decay = tc.weight_decay;
  c->train_subset = 4000;
  c->val_subset = 2000;
  c->train_seed = 1;
  c->seed = 1;
  snprintf(c->device, sizeof c->device, "auto");
  c->jobs = 1;
}

int search_config_prune_F(const search_config *c) {
  long f = lround(c->F * c->prune_width);
  return f < 2 ? 2 : (int)f;
}

int search_argv_has(int argc, char **argv, const char *name) {
  size_t n = strlen(name);
  for (int i = 1; i < argc; i++)
    if (!strncmp(argv[i], "--", 2) && !strncmp(argv[i] + 2, name, n) &&
        (argv[i][2 + n] == '\0' || argv[i][2 + n] == '='))
      return 1;
  return 0;
}

void search_config_preset(search_config *c, int argc, char **argv) {
  int ops = search_argv_has(argc, argv, "ops");
  if (search_config_pairs(c) && !ops) { // NASNet's space: its 13 operators
    snprintf(c->ops, sizeof c->ops, "nasnet");
    return;
  }
  int shape = search_argv_has(argc, argv, "beam") || search_argv_has(argc, argv, "max-blocks");
  if (shape && !ops) {
    snprintf(c->ops, sizeof c->ops, "all");
    fprintf(stderr, "pnas: --beam/--max-blocks without --ops: the paper's space of 8 operators "
                    "(the 4-operator space is the no-flag default search's)\n");
  }
}

void search_config_describe(const search_config *c, FILE *f) {
  uint32_t mask = 0;
  char e[128], names[200];
  if (space_parse_ops(c->ops, &mask, e, sizeof e)) return;
  space_format_ops(mask, names, sizeof names);
  if (!strcmp(c->strategy, "prune")) {
    fprintf(f, "pnas: prune search: network slimming of %s at F=%d x %g = %d, pruned to %s%s\n",
            c->cell[0] ? c->cell : search_config_pairs(c) ? "nasnet-a" : "pnasnet-5", c->F,
            c->prune_width, search_config_prune_F(c), c->max_params ? "--max-params" : "", c->max_mult_adds ?
            (c->max_params ? " and --max-mult-adds" : "--max-mult-adds") : "");
    return;
  }
  space_cell empty = {0};
  int n1 = space_expand(&empty, mask, NULL, 0);
  int preset = !strcmp(c->ops, "identity,sep3x3,avg3x3,max3x3") && c->max_blocks == 3 &&
               c->beam == 4;
  fprintf(f, "pnas: %s search over %d operators (%s; %d unique 1-block cells), up to %d blocks",
          c->strategy, space_ops_count(mask), names, n1, c->max_blocks);
  if (search_config_pairs(c)) fprintf(f, " per cell, NASNet's space (normal + reduction cell)");
  if (!strcmp(c->strategy, "pnas")) fprintf(f, ", beam %d", c->beam);
  if (preset) fprintf(f, " [the small default search, sized for 2 CPU cores; the paper's space: "
                         "--ops all --max-blocks 5 --beam 256]");
  fputc('\n', f);
}

int search_config_args(search_config *c, arg_spec *specs, int max) {
  int n = 0;
  for (int i = 0; i < NFIELDS && n < max; i++, n++) {
    specs[n].name = FIELDS[i].name;
    specs[n].type = FIELDS[i].type;
    specs[n].dst = (char *)c + FIELDS[i].off;
    specs[n].min = FIELDS[i].min;
    specs[n].max = FIELDS[i].max;
    specs[n].seen = NULL;
    // --jobs-per-gpu: another name for --jobs (the same field, range and messages).
    if (!strcmp(FIELDS[i].name, "jobs") && n + 1 < max) {
      specs[n + 1] = specs[n];
      specs[n + 1].name = "jobs-per-gpu";
      n++;
    }
  }
  return n;
}

void search_settings_string(const search_config *c, char *buf, size_t n) {
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < NFIELDS; i++) {
    if (!FIELDS[i].key) continue;
    const char *p = (const char *)c + FIELDS[i].off;
    char v[600];
    switch (FIELDS[i].type) {
    case ARG_INT: snprintf(v, sizeof v, "%d", *(const int *)p); break;
    case ARG_I64: snprintf(v, sizeof v, "%lld", (long long)*(const int64_t *)p); break;
    case ARG_DOUBLE: snprintf(v, sizeof v, "%.17g", *(const double *)p); break;
    default: snprintf(v, sizeof v, "%s", p); break;
    }
    int w = snprintf(buf + used, used < n ? n - used : 0, "%s%s=%s", used ? ";" : "",
                     FIELDS[i].name, v);
    if (w > 0) used += (size_t)w;
  }
}

int search_config_check(const search_config *c, char *err, size_t errlen) {
  uint32_t mask;
  char e[256];
  if (strcmp(c->strategy, "pnas") && strcmp(c->strategy, "rl") && strcmp(c->strategy, "random") &&
      strcmp(c->strategy, "evolution") && strcmp(c->strategy, "table") &&
      strcmp(c->strategy, "prune")) {
    snprintf(err, errlen, "unknown --strategy '%s' (pnas, rl, random, evolution, prune)",
             c->strategy);
    return -1;
  }
  if (!strcmp(c->strategy, "prune") && !c->max_params && !c->max_mult_adds) {
    snprintf(err, errlen, "--strategy prune needs a budget: --max-params N or --max-mult-adds N "
             "(the pruned network's size)");
    return -1;
  }
  if (c->cell[0]) {
    space_cell pc;
    char why[256];
    if (space_parse_in(c->cell, c->space, &pc, why, sizeof why)) {
      snprintf(err, errlen, "bad --cell: %s", why);
      return -1;
    }
  }
  if (space_parse_ops(c->ops, &mask, e, sizeof e)) {
    snprintf(err, errlen, "bad --ops: %s", e);
    return -1;
  }
  if (strcmp(c->space, "pnas") && strcmp(c->space, "nasnet")) {
    snprintf(err, errlen, "unknown --space '%s' (pnas, nasnet)", c->space);
    return -1;
  }
  if (search_config_pairs(c) && c->max_blocks > SPACE_MAX_BLOCKS / 2) {
    snprintf(err, errlen, "--space nasnet: --max-blocks %d is above %d (NASNet's B = 5; the two "
             "cells together have at most %d blocks)", c->max_blocks, SPACE_MAX_BLOCKS / 2,
             SPACE_MAX_BLOCKS);
    return -1;
  }
  if (search_config_pairs(c) && !strcmp(c->strategy, "table")) {
    snprintf(err, errlen, "--space nasnet: benchmark tables hold single cells of PNAS's space");
    return -1;
  }
  data_kind k;
  if (data_kind_from_name(c->dataset, &k)) {
    snprintf(err, errlen, "unknown --dataset '%s' (fashion-mnist, cifar10)", c->dataset);
    return -1;
  }
  if (pred_kind_from_name(c->predictor) < 0) {
    snprintf(err, errlen, "unknown --predictor '%s' (lstm, mlp, ridge)", c->predictor);
    return -1;
  }
  if (strcmp(c->select, "mean") && strcmp(c->select, "ucb")) {
    snprintf(err, errlen, "unknown --select '%s' (mean, ucb)", c->select);
    return -1;
  }
  if (!strcmp(c->strategy, "pnas") && c->explore >= c->beam && c->max_blocks > 1) {
    snprintf(err, errlen, "--explore (%d) must be below --beam (%d)", c->explore, c->beam);
    return -1;
  }
  if (strcmp(c->device, "cpu") && strcmp(c->device, "cuda") && strcmp(c->device, "auto")) {
    snprintf(err, errlen, "unknown --device '%s' (cpu, cuda, auto)", c->device);
    return -1;
  }
  if (!strcmp(c->strategy, "pnas") && c->beam < 2 && c->max_blocks > 1) {
    snprintf(err, errlen, "--beam must be at least 2 for a search of more than one block");
    return -1;
  }
  if (c->members < 2 && pred_kind_from_name(c->predictor) != PRED_RIDGE) {
    snprintf(err, errlen, "--members must be at least 2 (each member holds out one fold)");
    return -1;
  }
  if (c->sample > c->population) {
    snprintf(err, errlen, "--sample (%d) cannot exceed --population (%d)", c->sample,
             c->population);
    return -1;
  }
  return 0;
}

int search_config_save(const search_config *c, const char *dir, char *err, size_t errlen) {
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_map(&pk, (size_t)NFIELDS + 2); // format, the fields, crc32 (the seal)
  msgpack_pack_str(&pk, 6);
  msgpack_pack_str_body(&pk, "format", 6);
  msgpack_pack_str(&pk, 17);
  msgpack_pack_str_body(&pk, "pnas-run-config-1", 17);
  for (int i = 0; i < NFIELDS; i++) {
    const char *p = (const char *)c + FIELDS[i].off;
    msgpack_pack_str(&pk, strlen(FIELDS[i].name));
    msgpack_pack_str_body(&pk, FIELDS[i].name, strlen(FIELDS[i].name));
    switch (FIELDS[i].type) {
    case ARG_INT: msgpack_pack_int(&pk, *(const int *)p); break;
    case ARG_I64: msgpack_pack_int64(&pk, *(const int64_t *)p); break;
    case ARG_DOUBLE: msgpack_pack_double(&pk, *(const double *)p); break;
    default:
      msgpack_pack_str(&pk, strlen(p));
      msgpack_pack_str_body(&pk, p, strlen(p));
      break;
    }
  }
  int rc = space_msgpack_seal(&sb) ? pnas_seterr(err, errlen, "out of memory saving the config")
                                    : store_write_file(dir, "config.msgpack", sb.data, sb.size,
                                                       err, errlen);
  msgpack_sbuffer_destroy(&sb);
  return rc;
}

// What a user can do about a damaged config.msgpack (the format takes the run directory).
#define CONFIG_LOST "the run cannot resume without it: put back a copy, or start a new search " \
                    "with the run's flags and --cache %s (its trained children are reused)"

int search_config_load(search_config *c, const char *dir, char *err, size_t errlen) {
  char path[1100];
  snprintf(path, sizeof path, "%s/config.msgpack", dir);
  void *data;
  size_t len;
  if (store_read_file(path, &data, &len, err, errlen)) return -1;
  search_config_default(c);
  msgpack_unpacked up;
  msgpack_unpacked_init(&up);
  int rc = -1, have_format = 0;
  char serr[200];
  if (space_msgpack_check(data, len, serr, sizeof serr)) {
    snprintf(err, errlen, "%s: damaged config (%s); " CONFIG_LOST, path, serr, dir);
    goto out;
  }
  if (msgpack_unpack_next(&up, data, len, NULL) != MSGPACK_UNPACK_SUCCESS ||
      up.data.type != MSGPACK_OBJECT_MAP) {
    snprintf(err, errlen, "%s: not a msgpack map (damaged config); " CONFIG_LOST, path, dir);
    goto out;
  }
  // Sealed (written since checksums): every byte must be as written. An older file has no
  // crc32 entry and loads as before.
  if (space_msgpack_sealed(&up.data, data, len) && pnas_crc_check(data, len, serr, sizeof serr)) {
    snprintf(err, errlen, "%s: damaged config (%s); " CONFIG_LOST, path, serr, dir);
    goto out;
  }
  for (uint32_t i = 0; i < up.data.via.map.size; i++) {
    const msgpack_object *k = &up.data.via.map.ptr[i].key, *v = &up.data.via.map.ptr[i].val;
    if (k->type != MSGPACK_OBJECT_STR) continue;
    if (k->via.str.size == 6 && !memcmp(k->via.str.ptr, "format", 6)) {
      have_format = v->type == MSGPACK_OBJECT_STR && v->via.str.size == 17 &&
                    !memcmp(v->via.str.ptr, "pnas-run-config-1", 17);
      continue;
    }
    for (int f = 0; f < NFIELDS; f++) {
      if (strlen(FIELDS[f].name) != k->via.str.size ||
          memcmp(FIELDS[f].name, k->via.str.ptr, k->via.str.size))
        continue;
      char *p = (char *)c + FIELDS[f].off;
      int ok = 1;
      switch (FIELDS[f].type) {
      case ARG_INT:
      case ARG_I64: {
        int64_t x = v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int64_t)v->via.u64
                    : v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? v->via.i64
                                                                 : (ok = 0);
        if (ok && FIELDS[f].min <= FIELDS[f].max && (x < FIELDS[f].min || x > FIELDS[f].max))
          ok = 0;
        if (ok && FIELDS[f].type == ARG_INT) *(int *)p = (int)x;
        if (ok && FIELDS[f].type == ARG_I64) *(int64_t *)p = x;
        break;
      }
      case ARG_DOUBLE:
        if (v->type == MSGPACK_OBJECT_FLOAT64 || v->type == MSGPACK_OBJECT_FLOAT32)
          *(double *)p = v->via.f64;
        else
          ok = 0;
        break;
      default:
        if (v->type == MSGPACK_OBJECT_STR && v->via.str.size < (size_t)FIELDS[f].max) {
          memcpy(p, v->via.str.ptr, v->via.str.size);
          p[v->via.str.size] = '\0';
        } else {
          ok = 0;
        }
      }
      if (!ok) {
        snprintf(err, errlen, "%s: field '%s' has the wrong type or range", path, FIELDS[f].name);
        goto out;
      }
    }
  }
  if (!have_format) {
    snprintf(err, errlen, "%s: not a pnas run configuration (missing format tag)", path);
    goto out;
  }
  rc = search_config_check(c, err, errlen);
out:
  msgpack_unpacked_destroy(&up);
  free(data);
  return rc;
}
