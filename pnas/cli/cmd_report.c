// `pnas report RUN... --out DIR`: the comparison report (report.md, self-contained report.html,
// gnuplot figures, Graphviz drawings) of finished or partial run directories. A directory
// without config.msgpack (e.g. a `pnas compare` output folder) stands for its run subfolders.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/common.h"
#include "pnas/cli/cli.h"
#include "pnas/report/report_core.h"

static const char USAGE[] =
    "usage: pnas report RUN... --out DIR\n"
    "Writes DIR/report.md and a self-contained DIR/report.html comparing the runs by strategy:\n"
    "best-so-far top-1 and mean top-5 accuracy against models and examples (mean and min/max\n"
    "over seeds), models needed to reach PNAS's accuracy, the predictor's rank correlation per\n"
    "level, and each strategy's best cell. A RUN without config.msgpack stands for its\n"
    "subfolders that are runs (e.g. the output folder of `pnas compare`).\n"
    "Needs gnuplot (figures) and Graphviz dot (cell drawings) on PATH.\n"
    "example: pnas report cmp/pnas-seed1 cmp/random-seed1 --out report\n";

#define MAX_RUNS 1024

static int is_run(const char *dir) {
  char p[4200];
  struct stat st;
  if (snprintf(p, sizeof p, "%s/config.msgpack", dir) >= (int)sizeof p) return 0;
  return stat(p, &st) == 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

// Adds dir, or its run subfolders (sorted) when dir itself is not a run. 0 ok, -1 error.
static int add_runs(const char *dir, char **out, int *n) {
  if (is_run(dir)) {
    if (*n >= MAX_RUNS) return -1;
    out[(*n)++] = strdup(dir);
    return 0;
  }
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "pnas report: %s: not a run directory (no config.msgpack) and not a folder "
                    "of runs: %s\n",
            dir, pnas_strerror(errno));
    return -1;
  }
  int first = *n;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char sub[4096];
    if (snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name) >= (int)sizeof sub) continue;
    if (!is_run(sub)) continue;
    if (*n >= MAX_RUNS) {
      closedir(d);
      return -1;
    }
    out[(*n)++] = strdup(sub);
  }
  closedir(d);
  if (*n == first) {
    fprintf(stderr, "pnas report: %s holds no run directories\n", dir);
    return -1;
  }
  qsort(out + first, (size_t)(*n - first), sizeof *out, cmp_str);
  return 0;
}

int cmd_report(int argc, char **argv) {
  const char *out = NULL;
  const char *pos[MAX_RUNS];
  int npos = 0;
  arg_spec specs[] = {{"out", ARG_STR, &out, 0, -1, NULL}};
  int rc = args_parse("pnas report", USAGE, argc, argv, 1, specs, 1, pos, MAX_RUNS, &npos);
  if (rc == 3) return 0;
  if (rc) return rc;
  if (npos == 0 || !out) {
    fprintf(stderr, "pnas report: give one or more run directories and --out DIR (see --help)\n");
    return 2;
  }
  char *dirs[MAX_RUNS];
  int n = 0;
  for (int i = 0; i < npos; i++)
    if (add_runs(pos[i], dirs, &n)) {
      for (int k = 0; k < n; k++) free(dirs[k]);
      return 1;
    }
  report rep;
  char err[1024];
  rc = 0;
  if (report_build(&rep, (const char *const *)dirs, n, err, sizeof err)) {
    fprintf(stderr, "pnas report: %s\n", err);
    rc = 1;
  } else {
    if (report_write(&rep, out, err, sizeof err)) {
      fprintf(stderr, "pnas report: %s\n", err);
      rc = 1;
    } else {
      printf("report of %d runs: %s/report.html, %s/report.md\n", n, out, out);
    }
    report_release(&rep);
  }
  for (int k = 0; k < n; k++) free(dirs[k]);
  return rc;
}
