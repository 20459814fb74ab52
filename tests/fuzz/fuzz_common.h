// Shared by the fuzz harnesses: a per-process scratch directory for readers that take a path.
// The harnesses are built twice: with libFuzzer (harness/CMakeLists.txt, clang) and with the
// normal toolchain around replay_main.c, which replays checked-in inputs under ctest.
#ifndef PNAS_FUZZ_COMMON_H
#define PNAS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// Always-on check: a violated property is a bug the fuzzer must report (abort = crash).
#define FUZZ_CHECK(cond, ...)                                                                 \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      fprintf(stderr, "%s:%d: property violated: %s: ", __FILE__, __LINE__, #cond);          \
      fprintf(stderr, __VA_ARGS__);                                                           \
      fputc('\n', stderr);                                                                    \
      abort();                                                                                \
    }                                                                                         \
  } while (0)

// A directory made once per process (removed at exit); paths inside it are reused per input.
static char fuzz_dir_path[256];

static inline void fuzz_dir_cleanup(void) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir_path);
  if (fuzz_dir_path[0] && system(cmd)) {
  }
}

static inline const char *fuzz_dir(void) {
  if (!fuzz_dir_path[0]) {
    const char *t = getenv("TMPDIR");
    snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "%s/pnas-fuzz.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(fuzz_dir_path)) {
      perror("mkdtemp");
      abort();
    }
    atexit(fuzz_dir_cleanup);
  }
  return fuzz_dir_path;
}

// Writes data to <fuzz_dir>/name (replacing it) and returns the path (static buffer per slot).
static inline const char *fuzz_write_file(int slot, const char *name, const uint8_t *data, size_t len) {
  static char paths[4][512];
  snprintf(paths[slot], sizeof paths[slot], "%s/%s", fuzz_dir(), name);
  FILE *f = fopen(paths[slot], "wb");
  if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f)) {
    perror(paths[slot]);
    abort();
  }
  return paths[slot];
}

#endif
