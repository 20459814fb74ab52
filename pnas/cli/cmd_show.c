// `pnas show`: draw a cell as text, Graphviz DOT or SVG (rendered by Graphviz's dot), see
// pnas/report/show.h. Usage errors and unparsable cells exit 2; write and Graphviz failures exit 1.
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/args.h"
#include "pnas/cli/cli.h"
#include "pnas/report/show.h"
#include "pnas/search/prune_arch.h"
#include "searchspace/layout.h"
#include "searchspace/ops.h"

// --arch: the channel counts of a pruned network, layer by layer, after the cell's drawing.
typedef struct {
  const prune_arch *a;
  FILE *f;
} arch_walk;

static void arch_cell(void *ctx, const space_cell_layout *L) {
  arch_walk *w = ctx;
  int nb;
  const space_block *b = space_cell_blocks(&w->a->cell, L->kind, &nb);
  fprintf(w->f, "  cell %d (%s, F=%d, %dx%d):", L->index,
          L->kind ? "reduction" : L->stride == 2 ? "stride 2" : "normal", L->filters, L->out_h,
          L->out_w);
  int any = 0;
  for (int i = 0; i < nb; i++)
    for (int s = 0; s < 2; s++) {
      int op = s ? b[i].op2 : b[i].op1;
      if (!space_op_has_inner(op)) continue;
      fprintf(w->f, "%s b%d %s %s %d/%d", any ? "," : "", i + 1, s ? "right" : "left",
              space_op_name(op), cost_inner(&w->a->w, L->index, i, s, L->filters), L->filters);
      any = 1;
    }
  fprintf(w->f, "%s\n", any ? "" : " no separable op");
}

static int write_arch(const prune_arch *a, FILE *f) {
  cost_config cc, full;
  char err[256];
  if (prune_arch_cost_config(a, &cc, err, sizeof err)) return -1;
  full = cc;
  full.widths = NULL;
  space_net_layout lay, lf;
  if (space_net_walk(&a->cell, &full, &lf, NULL, NULL, err, sizeof err)) return -1;
  cost_result rf;
  cost_network(&a->cell, &full, &rf, err, sizeof err);
  fprintf(f, "\npruned network (network slimming): N=%d F=%d on %s\n", a->N, a->F, a->dataset);
  fprintf(f, "  params %lld of %lld (%.1f%%), mult-adds %lld of %lld (%.1f%%)\n",
          (long long)a->params, (long long)rf.params, 100.0 * (double)a->params / (double)rf.params,
          (long long)a->mult_adds, (long long)rf.mult_adds,
          100.0 * (double)a->mult_adds / (double)rf.mult_adds);
  fprintf(f, "  stem: %d/%d channels\n", a->w.stem ? a->w.stem : lf.c, lf.c);
  fprintf(f, "  inner channels of each separable op (after its pw1) / the cell's filters:\n");
  arch_walk w = {a, f};
  return space_net_walk(&a->cell, &cc, &lay, arch_cell, &w, err, sizeof err) || ferror(f) ? -1 : 0;
}

static const char USAGE[] =
    "usage: pnas show (--cell CELL [--space pnas|nasnet] | --arch FILE|DIR) [--format text|dot|svg]\n"
    "                 [--out FILE]\n"
    "Draw CELL (text form or a built-in name such as pnasnet-5): the inputs H[c-1] and H[c-2],\n"
    "each branch op, the add of each block and the concat output.\n"
    "  text  readable description (default)\n"
    "  dot   Graphviz source\n"
    "  svg   SVG rendered by Graphviz's `dot -Tsvg` (must be on PATH)\n"
    "Output goes to stdout without --out.\n"
    "--arch: a pruned network (--strategy prune's pruned-arch.txt, or its run directory): its\n"
    "cell, and in text every pruned layer's channel counts.\n"
    "examples:\n"
    "  pnas show --cell pnasnet-5\n"
    "  pnas show --cell pnasnet-5 --format svg --out pnasnet5.svg\n";

int cmd_show(int argc, char **argv) {
  const char *cell_text = NULL, *space = NULL, *format = "text", *out_path = NULL;
  const char *arch_path = NULL;
  arg_spec specs[] = {
      {"cell", ARG_STR, &cell_text, 0, -1, NULL},
      {"space", ARG_STR, &space, 0, -1, NULL},
      {"arch", ARG_STR, &arch_path, 0, -1, NULL},
      {"format", ARG_STR, &format, 0, -1, NULL},
      {"out", ARG_STR, &out_path, 0, -1, NULL},
  };
  int rc = args_parse("pnas show", USAGE, argc, argv, 1, specs, sizeof specs / sizeof specs[0],
                      NULL, 0, NULL);
  if (rc == 3) return 0;
  if (rc) return rc;
  static prune_arch arch;
  char aerr[1400];
  if (arch_path) {
    if (cell_text) {
      fprintf(stderr, "pnas show: give --cell or --arch, not both\n");
      return 2;
    }
    if (prune_arch_read(arch_path, &arch, aerr, sizeof aerr)) {
      fprintf(stderr, "pnas show: --arch: %s\n", aerr);
      return 2;
    }
  } else if (!cell_text) {
    fprintf(stderr, "pnas show: --cell is required (e.g. --cell pnasnet-5), or --arch FILE\n");
    return 2;
  }
  int fmt = !strcmp(format, "text") ? 0 : !strcmp(format, "dot") ? 1 : !strcmp(format, "svg") ? 2 : -1;
  if (fmt < 0) {
    fprintf(stderr, "pnas show: unknown --format '%s' (text, dot, svg)\n", format);
    return 2;
  }
  space_cell cell;
  char err[512];
  if (arch_path) cell = arch.cell;
  else if (space_parse_in(cell_text, space, &cell, err, sizeof err)) {
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
  if (!rc && fmt == 0 && arch_path) rc = write_arch(&arch, f);
  int cerr = out_path ? fclose(f) : fflush(f);
  if (rc || cerr) {
    fprintf(stderr, "pnas show: write error on %s: %s\n", out_path ? out_path : "stdout",
            strerror(errno));
    return 1;
  }
  return 0;
}
