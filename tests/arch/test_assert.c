// PNAS_ASSERT is on in every build: compiled here with -DNDEBUG (as Release is), a false
// assertion must still abort the process, naming the condition and its file and line.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"

int main(void) {
#ifndef NDEBUG
  fprintf(stderr, "test_assert: must be compiled with -DNDEBUG\n");
  return 1;
#endif
  int fd[2];
  if (pipe(fd)) return 1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fd[1], 2);
    volatile int two = 2;
    PNAS_ASSERT(two + two == 5);
    _exit(0);
  }
  close(fd[1]);
  char buf[512] = "";
  ssize_t n = read(fd[0], buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = '\0';
  int st;
  waitpid(pid, &st, 0);
  int ok = WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && strstr(buf, "two + two == 5") &&
           strstr(buf, "test_assert.c:");
  PNAS_ASSERT(1 + 1 == 2); // a true assertion does nothing
  printf("test_assert: %s (%s)\n", ok ? "ok" : "FAILED", buf);
  return ok ? 0 : 1;
}
