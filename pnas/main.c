// The `pnas` binary: dispatches to subcommands. With no subcommand (or only flags) it runs the
// default search. Subcommands live in pnas/cmd_*.c and are declared in pnas/cli.h.
#include <stdio.h>
#include <string.h>

#include "pnas/cli.h"
#include "pnas/mpi_world.h"

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
    {"report", cmd_report, "write the comparison report (HTML + Markdown) of run directories"},
};

static void usage(FILE *f) {
  fprintf(f, "usage: pnas <command> [options]   (pnas <command> --help for its options)\n\n"
             "commands:\n");
  for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
    fprintf(f, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].help);
}

static int run_command(int argc, char **argv) {
  // `pnas` alone or `pnas --flag ...` runs the default command, the search.
  if (argc < 2 || (argv[1][0] == '-' && strcmp(argv[1], "--help") && strcmp(argv[1], "-h")))
    return cmd_search(argc, argv);
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
    if (!strcmp(argv[1], COMMANDS[i].name)) return COMMANDS[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "pnas: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}

int main(int argc, char **argv) {
  // Under mpirun, ranks > 0 are workers: they train children for rank 0 and never run a command.
  int code;
  if (mpi_world_start(&argc, &argv, &code)) return code;
  return mpi_world_finish(run_command(argc, argv));
}
