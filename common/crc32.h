// CRC-32 and the checksum entry that closes every msgpack file pnas writes (predictor files,
// config.msgpack, state.msgpack, rl-controller.msgpack).
//
// A sealed file is one msgpack map whose last entry is "crc32": the CRC-32 of every byte of
// the file before that entry, as a fixed-width msgpack uint32 (0xce + 4 bytes, big endian). So
// the entry is always the last PNAS_CRC_ENTRY_LEN bytes: a5 'c' 'r' 'c' '3' '2' ce b3 b2 b1 b0,
// and the writer packs the map header counting it. Raw bytes only: common/ links no msgpack
// (searchspace/msgpack_check.h has the msgpack-aware seal and check built on these).
#ifndef PNAS_COMMON_CRC32_H
#define PNAS_COMMON_CRC32_H

#include <stddef.h>
#include <stdint.h>

#define PNAS_CRC_ENTRY_LEN 11

// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320): equal to zlib's crc32(0, data, len).
uint32_t pnas_crc32(const void *data, size_t len);

// The entry that seals data[0..len): "crc32" and the CRC-32 of those bytes.
void pnas_crc_entry(const void *data, size_t len, unsigned char entry[PNAS_CRC_ENTRY_LEN]);

// 1 when data[0..len) ends with the bytes of a crc32 entry (whatever its value), else 0.
int pnas_crc_entry_at_end(const void *data, size_t len);

// Checks a sealed file: 0 when it ends with its crc32 entry and the entry matches every byte
// before it; -1 otherwise, with the reason in why (no file name: the caller adds it).
int pnas_crc_check(const void *data, size_t len, char *why, size_t whylen);

#endif
