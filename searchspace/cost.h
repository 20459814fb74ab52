// Cost model: trainable parameters and multiply-adds of the full child network (DESIGN.md s.2)
// for a cell. Counts convolutions (standard and depthwise), batch-norm scale/shift and the final
// fully connected layer (weights + bias). Mult-adds count convolutions and the FC layer only
// (BN, pooling, ReLU and adds are not multiply-adds), as the paper does.
#ifndef PNAS_SEARCHSPACE_COST_H
#define PNAS_SEARCHSPACE_COST_H

#include <stdint.h>

#include "searchspace/cell.h"

typedef enum { COST_STEM_CIFAR = 0, COST_STEM_IMAGENET = 1 } cost_stem;

// [ours] Channel counts of a pruned network (network slimming, --strategy prune): the stem's
// channels and, per cell of the walk (space_cell_layout.index) and per branch of each block, the
// inner channels of a separable op (the outputs of its pw1 = its bn1, dw2 and pw2's inputs).
// 0 anywhere = the unpruned count. Other layers keep their counts: their outputs are summed
// with other branches or concatenated into the cell output.
#define COST_MAX_CELLS 64
typedef struct {
  int stem;
  int16_t inner[COST_MAX_CELLS][SPACE_MAX_BLOCKS][2];
} cost_widths;

typedef struct {
  int N;               // cells per stage; 3N cells in total (stride 2 at floor(3N/3), floor(6N/3))
  int F;               // filters of the first stage
  int in_c, in_h, in_w; // input image (C, H, W)
  int classes;
  cost_stem stem;      // CIFAR/Fashion-MNIST: 3x3 conv with stem_mult*F channels + BN;
                       // ImageNet: 3x3 stride-2 valid conv with 32*stem_mult channels + BN, then
                       // two stride-2 cells at F/4 and F/2
  double stem_mult;    // CIFAR default 3, ImageNet mobile 1, large 3
  const cost_widths *widths; // a pruned network's channels; NULL = unpruned
} cost_config;

// The inner channels of the separable op in branch br (0 left, 1 right) of block b of the
// walk's cell `cell` with F filters: widths' count, or F.
static inline int cost_inner(const cost_widths *w, int cell, int b, int br, int F) {
  if (!w || cell < 0 || cell >= COST_MAX_CELLS || b < 0 || b >= SPACE_MAX_BLOCKS) return F;
  int v = w->inner[cell][b][br & 1];
  return v > 0 && v < F ? v : F;
}

typedef struct {
  int64_t params;
  int64_t mult_adds; // per image
} cost_result;

// The network of a named dataset: fashion-mnist (28x28x1), cifar10 (32x32x3) with the CIFAR
// stem (multiplier 3) and 10 classes; imagenet (224x224x3, 1000 classes, ImageNet stem,
// multiplier 1); N=3, F=48, no widths. 0 ok; -1 for an unknown name (c untouched).
int cost_config_for_dataset(const char *name, cost_config *c);
// Fills r; 0 ok, -1 with a reason in err when the configuration is impossible (e.g. the image
// shrinks to nothing).
int cost_network(const space_cell *cell, const cost_config *cfg, cost_result *r, char *err,
                 size_t errlen);

#endif
