// What every layer may use (common/ is below searchspace/): the always-on assertion, the
// error-message helpers and the FNV-1a step. Nothing here allocates or knows about cells, tensors or runs.
#ifndef PNAS_COMMON_H
#define PNAS_COMMON_H

#include <stddef.h>
#include <stdint.h>

// A bug, not a failure the user can cause: prints the condition, file and line to stderr and
// aborts. Active in every build, Release (-DNDEBUG) included, unlike assert().
#define PNAS_ASSERT(cond)                                                                          \
  ((cond) ? (void)0 : pnas_assert_fail(#cond, __FILE__, __LINE__, __func__))
void pnas_assert_fail(const char *cond, const char *file, int line, const char *func)
    __attribute__((noreturn));

// strerror(e), except where its words mislead in a message about a path: ELOOP is "symbolic
// link loop" (not "Too many levels of symbolic links"), EISDIR "is a directory".
const char *pnas_strerror(int e);

// Formats a message into err[errlen] (nothing when err is NULL or errlen is 0) and returns -1,
// so that a failing function can `return pnas_seterr(err, errlen, "...", ...);`.
// One FNV-1a 64 step over n bytes: h = pnas_fnv1a(PNAS_FNV_BASIS, p, n), then chain further
// fields through it (fit keys, derived settings hashes).
#define PNAS_FNV_BASIS 1469598103934665603ULL
static inline uint64_t pnas_fnv1a(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = (const unsigned char *)p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ULL;
  return h;
}

int pnas_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
