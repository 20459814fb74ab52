// A tiny table-driven flag parser shared by every subcommand: "--name value" or "--name=value",
// flags without values for ARG_FLAG. Unknown flags, missing or malformed values and out-of-range
// numbers are usage errors that name the flag. It does not print help beyond the given text.
#ifndef PNAS_ARGS_H
#define PNAS_ARGS_H

#include <stddef.h>
#include <stdint.h>

// ARG_BUF copies the value into a char array of (size_t)max bytes (too long = usage error).
typedef enum { ARG_INT, ARG_I64, ARG_DOUBLE, ARG_STR, ARG_FLAG, ARG_BUF } arg_type;

typedef struct {
  const char *name;   // without the leading "--"
  arg_type type;
  void *dst;          // int*, int64_t*, double*, const char**, int* (flag -> 1), char[max]
  double min, max;    // for numbers; min > max means no range check
  int *seen;          // optional: set to 1 when given on the command line
} arg_spec;

// Parses argv[first..argc). Positional arguments are returned in pos (up to maxpos; extra
// positionals are a usage error). Returns 0 ok, 2 usage error (message on stderr prefixed with
// prog), 3 when --help/-h was given (usage printed to stdout; caller should exit 0).
int args_parse(const char *prog, const char *usage, int argc, char **argv, int first,
               const arg_spec *specs, int nspecs, const char **pos, int maxpos, int *npos);

// Damerau-Levenshtein distance (adjacent transpositions count 1) of two short words.
int args_edit_distance(const char *a, const char *b);
// The name of names[0..n) closest to word when it is close enough to be a typo, else NULL
// ("did you mean" for commands and flags).
const char *args_closest(const char *word, const char *const *names, int n);

#endif
