// PyTorch writer for `pnas export --format pytorch`: a self-contained Python file (only torch
// needed) defining class PNASNet and build() for the child network of DESIGN.md s.2, with the
// per-cell layout resolved here in C and baked in as a table. It does not run Python.
#include <inttypes.h>
#include <stdio.h>

#include "pnas/report/export.h"
#include "searchspace/ops.h"

// The fixed part of the module. Registration order of parameters is the order the C network
// uses; the comment block written before it spells it out.
static const char *const PY_BODY[] = {
    "import torch",
    "import torch.nn as nn",
    "import torch.nn.functional as F",
    "",
    "BN_EPS = 1e-3",
    "",
    "",
    "def _bn(c):",
    "    return nn.BatchNorm2d(c, eps=BN_EPS)",
    "",
    "",
    "class SameConv2d(nn.Conv2d):",
    "    \"\"\"Conv2d with TensorFlow 'SAME' padding, as the C kernels: out = ceil(in / stride), the",
    "    total padding (out-1)*stride + (k-1)*dilation + 1 - in is split floor(total/2) top/left",
    "    and the rest bottom/right. (PyTorch's symmetric k//2 samples other pixels at stride 2.)\"\"\"",
    "",
    "    def forward(self, x):",
    "        ih, iw = x.shape[-2:]",
    "        (kh, kw), (s, _), (d, _) = self.kernel_size, self.stride, self.dilation",
    "        ph = max((-(-ih // s) - 1) * s + (kh - 1) * d + 1 - ih, 0)",
    "        pw = max((-(-iw // s) - 1) * s + (kw - 1) * d + 1 - iw, 0)",
    "        x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))",
    "        return F.conv2d(x, self.weight, None, self.stride, 0, self.dilation, self.groups)",
    "",
    "",
    "class ReLUConvBN(nn.Sequential):",
    "    \"\"\"ReLU, conv (no bias), BN. Parameters: conv weight, BN weight, BN bias.\"\"\"",
    "",
    "    def __init__(self, cin, cout, kernel=1, stride=1, dilation=1):",
    "        super().__init__(",
    "            nn.ReLU(),",
    "            SameConv2d(cin, cout, kernel, stride, 0, dilation, bias=False),",
    "            _bn(cout),",
    "        )",
    "",
    "",
    "class FactorizedReduction(nn.Module):",
    "    \"\"\"ReLU, then two stride-2 1x1 convs (cout//2 and cout - cout//2 channels), the second",
    "    on the input shifted by one pixel (pad bottom/right, drop first row/col), concat, BN.\"\"\"",
    "",
    "    def __init__(self, cin, cout):",
    "        super().__init__()",
    "        self.conv_a = nn.Conv2d(cin, cout // 2, 1, stride=2, bias=False)",
    "        self.conv_b = nn.Conv2d(cin, cout - cout // 2, 1, stride=2, bias=False)",
    "        self.bn = _bn(cout)",
    "",
    "    def forward(self, x):",
    "        x = F.relu(x)",
    "        a = self.conv_a(x)",
    "        b = self.conv_b(F.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:])",
    "        return self.bn(torch.cat([a, b], 1))",
    "",
    "",
    "def make_op(name, c, stride, inner=None):",
    "    \"\"\"The op's layers (its row of OPS) as an nn.Sequential on c channels; the layer marked",
    "    strided applies the stride. An op that must reduce but has no such layer (the identity)",
    "    becomes PROJECTION. Convolutions use 'SAME' padding as TensorFlow and the C kernels.\"\"\"",
    "    layers = OPS[name]",
    "    if stride == 2 and not any(len(l) > 1 and l[4] for l in layers):",
    "        layers = PROJECTION",
    "    mods = []",
    "    cur = c  # channels flowing through the layers (a pruned op's pw1 gives `inner`)",
    "    for index, layer in enumerate(layers):",
    "        kind = layer[0]",
    "        if kind == \"relu\":",
    "            mods.append(nn.ReLU())",
    "        elif kind == \"bn\":",
    "            mods.append(_bn(cur))",
    "        else:",
    "            kh, kw, dil, strided = layer[1:]",
    "            s = stride if strided else 1",
    "            if kind == \"dw\":",
    "                mods.append(SameConv2d(cur, cur, (kh, kw), s, 0, dil, groups=cur, bias=False))",
    "            elif kind == \"conv\":",
    "                out = inner if inner and INNER.get(name) == index else c",
    "                mods.append(SameConv2d(cur, out, (kh, kw), s, 0, dil, groups=1, bias=False))",
    "                cur = out",
    "            elif kind == \"max\":",
    "                mods.append(nn.MaxPool2d((kh, kw), s, padding=(kh // 2, kw // 2)))",
    "            elif kind == \"avg\":",
    "                mods.append(nn.AvgPool2d((kh, kw), s, padding=(kh // 2, kw // 2),",
    "                                         count_include_pad=False))",
    "            else:",
    "                raise ValueError(\"unknown layer \" + kind)",
    "    return nn.Sequential(*mods) if mods else nn.Identity()",
    "",
    "",
    "class Cell(nn.Module):",
    "    \"\"\"One cell (GENOTYPES[kind]: 0 the cell, 1 a NASNet pair's reduction cell). Inputs:",
    "    0 = H[c-1], 1 = H[c-2], k+1 = output of block k. Output: concat of the states in",
    "    CONCAT[kind] (a PNAS cell: every block output).\"\"\"",
    "",
    "    def __init__(self, filters, stride, prev_c, pp_c, pp_op, kind, inner=None):",
    "        super().__init__()",
    "        # H[c-2] first: registration order is part of the weight-exchange contract.",
    "        if pp_op == \"fr\":",
    "            self.pre_pp = FactorizedReduction(pp_c, filters)",
    "        elif pp_op == \"conv\":",
    "            self.pre_pp = ReLUConvBN(pp_c, filters)",
    "        else:",
    "            self.pre_pp = None",
    "        self.pre_prev = ReLUConvBN(prev_c, filters)",
    "        self.genotype, self.concat = GENOTYPES[kind], CONCAT[kind]",
    "        ops = []",
    "        inner = inner or [None] * (2 * len(self.genotype))",
    "        for i, (in1, op1, in2, op2) in enumerate(self.genotype):",
    "            # In a stride-2 cell only ops reading the cell inputs (0, 1) carry the stride.",
    "            ops.append(make_op(op1, filters, stride if in1 < 2 else 1, inner[2 * i]))",
    "            ops.append(make_op(op2, filters, stride if in2 < 2 else 1, inner[2 * i + 1]))",
    "        self.ops = nn.ModuleList(ops)",
    "",
    "    def forward(self, prev, pp):",
    "        states = [self.pre_prev(prev), pp if self.pre_pp is None else self.pre_pp(pp)]",
    "        for i, (in1, _, in2, _) in enumerate(self.genotype):",
    "            states.append(self.ops[2 * i](states[in1]) + self.ops[2 * i + 1](states[in2]))",
    "        return torch.cat([states[k] for k in self.concat], 1)",
    "",
    "",
    "class PNASNet(nn.Module):",
    "    \"\"\"The full child network: stem, the cells of CELLS, ReLU, global average pool, Linear.\"\"\"",
    "",
    "    def __init__(self, num_classes=NUM_CLASSES):",
    "        super().__init__()",
    "        stride, pad = (2, 0) if STEM == \"imagenet\" else (1, 1)",
    "        self.stem = nn.Sequential(",
    "            nn.Conv2d(IN_CHANNELS, STEM_CHANNELS, 3, stride, pad, bias=False),",
    "            _bn(STEM_CHANNELS),",
    "        )",
    "        self.cells = nn.ModuleList([Cell(*row) for row in CELLS])",
    "        self.classifier = nn.Linear(FINAL_CHANNELS, num_classes)",
    "",
    "    def forward(self, x):  # x: (batch, IN_CHANNELS, IMAGE_SIZE[0], IMAGE_SIZE[1])",
    "        s = self.stem(x)",
    "        prev, pp = s, s  # the first cell reads the stem output for both inputs",
    "        for cell in self.cells:",
    "            prev, pp = cell(prev, pp), prev",
    "        x = F.adaptive_avg_pool2d(F.relu(prev), 1).flatten(1)",
    "        return self.classifier(x)",
    "",
    "",
    "def build():",
    "    return PNASNet()",
    "",
    "",
    "if __name__ == \"__main__\":",
    "    model = build()",
    "    x = torch.randn(2, IN_CHANNELS, *IMAGE_SIZE)",
    "    n = sum(p.numel() for p in model.parameters() if p.requires_grad)",
    "    print(\"output\", tuple(model(x).shape), \"params\", n, \"expected\", PARAMS)",
};

// The parameters of every operator in registration order, from the operator table.
static void write_op_params(FILE *f) {
  for (int op = -1; op < SPACE_NUM_OPS; op++) {
    const space_op_def *d = op < 0 ? space_op_projection() : space_op_def_of(op);
    if (op < 0)
      fputs("#       an op with no strided layer (identity) at stride 2:", f);
    else
      fprintf(f, "#       %s:", d->name);
    int any = 0;
    for (int i = 0; i < d->nlayers; i++) {
      const space_layer *l = &d->layer[i];
      if (l->kind == SPACE_L_CONV || l->kind == SPACE_L_DWCONV)
        fprintf(f, "%s %s (F, %s, %d, %d)", any++ ? "," : "", l->name,
                l->kind == SPACE_L_DWCONV ? "1" : "F", l->kh, l->kw);
      else if (l->kind == SPACE_L_BN)
        fprintf(f, "%s %s w, b", any++ ? "," : "", l->name);
    }
    fprintf(f, "%s;\n", any ? "" : " none");
  }
}

// OPS and PROJECTION: every operator's layers, as make_op reads them.
static void write_op_table(FILE *f) {
  fputs("# Operators as their layers (pnas's operator table): (\"relu\",), (\"bn\",), or\n"
        "# (kind, kh, kw, dilation, carries the stride) for \"conv\", \"dw\" (depthwise), \"max\", \"avg\".\n",
        f);
  for (int op = 0; op <= SPACE_NUM_OPS; op++) {
    const space_op_def *d = op < SPACE_NUM_OPS ? space_op_def_of(op) : space_op_projection();
    if (op == 0) fputs("OPS = {\n", f);
    if (op < SPACE_NUM_OPS)
      fprintf(f, "    \"%s\": [", d->name);
    else
      fputs("}\nPROJECTION = [", f);
    for (int i = 0; i < d->nlayers; i++) {
      const space_layer *l = &d->layer[i];
      const char *k = space_layer_kind_name(l->kind);
      if (l->kind == SPACE_L_RELU || l->kind == SPACE_L_BN)
        fprintf(f, "%s(\"%s\",)", i ? ", " : "", k);
      else
        fprintf(f, "%s(\"%s\", %d, %d, %d, %d)", i ? ", " : "", k, l->kh, l->kw, l->dil, l->strided);
    }
    fputs(op < SPACE_NUM_OPS ? "],\n" : "]\n", f);
  }
  // The layer whose output channels a pruned network prunes (a separable op's pw1).
  fputs("# The index of each op's pw1 (a pruned network gives it fewer output channels).\nINNER = {", f);
  for (int op = 0, first = 1; op < SPACE_NUM_OPS; op++) {
    const space_op_def *d = space_op_def_of(op);
    for (int i = 0; i < d->nlayers; i++)
      if (space_layer_is_inner(&d->layer[i])) {
        fprintf(f, "%s\"%s\": %d", first ? "" : ", ", d->name, i);
        first = 0;
      }
  }
  fputs("}\n", f);
}

int export_write_pytorch(const export_net *net, const char *dataset, FILE *f) {
  const cost_config *cfg = &net->cfg;
  char text[SPACE_TEXT_MAX];
  space_format(&net->cell, text, sizeof text);
  fprintf(f, "# PNAS child network for cell %s\n", text);
  fprintf(f, "# Generated by `pnas export --format pytorch --cell '%s' --dataset %s --N %d --F %d"
             " --classes %d --stem-multiplier %g --image-size %d`.\n",
          text, dataset, cfg->N, cfg->F, cfg->classes, cfg->stem_mult, cfg->in_h);
  fputs("# Self-contained: needs only torch. Usage: model = build(); logits = model(images).\n"
        "# Layout (DESIGN.md s.2): stem conv+BN; cells (stride 2 and doubled filters at cells\n"
        "# floor(3N/3) and floor(2*3N/3)); ReLU, global average pool, Linear. No conv biases,\n"
        "# BN eps 1e-3. Per-cell choices (filters, stride, H[c-2] preprocessing) are resolved\n"
        "# for the input size below and listed in CELLS.\n"
        "#\n"
        "# Parameter registration order (model.parameters()), the same order as the C network,\n"
        "# so weights can be exchanged by position:\n"
        "#   stem conv (S, C_in, 3, 3), stem BN weight, bias;\n"
        "#   per cell:\n"
        "#     H[c-2] preprocessing, if any: factorized reduction conv_a (F//2, Cin, 1, 1),\n"
        "#       conv_b (F - F//2, Cin, 1, 1), BN weight, bias; or 1x1 conv (F, Cin, 1, 1), BN w, b;\n"
        "#     H[c-1] 1x1 conv (F, Cin, 1, 1), BN weight, bias;\n"
        "#     for each block, its left branch then its right branch (stored order of CELL):\n",
        f);
  write_op_params(f);
  fputs("#   head: fc weight (classes, C_final), fc bias.\n"
        "# BN running statistics are buffers, not parameters.\n\n",
        f);
  fprintf(f, "CELL_TEXT = \"%s\"\n", text);
  fputs("# (input1, op1, input2, op2); inputs: 0 = H[c-1], 1 = H[c-2], k+1 = block k\n"
        "CELL = [\n",
        f);
  for (int i = 0; i < net->cell.nblocks; i++) {
    const space_block *b = &net->cell.b[i];
    fprintf(f, "    (%d, \"%s\", %d, \"%s\"),\n", b->in1, space_op_name(b->op1), b->in2,
            space_op_name(b->op2));
  }
  fputs("]\n", f);
  // A NASNet pair: its reduction cell, run where CELLS says kind 1 (else the cell itself).
  if (space_is_pair(&net->cell)) {
    fputs("RED_CELL = [\n", f);
    for (int i = 0; i < net->cell.nred; i++) {
      const space_block *b = &net->cell.r[i];
      fprintf(f, "    (%d, \"%s\", %d, \"%s\"),\n", b->in1, space_op_name(b->op1), b->in2,
              space_op_name(b->op2));
    }
    fputs("]\n", f);
  } else {
    fputs("RED_CELL = CELL  # PNAS: one cell, with stride 2 at the reductions\n", f);
  }
  fputs("GENOTYPES = (CELL, RED_CELL)\n# the states each kind concatenates as its output\nCONCAT = (",
        f);
  for (int kind = 0; kind < 2; kind++) {
    unsigned m = space_concat_mask(&net->cell, kind);
    fputs(kind ? ", [" : "[", f);
    for (int k = 0, first = 1; k < 16; k++)
      if ((m >> k) & 1) fprintf(f, "%s%d", first ? "" : ", ", k), first = 0;
    fputs("]", f);
  }
  fputs(")\n", f);
  fprintf(f, "DATASET = \"%s\"\nN = %d\nF_FIRST = %d\n", dataset, cfg->N, cfg->F);
  fprintf(f, "IN_CHANNELS = %d\nIMAGE_SIZE = (%d, %d)\nNUM_CLASSES = %d\n", cfg->in_c, cfg->in_h,
          cfg->in_w, cfg->classes);
  fprintf(f, "STEM = \"%s\"\nSTEM_CHANNELS = %d\n",
          cfg->stem == COST_STEM_IMAGENET ? "imagenet" : "cifar", net->stem_c);
  fputs("# One row per cell in order (ImageNet stem cells first):\n"
        "# (filters, stride, H[c-1] channels, H[c-2] channels, H[c-2] preprocessing, kind,\n"
        "#  [a pruned network: each op's inner channels after its pw1, two per block, or None])\n"
        "# preprocessing: \"fr\" factorized reduction, \"conv\" ReLU-1x1-BN, \"none\" unchanged\n"
        "CELLS = [\n",
        f);
  for (int i = 0; i < net->ncells; i++) {
    const export_cell_layout *L = &net->cells[i];
    fprintf(f, "    (%d, %d, %d, %d, \"%s\", %d", L->filters, L->stride, L->prev_c, L->pp_c,
            export_pp_name(L->pp), L->kind);
    if (cfg->widths) { // a pruned network: the inner channels of every op of the cell
      int nb;
      space_cell_blocks(&net->cell, L->kind, &nb);
      fputs(", [", f);
      for (int b = 0; b < 2 * nb; b++)
        fprintf(f, "%s%d", b ? ", " : "", cost_inner(cfg->widths, i, b / 2, b % 2, L->filters));
      fputs("]", f);
    }
    fprintf(f, "),  # %dx%d -> %dx%d\n", L->prev_h, L->prev_w, L->out_h, L->out_w);
  }
  fputs("]\n", f);
  fprintf(f, "FINAL_CHANNELS = %d\n", net->final_c);
  fprintf(f, "PARAMS = %lld  # trainable parameters (pnas cost)\n", (long long)net->cost.params);
  fprintf(f, "MULT_ADDS = %lld  # per image (pnas cost)\n", (long long)net->cost.mult_adds);
  write_op_table(f);
  fputc('\n', f);
  for (size_t i = 0; i < sizeof PY_BODY / sizeof PY_BODY[0]; i++) {
    fputs(PY_BODY[i], f);
    fputc('\n', f);
  }
  return ferror(f) ? -1 : 0;
}
