// What every layer may use (common/ is below searchspace/): the always-on assertion and the
// error-message helpers. Nothing here allocates or knows about cells, tensors or runs.
#ifndef PNAS_COMMON_H
#define PNAS_COMMON_H

#include <stddef.h>

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
int pnas_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
