// Fuzz target: the results-log reader. The input is a whole results.log: it is read with
// store_read_log (salvage off and on), decoded as one raw record payload (store_decode_record),
// and, when small, opened as a run store with --salvage (which truncates a torn tail or rewrites
// the log). Properties: every accepted record is consistent (hash matches cell, accuracy in
// [0,1]); a clean read and a salvage read agree; a rejected log names the file; a decoded record
// re-encodes to the same record; after a salvaging store_open the log reads back clean with the
// same records.
#include <math.h>
#include <sys/stat.h>

#include "fuzz_common.h"
#include "pnas/store/store.h"

static void check_rec(const store_record *r) {
  FUZZ_CHECK(r->cell.nblocks >= 1 && r->cell.nblocks <= SPACE_MAX_BLOCKS, "%d blocks",
             r->cell.nblocks);
  FUZZ_CHECK(space_check(&r->cell, SPACE_ALL_OPS, NULL, 0) == 0, "invalid cell accepted");
  FUZZ_CHECK(r->hash == space_hash(&r->cell), "hash does not match the cell");
  FUZZ_CHECK(r->level == r->cell.nblocks, "level %d for %d blocks", r->level, r->cell.nblocks);
  FUZZ_CHECK(r->val_acc >= 0 && r->val_acc <= 1, "val_acc %g", r->val_acc);
}

static int same_num(double a, double b) { return a == b || (isnan(a) && isnan(b)); }

static void check_same(const store_record *a, const store_record *b) {
  FUZZ_CHECK(space_equal(&a->cell, &b->cell) && a->hash == b->hash && a->settings == b->settings &&
                 a->ok == b->ok && a->seed == b->seed && a->examples == b->examples &&
                 a->params == b->params && a->mult_adds == b->mult_adds && a->seq == b->seq &&
                 same_num(a->val_acc, b->val_acc) && same_num(a->val_top5, b->val_top5) &&
                 same_num(a->seconds, b->seconds) && same_num(a->predicted, b->predicted) &&
                 !strcmp(a->strategy, b->strategy) && !strcmp(a->reason, b->reason) &&
                 !strcmp(a->device, b->device),
             "records differ (seq %lld vs %lld)", (long long)a->seq, (long long)b->seq);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > (1u << 20)) return 0;
  char err[1024];
  // 1. One record payload.
  store_record r;
  err[0] = '\0';
  if (store_decode_record(data, size, &r, err, sizeof err) == 0) {
    check_rec(&r);
    void *enc;
    size_t elen;
    FUZZ_CHECK(store_encode_record(&r, &enc, &elen) == 0, "encode");
    store_record r2;
    FUZZ_CHECK(store_decode_record(enc, elen, &r2, err, sizeof err) == 0, "re-decode: %s", err);
    check_same(&r, &r2);
    free(enc);
  } else {
    FUZZ_CHECK(err[0], "record rejected without a message");
  }
  // 2. A whole log file, read both ways.
  const char *path = fuzz_write_file(0, "log", data, size);
  store_record *a = NULL, *b = NULL;
  int na = 0, nb = 0;
  long torn_a = -1, torn_b = -1;
  err[0] = '\0';
  int rca = store_read_log(path, 0, &a, &na, &torn_a, err, sizeof err);
  if (rca) FUZZ_CHECK(strstr(err, path) != NULL, "error does not name the file: %s", err);
  int rcb = store_read_log(path, 1, &b, &nb, &torn_b, err, sizeof err);
  if (rcb) FUZZ_CHECK(strstr(err, path) != NULL, "error does not name the file: %s", err);
  for (int i = 0; i < na; i++) check_rec(&a[i]);
  for (int i = 0; i < nb; i++) check_rec(&b[i]);
  if (rca == 0) {
    FUZZ_CHECK(rcb == 0 && na == nb && torn_a == torn_b, "salvage read disagrees with a clean read");
    for (int i = 0; i < na; i++) check_same(&a[i], &b[i]);
  }
  // 3. Open it as a run directory with --salvage (small logs only: appends fsync).
  if (rcb == 0 && nb <= 8) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/run", fuzz_dir());
    char logp[700 + 16], junk[740];
    snprintf(logp, sizeof logp, "%s/results.log", dir);
    const char *left[] = {"", ".torn", ".corrupt", ".tmp"}; // what store_open may leave
    for (int i = 0; i < 4; i++) {
      snprintf(junk, sizeof junk, "%s%s", logp, left[i]);
      unlink(junk);
    }
    mkdir(dir, 0755);
    FILE *f = fopen(logp, "wb");
    FUZZ_CHECK(f && fwrite(data, 1, size, f) == size && fclose(f) == 0, "write %s", logp);
    store *s = NULL;
    FUZZ_CHECK(store_open(dir, 0, 1, &s, err, sizeof err) == 0, "salvage open failed: %s", err);
    FUZZ_CHECK(store_count(s) == nb, "store holds %d records, salvage read %d", store_count(s), nb);
    store_close(s);
    store_record *c = NULL;
    int nc = 0;
    long torn_c = -1;
    FUZZ_CHECK(store_read_log(logp, 0, &c, &nc, &torn_c, err, sizeof err) == 0,
               "log not clean after a salvaging open: %s", err);
    FUZZ_CHECK(nc == nb && torn_c == -1, "%d records after open, %d before (torn %ld)", nc, nb,
               torn_c);
    for (int i = 0; i < nc; i++) {
      store_record x = b[i];
      FUZZ_CHECK(space_equal(&x.cell, &c[i].cell) && x.hash == c[i].hash &&
                     same_num(x.val_acc, c[i].val_acc),
                 "record %d changed by the salvaging open", i);
    }
    free(c);
  }
  free(a);
  free(b);
  return 0;
}
