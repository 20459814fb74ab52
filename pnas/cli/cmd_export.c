// `pnas export`: write a cell as a JSON genotype or as a self-contained PyTorch module of the
// full child network (pnas/report/export.h). Flags and defaults follow `pnas cost`, so the two agree on
// the network they describe. Does not train or load weights.
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/args.h"
#include "pnas/cli/cli.h"
#include "pnas/report/export.h"

static const char USAGE[] =
    "usage: pnas export --cell CELL [--format json|pytorch] [--dataset D] [--N n] [--F f]\n"
    "                   [--image-size s] [--classes c] [--stem-multiplier m] [--out FILE]\n"
    "Export CELL (text form or a built-in name such as pnasnet-5).\n"
    "  json     genotype: cell, canonical form, blocks, hash, settings, params and mult-adds of\n"
    "           the network (as `pnas cost`), per-cell layout and the ordered tensor list\n"
    "  pytorch  self-contained Python source (needs only torch): class PNASNet and build() for\n"
    "           the full network; parameter order matches the C network\n"
    "Defaults as `pnas cost`: --dataset cifar10 (also fashion-mnist, imagenet), N=3, F=48;\n"
    "cifar10 32x32x3, fashion-mnist 28x28x1 (CIFAR stem, multiplier 3, 10 classes), imagenet\n"
    "224x224x3 (ImageNet stem, multiplier 1, 1000 classes). Output goes to stdout without --out.\n"
    "examples:\n"
    "  pnas export --cell pnasnet-5 --format pytorch --out pnasnet5.py\n"
    "  pnas export --cell '0:sep3x3,1:max3x3' --format json\n";

int cmd_export(int argc, char **argv) {
  const char *cell_text = NULL, *dataset = "cifar10", *format = "json", *out_path = NULL;
  int N = 3, F = 48, image = -1, classes = -1;
  double stem_mult = -1;
  arg_spec specs[] = {
      {"cell", ARG_STR, &cell_text, 0, -1, NULL},
      {"format", ARG_STR, &format, 0, -1, NULL},
      {"dataset", ARG_STR, &dataset, 0, -1, NULL},
      {"N", ARG_INT, &N, 1, (EXPORT_MAX_CELLS - 2) / 3, NULL},
      {"F", ARG_INT, &F, 2, 100000, NULL},
      {"image-size", ARG_INT, &image, 1, 100000, NULL},
      {"classes", ARG_INT, &classes, 1, 1000000, NULL},
      {"stem-multiplier", ARG_DOUBLE, &stem_mult, 0.001, 1000, NULL},
      {"out", ARG_STR, &out_path, 0, -1, NULL},
  };
  int rc = args_parse("pnas export", USAGE, argc, argv, 1, specs, sizeof specs / sizeof specs[0],
                      NULL, 0, NULL);
  if (rc == 3) return 0;
  if (rc) return rc;
  if (!cell_text) {
    fprintf(stderr, "pnas export: --cell is required (e.g. --cell pnasnet-5)\n");
    return 2;
  }
  int is_json = !strcmp(format, "json"), is_py = !strcmp(format, "pytorch");
  if (!is_json && !is_py) {
    fprintf(stderr, "pnas export: unknown --format '%s' (json, pytorch)\n", format);
    return 2;
  }
  space_cell cell;
  char err[256];
  if (space_parse(cell_text, &cell, err, sizeof err)) {
    fprintf(stderr, "pnas export: bad --cell: %s\n", err);
    return 2;
  }
  cost_config cfg;
  if (export_config_for_dataset(dataset, &cfg)) {
    fprintf(stderr, "pnas export: unknown --dataset '%s' (cifar10, fashion-mnist, imagenet)\n",
            dataset);
    return 2;
  }
  cfg.N = N, cfg.F = F;
  if (image > 0) cfg.in_h = cfg.in_w = image;
  if (classes > 0) cfg.classes = classes;
  if (stem_mult > 0) cfg.stem_mult = stem_mult;
  static export_net net; // ~16 KB; static keeps it off the stack
  if (export_net_init(&net, &cell, &cfg, err, sizeof err)) {
    fprintf(stderr, "pnas export: %s\n", err);
    return 1;
  }
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
