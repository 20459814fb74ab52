// Prints every record of a run's results log, one line each, sorted by cell hash, with floats in
// hex (%a): two runs print the same lines exactly when they trained the same cells to bit-identical
// results. seq, time and seconds (where and when, not what) are left out. Used by mpi_search.sh.
#include <stdio.h>
#include <stdlib.h>

#include "pnas/store/store.h"

static int by_hash(const void *a, const void *b) {
  const store_record *x = a, *y = b;
  return x->hash < y->hash ? -1 : x->hash > y->hash;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: mpi_records RUN_DIR\n");
    return 2;
  }
  char path[1200], err[1024];
  snprintf(path, sizeof path, "%s/%s", argv[1], STORE_LOG_NAME);
  store_record *r;
  int n;
  if (store_read_log(path, 0, &r, &n, NULL, err, sizeof err)) {
    fprintf(stderr, "mpi_records: %s\n", err);
    return 1;
  }
  qsort(r, (size_t)n, sizeof *r, by_hash);
  for (int i = 0; i < n; i++) {
    char text[SPACE_TEXT_MAX];
    space_format(&r[i].cell, text, sizeof text);
    printf("%016llx %s level=%d strategy=%s ok=%d reason='%s' val_acc=%a val_top5=%a "
           "examples=%lld device=%s seed=%llu params=%lld mult_adds=%lld predicted=%a "
           "settings=%016llx\n",
           (unsigned long long)r[i].hash, text, r[i].level, r[i].strategy, r[i].ok, r[i].reason,
           r[i].val_acc, r[i].val_top5, (long long)r[i].examples, r[i].device,
           (unsigned long long)r[i].seed, (long long)r[i].params, (long long)r[i].mult_adds,
           r[i].predicted, (unsigned long long)r[i].settings);
  }
  free(r);
  return 0;
}
