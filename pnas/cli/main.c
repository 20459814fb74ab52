// The `pnas` binary: dispatches to subcommands. With no subcommand (or only flags) it runs the
// default search. Subcommands live in pnas/cli/cmd_*.c and are declared in pnas/cli/cli.h.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/args.h"
#include "pnas/cli/cli.h"
#include "pnas/dispatch/mpi_world.h"

#ifndef PNAS_VERSION
#define PNAS_VERSION "unknown"
#endif

typedef struct {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *help;
} command;

static const command COMMANDS[] = {
    {"cost", cmd_cost, "parameters and mult-adds of the network for a cell"},
    {"space", cmd_space, "count, expand and canonicalise cells of the search space"},
    {"show", cmd_show, "draw a cell as text, Graphviz dot or SVG"},
    {"export", cmd_export, "export a cell as a JSON genotype or a PyTorch module"},
    {"predictor", cmd_predictor, "retrain a run's surrogate (rank correlation by level) or evaluate one"},
    {"predict", cmd_predict, "predicted accuracy of cells from a saved predictor (mean, spread)"},
    {"search", cmd_search, "run a search (pnas, rl, random, evolution); the default command"},
    {"inspect", cmd_inspect, "summarise a run directory, or print its records as JSON lines"},
    {"train", cmd_train, "train one cell's network and report validation and test accuracy"},
    {"compare", cmd_compare, "run several strategies x seeds on one budget and write the report"},
    {"table", cmd_table, "build, summarise and export benchmark tables (every cell trained once)"},
    {"report", cmd_report, "write the comparison report (HTML + Markdown) of run directories"},
};

#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void usage(FILE *f) {
  fprintf(f, "usage: pnas <command> [options]   (pnas help <command>, or pnas <command> --help)\n"
             "       pnas [search flags]          the default command: a search\n"
             "       pnas --version\n\n"
             "commands:\n");
  for (size_t i = 0; i < NCOMMANDS; i++)
    fprintf(f, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].help);
  fprintf(f, "\nexamples:\n"
             "  pnas                                   the small default search (2 CPU cores)\n"
             "  pnas --beam 256 --max-blocks 5         the paper's search (8 operators)\n"
             "  pnas search --resume runs/20261203-101500\n"
             "  pnas inspect runs/20261203-101500\n"
             "  pnas train --cell pnasnet-5 --N 3 --F 48 --epochs 20\n"
             "  pnas compare --table data/tables/fm-3ops-b2 --seeds 200 --out cmp\n"
             "cells are written I1:O1,I2:O2;... (inputs 0 = H[c-1], 1 = H[c-2], k+1 = block k;\n"
             "ops identity sep3x3 sep5x5 sep7x7 conv1x7_7x1 avg3x3 max3x3 dil3x3, and NASNet's\n"
             "conv1x3_3x1 max5x5 max7x7 conv1x1 conv3x3), e.g.\n"
             "  0:sep3x3,1:max3x3;2:identity,0:sep5x5     or the built-in name pnasnet-5\n");
}

static const command *find_command(const char *name) {
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (!strcmp(name, COMMANDS[i].name)) return &COMMANDS[i];
  return NULL;
}

static int unknown_command(const char *name) {
  const char *names[NCOMMANDS];
  for (size_t i = 0; i < NCOMMANDS; i++) names[i] = COMMANDS[i].name;
  const char *near = args_closest(name, names, (int)NCOMMANDS);
  if (near)
    fprintf(stderr, "pnas: unknown command '%s'; did you mean '%s'?\n", name, near);
  else
    fprintf(stderr, "pnas: unknown command '%s'\n", name);
  usage(stderr);
  return 2;
}

static int run_command(int argc, char **argv) {
  // `pnas` alone or `pnas --flag ...` runs the default command, the search.
  if (argc < 2 || (argv[1][0] == '-' && strcmp(argv[1], "--help") && strcmp(argv[1], "-h") &&
                    strcmp(argv[1], "--version")))
    return cmd_search(argc, argv);
  if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
    printf("pnas %s\n", PNAS_VERSION);
    return 0;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
      (!strcmp(argv[1], "help") && argc < 3)) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "help")) { // pnas help CMD = pnas CMD --help
    const command *c = find_command(argv[2]);
    if (!c) return unknown_command(argv[2]);
    char *hargv[] = {argv[2], "--help", NULL};
    return c->fn(2, hargv);
  }
  const command *c = find_command(argv[1]);
  if (c) return c->fn(argc - 1, argv + 1);
  return unknown_command(argv[1]);
}

// The environment pnas needs is read by libgomp and OpenBLAS before main, so pnas sets it and
// re-executes itself once (under valgrind, set both, or the re-executed process runs outside
// valgrind):
// - OpenMP threads spin at every barrier before they sleep (libgomp: 300,000 spins). When
//   another process shares the cores (a second search, a build, MPI ranks on a laptop) the
//   spinning thread burns the time slice its partner needs, and training crawls: measured on
//   2 vCPUs with one busy process beside it, PNASNet-5 N=1 F=8 trained at 33 img/s by default,
//   78 with GOMP_SPINCOUNT=20000, and at the same ~340 img/s either way when idle. Set unless
//   the user chose a policy (OMP_WAIT_POLICY or GOMP_SPINCOUNT).
// - OPENBLAS_NUM_THREADS=1, always: pnas parallelises around BLAS itself and calls it serially,
//   but OpenBLAS's results depend on the thread count it was *started* with even when it is
//   later set to 1 (with OpenBLAS 0.3.21's Haswell/Zen kernels, a predictor fitted in a process
//   that started with 2 BLAS threads differs in the last bits from one started with 1, which is
//   what mpirun gives rank 0). Starting every process with 1 makes the records independent of
//   the machine's core count and of the launcher.
static void set_env_and_reexec(char **argv) {
  int spin = !getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT");
  const char *bt = getenv("OPENBLAS_NUM_THREADS");
  int blas = !bt || strcmp(bt, "1");
  if (!spin && !blas) return;
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0 || n >= (ssize_t)sizeof self - 1) return;
  self[n] = '\0';
  if (spin && setenv("GOMP_SPINCOUNT", "20000", 1)) return;
  if (blas && setenv("OPENBLAS_NUM_THREADS", "1", 1)) return;
  execv(self, argv); // returns only on failure: go on as we are
  if (spin) unsetenv("GOMP_SPINCOUNT");
}

int main(int argc, char **argv) {
  set_env_and_reexec(argv);
  // Under mpirun, ranks > 0 are workers: they train children for rank 0 and never run a command.
  int code;
  if (mpi_world_start(&argc, &argv, mpi_worker_run, &code)) return code;
  return mpi_world_finish(run_command(argc, argv));
}
