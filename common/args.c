// Implementation of the shared flag parser (see args.h).
#include "common/args.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int args_edit_distance(const char *a, const char *b) {
  size_t n = strlen(a), m = strlen(b);
  if (n > 63 || m > 63) return 99;
  int d[64][64];
  for (size_t i = 0; i <= n; i++) d[i][0] = (int)i;
  for (size_t j = 0; j <= m; j++) d[0][j] = (int)j;
  for (size_t i = 1; i <= n; i++)
    for (size_t j = 1; j <= m; j++) {
      int sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
      int best = sub < del ? sub : del;
      best = best < ins ? best : ins;
      // adjacent transposition ("serach" for "search")
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
          d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  return d[n][m];
}

const char *args_closest(const char *word, const char *const *names, int n) {
  const char *best = NULL;
  int bd = 99;
  size_t wl = strlen(word);
  for (int k = 0; k < n; k++) {
    int dd = args_edit_distance(word, names[k]);
    if (dd < bd) bd = dd, best = names[k];
  }
  // Close enough to be a typo: at most 2 edits, and fewer than half the word.
  return best && bd <= 2 && (size_t)bd * 2 < wl + 1 ? best : NULL;
}

static int set_value(const char *prog, const arg_spec *s, const char *v) {
  char *end = NULL;
  errno = 0;
  switch (s->type) {
  case ARG_STR:
    *(const char **)s->dst = v;
    return 0;
  case ARG_FLAG:
    *(int *)s->dst = 1;
    return 0;
  case ARG_BUF: {
    size_t cap = (size_t)s->max;
    if (strlen(v) >= cap) {
      fprintf(stderr, "%s: --%s value is too long (at most %zu characters)\n", prog, s->name,
              cap - 1);
      return 2;
    }
    memcpy(s->dst, v, strlen(v) + 1);
    return 0;
  }
  case ARG_INT:
  case ARG_I64: {
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end) {
      fprintf(stderr, "%s: --%s expects an integer, got '%s'\n", prog, s->name, v);
      return 2;
    }
    if (s->min <= s->max && (x < s->min || x > s->max)) {
      fprintf(stderr, "%s: --%s must be between %.0f and %.0f, got %lld\n", prog, s->name, s->min,
              s->max, x);
      return 2;
    }
    if (s->type == ARG_INT) {
      if (x < -2147483647LL || x > 2147483647LL) {
        fprintf(stderr, "%s: --%s is out of range: %lld\n", prog, s->name, x);
        return 2;
      }
      *(int *)s->dst = (int)x;
    } else {
      *(int64_t *)s->dst = (int64_t)x;
    }
    return 0;
  }
  case ARG_DOUBLE: {
    double x = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(x)) {
      fprintf(stderr, "%s: --%s expects a number, got '%s'\n", prog, s->name, v);
      return 2;
    }
    if (s->min <= s->max && (x < s->min || x > s->max)) {
      fprintf(stderr, "%s: --%s must be between %g and %g, got %g\n", prog, s->name, s->min,
              s->max, x);
      return 2;
    }
    *(double *)s->dst = x;
    return 0;
  }
  }
  return 2;
}

int args_parse(const char *prog, const char *usage, int argc, char **argv, int first,
               const arg_spec *specs, int nspecs, const char **pos, int maxpos, int *npos) {
  int np = 0;
  for (int i = first; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(usage, stdout);
      return 3;
    }
    if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
      if (np >= maxpos) {
        fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", prog, a);
        return 2;
      }
      pos[np++] = a;
      continue;
    }
    const char *name = a + 2;
    const char *eq = strchr(name, '=');
    size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
    const arg_spec *s = NULL;
    for (int k = 0; k < nspecs; k++)
      if (strlen(specs[k].name) == nlen && !strncmp(specs[k].name, name, nlen)) s = &specs[k];
    if (!s) {
      char word[64];
      snprintf(word, sizeof word, "%.*s", (int)(nlen < 63 ? nlen : 63), name);
      const char *names[256];
      int nn = 0;
      for (int k = 0; k < nspecs && nn < 256; k++) names[nn++] = specs[k].name;
      const char *near = args_closest(word, names, nn);
      if (near)
        fprintf(stderr, "%s: unknown option '--%s'; did you mean '--%s'? (see --help)\n", prog,
                word, near);
      else
        fprintf(stderr, "%s: unknown option '--%.*s' (see --help)\n", prog, (int)nlen, name);
      return 2;
    }
    const char *v = NULL;
    if (s->type == ARG_FLAG) {
      if (eq) {
        fprintf(stderr, "%s: --%s takes no value\n", prog, s->name);
        return 2;
      }
    } else if (eq) {
      v = eq + 1;
    } else {
      if (i + 1 >= argc) {
        fprintf(stderr, "%s: --%s needs a value\n", prog, s->name);
        return 2;
      }
      v = argv[++i];
    }
    int rc = set_value(prog, s, v);
    if (rc) return rc;
    if (s->seen) *s->seen = 1;
  }
  if (npos) *npos = np;
  return 0;
}
