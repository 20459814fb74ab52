// JSON genotype writer for `pnas export --format json`: the cell (as given and canonical), its
// blocks with op names, hash, network settings, cost-model totals and the ordered tensor list.
// Format "pnas-genotype" version 1; regenerate with `pnas export --format json` on a mismatch.
#include <inttypes.h>
#include <stdio.h>

#include "pnas/report/export.h"

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
            "[%d, %d, %d], \"prev_prev_op\": \"%s\", \"out\": [%d, %d, %d]}",
            i ? "," : "", L->filters, L->stride, L->prev_c, L->prev_h, L->prev_w, L->pp_c, L->pp_h,
            L->pp_w, export_pp_name(L->pp), L->out_c, L->out_h, L->out_w);
  }
  fprintf(f, "\n  ],\n  \"tensors\": [");
  tensor_ctx t = {f, 1};
  export_tensors(net, json_tensor, &t);
  fprintf(f, "\n  ]\n}\n");
  return ferror(f) ? -1 : 0;
}
