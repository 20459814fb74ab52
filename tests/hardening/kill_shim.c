// LD_PRELOAD shim of hardening_salvage_kill (salvage_kill.sh): raises SIGKILL at the Nth call
// of write, fsync or rename that touches a path under PNAS_KILL_DIR (the run directory itself
// included: its fsync), before the call runs; N is PNAS_KILL_AT (unset or 0: never, the calls
// are only counted). Each matching call is named on stderr ("kill_shim: 3 rename A -> B"), so
// the test can tell where a kill landed. Not for sanitizer builds (ASan must come first).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long calls;

// 1 when path is PNAS_KILL_DIR or below it.
static int under_dir(const char *path) {
  const char *dir = getenv("PNAS_KILL_DIR");
  if (!dir || !*dir || !path) return 0;
  size_t n = strlen(dir);
  return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

static int fd_under_dir(int fd) {
  char link[64], path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return 0;
  path[n] = '\0';
  return under_dir(path);
}

// Counts a matching call, names it on stderr (a raw syscall: not through our write) and dies
// when it is the PNAS_KILL_AT-th.
static void step(const char *what, const char *a, const char *b) {
  const char *at = getenv("PNAS_KILL_AT");
  long n = ++calls, kill_at = at ? strtol(at, NULL, 10) : 0;
  char line[4200];
  int len = snprintf(line, sizeof line, "kill_shim: %ld %s %s%s%s%s\n", n, what, a,
                     b ? " -> " : "", b ? b : "", n == kill_at ? " (SIGKILL)" : "");
  if (len > (int)sizeof line - 1) len = (int)sizeof line - 1;
  if (len > 0) syscall(SYS_write, 2, line, (size_t)len);
  if (n == kill_at) raise(SIGKILL);
}

static const char *fd_name(int fd, char *buf, size_t n) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t k = readlink(link, buf, n - 1);
  buf[k > 0 ? k : 0] = '\0';
  return buf;
}

ssize_t write(int fd, const void *data, size_t len) {
  static ssize_t (*real)(int, const void *, size_t);
  if (!real) real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
  if (fd > 2 && fd_under_dir(fd)) {
    char name[4096];
    step("write", fd_name(fd, name, sizeof name), NULL);
  }
  return real(fd, data, len);
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  if (fd_under_dir(fd)) {
    char name[4096];
    step("fsync", fd_name(fd, name, sizeof name), NULL);
  }
  return real(fd);
}

int rename(const char *from, const char *to) {
  static int (*real)(const char *, const char *);
  if (!real) real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
  if (under_dir(from) || under_dir(to)) step("rename", from, to);
  return real(from, to);
}
