// The always-on assertion's failure path and the error-message helpers (common/common.h).
#include "common/common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pnas_assert_fail(const char *cond, const char *file, int line, const char *func) {
  fprintf(stderr, "pnas: internal error (a bug): assertion '%s' failed in %s at %s:%d\n", cond,
          func, file, line);
  fflush(stderr);
  abort();
}

int pnas_seterr(char *err, size_t errlen, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

const char *pnas_strerror(int e) {
  if (e == ELOOP) return "symbolic link loop (too many levels of symbolic links)";
  if (e == EISDIR) return "is a directory";
  return strerror(e);
}
