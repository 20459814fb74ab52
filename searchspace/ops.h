// The operator table (DESIGN.md s.1): every operator of the search space spelled as the layers it
// is made of. The cost model (cost.c), the network builder (pnas/child/net.c), the exporters
// (pnas/report/export_layout.c, export_pytorch.c, export_json.c) and the drawing
// (pnas/report/show_cell.c) read these rows instead of switching on operator names, so an
// operator made of existing layers is one row here plus its enum value in cell.h.
#ifndef PNAS_SEARCHSPACE_OPS_H
#define PNAS_SEARCHSPACE_OPS_H

#include <stdint.h>

// Layers an operator is made of. Every layer keeps the branch's F channels.
typedef enum {
  SPACE_L_RELU = 0,
  SPACE_L_CONV,    // kh x kw conv, dilation dil, F -> F, no bias
  SPACE_L_DWCONV,  // depthwise kh x kw conv, dilation dil, no bias
  SPACE_L_BN,      // batch norm (gamma, beta)
  SPACE_L_MAXPOOL, // kh x kw window, 'same' padding
  SPACE_L_AVGPOOL, // kh x kw window, 'same' padding, padding not counted
} space_layer_kind;

typedef struct {
  uint8_t kind;         // space_layer_kind
  uint8_t kh, kw, dil;  // window and dilation (conv, depthwise, pool)
  uint8_t strided;      // 1: this layer applies the op's stride in a reduction cell
  const char *name;     // parameter name in the network ("dw1" -> cell0.ops.b1l.dw1); NULL
} space_layer;          // for layers without parameters

// Colour group of the drawing (show_cell.c).
typedef enum {
  SPACE_FAMILY_IDENTITY = 0,
  SPACE_FAMILY_SEP,
  SPACE_FAMILY_POOL,
  SPACE_FAMILY_CONV,
} space_op_family;

#define SPACE_OP_MAX_LAYERS 8

typedef struct {
  const char *name; // as in files and on the command line
  uint8_t family;   // space_op_family
  uint8_t nlayers;  // 0: the identity
  space_layer layer[SPACE_OP_MAX_LAYERS];
} space_op_def;

// The row of op (0 <= op < SPACE_NUM_OPS), NULL for anything else.
const space_op_def *space_op_def_of(int op);

// The layers a branch runs: the op's own, or, when the branch must apply stride 2 and no layer
// of the op carries a stride (the identity), the projection ReLU, 1x1 conv stride 2, BN.
const space_op_def *space_op_layers(int op, int strided);

// The projection row itself (what space_op_layers gives an unstrided op that must reduce).
const space_op_def *space_op_projection(void);

// [ours] Whether layer l's output channels are a separable op's inner channels (its pw1, the
// conv that network slimming prunes through bn1; the next layers run on that many channels).
int space_layer_is_inner(const space_layer *l);
// Whether operator op has such a layer (its inner channels can be pruned; the separable ops).
int space_op_has_inner(int op);

// Short names of the layer kinds for files and exports: "relu", "conv", "dw", "bn", "max", "avg".
const char *space_layer_kind_name(int kind);

#endif
