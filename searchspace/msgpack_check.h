// Structural pre-check of untrusted msgpack bytes before msgpack-c parses them (see .c).
#ifndef PNAS_SEARCHSPACE_MSGPACK_CHECK_H
#define PNAS_SEARCHSPACE_MSGPACK_CHECK_H

#include <stddef.h>

// 0 when data[0..len) is exactly one well-formed msgpack object whose every count fits in the
// bytes present; -1 with a reason (and the offset) in err otherwise.
int space_msgpack_check(const void *data, size_t len, char *err, size_t errlen);

// Checksums (the sealed files of common/crc32.h), for msgpack-c's types:
struct msgpack_sbuffer;
struct msgpack_object;
// Appends the crc32 entry of sb's bytes to sb: the writer packed a map whose header counts that
// last entry. 0, or -1 when out of memory.
int space_msgpack_seal(struct msgpack_sbuffer *sb);
// 1 when data[0..len), one msgpack object parsed as root, is sealed: root is a map whose last
// key is "crc32", or the bytes end with a crc32 entry (so a damaged header or key is not taken
// for a file written before checksums). Then pnas_crc_check(data, len, ...) must pass; an
// unsealed file (written before checksums) has nothing to check.
int space_msgpack_sealed(const struct msgpack_object *root, const void *data, size_t len);

#endif
