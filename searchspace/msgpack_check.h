// Structural pre-check of untrusted msgpack bytes before msgpack-c parses them (see .c).
#ifndef PNAS_SEARCHSPACE_MSGPACK_CHECK_H
#define PNAS_SEARCHSPACE_MSGPACK_CHECK_H

#include <stddef.h>

// 0 when data[0..len) is exactly one well-formed msgpack object whose every count fits in the
// bytes present; -1 with a reason (and the offset) in err otherwise.
int space_msgpack_check(const void *data, size_t len, char *err, size_t errlen);

#endif
