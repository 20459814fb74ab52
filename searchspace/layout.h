// The one walk of a cell network (DESIGN.md s.2): the stem, then every cell in order with its
// filters, stride, H[c-1] and H[c-2] shapes, how H[c-2] is brought to the cell's shape, and the
// output shape. The cost model (cost.c), the exporter (pnas/report/export_layout.c) and the
// network builder (pnas/child/net.c) read it instead of re-deriving it. It allocates nothing
// and knows nothing about tensors or parameters.
#ifndef PNAS_SEARCHSPACE_LAYOUT_H
#define PNAS_SEARCHSPACE_LAYOUT_H

#include <stddef.h>

#include "searchspace/cost.h"

typedef enum {
  SPACE_PP_NONE = 0, // H[c-2] used unchanged
  SPACE_PP_FR,       // factorized reduction (spatial size differs from H[c-1])
  SPACE_PP_CONV,     // ReLU-1x1 conv-BN (channels differ from the cell's filters)
} space_pp;

typedef struct {
  int index;                  // 0.. in network order (the ImageNet stem cells come first)
  int stem_cell;              // 1 for the two stride-2 ImageNet stem cells
  int kind;                   // the cell it runs: 0 the (normal) cell, 1 a NASNet pair's
                              // reduction cell (space_cell_blocks)
  int nout;                   // states concatenated into the output (space_concat_mask)
  int filters, stride;
  int prev_c, prev_h, prev_w; // H[c-1] as it enters the cell
  int pp_c, pp_h, pp_w;       // H[c-2] as it enters the cell
  space_pp pp;
  int out_c, out_h, out_w;    // concat of the states the cell outputs (nout * filters)
} space_cell_layout;

typedef struct {
  int c, h, w;       // output of the stem conv (+ BN)
  int stride, pad;   // CIFAR: 3x3 stride 1 'same' (pad 1); ImageNet: 3x3 stride 2 valid
  int ncells;        // cells after the stem (the two ImageNet stem cells included)
  int final_c;       // channels into the classifier
} space_net_layout;

// Walks the network of cell under cfg: fills *net and calls fn (may be NULL) for every cell in
// order. A PNAS cell: 3N cells, the ones at N and 2N with stride 2 [paper]. A NASNet pair: 3N
// normal cells with a reduction cell (stride 2, filters doubled) before normal cells N and 2N,
// 3N + 2 in all [NASNet]. 0 ok; -1 with a reason in err when the configuration is
// impossible (the same checks and messages as cost_network).
typedef void (*space_cell_fn)(void *ctx, const space_cell_layout *cell);
int space_net_walk(const space_cell *cell, const cost_config *cfg, space_net_layout *net, space_cell_fn fn,
                   void *ctx, char *err, size_t errlen);

#endif
