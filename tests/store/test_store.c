// Run-store tests: append/reopen/find, torn last record, corrupt middle record (error with the
// offset, or salvage), bad magic, wrong version, garbage, a run directory that is a file.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pnas/store/store.h"
#include "tests/check.h"

static char dir[256];

static store_record make(const char *cell, double acc, uint64_t settings) {
  store_record r;
  memset(&r, 0, sizeof r);
  char err[256];
  space_parse(cell, &r.cell, err, sizeof err);
  r.settings = settings;
  snprintf(r.strategy, sizeof r.strategy, "pnas");
  r.ok = 1;
  r.val_acc = acc;
  r.val_top5 = NAN;
  r.predicted = 0.5;
  r.examples = 1000;
  r.seconds = 1.5;
  snprintf(r.device, sizeof r.device, "cpu");
  return r;
}

static long file_size(const char *p) {
  struct stat st;
  return stat(p, &st) ? -1 : (long)st.st_size;
}

static void fresh_dir(void) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) {}
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/pnas-test-store-%d", (int)getpid());
  fresh_dir();
  char err[512], log[300];
  snprintf(log, sizeof log, "%s/results.log", dir);
  store *s;
  CHECK(store_open(dir, 0, 0, &s, err, sizeof err) == -1 && strstr(err, "no such run"), "%s", err);
  CHECK(store_open(dir, 1, 0, &s, err, sizeof err) == 0, "%s", err);
  const char *cells[3] = {"0:sep3x3,1:max3x3", "1:identity,0:sep5x5", "pnasnet-5"};
  for (int i = 0; i < 3; i++) {
    store_record r = make(cells[i], 0.5 + 0.1 * i, 7);
    r.from_cache = i == 1; // optional key: written only when set
    CHECK(store_append(s, &r, err, sizeof err) == 0, "%s", err);
    CHECK(r.seq == i, "seq");
  }
  space_cell c;
  space_parse("1:max3x3,0:sep3x3", &c, err, sizeof err); // same cell, other branch order
  const store_record *f = store_find(s, space_hash(&c), 7);
  CHECK(f && fabs(f->val_acc - 0.5) < 1e-12, "find canonical");
  CHECK(store_find(s, space_hash(&c), 8) == NULL, "settings are part of the key");
  store_close(s);
  // Reopen: all there, identical fields.
  CHECK(store_open(dir, 0, 0, &s, err, sizeof err) == 0, "%s", err);
  CHECK(store_count(s) == 3, "count %d", store_count(s));
  const store_record *r2 = store_get(s, 2);
  CHECK(r2 && r2->level == 5 && r2->ok && fabs(r2->val_acc - 0.7) < 1e-12 && r2->examples == 1000 &&
            !strcmp(r2->device, "cpu") && isnan(r2->val_top5),
        "fields");
  CHECK(store_get(s, 1)->from_cache == 1 && store_get(s, 0)->from_cache == 0 && !r2->from_cache,
        "from_cache round trip");
  store_close(s);
  long full = file_size(log);
  // Torn last record: cut the file in the middle of the last frame.
  CHECK(truncate(log, full - 5) == 0, "truncate");
  CHECK(store_open(dir, 0, 0, &s, err, sizeof err) == 0, "torn: %s", err);
  CHECK(store_count(s) == 2, "torn: %d records", store_count(s));
  store_record r = make(cells[2], 0.9, 7);
  CHECK(store_append(s, &r, err, sizeof err) == 0, "%s", err);
  store_close(s);
  CHECK(store_open(dir, 0, 0, &s, err, sizeof err) == 0 && store_count(s) == 3, "after torn: %s", err);
  store_close(s);
  // Corrupt middle record: flip a byte in the first payload.
  FILE *fp = fopen(log, "r+b");
  fseek(fp, 12 + 8 + 10, SEEK_SET);
  int ch = fgetc(fp);
  fseek(fp, 12 + 8 + 10, SEEK_SET);
  fputc(ch ^ 0x5a, fp);
  fclose(fp);
  CHECK(store_open(dir, 0, 0, &s, err, sizeof err) == -1 && strstr(err, "offset 12") &&
            strstr(err, "--salvage"),
        "corrupt: %s", err);
  long before = file_size(log);
  CHECK(before > 0, "log kept");
  CHECK(store_open(dir, 0, 1, &s, err, sizeof err) == 0, "salvage: %s", err);
  CHECK(store_count(s) == 2, "salvage kept %d", store_count(s));
  store_close(s);
  char bak[320];
  snprintf(bak, sizeof bak, "%s.corrupt", log);
  CHECK(file_size(bak) == before, "damaged original kept");
  CHECK(store_open(dir, 0, 0, &s, err, sizeof err) == 0 && store_count(s) == 2, "clean after salvage");
  store_close(s);
  // The repaired log renumbered its records and kept their training times.
  {
    store_record *rr;
    int nr;
    long t;
    CHECK(store_read_log(log, 0, &rr, &nr, &t, err, sizeof err) == 0 && nr == 2 && rr[0].seq == 0 &&
              rr[1].seq == 1 && rr[0].time > 0,
          "repaired log: %s", err);
    free(rr);
  }
  // A second damage: the first salvage's original (results.log.corrupt) is never overwritten,
  // this damaged log goes to results.log.corrupt.1; a stale results.log.tmp (an interrupted
  // salvage) is removed.
  {
    void *first, *damaged, *got;
    size_t first_len, damaged_len, got_len;
    CHECK(store_read_file(bak, &first, &first_len, err, sizeof err) == 0, "%s", err);
    fp = fopen(log, "r+b");
    fseek(fp, 12 + 8 + 10, SEEK_SET);
    ch = fgetc(fp);
    fseek(fp, 12 + 8 + 10, SEEK_SET);
    fputc(ch ^ 0x5a, fp);
    fclose(fp);
    CHECK(store_read_file(log, &damaged, &damaged_len, err, sizeof err) == 0, "%s", err);
    char tmp[320], bak1[320], bak2[320];
    snprintf(tmp, sizeof tmp, "%s.tmp", log);
    snprintf(bak1, sizeof bak1, "%s.corrupt.1", log);
    snprintf(bak2, sizeof bak2, "%s.corrupt.2", log);
    for (int round = 0; round < 2; round++) {
      // round 1: as if killed after results.log.corrupt.1 was kept and results.log.tmp written,
      // before the rename: the damaged original is back in place with the tmp file beside it.
      if (round == 1)
        CHECK(store_write_file(dir, "results.log", damaged, damaged_len, err, sizeof err) == 0,
              "%s", err);
      FILE *tf = fopen(tmp, "wb");
      CHECK(tf && fputs("half a repaired log", tf) >= 0 && fclose(tf) == 0, "stale tmp");
      CHECK(store_open(dir, 0, 1, &s, err, sizeof err) == 0 && store_count(s) == 1,
            "salvage again (round %d): %s", round, err);
      store_close(s);
      CHECK(file_size(tmp) == -1, "stale results.log.tmp removed (round %d)", round);
      CHECK(store_read_file(bak, &got, &got_len, err, sizeof err) == 0 && got_len == first_len &&
                !memcmp(got, first, first_len),
            "the older results.log.corrupt is unchanged (round %d)", round);
      free(got);
      CHECK(store_read_file(bak1, &got, &got_len, err, sizeof err) == 0 &&
                got_len == damaged_len && !memcmp(got, damaged, damaged_len),
            "results.log.corrupt.1 holds the damaged log (round %d)", round);
      free(got);
      CHECK(file_size(bak2) == -1, "an identical results.log.corrupt.1 is reused (round %d)", round);
      CHECK(store_open(dir, 0, 0, &s, err, sizeof err) == 0 && store_count(s) == 1,
            "clean after the second salvage: %s", err);
      store_close(s);
    }
    free(first);
    free(damaged);
  }
  // Foreign file, wrong version, garbage, empty.
  struct {
    const char *bytes;
    size_t n;
    const char *needle;
  } bad[] = {
      {"GIF89a\0\0\0\0\0\0\0\0", 14, "bad magic"},
      {"PNASLOG\0\x09\0\0\0", 12, "version 9"},
      {"\xff\xfe garbage garbage", 18, "bad magic"},
      {"", 0, "bad magic"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    fp = fopen(log, "wb");
    fwrite(bad[i].bytes, 1, bad[i].n, fp);
    fclose(fp);
    err[0] = 0;
    CHECK(store_open(dir, 0, 0, &s, err, sizeof err) == -1 && strstr(err, bad[i].needle) &&
              strstr(err, "results.log"),
          "bad file %zu: %s", i, err);
    CHECK(file_size(log) == (long)bad[i].n, "bad file %zu was modified", i);
  }
  // A run directory that is a file.
  fp = fopen("/tmp/pnas-test-store-file", "w");
  fclose(fp);
  CHECK(store_open("/tmp/pnas-test-store-file", 1, 0, &s, err, sizeof err) == -1 &&
            strstr(err, "not a directory"),
        "%s", err);
  unlink("/tmp/pnas-test-store-file");
  fresh_dir();
  return CHECK_DONE();
}
