// A benchmark table: every unique cell of a space trained once under one recipe (pnas table
// build). On disk it is a run directory (results.log + config.msgpack, so a table is also a
// valid --cache for searches with the same recipe) plus one run store per repeat training seed
// (DIR/repeat-<train seed>/) holding a random sample of the cells trained again: the noise
// ceiling. This module reads tables; strategy_table.c builds them. It sits in the search layer,
// not in store/, because a table is read with its run configuration (search_config).
#ifndef PNAS_TABLE_H
#define PNAS_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "pnas/search/search.h"
#include "pnas/store/store.h"

#define TABLE_MAX_REPEATS 16

typedef struct {
  int64_t train_seed;
  store_record *rec;
  int n;
} table_repeat;

typedef struct pnas_table_s {
  char dir[1024];
  search_config cfg;
  uint64_t settings;     // the recipe's settings hash (every record's)
  store_record *rec;     // one record per cell (the first in the log), in log order
  int n;
  int levels;            // highest level present
  int nrep;
  table_repeat rep[TABLE_MAX_REPEATS];
  // hash index over rec (open addressing; keys 0 = empty)
  uint64_t *keys;
  int *vals;
  int cap;
} pnas_table;

// Loads DIR (config, results log, repeats). Records under other settings than the config's are
// an error (the directory is not one table). 0 ok, -1 with err.
int table_load(const char *dir, pnas_table **out, char *err, size_t errlen);
void table_free(pnas_table *t);
// The record of a cell (canonical hash), or NULL.
const store_record *table_find(const pnas_table *t, uint64_t hash);
// The record of a cell in repeat k, or NULL.
const store_record *table_find_repeat(const pnas_table *t, int k, uint64_t hash);
// DIR/repeat-<train_seed>
void table_repeat_dir(const char *dir, int64_t train_seed, char *buf, size_t n);

// Noise ceiling between the table and repeat k over the cells both hold (ok in both): their
// count, Spearman, Kendall tau-b, mean and max |diff|. -1 when fewer than 2 such cells.
typedef struct {
  int n;
  double spearman, kendall, mean_abs, max_abs;
} table_noise;
int table_noise_ceiling(const pnas_table *t, int k, int level /* 0 = all */, table_noise *out);

// Every unique cell of levels 1..max_blocks of s's space within its budget, level by level
// (level_n[b-1] cells of level b). Returns the count (cells malloc'd), -1 with err.
int table_enumerate(search_ctx *s, int max_blocks, space_cell **cells, int *level_n, char *err,
                    size_t errlen);

#endif
