// config.msgpack (search_config_save / search_config_load): the saved file is sealed (its last
// entry "crc32", common/crc32.h) and loads back to the same configuration. Every flipped bit is
// refused with a message naming the file, or (a flip in the letters of the "crc32" key) leaves
// every value as saved; a flipped value says "checksum mismatch" and what the user can do. A
// file written before checksums (the saved one without its entry, and the committed table
// data/tables/fm-3ops-b2) still loads. Every truncation and garbage: an error, never a crash.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crc32.h"
#include "pnas/search/search.h"
#include "tests/check.h"

static char dir[200], path[260], err[1024];

static void write_config(const void *buf, size_t len) {
  FILE *f = fopen(path, "wb");
  CHECK(f && fwrite(buf, 1, len, f) == len, "write %s", path);
  if (f) fclose(f);
}

// The bytes search_config_save writes for c (malloc'd, *len).
static char *saved_bytes(const search_config *c, size_t *len) {
  void *data = NULL;
  *len = 0;
  CHECK(search_config_save(c, dir, err, sizeof err) == 0, "save: %s", err);
  CHECK(store_read_file(path, &data, len, err, sizeof err) == 0, "read: %s", err);
  return data;
}

// Loads buf[0..len) as the run's config: 0 and *out, or -1 with err naming the file.
static int load_bytes(const void *buf, size_t len, search_config *out) {
  write_config(buf, len);
  err[0] = 0;
  int rc = search_config_load(out, dir, err, sizeof err);
  CHECK(rc == 0 || strstr(err, "config.msgpack"), "the message names no file: %s", err);
  return rc;
}

// 1 when c saves to exactly want[0..n) (every saved field equal).
static int saves_as(const search_config *c, const char *want, size_t n) {
  size_t len;
  char *got = saved_bytes(c, &len);
  int same = got && len == n && !memcmp(got, want, n);
  free(got);
  return same;
}

static size_t find(const char *h, size_t n, const char *needle, size_t nl) {
  for (size_t i = 0; i + nl <= n; i++)
    if (!memcmp(h + i, needle, nl)) return i;
  return (size_t)-1;
}

static void test_round_trip_and_flips(const char *orig, size_t n) {
  search_config d;
  CHECK(n > PNAS_CRC_ENTRY_LEN && pnas_crc_check(orig, n, err, sizeof err) == 0, "sealed: %s", err);
  CHECK(load_bytes(orig, n, &d) == 0 && saves_as(&d, orig, n), "round trip: %s", err);
  // The value of "lr" (a float64): each of its 64 bits flipped is a checksum mismatch (a 1-ulp
  // change would otherwise pass every range check).
  size_t lr = find(orig, n, "\xa2" "lr" "\xcb", 4);
  CHECK(lr != (size_t)-1, "no lr in the file");
  char *t = malloc(n);
  for (size_t i = lr + 4; lr != (size_t)-1 && i < lr + 12; i++)
    for (int bit = 0; bit < 8; bit++) {
      memcpy(t, orig, n);
      t[i] ^= (char)(1 << bit);
      CHECK(load_bytes(t, n, &d) == -1 && strstr(err, "damaged config (checksum mismatch") &&
                strstr(err, "cannot resume") && strstr(err, "--cache"),
            "lr byte %zu bit %d: %s", i, bit, err);
    }
  // Every bit of the file: refused, or (the key's letters) loaded with every value as saved.
  int accepted = 0;
  for (size_t i = 0; i < n; i++)
    for (int bit = 0; bit < 8; bit++) {
      memcpy(t, orig, n);
      t[i] ^= (char)(1 << bit);
      if (load_bytes(t, n, &d)) continue;
      accepted++;
      CHECK(i >= n - 10 && i < n - 5, "byte %zu bit %d accepted", i, bit);
      CHECK(saves_as(&d, orig, n), "byte %zu bit %d changed a value", i, bit);
    }
  CHECK(accepted <= 5 * 8, "%d flips accepted", accepted);
  free(t);
}

static void test_old_and_damaged(const char *orig, size_t n) {
  search_config d;
  // As written before checksums: no crc32 entry, one entry fewer in the map16 header.
  char *old = malloc(n);
  memcpy(old, orig, n - PNAS_CRC_ENTRY_LEN);
  CHECK((unsigned char)old[0] == 0xde && old[2] > 0, "map16 header");
  old[2]--;
  CHECK(load_bytes(old, n - PNAS_CRC_ENTRY_LEN, &d) == 0 && saves_as(&d, orig, n),
        "a config without checksum: %s", err);
  free(old);
  // The committed table's config was written before checksums: it loads unchanged.
  CHECK(search_config_load(&d, PNAS_SOURCE_DIR "/data/tables/fm-3ops-b2", err, sizeof err) == 0 &&
            !strcmp(d.strategy, "table"),
        "the committed table: %s", err);
  // Every truncation.
  for (size_t len = 0; len < n; len++)
    CHECK(load_bytes(orig, len, &d) == -1 && strstr(err, "damaged config"), "cut at %zu: %s", len,
          err);
  // Garbage: random bytes, text, another sealed msgpack map.
  char g[700];
  uint32_t x = 99;
  for (size_t i = 0; i < sizeof g; i++) g[i] = (char)((x = x * 1103515245u + 12345u) >> 16);
  g[0] = (char)0xc1; // never a msgpack type byte
  CHECK(load_bytes(g, sizeof g, &d) == -1 && strstr(err, "damaged config"), "garbage: %s", err);
  CHECK(load_bytes("hello", 5, &d) == -1 && strstr(err, "damaged config"), "text: %s", err);
  char other[5 + PNAS_CRC_ENTRY_LEN] = "\x82\xa1" "a" "\x01";
  pnas_crc_entry(other, 4, (unsigned char *)other + 4);
  CHECK(load_bytes(other, 4 + PNAS_CRC_ENTRY_LEN, &d) == -1 &&
            strstr(err, "not a pnas run configuration"),
        "another file: %s", err);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/pnas-test-config-%d", (int)getpid());
  snprintf(path, sizeof path, "%s/config.msgpack", dir);
  CHECK(mkdir(dir, 0755) == 0, "mkdir %s", dir);
  store_set_durable(0); // a scratch directory: no fsync per save
  search_config c;
  search_config_default(&c);
  c.lr = 0.0123, c.seed = 77, c.beam = 6;
  size_t n;
  char *orig = saved_bytes(&c, &n);
  if (orig) {
    test_round_trip_and_flips(orig, n);
    test_old_and_damaged(orig, n);
  }
  free(orig);
  unlink(path);
  rmdir(dir);
  return CHECK_DONE();
}
