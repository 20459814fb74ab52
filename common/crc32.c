// CRC-32 and the checksum entry of sealed msgpack files (see crc32.h).
#include "common/crc32.h"

#include <string.h>

#include "common/common.h"

// a5: a msgpack string of 5 bytes, "crc32"; ce: a uint32 follows, big endian.
static const unsigned char ENTRY_HEAD[7] = {0xa5, 'c', 'r', 'c', '3', '2', 0xce};

uint32_t pnas_crc32(const void *data, size_t len) {
  static uint32_t table[256];
  static int ready = 0; // benign race: every thread computes the same table
  if (!ready) {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
    ready = 1;
  }
  uint32_t c = 0xFFFFFFFFu;
  const unsigned char *b = data;
  for (size_t i = 0; i < len; i++) c = table[(c ^ b[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void pnas_crc_entry(const void *data, size_t len, unsigned char entry[PNAS_CRC_ENTRY_LEN]) {
  PNAS_ASSERT(data || len == 0);
  uint32_t crc = pnas_crc32(data, len);
  memcpy(entry, ENTRY_HEAD, sizeof ENTRY_HEAD);
  for (int k = 0; k < 4; k++) entry[7 + k] = (unsigned char)(crc >> (24 - 8 * k));
}

int pnas_crc_entry_at_end(const void *data, size_t len) {
  return len >= PNAS_CRC_ENTRY_LEN &&
         !memcmp((const unsigned char *)data + len - PNAS_CRC_ENTRY_LEN, ENTRY_HEAD,
                 sizeof ENTRY_HEAD);
}

int pnas_crc_check(const void *data, size_t len, char *why, size_t whylen) {
  if (!pnas_crc_entry_at_end(data, len))
    return pnas_seterr(why, whylen, "its \"crc32\" entry is missing or not at the end");
  const unsigned char *t = (const unsigned char *)data + len - PNAS_CRC_ENTRY_LEN + 7;
  uint32_t want = (uint32_t)t[0] << 24 | (uint32_t)t[1] << 16 | (uint32_t)t[2] << 8 | t[3];
  uint32_t got = pnas_crc32(data, len - PNAS_CRC_ENTRY_LEN);
  if (got != want)
    return pnas_seterr(why, whylen, "checksum mismatch: crc32 %08x, the file says %08x", got,
                       want);
  return 0;
}
