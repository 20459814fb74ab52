// `pnas show`: draw a cell as text, Graphviz DOT or SVG (rendered by Graphviz's dot), see
// pnas/report/show.h. Usage errors and unparsable cells exit 2; write and Graphviz failures exit 1.
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/args.h"
#include "pnas/cli/cli.h"
#include "pnas/report/show.h"

static const char USAGE[] =
    "usage: pnas show --cell CELL [--space pnas|nasnet] [--format text|dot|svg] [--out FILE]\n"
    "Draw CELL (text form or a built-in name such as pnasnet-5): the inputs H[c-1] and H[c-2],\n"
    "each branch op, the add of each block and the concat output.\n"
    "  text  readable description (default)\n"
    "  dot   Graphviz source\n"
    "  svg   SVG rendered by Graphviz's `dot -Tsvg` (must be on PATH)\n"
    "Output goes to stdout without --out.\n"
    "examples:\n"
    "  pnas show --cell pnasnet-5\n"
    "  pnas show --cell pnasnet-5 --format svg --out pnasnet5.svg\n";

int cmd_show(int argc, char **argv) {
  const char *cell_text = NULL, *space = NULL, *format = "text", *out_path = NULL;
  arg_spec specs[] = {
      {"cell", ARG_STR, &cell_text, 0, -1, NULL},
      {"space", ARG_STR, &space, 0, -1, NULL},
      {"format", ARG_STR, &format, 0, -1, NULL},
      {"out", ARG_STR, &out_path, 0, -1, NULL},
  };
  int rc = args_parse("pnas show", USAGE, argc, argv, 1, specs, sizeof specs / sizeof specs[0],
                      NULL, 0, NULL);
  if (rc == 3) return 0;
  if (rc) return rc;
  if (!cell_text) {
    fprintf(stderr, "pnas show: --cell is required (e.g. --cell pnasnet-5)\n");
    return 2;
  }
  int fmt = !strcmp(format, "text") ? 0 : !strcmp(format, "dot") ? 1 : !strcmp(format, "svg") ? 2 : -1;
  if (fmt < 0) {
    fprintf(stderr, "pnas show: unknown --format '%s' (text, dot, svg)\n", format);
    return 2;
  }
  space_cell cell;
  char err[512];
  if (space_parse_in(cell_text, space, &cell, err, sizeof err)) {
    fprintf(stderr, "pnas show: bad --cell: %s\n", err);
    return 2;
  }
  if (fmt == 2) {
    if (show_write_svg(&cell, out_path, err, sizeof err)) {
      // dot writes the SVG to our stdout itself: its failure there is a write error on stdout
      fprintf(stderr, "pnas show: %s%s\n", err, out_path ? "" : " (writing the SVG to stdout)");
      return 1;
    }
    if (fflush(stdout) || ferror(stdout)) {
      fprintf(stderr, "pnas show: write error on stdout: %s\n", strerror(errno));
      return 1;
    }
    return 0;
  }
  FILE *f = stdout;
  if (out_path) {
    f = fopen(out_path, "w");
    if (!f) {
      fprintf(stderr, "pnas show: cannot write %s: %s\n", out_path, strerror(errno));
      return 1;
    }
  }
  rc = fmt == 0 ? show_write_text(&cell, f) : show_write_dot(&cell, f);
  int cerr = out_path ? fclose(f) : fflush(f);
  if (rc || cerr) {
    fprintf(stderr, "pnas show: write error on %s: %s\n", out_path ? out_path : "stdout",
            strerror(errno));
    return 1;
  }
  return 0;
}
