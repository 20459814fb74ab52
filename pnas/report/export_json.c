// JSON genotype writer for `pnas export --format json`: the cell (as given and canonical), its
// blocks with op names, the layers of each operator it uses, hash, network settings, cost-model totals and the ordered tensor list.
// Format "pnas-genotype" version 1; regenerate with `pnas export --format json` on a mismatch.
#include <inttypes.h>
#include <stdio.h>

#include "pnas/report/export.h"
#include "searchspace/ops.h"

typedef struct {
  FILE *f;
  int first;
} tensor_ctx;

static void json_tensor(void *ctx, const char *name, const int *shape, int ndim) {
  tensor_ctx *t = ctx;
  fprintf(t->f, "%s\n    {\"name\": \"%s\", \"shape\": [", t->first ? "" : ",", name);
  for (int i = 0; i < ndim; i++) fprintf(t->f, "%s%d", i ? ", " : "", shape[i]);
  fputs("]}", t->f);
  t->first = 0;
}

// One operator as its layers (searchspace/ops.h): kind, window, dilation, whether the layer
// applies the op's stride, and the parameter name the network gives it.
static void json_op_layers(FILE *f, const space_op_def *d) {
  fputc('[', f);
  for (int i = 0; i < d->nlayers; i++) {
    const space_layer *l = &d->layer[i];
    fprintf(f, "%s{\"layer\": \"%s\"", i ? ", " : "", space_layer_kind_name(l->kind));
    if (l->kind != SPACE_L_RELU && l->kind != SPACE_L_BN)
      fprintf(f, ", \"kernel\": [%d, %d], \"dilation\": %d, \"strided\": %s", l->kh, l->kw,
              l->dil, l->strided ? "true" : "false");
    if (l->name) fprintf(f, ", \"param\": \"%s\"", l->name);
    fputc('}', f);
  }
  fputc(']', f);
}

// "operators": the layers of every operator the cell uses, and "projection": what an operator
// without a strided layer (the identity) becomes where it must reduce.
static void json_operators(FILE *f, const space_cell *c) {
  uint32_t used = space_cell_ops(c);
  fputs("  \"operators\": {", f);
  int first = 1;
  for (int op = 0; op < SPACE_NUM_OPS; op++) {
    if (!((used >> op) & 1)) continue;
    fprintf(f, "%s\n    \"%s\": ", first ? "" : ",", space_op_name(op));
    json_op_layers(f, space_op_def_of(op));
    first = 0;
  }
  fputs("\n  },\n  \"projection\": ", f);
  json_op_layers(f, space_op_projection());
  fputs(",\n", f);
}

int export_write_json(const export_net *net, const char *dataset, FILE *f) {
  char text[SPACE_TEXT_MAX], canon[SPACE_TEXT_MAX];
  space_cell c = net->cell;
  space_format(&c, text, sizeof text);
  space_canon(&c);
  space_format(&c, canon, sizeof canon);
  const cost_config *cfg = &net->cfg;
  fprintf(f, "{\n  \"format\": \"pnas-genotype\",\n  \"version\": 1,\n");
  fprintf(f, "  \"cell\": \"%s\",\n  \"canonical\": \"%s\",\n", text, canon);
  fprintf(f, "  \"hash\": \"%016" PRIx64 "\",\n", space_hash(&net->cell));
  fprintf(f, "  \"nblocks\": %d,\n  \"blocks\": [", net->cell.nblocks);
  for (int i = 0; i < net->cell.nblocks; i++) {
    const space_block *b = &net->cell.b[i];
    fprintf(f, "%s[%d, \"%s\", %d, \"%s\"]", i ? ", " : "", b->in1, space_op_name(b->op1),
            b->in2, space_op_name(b->op2));
  }
  fprintf(f, "],\n");
  if (space_is_pair(&net->cell)) { // NASNet's space: the reduction cell and what each concats
    fprintf(f, "  \"space\": \"nasnet\",\n  \"reduction_blocks\": [");
    for (int i = 0; i < net->cell.nred; i++) {
      const space_block *b = &net->cell.r[i];
      fprintf(f, "%s[%d, \"%s\", %d, \"%s\"]", i ? ", " : "", b->in1, space_op_name(b->op1),
              b->in2, space_op_name(b->op2));
    }
    fprintf(f, "],\n");
    for (int kind = 0; kind < 2; kind++) {
      fprintf(f, "  \"%s_concat\": [", kind ? "reduction" : "normal");
      unsigned m = space_concat_mask(&net->cell, kind);
      for (int k = 0, first = 1; k < 16; k++)
        if ((m >> k) & 1) fprintf(f, "%s%d", first ? "" : ", ", k), first = 0;
      fprintf(f, "],\n");
    }
  }
  json_operators(f, &net->cell);
  fprintf(f, "  \"N\": %d,\n  \"F\": %d,\n  \"dataset\": \"%s\",\n", cfg->N, cfg->F, dataset);
  fprintf(f, "  \"input\": [%d, %d, %d],\n  \"classes\": %d,\n", cfg->in_c, cfg->in_h, cfg->in_w,
          cfg->classes);
  fprintf(f, "  \"stem\": \"%s\",\n  \"stem_multiplier\": %g,\n",
          cfg->stem == COST_STEM_IMAGENET ? "imagenet" : "cifar", cfg->stem_mult);
  fprintf(f, "  \"params\": %lld,\n  \"mult_adds\": %lld,\n", (long long)net->cost.params,
          (long long)net->cost.mult_adds);
  fprintf(f, "  \"cells\": [");
  for (int i = 0; i < net->ncells; i++) {
    const export_cell_layout *L = &net->cells[i];
    fprintf(f,
            "%s\n    {\"filters\": %d, \"stride\": %d, \"prev\": [%d, %d, %d], \"prev_prev\": "
            "[%d, %d, %d], \"prev_prev_op\": \"%s\", \"out\": [%d, %d, %d]%s}",
            i ? "," : "", L->filters, L->stride, L->prev_c, L->prev_h, L->prev_w, L->pp_c, L->pp_h,
            L->pp_w, export_pp_name(L->pp), L->out_c, L->out_h, L->out_w,
            space_is_pair(&net->cell) ? (L->kind ? ", \"cell\": \"reduction\"" : ", \"cell\": \"normal\"")
                                       : "");
  }
  fprintf(f, "\n  ],\n  \"tensors\": [");
  tensor_ctx t = {f, 1};
  export_tensors(net, json_tensor, &t);
  fprintf(f, "\n  ]\n}\n");
  return ferror(f) ? -1 : 0;
}
