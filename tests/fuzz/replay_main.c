// Replays fuzz inputs through a harness without libFuzzer: every argument is a file (or a
// directory of files) passed once to LLVMFuzzerTestOneInput. Built with the normal toolchain
// (and so under ASan/UBSan in the sanitizer build); ctest uses it for the seed corpus and for
// every crashing input the fuzzers found (tests/fuzz/regress/).
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return -1;
  }
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc(cap);
  for (;;) {
    if (!buf) break;
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) break;
    uint8_t *nb = realloc(buf, cap * 2);
    if (!nb) free(buf);
    buf = nb;
    cap *= 2;
  }
  fclose(f);
  if (!buf) {
    fprintf(stderr, "%s: out of memory\n", path);
    return -1;
  }
  // An exact-size copy, so ASan catches a read one byte past the input.
  uint8_t *exact = malloc(n ? n : 1);
  if (!exact) return free(buf), -1;
  memcpy(exact, buf, n);
  free(buf);
  LLVMFuzzerTestOneInput(exact, n);
  free(exact);
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
  int files = 0, bad = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st)) {
      perror(argv[i]);
      return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
      bad |= replay_file(argv[i]) != 0;
      files++;
      continue;
    }
    DIR *d = opendir(argv[i]);
    if (!d) {
      perror(argv[i]);
      return 1;
    }
    char *names[4096];
    int nn = 0;
    struct dirent *e;
    while ((e = readdir(d)) && nn < 4096)
      if (e->d_name[0] != '.') names[nn++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)nn, sizeof *names, cmp_str);
    for (int k = 0; k < nn; k++) {
      char p[4096];
      snprintf(p, sizeof p, "%s/%s", argv[i], names[k]);
      bad |= replay_file(p) != 0;
      files++;
      free(names[k]);
    }
  }
  if (bad || files == 0) {
    fprintf(stderr, "replay: %s\n", files ? "unreadable input" : "no inputs");
    return 1;
  }
  printf("replayed %d inputs\n", files);
  return 0;
}
