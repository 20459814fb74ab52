// `pnas export`: write a cell as a JSON genotype or as a self-contained PyTorch module of the
// full child network (pnas/report/export.h). Flags and defaults follow `pnas cost`, so the two agree on
// the network they describe. Does not train or load weights.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/args.h"
#include "pnas/cli/cli.h"
#include "pnas/report/export.h"
#include "pnas/search/prune_arch.h"
#include "pnas/search/search.h"

static const char USAGE[] =
    "usage: pnas export (--cell CELL | --run DIR [--cell CELL]) [--format json|pytorch]\n"
    "                   [--dataset D] [--N n] [--F f] [--image-size s] [--classes c]\n"
    "                   [--stem-multiplier m] [--out FILE]\n"
    "Export CELL (text form or a built-in name such as pnasnet-5).\n"
    "  --run DIR  take the dataset from a search's run directory and, without --cell, its best\n"
    "             cell (the best over all levels, as the search's summary names it); N and F stay\n"
    "             the full-size defaults (the run's children were smaller: it says which)\n"
    "  json     genotype: cell, canonical form, blocks, hash, settings, params and mult-adds of\n"
    "           the network (as `pnas cost`), per-cell layout and the ordered tensor list\n"
    "  pytorch  self-contained Python source (needs only torch): class PNASNet and build() for\n"
    "           the full network; parameter order matches the C network\n"
    "Defaults as `pnas cost`: --dataset cifar10 (also fashion-mnist, imagenet), N=3, F=48;\n"
    "cifar10 32x32x3, fashion-mnist 28x28x1 (CIFAR stem, multiplier 3, 10 classes), imagenet\n"
    "224x224x3 (ImageNet stem, multiplier 1, 1000 classes). Output goes to stdout without --out.\n"
    "examples:\n"
    "  pnas export --run runs/fm1 --format pytorch --out best.py\n"
    "  pnas export --cell pnasnet-5 --format pytorch --out pnasnet5.py\n"
    "  pnas export --cell '0:sep3x3,1:max3x3' --format json\n";

// --run DIR: the run's configuration (dataset) and, when best is not NULL, its best cell over
// all levels (search_record_better: the search summary's "best cell overall"). 0, or the exit
// code with a message printed.
static int from_run(const char *dir, const char *dataset, space_cell *best, search_config *run) {
  char err[1024], path[1100];
  if (search_config_load(run, dir, err, sizeof err)) {
    fprintf(stderr, "pnas export: --run %s: %s\n", dir, err);
    return 1;
  }
  if (dataset && strcmp(dataset, run->dataset)) {
    fprintf(stderr, "pnas export: --dataset %s, but run %s trained on %s (leave --dataset out)\n",
            dataset, dir, run->dataset);
    return 2;
  }
  if (!best) return 0;
  snprintf(path, sizeof path, "%s/results.log", dir);
  store_record *recs;
  int n;
  long torn;
  if (store_read_log(path, 0, &recs, &n, &torn, err, sizeof err)) { // read-only
    fprintf(stderr, "pnas export: --run %s: %s\n", dir, err);
    return 1;
  }
  const store_record *b = NULL;
  for (int i = 0; i < n; i++)
    if (recs[i].ok && search_record_better(&recs[i], b)) b = &recs[i];
  if (!b) {
    fprintf(stderr, "pnas export: run %s has no trained cell yet (give --cell)\n", dir);
    free(recs);
    return 1;
  }
  *best = b->cell;
  char text[SPACE_TEXT_MAX];
  space_format(best, text, sizeof text);
  fprintf(stderr, "pnas export: best cell of run %s (level %d, validation accuracy %.4f of %d "
          "records): %s\n", dir, b->level, b->val_acc, n, text);
  free(recs);
  return 0;
}

int cmd_export(int argc, char **argv) {
  const char *cell_text = NULL, *space = NULL, *dataset = NULL, *format = "json", *out_path = NULL;
  const char *run_dir = NULL, *arch_path = NULL;
  int N = 3, F = 48, image = -1, classes = -1;
  double stem_mult = -1;
  arg_spec specs[] = {
      {"cell", ARG_STR, &cell_text, 0, -1, NULL},
      {"space", ARG_STR, &space, 0, -1, NULL},
      {"format", ARG_STR, &format, 0, -1, NULL},
      {"dataset", ARG_STR, &dataset, 0, -1, NULL},
      {"N", ARG_INT, &N, 1, (EXPORT_MAX_CELLS - 4) / 3, NULL},
      {"F", ARG_INT, &F, 2, 100000, NULL},
      {"image-size", ARG_INT, &image, 1, 100000, NULL},
      {"classes", ARG_INT, &classes, 1, 1000000, NULL},
      {"stem-multiplier", ARG_DOUBLE, &stem_mult, 0.001, 1000, NULL},
      {"out", ARG_STR, &out_path, 0, -1, NULL},
      {"run", ARG_STR, &run_dir, 0, -1, NULL},
      {"arch", ARG_STR, &arch_path, 0, -1, NULL},
  };
  int rc = args_parse("pnas export", USAGE, argc, argv, 1, specs, sizeof specs / sizeof specs[0],
                      NULL, 0, NULL);
  if (rc == 3) return 0;
  if (rc) return rc;
  // A prune run's answer is its pruned network: --run DIR of one exports DIR/pruned-arch.txt.
  static prune_arch arch;
  char aerr[1400];
  if (!arch_path && run_dir && !cell_text) {
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", run_dir, PRUNE_ARCH_FILE);
    if (access(p, F_OK) == 0) arch_path = run_dir;
  }
  if (arch_path) {
    if (cell_text) {
      fprintf(stderr, "pnas export: give --cell or --arch, not both\n");
      return 2;
    }
    if (prune_arch_read(arch_path, &arch, aerr, sizeof aerr)) {
      fprintf(stderr, "pnas export: --arch: %s\n", aerr);
      return 2;
    }
    if (search_argv_has(argc, argv, "N") || search_argv_has(argc, argv, "F")) {
      fprintf(stderr, "pnas export: a pruned network fixes N and F (N=%d F=%d)\n", arch.N,
              arch.F);
      return 2;
    }
    run_dir = NULL;
    N = arch.N, F = arch.F;
    if (!dataset) dataset = arch.dataset;
    if (stem_mult <= 0) stem_mult = arch.stem_mult;
  }
  if (!cell_text && !run_dir && !arch_path && space && !strcmp(space, "nasnet")) cell_text = "nasnet-a";
  if (!cell_text && !run_dir && !arch_path) {
    fprintf(stderr, "pnas export: give --cell CELL (e.g. --cell pnasnet-5) or --run DIR\n");
    return 2;
  }
  int is_json = !strcmp(format, "json"), is_py = !strcmp(format, "pytorch");
  if (!is_json && !is_py) {
    fprintf(stderr, "pnas export: unknown --format '%s' (json, pytorch)\n", format);
    return 2;
  }
  space_cell cell;
  char err[1024];
  if (arch_path) cell = arch.cell;
  if (cell_text && space_parse_in(cell_text, space, &cell, err, sizeof err)) {
    fprintf(stderr, "pnas export: bad --cell: %s\n", err);
    return 2;
  }
  static search_config run; // the run's settings (--run)
  if (run_dir) {
    rc = from_run(run_dir, dataset, cell_text ? NULL : &cell, &run);
    if (rc) return rc;
    dataset = run.dataset;
  }
  if (!dataset) dataset = "cifar10";
  cost_config cfg;
  if (cost_config_for_dataset(dataset, &cfg)) {
    fprintf(stderr, "pnas export: unknown --dataset '%s' (cifar10, fashion-mnist, imagenet)\n",
            dataset);
    return 2;
  }
  cfg.N = N, cfg.F = F;
  if (image > 0) cfg.in_h = cfg.in_w = image;
  if (classes > 0) cfg.classes = classes;
  if (stem_mult > 0) cfg.stem_mult = stem_mult;
  if (arch_path) {
    if (strcmp(dataset, arch.dataset) || cfg.in_h != (strcmp(dataset, "cifar10") ? 28 : 32)) {
      fprintf(stderr, "pnas export: a pruned network exports on its own dataset (%s) and "
                      "image size\n", arch.dataset);
      return 2;
    }
    cfg.widths = &arch.w;
  }
  static export_net net; // ~16 KB; static keeps it off the stack
  if (export_net_init(&net, &cell, &cfg, err, sizeof err)) {
    fprintf(stderr, "pnas export: %s\n", err);
    return 1;
  }
  if (run_dir && (run.N != cfg.N || run.F != cfg.F))
    fprintf(stderr,
            "pnas export: network N=%d F=%d (%lld params); the run's children were N=%d F=%d "
            "(--N %d --F %d exports that size)\n",
            cfg.N, cfg.F, (long long)net.cost.params, run.N, run.F, run.N, run.F);
  FILE *f = stdout;
  if (out_path) {
    f = fopen(out_path, "w");
    if (!f) {
      fprintf(stderr, "pnas export: cannot write %s: %s\n", out_path, strerror(errno));
      return 1;
    }
  }
  rc = is_json ? export_write_json(&net, dataset, f) : export_write_pytorch(&net, dataset, f);
  int cerr = out_path ? fclose(f) : fflush(f);
  if (rc || cerr) {
    fprintf(stderr, "pnas export: write error on %s: %s\n", out_path ? out_path : "stdout",
            strerror(errno));
    return 1;
  }
  return 0;
}
