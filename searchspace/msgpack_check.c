// Structural pre-check of untrusted msgpack bytes, shared by every reader (results log,
// configs, predictor files, MPI messages). msgpack-c allocates for the element counts a
// header claims before it reads them, so a 5-byte header claiming 2^32 entries would make it
// allocate ~100 GB; this walk rejects counts larger than the bytes left, truncation, invalid
// type bytes, nesting deeper than 16 and trailing bytes, without allocating anything. Also the
// msgpack side of the checksum entry that seals pnas's files (common/crc32.h).
#include "searchspace/msgpack_check.h"

#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "common/crc32.h"

static uint64_t be(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v = v << 8 | p[i];
  return v;
}

#define CHECK_DEPTH 16

int space_msgpack_check(const void *data, size_t len, char *err, size_t errlen) {
  const uint8_t *b = data;
  uint64_t left[CHECK_DEPTH + 1]; // objects still to read at each nesting depth
  int depth = 0;
  size_t off = 0;
  left[0] = 1;
  while (depth >= 0) {
    if (left[depth] == 0) {
      depth--;
      continue;
    }
    left[depth]--;
    if (off >= len) {
      pnas_seterr(err, errlen, "truncated: message ends at byte %zu inside an object", len);
      return -1;
    }
    uint8_t t = b[off];
    size_t hdr = 1;      // bytes of the header (type byte and length field)
    uint64_t body = 0;   // bytes of payload after the header
    uint64_t items = 0;  // objects inside (containers)
    int lenbytes = 0;    // size of a length field following the type byte
    if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) {
      // fixint, nil, bool
    } else if (t >= 0x80 && t <= 0x8f) {
      items = 2u * (t & 0x0f);
    } else if (t >= 0x90 && t <= 0x9f) {
      items = t & 0x0f;
    } else if (t >= 0xa0 && t <= 0xbf) {
      body = t & 0x1f;
    } else {
      switch (t) {
      case 0xc4: case 0xd9: lenbytes = 1; break;             // bin8, str8
      case 0xc5: case 0xda: lenbytes = 2; break;             // bin16, str16
      case 0xc6: case 0xdb: lenbytes = 4; break;             // bin32, str32
      case 0xc7: lenbytes = 1, body = 1; break;              // ext8: +1 type byte
      case 0xc8: lenbytes = 2, body = 1; break;              // ext16
      case 0xc9: lenbytes = 4, body = 1; break;              // ext32
      case 0xca: case 0xce: case 0xd2: body = 4; break;      // float32, uint32, int32
      case 0xcb: case 0xcf: case 0xd3: body = 8; break;      // float64, uint64, int64
      case 0xcc: case 0xd0: body = 1; break;                 // uint8, int8
      case 0xcd: case 0xd1: body = 2; break;                 // uint16, int16
      case 0xd4: body = 2; break;                            // fixext1
      case 0xd5: body = 3; break;                            // fixext2
      case 0xd6: body = 5; break;                            // fixext4
      case 0xd7: body = 9; break;                            // fixext8
      case 0xd8: body = 17; break;                           // fixext16
      case 0xdc: case 0xde: lenbytes = 2; break;             // array16, map16
      case 0xdd: case 0xdf: lenbytes = 4; break;             // array32, map32
      default:
        pnas_seterr(err, errlen, "invalid msgpack type byte 0x%02x at offset %zu", t, off);
        return -1;
      }
    }
    if (lenbytes) {
      if (len - off - 1 < (size_t)lenbytes) {
        pnas_seterr(err, errlen, "truncated: length field at offset %zu runs past the end", off);
        return -1;
      }
      uint64_t n = be(b + off + 1, lenbytes);
      hdr += (size_t)lenbytes;
      if (t == 0xdc || t == 0xdd) items = n;
      else if (t == 0xde || t == 0xdf) items = 2 * n;
      else body += n;
    }
    size_t rest = len - off - (hdr <= len - off ? hdr : len - off);
    if (hdr > len - off || body > rest) {
      pnas_seterr(err, errlen, "truncated: object at offset %zu needs %llu bytes, %zu left", off,
             (unsigned long long)(hdr + body), len - off);
      return -1;
    }
    off += hdr + (size_t)body;
    if (items) {
      // Every object takes at least one byte: a count larger than the bytes left is a lie.
      if (items > len - off) {
        pnas_seterr(err, errlen, "truncated: container at offset %zu claims %llu objects, %zu bytes "
                            "left", off - hdr, (unsigned long long)items, len - off);
        return -1;
      }
      if (depth == CHECK_DEPTH) {
        pnas_seterr(err, errlen, "nested deeper than %d levels at offset %zu", CHECK_DEPTH, off - hdr);
        return -1;
      }
      left[++depth] = items;
    }
  }
  if (off != len) {
    pnas_seterr(err, errlen, "%zu trailing bytes after the message", len - off);
    return -1;
  }
  return 0;
}


int space_msgpack_seal(struct msgpack_sbuffer *sb) {
  unsigned char entry[PNAS_CRC_ENTRY_LEN];
  pnas_crc_entry(sb->data, sb->size, entry);
  return msgpack_sbuffer_write(sb, (const char *)entry, sizeof entry) ? -1 : 0;
}

int space_msgpack_sealed(const struct msgpack_object *root, const void *data, size_t len) {
  if (pnas_crc_entry_at_end(data, len)) return 1;
  if (root->type != MSGPACK_OBJECT_MAP || root->via.map.size == 0) return 0;
  const msgpack_object *k = &root->via.map.ptr[root->via.map.size - 1].key;
  return k->type == MSGPACK_OBJECT_STR && k->via.str.size == 5 && !memcmp(k->via.str.ptr, "crc32", 5);
}
