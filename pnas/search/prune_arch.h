// The pruned architecture of `--strategy prune` (network slimming, DESIGN.md s.5): a cell (or
// NASNet pair), the network it was pruned in (N, F, stem multiplier, dataset) and the channel
// counts that survived (searchspace/cost.h cost_widths). Saved in the run directory as
// `pruned-arch.txt`, read by `pnas train|export|show --arch FILE` (or `--run DIR`).
//
// The file is text, one entry per line, sealed by a crc32 of every byte before its last line:
//   pnas-pruned-arch 1
//   cell <cell text>
//   dataset <fashion-mnist|cifar10>
//   N <n>
//   F <f>
//   stem_mult <m>
//   stem <channels>
//   inner <cell index> <block 1..B> <left|right> <channels>     (one per separable op)
//   params <n>
//   mult_adds <n>
//   crc32 <8 hex digits>
// The reader refuses anything else with a message naming the line: a wrong first line, an
// unknown key, a value out of range, an inner entry that names no separable op of the network,
// params / mult-adds that the cost model does not give back, a bad checksum.
#ifndef PNAS_SEARCH_PRUNE_ARCH_H
#define PNAS_SEARCH_PRUNE_ARCH_H

#include <stddef.h>
#include <stdint.h>

#include "searchspace/cell.h"
#include "searchspace/cost.h"

#define PRUNE_ARCH_FILE "pruned-arch.txt"

typedef struct {
  space_cell cell;
  char dataset[32];
  int N, F;
  double stem_mult;
  cost_widths w; // stem and inner channels (0 = unpruned)
  int64_t params, mult_adds;
} prune_arch;

// The cost model of the architecture's network (dataset shape, N, F, stem multiplier, widths
// pointing into a). 0 ok; -1 with err (unknown dataset).
int prune_arch_cost_config(const prune_arch *a, cost_config *cc, char *err, size_t errlen);
// Text of the file (malloc'd, caller frees). 0 ok, -1 out of memory.
int prune_arch_format(const prune_arch *a, char **buf, size_t *len);
// Parses and checks a file's bytes. 0 ok; -1 with a message naming the line in err.
int prune_arch_parse(const char *buf, size_t len, prune_arch *a, char *err, size_t errlen);
// DIR/pruned-arch.txt, atomically. 0 ok; -1 with err.
int prune_arch_write(const char *dir, const prune_arch *a, char *err, size_t errlen);
// Reads FILE, or DIR/pruned-arch.txt when path is a directory. 0 ok; -1 with err.
int prune_arch_read(const char *path, prune_arch *a, char *err, size_t errlen);

#endif
