// The `pnas` binary: dispatches to subcommands. With no subcommand (or only flags) it runs the
// default search. Subcommands live in pnas/cmd_*.c and are declared in pnas/cli.h.
#include <stdio.h>
#include <string.h>

#include "pnas/cli.h"

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
    {"predict", cmd_predict, "predicted accuracy of cells from a saved predictor (mean, spread)"},
    {"compare", cmd_compare, "run several strategies x seeds on one budget and write the report"},
    {"report", cmd_report, "write the comparison report (HTML + Markdown) of run directories"},
};

static void usage(FILE *f) {
  fprintf(f, "usage: pnas <command> [options]   (pnas <command> --help for its options)\n\n"
             "commands:\n");
  for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
    fprintf(f, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].help);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
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
