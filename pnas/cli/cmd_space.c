// `pnas space count|expand|canon`: the search space from the command line.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/args.h"
#include "pnas/cli/cli.h"
#include "searchspace/cell.h"

static const char USAGE[] =
    "usage: pnas space count --blocks b [--ops LIST] [--space pnas|nasnet] [--json]\n"
    "       pnas space expand --cell CELL [--ops LIST] [--space pnas|nasnet] [--count]\n"
    "       pnas space canon --cell CELL\n"
    "count: unique 1-block cells (b=1) and unique new blocks at level b; expand: the unique\n"
    "children of CELL (one per line, canonical text); canon: the canonical form of CELL.\n"
    "--space nasnet: pairs NORMAL|REDUCTION (a single CELL becomes the pair (CELL, CELL));\n"
    "count adds the children of one pair at level b (the square of the new blocks).\n"
    "LIST: comma-separated operators (default all, PNAS's 8): identity, sep3x3, sep5x5, sep7x7,\n"
    "conv1x7_7x1, avg3x3, max3x3, dil3x3; NASNet's further 5: conv1x3_3x1, max5x5, max7x7,\n"
    "conv1x1, conv3x3; 'nasnet' = all 13.\n"
    "examples:\n"
    "  pnas space count --blocks 2 --ops identity,sep3x3,max3x3\n"
    "  pnas space expand --cell '0:sep3x3,1:max3x3' --count\n"
    "  pnas space count --blocks 2 --ops nasnet --space nasnet\n";

// Output that cannot be written (a full disk, a closed pipe) is a failure, not a silent success.
static int flush_stdout(const char *cmd) {
  errno = 0;
  if (fflush(stdout) == 0 && !ferror(stdout)) return 0;
  fprintf(stderr, "%s: cannot write the output to stdout: %s\n", cmd,
          errno ? strerror(errno) : "write error");
  return 1;
}

int cmd_space(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(USAGE, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const char *sub = argv[1];
  const char *cell_text = NULL, *ops = "all", *space = NULL;
  int blocks = 1, json = 0, count_only = 0;
  arg_spec specs[] = {
      {"cell", ARG_STR, &cell_text, 0, -1, NULL},
      {"ops", ARG_STR, &ops, 0, -1, NULL},
      {"space", ARG_STR, &space, 0, -1, NULL},
      {"blocks", ARG_INT, &blocks, 1, SPACE_MAX_BLOCKS, NULL},
      {"json", ARG_FLAG, &json, 0, -1, NULL},
      {"count", ARG_FLAG, &count_only, 0, -1, NULL},
  };
  int rc = args_parse("pnas space", USAGE, argc, argv, 2, specs, sizeof specs / sizeof specs[0],
                      NULL, 0, NULL);
  if (rc == 3) return 0;
  if (rc) return rc;
  char err[256];
  uint32_t mask;
  if (space_parse_ops(ops, &mask, err, sizeof err)) {
    fprintf(stderr, "pnas space: bad --ops: %s\n", err);
    return 2;
  }
  if (space && strcmp(space, "pnas") && strcmp(space, "nasnet")) {
    fprintf(stderr, "pnas space: unknown --space '%s' (pnas, nasnet)\n", space);
    return 2;
  }
  if (!strcmp(sub, "count")) {
    int m = space_ops_count(mask) * (blocks + 1);
    long long ordered = (long long)m * m;
    int unique = space_blocks_at(blocks, mask, NULL, 0);
    if (space && !strcmp(space, "nasnet")) { // pairs: one new block in each cell
      long long pairs = (long long)unique * unique;
      if (json)
        printf("{\"blocks\": %d, \"ops\": %d, \"space\": \"nasnet\", \"unique_new_blocks\": %d, "
               "\"children_per_pair\": %lld}\n",
               blocks, space_ops_count(mask), unique, pairs);
      else if (blocks == 1)
        printf("level 1: %d unique 1-block cells = %d tied pairs trained by PNAS (%lld pairs of "
               "1-block cells)\n", unique, unique, pairs);
      else
        printf("level %d: %d unique new blocks per cell, %lld children per pair\n", blocks,
               unique, pairs);
      return flush_stdout("pnas space");
    }
    if (json)
      printf("{\"blocks\": %d, \"ops\": %d, \"unique_new_blocks\": %d, \"ordered_new_blocks\": "
             "%lld}\n",
             blocks, space_ops_count(mask), unique, ordered);
    else
      printf("level %d: %d unique new blocks (%lld ordered)%s\n", blocks, unique, ordered,
             blocks == 1 ? " = unique 1-block cells" : "");
    return flush_stdout("pnas space");
  }
  if (strcmp(sub, "expand") && strcmp(sub, "canon")) {
    fprintf(stderr, "pnas space: unknown subcommand '%s' (count, expand, canon)\n", sub);
    return 2;
  }
  if (!cell_text) {
    fprintf(stderr, "pnas space %s: --cell is required\n", sub);
    return 2;
  }
  space_cell c;
  if (space_parse_in(cell_text, space, &c, err, sizeof err)) {
    fprintf(stderr, "pnas space: bad --cell: %s\n", err);
    return 2;
  }
  char text[SPACE_TEXT_MAX];
  if (!strcmp(sub, "canon")) {
    space_canon(&c);
    space_format(&c, text, sizeof text);
    printf("%s\n", text);
    return flush_stdout("pnas space");
  }
  if (space_check(&c, mask, err, sizeof err)) {
    fprintf(stderr, "pnas space expand: %s\n", err);
    return 2;
  }
  int n = space_expand(&c, mask, NULL, 0);
  if (count_only) {
    printf("%d\n", n);
    return flush_stdout("pnas space");
  }
  if (space_is_pair(&c)) { // n_x * n_y children: one at a time, not all in memory
    for (int64_t k = 0; k < n; k++) {
      space_cell kid;
      space_child_at(&c, mask, k, &kid);
      space_format(&kid, text, sizeof text);
      printf("%s\n", text);
    }
    return flush_stdout("pnas space");
  }
  space_cell *kids = malloc(sizeof *kids * (size_t)(n ? n : 1));
  if (!kids) {
    fprintf(stderr, "pnas space expand: out of memory\n");
    return 1;
  }
  space_expand(&c, mask, kids, n);
  for (int i = 0; i < n; i++) {
    space_format(&kids[i], text, sizeof text);
    printf("%s\n", text);
  }
  free(kids);
  return flush_stdout("pnas space");
}
