// Exporting a cell: the concrete layout of the child network (DESIGN.md s.2) with every
// per-cell decision resolved (filters, stride, H[c-2] preprocessing, shapes), the ordered list of
// its trainable tensors, and writers for a JSON genotype and a self-contained PyTorch module.
// The layout comes from the network walk (searchspace/layout.h); export_tensors() must sum to
// cost_network()'s parameter count (checked by export_net_init). Printing and exit codes live in cmd_export.c.
#ifndef PNAS_EXPORT_H
#define PNAS_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "searchspace/cell.h"
#include "searchspace/cost.h"
#include "searchspace/layout.h"

// A cell's resolved layout is searchspace/layout.h's (the walk the cost model and the network
// builder read too).
typedef space_cell_layout export_cell_layout;

// 3N cells (N <= 64) + the two ImageNet stem cells + a NASNet pair's two reduction cells
#define EXPORT_MAX_CELLS (3 * 64 + 4)

typedef struct {
  space_cell cell;        // as given (stored block/branch order, not canonicalised)
  cost_config cfg;
  int stem_c, stem_stride, stem_pad, stem_h, stem_w;
  int nstem_cells;        // 2 for the ImageNet stem, else 0; they come first in cells[]
  int ncells;             // nstem_cells + 3N
  export_cell_layout cells[EXPORT_MAX_CELLS];
  int final_c;            // channels into the classifier
  cost_result cost;       // cost_network() for the same cell and configuration
} export_net;

// Resolves the layout. 0 ok; -1 with err (impossible configuration, too many cells).
int export_net_init(export_net *net, const space_cell *cell, const cost_config *cfg, char *err,
                    size_t errlen);

// Calls fn for every trainable tensor in registration order (the order of PyTorch's
// model.parameters() in the exported module, and the order weights are exchanged with the C
// network). name is the PyTorch named_parameters() name. Returns the total element count.
typedef void (*export_tensor_fn)(void *ctx, const char *name, const int *shape, int ndim);
int64_t export_tensors(const export_net *net, export_tensor_fn fn, void *ctx);

const char *export_pp_name(space_pp pp); // "none", "fr", "conv"

// Writers; 0 ok, -1 on a write error (errno set by stdio).
int export_write_json(const export_net *net, const char *dataset, FILE *f);
int export_write_pytorch(const export_net *net, const char *dataset, FILE *f);

#endif
