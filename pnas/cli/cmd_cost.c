// `pnas cost`: parameters and mult-adds of the full network for a cell (searchspace/cost.h).
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/args.h"
#include "pnas/cli/cli.h"
#include "searchspace/cost.h"

static const char USAGE[] =
    "usage: pnas cost --cell CELL [--space pnas|nasnet] [--dataset cifar10|fashion-mnist|imagenet] [--N n] [--F f]\n"
    "                 [--image-size s] [--classes c] [--stem-multiplier m] [--json]\n"
    "Parameters and multiply-adds (per image) of the network built from CELL. A NASNet pair\n"
    "NORMAL|REDUCTION (or --space nasnet: a cell becomes the pair (CELL, CELL); no --cell:\n"
    "nasnet-a) is laid out as NASNet: a reduction cell before normal cells N and 2N.\n"
    "Defaults per dataset: fashion-mnist 28x28x1, cifar10 32x32x3 (stem multiplier 3, 10 classes),\n"
    "imagenet 224x224x3 (stem multiplier 1, 1000 classes). Defaults N=3 F=48.\n"
    "examples:\n"
    "  pnas cost --cell pnasnet-5 --dataset cifar10 --N 3 --F 48\n"
    "  pnas cost --space nasnet --dataset cifar10 --N 6 --F 32      (NASNet-A, 3.3M)\n"
    "  pnas cost --cell pnasnet-5 --dataset imagenet --N 4 --F 216 --image-size 331 --stem-multiplier 3\n";

// Output that cannot be written (a full disk, a closed pipe) is a failure, not a silent success.
static int flush_stdout(const char *cmd) {
  errno = 0;
  if (fflush(stdout) == 0 && !ferror(stdout)) return 0;
  fprintf(stderr, "%s: cannot write the output to stdout: %s\n", cmd,
          errno ? strerror(errno) : "write error");
  return 1;
}

int cmd_cost(int argc, char **argv) {
  const char *cell_text = NULL, *dataset = "cifar10", *space = NULL;
  int N = 3, F = 48, image = -1, classes = -1, json = 0;
  double stem_mult = -1;
  arg_spec specs[] = {
      {"cell", ARG_STR, &cell_text, 0, -1, NULL},
      {"space", ARG_STR, &space, 0, -1, NULL},
      {"dataset", ARG_STR, &dataset, 0, -1, NULL},
      {"N", ARG_INT, &N, 1, 64, NULL},
      {"F", ARG_INT, &F, 1, 100000, NULL},
      {"image-size", ARG_INT, &image, 1, 100000, NULL},
      {"classes", ARG_INT, &classes, 1, 1000000, NULL},
      {"stem-multiplier", ARG_DOUBLE, &stem_mult, 0.001, 1000, NULL},
      {"json", ARG_FLAG, &json, 0, -1, NULL},
  };
  int rc = args_parse("pnas cost", USAGE, argc, argv, 1, specs, sizeof specs / sizeof specs[0],
                      NULL, 0, NULL);
  if (rc == 3) return 0;
  if (rc) return rc;
  if (!cell_text && !(space && !strcmp(space, "nasnet"))) {
    fprintf(stderr, "pnas cost: --cell is required (e.g. --cell pnasnet-5)\n");
    return 2;
  }
  space_cell cell;
  char err[256];
  if (space_parse_in(cell_text, space, &cell, err, sizeof err)) {
    fprintf(stderr, "pnas cost: bad --cell: %s\n", err);
    return 2;
  }
  cost_config cfg;
  if (cost_config_for_dataset(dataset, &cfg)) {
    fprintf(stderr, "pnas cost: unknown --dataset '%s' (cifar10, fashion-mnist, imagenet)\n",
            dataset);
    return 2;
  }
  cfg.N = N, cfg.F = F;
  if (image > 0) cfg.in_h = cfg.in_w = image;
  if (classes > 0) cfg.classes = classes;
  if (stem_mult > 0) cfg.stem_mult = stem_mult;
  cost_result r;
  if (cost_network(&cell, &cfg, &r, err, sizeof err)) {
    fprintf(stderr, "pnas cost: %s\n", err);
    return 1;
  }
  if (json) {
    printf("{\"params\": %lld, \"mult_adds\": %lld, \"N\": %d, \"F\": %d, \"image_size\": %d, "
           "\"classes\": %d, \"dataset\": \"%s\"}\n",
           (long long)r.params, (long long)r.mult_adds, N, F, cfg.in_h, cfg.classes, dataset);
  } else {
    printf("params     %lld (%.2fM)\nmult-adds  %lld (%.1fM)\n", (long long)r.params,
           r.params / 1e6, (long long)r.mult_adds, r.mult_adds / 1e6);
  }
  return flush_stdout("pnas cost");
}
