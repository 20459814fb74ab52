// Reading benchmark tables (see table.h).
#include "pnas/search/table.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "predictor/rank.h"

void table_repeat_dir(const char *dir, int64_t train_seed, char *buf, size_t n) {
  snprintf(buf, n, "%s/repeat-%lld", dir, (long long)train_seed);
}

static int slot_of(const uint64_t *keys, int cap, uint64_t k) {
  int i = (int)(k & (uint64_t)(cap - 1));
  while (keys[i] && keys[i] != k) i = (i + 1) & (cap - 1);
  return i;
}

static uint64_t key_of(uint64_t h) { return h ? h : 1; }

const store_record *table_find(const pnas_table *t, uint64_t hash) {
  uint64_t k = key_of(hash);
  int i = slot_of(t->keys, t->cap, k);
  return t->keys[i] == k ? &t->rec[t->vals[i]] : NULL;
}

const store_record *table_find_repeat(const pnas_table *t, int k, uint64_t hash) {
  if (k < 0 || k >= t->nrep) return NULL;
  for (int i = 0; i < t->rep[k].n; i++)
    if (t->rep[k].rec[i].hash == hash) return &t->rep[k].rec[i];
  return NULL;
}

void table_free(pnas_table *t) {
  if (!t) return;
  free(t->rec);
  for (int k = 0; k < t->nrep; k++) free(t->rep[k].rec);
  free(t->keys);
  free(t->vals);
  free(t);
}

// Reads one run store's log: the records of this settings hash, first per cell.
static int read_store(const char *dir, uint64_t settings, store_record **out, int *n, char *err,
                      size_t errlen) {
  char path[1200];
  snprintf(path, sizeof path, "%s/%s", dir, STORE_LOG_NAME);
  store_record *r;
  int nr;
  long torn;
  if (store_read_log(path, 0, &r, &nr, &torn, err, errlen)) return -1;
  for (int i = 0; i < nr; i++)
    if (r[i].settings != settings) {
      snprintf(err, errlen, "%s: record %d was trained under other settings than %s/config.msgpack "
                            "(not one table)", path, i, dir);
      free(r);
      return -1;
    }
  *out = r;
  *n = nr;
  return 0;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

int table_load(const char *dir, pnas_table **out, char *err, size_t errlen) {
  struct stat st;
  if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "%s: not a table directory (%s)", dir,
             errno && stat(dir, &st) ? strerror(errno) : "not a directory");
    return -1;
  }
  pnas_table *t = calloc(1, sizeof *t);
  if (!t) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  snprintf(t->dir, sizeof t->dir, "%s", dir);
  char e[900];
  if (search_config_load(&t->cfg, dir, e, sizeof e)) {
    snprintf(err, errlen, "%s is not a table: %s", dir, e);
    table_free(t);
    return -1;
  }
  char settings[2048];
  search_settings_string(&t->cfg, settings, sizeof settings);
  t->settings = store_settings_hash(settings);
  store_record *r;
  int nr;
  if (read_store(dir, t->settings, &r, &nr, err, errlen)) {
    table_free(t);
    return -1;
  }
  t->cap = 16;
  while (t->cap < 2 * nr + 2) t->cap *= 2;
  t->keys = calloc((size_t)t->cap, sizeof *t->keys);
  t->vals = calloc((size_t)t->cap, sizeof *t->vals);
  t->rec = malloc(sizeof *t->rec * (size_t)(nr ? nr : 1));
  if (!t->keys || !t->vals || !t->rec) {
    free(r);
    table_free(t);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  for (int i = 0; i < nr; i++) {
    uint64_t k = key_of(r[i].hash);
    int s = slot_of(t->keys, t->cap, k);
    if (t->keys[s] == k) continue; // a cell measured twice (a shared cache): the first counts
    t->keys[s] = k;
    t->vals[s] = t->n;
    t->rec[t->n++] = r[i];
    if (r[i].cell.nblocks > t->levels) t->levels = r[i].cell.nblocks;
  }
  free(r);
  // Repeats: DIR/repeat-<seed> directories, in seed order.
  DIR *d = opendir(dir);
  int64_t seeds[TABLE_MAX_REPEATS];
  int ns = 0;
  for (struct dirent *de; d && (de = readdir(d));) {
    char *end;
    if (strncmp(de->d_name, "repeat-", 7)) continue;
    long long v = strtoll(de->d_name + 7, &end, 10);
    if (*end || end == de->d_name + 7 || ns == TABLE_MAX_REPEATS) continue;
    seeds[ns++] = v;
  }
  if (d) closedir(d);
  qsort(seeds, (size_t)ns, sizeof *seeds, cmp_i64);
  for (int k = 0; k < ns; k++) {
    char rd[1200];
    table_repeat_dir(dir, seeds[k], rd, sizeof rd);
    search_config rc;
    if (search_config_load(&rc, rd, e, sizeof e)) {
      snprintf(err, errlen, "repeat %s: %s", rd, e);
      table_free(t);
      return -1;
    }
    search_settings_string(&rc, settings, sizeof settings);
    table_repeat *rp = &t->rep[t->nrep];
    if (read_store(rd, store_settings_hash(settings), &rp->rec, &rp->n, err, errlen)) {
      table_free(t);
      return -1;
    }
    rp->train_seed = rc.train_seed;
    t->nrep++;
  }
  *out = t;
  return 0;
}

int table_noise_ceiling(const pnas_table *t, int k, int level, table_noise *out) {
  memset(out, 0, sizeof *out);
  if (k < 0 || k >= t->nrep) return -1;
  const table_repeat *rp = &t->rep[k];
  float *a = malloc(sizeof *a * (size_t)(rp->n + 1)), *b = malloc(sizeof *b * (size_t)(rp->n + 1));
  if (!a || !b) {
    free(a);
    free(b);
    return -1;
  }
  int n = 0;
  double sum = 0, mx = 0;
  for (int i = 0; i < rp->n; i++) {
    const store_record *x = &rp->rec[i];
    if (!x->ok || (level && x->cell.nblocks != level)) continue;
    const store_record *y = table_find(t, x->hash);
    if (!y || !y->ok) continue;
    a[n] = (float)y->val_acc;
    b[n] = (float)x->val_acc;
    double d = fabs(y->val_acc - x->val_acc);
    sum += d;
    if (d > mx) mx = d;
    n++;
  }
  out->n = n;
  if (n >= 2) {
    out->spearman = rank_spearman(a, b, n);
    out->kendall = rank_kendall_tau_b(a, b, n);
    out->mean_abs = sum / n;
    out->max_abs = mx;
  }
  free(a);
  free(b);
  return n >= 2 ? 0 : -1;
}
