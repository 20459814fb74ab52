// common/crc32: the CRC-32 equals zlib's (check value, random buffers of every small length and
// a large one), and the checksum entry that seals a file: written as a5 "crc32" ce + the CRC
// big endian, found at the end, and every flipped bit of a sealed buffer refused by the check
// (a mismatch, or an entry that is no longer there), never accepted.
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/crc32.h"
#include "tests/check.h"

static void test_crc32(void) {
  CHECK(pnas_crc32("123456789", 9) == 0xCBF43926u, "check value %08x", pnas_crc32("123456789", 9));
  CHECK(pnas_crc32(NULL, 0) == 0 && pnas_crc32("", 0) == 0, "empty");
  unsigned char buf[1 << 16];
  uint32_t x = 12345;
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)((x = x * 1103515245u + 12345u) >> 16);
  for (size_t n = 0; n < 300; n++)
    CHECK(pnas_crc32(buf + n % 7, n) == (uint32_t)crc32(0L, buf + n % 7, (uInt)n), "length %zu", n);
  CHECK(pnas_crc32(buf, sizeof buf) == (uint32_t)crc32(0L, buf, sizeof buf), "64 KiB");
}

static void test_entry(void) {
  // A sealed buffer: the bytes of a msgpack map {"a": 1, "crc32": ...} (header counts 2).
  unsigned char f[5 + PNAS_CRC_ENTRY_LEN] = {0x82, 0xa1, 'a', 0x01, 0xc0};
  const size_t body = 5, n = sizeof f;
  pnas_crc_entry(f, body, f + body);
  uint32_t crc = pnas_crc32(f, body);
  CHECK(!memcmp(f + body, "\xa5" "crc32" "\xce", 7), "entry head");
  CHECK(f[body + 7] == (crc >> 24) && f[body + 8] == ((crc >> 16) & 0xff) &&
            f[body + 9] == ((crc >> 8) & 0xff) && f[body + 10] == (crc & 0xff),
        "big-endian value");
  CHECK(pnas_crc_entry_at_end(f, n) && !pnas_crc_entry_at_end(f, n - 1) &&
            !pnas_crc_entry_at_end(f, body) && !pnas_crc_entry_at_end(NULL, 0),
        "entry at end");
  char why[160];
  CHECK(pnas_crc_check(f, n, why, sizeof why) == 0, "sealed: %s", why);
  int mismatch = 0, missing = 0;
  for (size_t i = 0; i < n; i++)
    for (int bit = 0; bit < 8; bit++) {
      unsigned char g[sizeof f];
      memcpy(g, f, n);
      g[i] ^= (unsigned char)(1 << bit);
      why[0] = 0;
      int rc = pnas_crc_check(g, n, why, sizeof why);
      CHECK(rc == -1, "byte %zu bit %d accepted", i, bit);
      mismatch += rc == -1 && strstr(why, "checksum mismatch") != NULL;
      missing += rc == -1 && strstr(why, "\"crc32\" entry is missing") != NULL;
      CHECK(i < body || i >= body + 7 || strstr(why, "missing"), "head byte %zu: %s", i, why);
    }
  CHECK(mismatch == 8 * (int)(n - 7) && missing == 8 * 7, "%d mismatches, %d missing", mismatch,
        missing);
  CHECK(pnas_crc_check(f, body, why, sizeof why) == -1 && strstr(why, "missing"), "unsealed");
  CHECK(pnas_crc_check(NULL, 0, why, sizeof why) == -1 && strstr(why, "missing"), "empty");
}

int main(void) {
  test_crc32();
  test_entry();
  return CHECK_DONE();
}
