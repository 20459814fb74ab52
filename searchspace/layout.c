// The network walk (searchspace/layout.h): stem, stem cells, 3N cells with the reductions at
// floor(3N/3) and floor(6N/3) (a NASNet pair: a reduction cell inserted before each), and each
// cell's H[c-2] preprocessing.
#include "searchspace/layout.h"

#include "common/common.h"

static int half(int x) { return (x + 1) / 2; } // 'same' padding, stride 2

// One cell's layout from its inputs.
static space_cell_layout cell_layout(int F, int stride, int prev_c, int prev_h, int prev_w,
                                     int pp_c, int pp_h, int pp_w, int nout) {
  space_cell_layout L = {.filters = F, .stride = stride};
  L.prev_c = prev_c, L.prev_h = prev_h, L.prev_w = prev_w;
  L.pp_c = pp_c, L.pp_h = pp_h, L.pp_w = pp_w;
  if (pp_h != prev_h || pp_w != prev_w)
    L.pp = SPACE_PP_FR;
  else if (pp_c != F)
    L.pp = SPACE_PP_CONV;
  else
    L.pp = SPACE_PP_NONE;
  L.nout = nout;
  L.out_c = F * nout;
  L.out_h = stride == 2 ? half(prev_h) : prev_h;
  L.out_w = stride == 2 ? half(prev_w) : prev_w;
  return L;
}

int space_net_walk(const space_cell *cell, const cost_config *cfg, space_net_layout *net,
                   space_cell_fn fn, void *ctx, char *err, size_t errlen) {
  int nblocks = cell->nblocks, pair = space_is_pair(cell);
  if (nblocks < 1 || (pair && cell->nred < 1) || cfg->N < 1 || cfg->F < 1 || cfg->in_c < 1 || cfg->in_h < 1 ||
      cfg->in_w < 1 || cfg->classes < 1 || cfg->stem_mult <= 0)
    return pnas_seterr(err, errlen,
                       "cost: invalid configuration (N=%d F=%d input %dx%dx%d classes %d)", cfg->N,
                       cfg->F, cfg->in_c, cfg->in_h, cfg->in_w, cfg->classes);
  *net = (space_net_layout){0};
  if (cfg->stem == COST_STEM_IMAGENET) {
    if (cfg->in_h < 3 || cfg->in_w < 3)
      return pnas_seterr(err, errlen, "cost: image smaller than the 3x3 stem");
    net->c = (int)(32 * cfg->stem_mult);
    net->stride = 2, net->pad = 0; // 3x3 stride-2 valid conv
    net->h = (cfg->in_h - 3) / 2 + 1, net->w = (cfg->in_w - 3) / 2 + 1;
  } else {
    net->c = (int)(cfg->F * cfg->stem_mult);
    net->stride = 1, net->pad = 1;
    net->h = cfg->in_h, net->w = cfg->in_w;
  }
  if (cfg->widths && cfg->widths->stem > 0 && cfg->widths->stem < net->c)
    net->c = cfg->widths->stem; // a pruned stem
  int prev_c = net->c, prev_h = net->h, prev_w = net->w;
  int pp_c = prev_c, pp_h = prev_h, pp_w = prev_w;
  int n = 0;
  // ImageNet: two stride-2 stem cells at F/4 and F/2; the first reads the stem conv twice.
  int nstem = cfg->stem == COST_STEM_IMAGENET ? 2 : 0;
  int ncells = 3 * cfg->N, red1 = ncells / 3, red2 = 2 * ncells / 3, F = cfg->F;
  int nout[2] = {space_concat_count(cell, 0), space_concat_count(cell, 1)};
  for (int i = -nstem; i < ncells; i++) {
    // A pair runs its reduction cell first at the reductions (k = 0), then the normal cell.
    for (int k = (pair && (i == red1 || i == red2)) ? 0 : 1; k < 2; k++) {
      int Fi, stride, kind = 0;
      if (i < 0) { // stem cells: a pair's are its reduction cell [NASNet, slim _imagenet_stem]
        Fi = i == -2 ? cfg->F / 4 : cfg->F / 2;
        stride = 2, kind = pair;
      } else if (k == 0) { // a pair's reduction cell
        F *= 2;
        Fi = F, stride = 2, kind = 1;
      } else {
        stride = 1;
        if (!pair && (i == red1 || i == red2)) stride = 2, F *= 2;
        Fi = F;
      }
      space_cell_layout L = cell_layout(Fi, stride, prev_c, prev_h, prev_w, pp_c, pp_h, pp_w,
                                        nout[kind]);
      L.index = n++;
      L.stem_cell = i < 0;
      L.kind = kind;
      if (fn) fn(ctx, &L);
      pp_c = prev_c, pp_h = prev_h, pp_w = prev_w;
      prev_c = L.out_c, prev_h = L.out_h, prev_w = L.out_w;
    }
  }
  net->ncells = n;
  net->final_c = prev_c;
  return 0;
}
