// Cells of the PNAS search space: names, text form, canonical form, hash, tokens, RNG,
// sampling, mutation, expansion and msgpack encoding. Canonical form merges only the
// within-block branch order (not permutations of independent blocks), as DESIGN.md s.1 says.
#include "searchspace/cell.h"

#include <msgpack.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "searchspace/ops.h"


#define PNASNET5_TEXT                                                                            \
  "1:sep5x5,1:max3x3;0:sep7x7,0:max3x3;0:sep5x5,0:sep3x3;4:sep3x3,0:max3x3;1:sep3x3,0:identity"

// NASNet-A's cells as the official code builds them (tensorflow/models, research/slim/nets/
// nasnet/nasnet.py: NasNetANormalCell, NasNetAReductionCell; hiddenstate_indices and operations
// in pairs, used_hiddenstates giving the concatenated states), in this project's input ids
// (0 = H[c-1], 1 = H[c-2], k+1 = block k; slim's state order is the same).
#define NASNETA_TEXT                                                                             \
  "0:sep5x5,1:sep3x3;1:sep5x5,1:sep3x3;0:avg3x3,1:identity;1:avg3x3,1:avg3x3;0:sep3x3,0:"      \
  "identity@1,2,3,4,5,6|0:sep5x5,1:sep7x7;0:max3x3,1:sep7x7;0:avg3x3,1:sep5x5;3:identity,2:"   \
  "avg3x3;2:sep3x3,0:max3x3@3,4,5,6"

// NASNet's rule: the outputs of the blocks that no block of the cell reads.
static uint16_t concat_rule(const space_block *b, int n) {
  uint16_t read = 0, all = 0;
  for (int i = 0; i < n; i++) {
    all |= (uint16_t)(1u << (i + 2));
    if (b[i].in1 < 16) read |= (uint16_t)(1u << b[i].in1);
    if (b[i].in2 < 16) read |= (uint16_t)(1u << b[i].in2);
  }
  return all & (uint16_t)~read;
}

uint16_t space_concat_mask(const space_cell *c, int kind) {
  int n;
  const space_block *b = space_cell_blocks(c, kind, &n);
  if (!space_is_pair(c)) {
    uint16_t all = 0;
    for (int i = 0; i < n && i < SPACE_MAX_BLOCKS; i++) all |= (uint16_t)(1u << (i + 2));
    return all;
  }
  uint16_t m = c->concat[kind ? 1 : 0];
  return m ? m : concat_rule(b, n);
}

int space_concat_count(const space_cell *c, int kind) {
  int n = 0;
  for (unsigned m = space_concat_mask(c, kind); m; m &= m - 1) n++;
  return n;
}

space_cell space_pair_of(const space_cell *c) {
  space_cell p = *c;
  if (space_is_pair(c)) return p;
  p.nred = c->nblocks;
  memcpy(p.r, c->b, sizeof p.r);
  p.concat[0] = p.concat[1] = 0;
  return p;
}

const char *space_op_name(int op) {
  const space_op_def *d = space_op_def_of(op);
  return d ? d->name : "?";
}

int space_op_from_name(const char *s, size_t len) {
  for (int i = 0; i < SPACE_NUM_OPS; i++)
    if (strlen(space_op_name(i)) == len && !strncmp(space_op_name(i), s, len)) return i;
  return -1;
}

int space_ops_count(uint32_t mask) {
  int n = 0;
  for (int i = 0; i < SPACE_NUM_OPS; i++) n += (mask >> i) & 1;
  return n;
}

uint32_t space_cell_ops(const space_cell *c) {
  uint32_t used = 0;
  for (int b = 0; b < c->nblocks && b < SPACE_MAX_BLOCKS; b++) {
    if (c->b[b].op1 < 32) used |= 1u << c->b[b].op1;
    if (c->b[b].op2 < 32) used |= 1u << c->b[b].op2;
  }
  for (int b = 0; b < c->nred && b < SPACE_MAX_BLOCKS; b++) {
    if (c->r[b].op1 < 32) used |= 1u << c->r[b].op1;
    if (c->r[b].op2 < 32) used |= 1u << c->r[b].op2;
  }
  return used;
}

int space_vocab_ops(uint32_t mask) {
  return (mask & ~SPACE_PNAS_MASK & SPACE_ALL_OPS) ? SPACE_NUM_OPS : SPACE_PNAS_OPS;
}

void space_format_ops(uint32_t mask, char *buf, size_t n) {
  size_t used = 0;
  if (n) buf[0] = '\0';
  for (int i = 0; i < SPACE_NUM_OPS; i++) {
    if (!((mask >> i) & 1)) continue;
    int w = snprintf(buf + used, used < n ? n - used : 0, "%s%s", used ? "," : "", space_op_name(i));
    if (w > 0) used += (size_t)w;
    if (used >= n) break;
  }
}

int space_parse_ops(const char *list, uint32_t *mask, char *err, size_t errlen) {
  if (!list || !*list) {
    pnas_seterr(err, errlen, "empty operator list");
    return -1;
  }
  if (!strcmp(list, "all") || !strcmp(list, "pnas")) {
    *mask = SPACE_PNAS_MASK;
    return 0;
  }
  if (!strcmp(list, "nasnet")) {
    *mask = SPACE_ALL_OPS;
    return 0;
  }
  uint32_t m = 0;
  const char *p = list;
  for (;;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == 0) {
      pnas_seterr(err, errlen, "operator list '%s': empty name at position %d", list, (int)(p - list));
      return -1;
    }
    int op = space_op_from_name(p, len);
    if (op < 0) {
      pnas_seterr(err, errlen,
             "operator list '%s': unknown operator '%.*s' at position %d (known: identity, "
             "sep3x3, sep5x5, sep7x7, conv1x7_7x1, avg3x3, max3x3, dil3x3, conv1x3_3x1, "
             "max5x5, max7x7, conv1x1, conv3x3; or all / pnas (the first 8), nasnet (all 13))",
             list, (int)len, p, (int)(p - list));
      return -1;
    }
    m |= 1u << op;
    if (!e) break;
    p = e + 1;
  }
  *mask = m;
  return 0;
}

// Parses "I:OP" at s[0..len); pos is the offset of s in the whole text (for messages).
static int parse_branch(const char *text, const char *s, size_t len, int block, uint8_t *in,
                        uint8_t *op, char *err, size_t errlen) {
  int pos = (int)(s - text);
  const char *colon = memchr(s, ':', len);
  if (len == 0) {
    pnas_seterr(err, errlen, "position %d: empty branch in block %d (expected INPUT:OP)", pos, block);
    return -1;
  }
  if (!colon) {
    pnas_seterr(err, errlen, "position %d: branch '%.*s' in block %d has no ':' (expected INPUT:OP)",
           pos, (int)len, s, block);
    return -1;
  }
  size_t ilen = (size_t)(colon - s);
  if (ilen == 0 || ilen > 2) {
    pnas_seterr(err, errlen, "position %d: bad input '%.*s' in block %d (expected a number 0..%d)", pos,
           (int)ilen, s, block, block);
    return -1;
  }
  int v = 0;
  for (size_t i = 0; i < ilen; i++) {
    if (s[i] < '0' || s[i] > '9') {
      pnas_seterr(err, errlen, "position %d: bad input '%.*s' in block %d (expected a number 0..%d)",
             pos, (int)ilen, s, block, block);
      return -1;
    }
    v = v * 10 + (s[i] - '0');
  }
  if (v > block) {
    pnas_seterr(err, errlen,
           "position %d: input %d out of range for block %d (block %d may read 0..%d: 0 = "
           "H[c-1], 1 = H[c-2], k+1 = block k)",
           pos, v, block, block, block);
    return -1;
  }
  const char *o = colon + 1;
  size_t olen = len - ilen - 1;
  int opi = space_op_from_name(o, olen);
  if (opi < 0) {
    pnas_seterr(err, errlen, "position %d: unknown operator '%.*s' in block %d", (int)(o - text),
           (int)olen, o, block);
    return -1;
  }
  *in = (uint8_t)v;
  *op = (uint8_t)opi;
  return 0;
}

// Parses the blocks of one cell from text[from, to) (positions in messages are offsets in the
// whole text); what follows an '@' is the concat list (allowed only when concat != NULL).
static int parse_cell(const char *text, const char *from, const char *to, space_block *blocks,
                      int *nblocks, uint16_t *concat, const char *which, char *err,
                      size_t errlen) {
  int nb = 0;
  const char *at = memchr(from, '@', (size_t)(to - from));
  const char *end = at ? at : to;
  if (at && !concat)
    return pnas_seterr(err, errlen,
                       "position %d: '@' (a concat list) is only for the cells of a NASNet pair "
                       "(NORMAL|REDUCTION)",
                       (int)(at - text));
  if (end == from)
    return pnas_seterr(err, errlen, "position %d: empty %scell (expected blocks like "
                       "1:sep3x3,0:max3x3;...)", (int)(from - text), which);
  const char *p = from;
  for (;;) {
    const char *semi = memchr(p, ';', (size_t)(end - p));
    const char *bend = semi ? semi : end;
    int block = nb + 1;
    if (bend == p)
      return pnas_seterr(err, errlen, "position %d: empty block %d%s (extra ';'?)",
                         (int)(p - text), block, which);
    if (nb >= SPACE_MAX_BLOCKS)
      return pnas_seterr(err, errlen, "position %d: more than %d blocks%s", (int)(p - text),
                         SPACE_MAX_BLOCKS, which);
    const char *comma = memchr(p, ',', (size_t)(bend - p));
    if (!comma)
      return pnas_seterr(err, errlen,
                         "position %d: block %d has one branch; expected two (I1:O1,I2:O2)",
                         (int)(p - text), block);
    if (memchr(comma + 1, ',', (size_t)(bend - comma - 1)))
      return pnas_seterr(
          err, errlen, "position %d: block %d has more than two branches",
          (int)((const char *)memchr(comma + 1, ',', (size_t)(bend - comma - 1)) - text), block);
    space_block *b = &blocks[nb];
    if (parse_branch(text, p, (size_t)(comma - p), block, &b->in1, &b->op1, err, errlen))
      return -1;
    if (parse_branch(text, comma + 1, (size_t)(bend - comma - 1), block, &b->in2, &b->op2, err,
                     errlen))
      return -1;
    nb++;
    if (!semi) break;
    p = semi + 1;
    if (p == end)
      return pnas_seterr(err, errlen, "position %d: trailing ';' (empty block %d)",
                         (int)(semi - text), nb + 1);
  }
  *nblocks = nb;
  if (!at) return 0;
  // "@k,k,...": the states the cell concatenates, ids 0..nb+1, each once.
  uint16_t m = 0;
  const char *q = at + 1;
  if (q == to)
    return pnas_seterr(err, errlen, "position %d: empty concat list after '@'", (int)(q - text));
  for (;;) {
    const char *e = memchr(q, ',', (size_t)(to - q));
    const char *qe = e ? e : to;
    int v = 0, len = (int)(qe - q);
    for (int i = 0; i < len; i++)
      if (q[i] < '0' || q[i] > '9' || len > 2) v = -1;
    if (len == 0 || v < 0)
      return pnas_seterr(err, errlen, "position %d: bad concat entry '%.*s' (expected a number "
                         "0..%d)", (int)(q - text), len, q, nb + 1);
    for (int i = 0; i < len; i++) v = v * 10 + (q[i] - '0');
    if (v > nb + 1)
      return pnas_seterr(err, errlen,
                         "position %d: concat entry %d out of range (a %d-block cell has states "
                         "0..%d: 0 = H[c-1], 1 = H[c-2], k+1 = block k)",
                         (int)(q - text), v, nb, nb + 1);
    if (m & (1u << v))
      return pnas_seterr(err, errlen, "position %d: concat entry %d given twice", (int)(q - text), v);
    m |= (uint16_t)(1u << v);
    if (!e) break;
    q = e + 1;
  }
  *concat = m;
  return 0;
}

int space_parse(const char *text, space_cell *out, char *err, size_t errlen) {
  if (!text) text = "";
  if (!strcmp(text, "pnasnet-5") || !strcmp(text, "pnasnet5")) text = PNASNET5_TEXT;
  if (!strcmp(text, "nasnet-a") || !strcmp(text, "nasneta")) text = NASNETA_TEXT;
  space_cell c;
  memset(&c, 0, sizeof c);
  size_t n = strlen(text);
  if (n == 0) {
    pnas_seterr(err, errlen, "empty cell (expected blocks like 1:sep3x3,0:max3x3;...)");
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    if (text[i] == ' ' || text[i] == '\t' || text[i] == '\n') {
      pnas_seterr(err, errlen, "position %d: whitespace is not allowed in a cell", (int)i);
      return -1;
    }
  }
  const char *end = text + n, *bar = memchr(text, '|', n);
  if (!bar) {
    if (parse_cell(text, text, end, c.b, &c.nblocks, NULL, "", err, errlen)) return -1;
  } else {
    if (memchr(bar + 1, '|', (size_t)(end - bar - 1)))
      return pnas_seterr(err, errlen, "position %d: a second '|' (a NASNet pair is "
                         "NORMAL|REDUCTION)", (int)((const char *)memchr(bar + 1, '|', (size_t)(end - bar - 1)) - text));
    if (parse_cell(text, text, bar, c.b, &c.nblocks, &c.concat[0], " (normal cell)", err, errlen) ||
        parse_cell(text, bar + 1, end, c.r, &c.nred, &c.concat[1], " (reduction cell)", err,
                   errlen))
      return -1;
    if (space_check(&c, SPACE_ALL_OPS, err, errlen)) return -1;
  }
  *out = c;
  return 0;
}

static void format_cell(const space_block *blocks, int nb, uint16_t concat, char *buf, size_t n,
                        size_t *used) {
  for (int i = 0; i < nb; i++) {
    const space_block *b = &blocks[i];
    int w = snprintf(buf + *used, *used < n ? n - *used : 0, "%s%d:%s,%d:%s", i ? ";" : "",
                     b->in1, space_op_name(b->op1), b->in2, space_op_name(b->op2));
    if (w > 0) *used += (size_t)w;
  }
  for (int k = 0, first = 1; concat && k < 16; k++) {
    if (!((concat >> k) & 1)) continue;
    int w = snprintf(buf + *used, *used < n ? n - *used : 0, "%c%d", first ? '@' : ',', k);
    if (w > 0) *used += (size_t)w;
    first = 0;
  }
}

int space_parse_in(const char *text, const char *space, space_cell *out, char *err,
                   size_t errlen) {
  int nasnet = space && !strcmp(space, "nasnet");
  if (space && *space && !nasnet && strcmp(space, "pnas"))
    return pnas_seterr(err, errlen, "unknown --space '%s' (pnas, nasnet)", space);
  if (!text) text = nasnet ? "nasnet-a" : "pnasnet-5";
  space_cell c;
  if (space_parse(text, &c, err, errlen)) return -1;
  if (space && !strcmp(space, "pnas") && space_is_pair(&c))
    return pnas_seterr(err, errlen, "a NORMAL|REDUCTION pair is a cell of NASNet's space "
                       "(--space nasnet), not of PNAS's");
  if (nasnet) c = space_pair_of(&c);
  *out = c;
  return 0;
}

int space_format(const space_cell *c, char *buf, size_t n) {
  size_t used = 0;
  if (n) buf[0] = '\0';
  format_cell(c->b, c->nblocks, space_is_pair(c) ? c->concat[0] : 0, buf, n, &used);
  if (space_is_pair(c)) {
    int w = snprintf(buf + used, used < n ? n - used : 0, "|");
    if (w > 0) used += (size_t)w;
    format_cell(c->r, c->nred, c->concat[1], buf, n, &used);
  }
  return (int)(used < n ? used : (n ? n - 1 : 0));
}

static int check_cell(const space_block *blocks, int nb, uint32_t mask, const char *which,
                      char *err, size_t errlen) {
  if (nb < 1 || nb > SPACE_MAX_BLOCKS) {
    pnas_seterr(err, errlen, "%scell has %d blocks (expected 1..%d)", which, nb, SPACE_MAX_BLOCKS);
    return -1;
  }
  for (int i = 0; i < nb; i++) {
    const space_block *b = &blocks[i];
    if (b->in1 > i + 1 || b->in2 > i + 1) {
      pnas_seterr(err, errlen, "%sblock %d reads input %d (valid: 0..%d)", which, i + 1,
             b->in1 > i + 1 ? b->in1 : b->in2, i + 1);
      return -1;
    }
    if (b->op1 >= SPACE_NUM_OPS || b->op2 >= SPACE_NUM_OPS) {
      pnas_seterr(err, errlen, "%sblock %d has an invalid operator id", which, i + 1);
      return -1;
    }
    if (!((mask >> b->op1) & 1) || !((mask >> b->op2) & 1)) {
      pnas_seterr(err, errlen, "%sblock %d uses operator '%s', which is not in the operator set",
             which, i + 1, space_op_name(((mask >> b->op1) & 1) ? b->op2 : b->op1));
      return -1;
    }
  }
  return 0;
}

int space_check(const space_cell *c, uint32_t mask, char *err, size_t errlen) {
  if (!space_is_pair(c)) {
    if (c->nred < 0 || c->concat[0] || c->concat[1])
      return pnas_seterr(err, errlen, "cell has reduction-cell fields but no reduction cell");
    return check_cell(c->b, c->nblocks, mask, "", err, errlen);
  }
  if (check_cell(c->b, c->nblocks, mask, "normal cell: ", err, errlen) ||
      check_cell(c->r, c->nred, mask, "reduction cell: ", err, errlen))
    return -1;
  if (c->concat[0] >> (c->nblocks + 2))
    return pnas_seterr(err, errlen, "normal cell: concat names a state above %d", c->nblocks + 1);
  if (c->concat[1] >> (c->nred + 2))
    return pnas_seterr(err, errlen, "reduction cell: concat names a state above %d", c->nred + 1);
  if (c->concat[1] & 3)
    return pnas_seterr(err, errlen, "reduction cell: concat may not name its inputs 0 or 1 (they "
                       "have the size before the reduction)");
  // Every block output is read by a later block or concatenated (none computed for nothing).
  for (int kind = 0; kind < 2; kind++) {
    int nb;
    const space_block *b = space_cell_blocks(c, kind, &nb);
    uint16_t used = space_concat_mask(c, kind);
    for (int i = 0; i < nb; i++) used |= (uint16_t)((1u << b[i].in1) | (1u << b[i].in2));
    for (int i = 0; i < nb; i++)
      if (!((used >> (i + 2)) & 1))
        return pnas_seterr(err, errlen,
                           "%s cell: block %d is neither read by a block nor concatenated",
                           kind ? "reduction" : "normal", i + 1);
  }
  return 0;
}

static int branch_key(uint8_t in, uint8_t op) { return in * SPACE_NUM_OPS + op; }

static void canon_blocks(space_block *blocks, int nb) {
  for (int i = 0; i < nb; i++) {
    space_block *b = &blocks[i];
    if (branch_key(b->in2, b->op2) < branch_key(b->in1, b->op1)) {
      uint8_t ti = b->in1, to = b->op1;
      b->in1 = b->in2;
      b->op1 = b->op2;
      b->in2 = ti;
      b->op2 = to;
    }
  }
  for (int i = nb < 0 ? 0 : nb; i < SPACE_MAX_BLOCKS; i++) memset(&blocks[i], 0, sizeof blocks[i]);
}

void space_canon(space_cell *c) {
  canon_blocks(c->b, c->nblocks);
  canon_blocks(c->r, c->nred);
  if (!space_is_pair(c)) {
    c->nred = 0;
    c->concat[0] = c->concat[1] = 0;
    return;
  }
  // An explicit concat list equal to NASNet's rule is the rule.
  if (c->concat[0] == concat_rule(c->b, c->nblocks)) c->concat[0] = 0;
  if (c->concat[1] == concat_rule(c->r, c->nred)) c->concat[1] = 0;
}

int space_equal(const space_cell *a, const space_cell *b) {
  if (a->nblocks != b->nblocks || a->nred != b->nred) return 0;
  if (memcmp(a->b, b->b, sizeof(space_block) * (size_t)a->nblocks)) return 0;
  if (!space_is_pair(a)) return 1;
  return !memcmp(a->r, b->r, sizeof(space_block) * (size_t)a->nred) &&
         a->concat[0] == b->concat[0] && a->concat[1] == b->concat[1];
}

// The hash bytes of one cell: its block count, then I1, O1, I2, O2 per block.
static size_t block_bytes(uint8_t *out, const space_block *b, int nb) {
  size_t n = 0;
  out[n++] = (uint8_t)nb;
  for (int i = 0; i < nb; i++) {
    out[n++] = b[i].in1;
    out[n++] = b[i].op1;
    out[n++] = b[i].in2;
    out[n++] = b[i].op2;
  }
  return n;
}

uint64_t space_hash(const space_cell *c) {
  space_cell k = *c;
  space_canon(&k);
  uint8_t bytes[1 + 4 * SPACE_MAX_BLOCKS + 2 + 4 * SPACE_MAX_BLOCKS + 4];
  size_t n = block_bytes(bytes, k.b, k.nblocks);
  // A PNAS cell hashes as it always did (cache keys and tables stay valid); a pair appends a
  // marker no block byte can take (ops < 13), its reduction cell and its concat lists.
  if (space_is_pair(&k)) {
    bytes[n++] = 0xFF;
    n += block_bytes(bytes + n, k.r, k.nred);
    for (int j = 0; j < 2; j++) {
      bytes[n++] = (uint8_t)(k.concat[j] & 0xFF);
      bytes[n++] = (uint8_t)(k.concat[j] >> 8);
    }
  }
  return pnas_fnv1a(PNAS_FNV_BASIS, bytes, n); // FNV-1a 64
}

int space_tokens(const space_cell *c, int *tokens) {
  int t = 0;
  for (int kind = 0; kind < (space_is_pair(c) ? 2 : 1); kind++) {
    int nb;
    const space_block *b = space_cell_blocks(c, kind, &nb);
    for (int i = 0; i < nb; i++, t += 4) {
      tokens[t + 0] = b[i].in1;
      tokens[t + 1] = b[i].in2;
      tokens[t + 2] = b[i].op1;
      tokens[t + 3] = b[i].op2;
    }
  }
  return t;
}

// The ids of the operators in mask, ascending; returns how many.
static int mask_ops(uint32_t mask, int *ops) {
  int n = 0;
  for (int o = 0; o < SPACE_NUM_OPS; o++)
    if ((mask >> o) & 1) ops[n++] = o;
  return n;
}

int space_blocks_at(int b, uint32_t mask, space_block *out, int cap) {
  // Branches in canonical order (input-major, then op); a block is a pair i <= j.
  int ops[SPACE_NUM_OPS], nops = mask_ops(mask, ops);
  if (b < 1 || b > SPACE_MAX_BLOCKS) return 0;
  int m = nops * (b + 1); // block b reads inputs 0..b
  int count = 0;
  for (int i = 0; i < m; i++) {
    for (int j = i; j < m; j++) {
      if (out && count < cap) {
        out[count].in1 = (uint8_t)(i / nops);
        out[count].op1 = (uint8_t)ops[i % nops];
        out[count].in2 = (uint8_t)(j / nops);
        out[count].op2 = (uint8_t)ops[j % nops];
      }
      count++;
    }
  }
  return count;
}

// Block k (0-based, canonical order as space_blocks_at) of the m(m+1)/2 unique blocks at
// position b: the unordered branch pair {i <= j} of index k.
static space_block block_at(int b, const int *ops, int nops, int64_t k) {
  int m = nops * (b + 1), i = 0;
  while (k >= m - i) {
    k -= m - i;
    i++;
  }
  int j = i + (int)k;
  space_block bl = {(uint8_t)(i / nops), (uint8_t)ops[i % nops], (uint8_t)(j / nops),
                    (uint8_t)ops[j % nops]};
  return bl;
}

int space_expand(const space_cell *c, uint32_t mask, space_cell *out, int cap) {
  if (c->nblocks >= SPACE_MAX_BLOCKS || c->nred >= SPACE_MAX_BLOCKS) return 0;
  int b = c->nblocks + 1;
  if (space_is_pair(c)) {
    int64_t nx = space_blocks_at(b, mask, NULL, 0), ny = space_blocks_at(c->nred + 1, mask, NULL, 0);
    int64_t n = nx * ny; // at most (13 * 11)(13 * 11 + 1) / 2 squared, about 1.1e8
    for (int64_t k = 0; out && k < n && k < cap; k++) space_child_at(c, mask, k, &out[k]);
    return (int)n;
  }
  space_block blocks[((SPACE_NUM_OPS * (SPACE_MAX_BLOCKS + 1)) * (SPACE_NUM_OPS * (SPACE_MAX_BLOCKS + 1) + 1)) / 2];
  int n = space_blocks_at(b, mask, out ? blocks : NULL, out ? (int)(sizeof blocks / sizeof blocks[0]) : 0);
  if (!out) return n;
  space_cell parent = *c;
  space_canon(&parent);
  for (int k = 0; k < n && k < cap; k++) {
    out[k] = parent;
    out[k].b[c->nblocks] = blocks[k];
    out[k].nblocks = b;
  }
  return n;
}

int space_child_at(const space_cell *c, uint32_t mask, int64_t k, space_cell *out) {
  int ops[SPACE_NUM_OPS], nops = mask_ops(mask, ops);
  if (c->nblocks >= SPACE_MAX_BLOCKS || c->nred >= SPACE_MAX_BLOCKS || k < 0 || nops == 0)
    return -1;
  int64_t nx = space_blocks_at(c->nblocks + 1, mask, NULL, 0);
  int64_t ny = space_is_pair(c) ? space_blocks_at(c->nred + 1, mask, NULL, 0) : 1;
  if (k >= nx * ny) return -1;
  space_cell p = *c;
  space_canon(&p);
  p.b[p.nblocks] = block_at(p.nblocks + 1, ops, nops, k / ny);
  p.nblocks++;
  if (space_is_pair(c)) {
    p.r[p.nred] = block_at(p.nred + 1, ops, nops, k % ny);
    p.nred++;
    // The parent's explicit concat lists name its states; a grown cell takes NASNet's rule.
    p.concat[0] = p.concat[1] = 0;
  }
  *out = p;
  return 0;
}

// --- RNG: splitmix64 to seed xoshiro256** ---
static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void space_rng_seed(space_rng *r, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t space_rng_next(space_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double space_rng_uniform(space_rng *r) { return (double)(space_rng_next(r) >> 11) * 0x1.0p-53; }

int space_rng_below(space_rng *r, int n) {
  if (n <= 1) return 0;
  // Rejection sampling keeps it exactly uniform.
  uint64_t bound = (uint64_t)n;
  uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t x;
  do x = space_rng_next(r);
  while (x >= limit);
  return (int)(x % bound);
}

static void sample_blocks(space_block *blocks, int nblocks, uint32_t mask, space_rng *r) {
  int ops[SPACE_NUM_OPS], nops = mask_ops(mask, ops);
  for (int b = 1; b <= nblocks && b <= SPACE_MAX_BLOCKS; b++) {
    // Uniform over the m(m+1)/2 unique blocks: pick an unordered pair {i <= j} uniformly.
    int m = nops * (b + 1);
    blocks[b - 1] = block_at(b, ops, nops, space_rng_below(r, m * (m + 1) / 2));
  }
}

void space_sample(space_cell *out, int nblocks, uint32_t mask, space_rng *r) {
  space_cell c;
  memset(&c, 0, sizeof c);
  sample_blocks(c.b, nblocks, mask, r);
  c.nblocks = nblocks < SPACE_MAX_BLOCKS ? nblocks : SPACE_MAX_BLOCKS;
  *out = c;
}

void space_sample_pair(space_cell *out, int nblocks, uint32_t mask, space_rng *r) {
  space_cell c;
  memset(&c, 0, sizeof c);
  sample_blocks(c.b, nblocks, mask, r);
  sample_blocks(c.r, nblocks, mask, r);
  c.nblocks = c.nred = nblocks < SPACE_MAX_BLOCKS ? nblocks : SPACE_MAX_BLOCKS;
  *out = c;
}

static int mutate_blocks(space_block *blocks, int nblocks, uint32_t mask, space_rng *r) {
  int nops = space_ops_count(mask);
  if (nblocks < 1) return -1;
  int blk = space_rng_below(r, nblocks);
  int branch = space_rng_below(r, 2);
  int want_input = space_rng_below(r, 2);
  int ninputs = blk + 2; // block blk+1 (1-based) reads 0..blk+1
  if (want_input && ninputs < 2) want_input = 0;
  if (!want_input && nops < 2) want_input = 1;
  if (want_input && ninputs < 2) return -1;
  space_block *b = &blocks[blk];
  uint8_t *in = branch ? &b->in2 : &b->in1;
  uint8_t *op = branch ? &b->op2 : &b->op1;
  if (want_input) {
    int v = space_rng_below(r, ninputs - 1);
    if (v >= *in) v++;
    *in = (uint8_t)v;
  } else {
    int ops[SPACE_NUM_OPS], k = 0;
    for (int o = 0; o < SPACE_NUM_OPS; o++)
      if (((mask >> o) & 1) && o != *op) ops[k++] = o;
    if (k == 0) return -1;
    *op = (uint8_t)ops[space_rng_below(r, k)];
  }
  return 0;
}

int space_mutate(space_cell *c, uint32_t mask, space_rng *r) {
  int rc;
  if (space_is_pair(c)) {
    int red = space_rng_below(r, 2);
    rc = red ? mutate_blocks(c->r, c->nred, mask, r) : mutate_blocks(c->b, c->nblocks, mask, r);
    // A mutated cell's explicit concat list may no longer fit it: it takes NASNet's rule.
    if (!rc) c->concat[red] = 0;
  } else {
    rc = mutate_blocks(c->b, c->nblocks, mask, r);
  }
  if (!rc) space_canon(c);
  return rc;
}

static int pack_blocks(const space_block *blocks, int n, msgpack_packer *p) {
  if (msgpack_pack_array(p, (size_t)n)) return -1;
  for (int i = 0; i < n; i++) {
    const space_block *b = &blocks[i];
    if (msgpack_pack_array(p, 4) || msgpack_pack_uint8(p, b->in1) ||
        msgpack_pack_uint8(p, b->op1) || msgpack_pack_uint8(p, b->in2) ||
        msgpack_pack_uint8(p, b->op2))
      return -1;
  }
  return 0;
}

int space_pack(const space_cell *c, struct msgpack_packer *pk) {
  msgpack_packer *p = (msgpack_packer *)pk;
  if (!space_is_pair(c)) return pack_blocks(c->b, c->nblocks, p);
  return msgpack_pack_array(p, 4) || pack_blocks(c->b, c->nblocks, p) ||
                 pack_blocks(c->r, c->nred, p) || msgpack_pack_uint16(p, c->concat[0]) ||
                 msgpack_pack_uint16(p, c->concat[1])
             ? -1
             : 0;
}

static int unpack_blocks(const msgpack_object *o, space_block *blocks, int *nb, const char *which,
                         char *err, size_t errlen) {
  if (o->type != MSGPACK_OBJECT_ARRAY)
    return pnas_seterr(err, errlen, "cell%s: expected an array of blocks", which);
  if (o->via.array.size < 1 || o->via.array.size > SPACE_MAX_BLOCKS)
    return pnas_seterr(err, errlen, "cell%s: %u blocks (expected 1..%d)", which,
                       o->via.array.size, SPACE_MAX_BLOCKS);
  *nb = (int)o->via.array.size;
  for (int i = 0; i < *nb; i++) {
    const msgpack_object *b = &o->via.array.ptr[i];
    if (b->type != MSGPACK_OBJECT_ARRAY || b->via.array.size != 4)
      return pnas_seterr(err, errlen, "cell%s: block %d is not an array of 4 integers", which,
                         i + 1);
    uint8_t v[4];
    for (int k = 0; k < 4; k++) {
      const msgpack_object *x = &b->via.array.ptr[k];
      if (x->type != MSGPACK_OBJECT_POSITIVE_INTEGER || x->via.u64 > 255)
        return pnas_seterr(err, errlen,
                           "cell%s: block %d field %d is not a small non-negative integer", which,
                           i + 1, k + 1);
      v[k] = (uint8_t)x->via.u64;
    }
    blocks[i].in1 = v[0];
    blocks[i].op1 = v[1];
    blocks[i].in2 = v[2];
    blocks[i].op2 = v[3];
  }
  return 0;
}

int space_unpack(const struct msgpack_object *obj, space_cell *out, char *err, size_t errlen) {
  const msgpack_object *o = (const msgpack_object *)obj;
  space_cell c;
  memset(&c, 0, sizeof c);
  // A pair is [blocks, blocks, uint, uint]; a PNAS cell's first element is a block (integers).
  int pair = o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == 4 &&
             o->via.array.ptr[0].type == MSGPACK_OBJECT_ARRAY &&
             o->via.array.ptr[0].via.array.size > 0 &&
             o->via.array.ptr[0].via.array.ptr[0].type == MSGPACK_OBJECT_ARRAY;
  if (!pair) {
    if (unpack_blocks(o, c.b, &c.nblocks, "", err, errlen)) return -1;
  } else {
    const msgpack_object *a = o->via.array.ptr;
    if (unpack_blocks(&a[0], c.b, &c.nblocks, " (normal)", err, errlen) ||
        unpack_blocks(&a[1], c.r, &c.nred, " (reduction)", err, errlen))
      return -1;
    for (int j = 0; j < 2; j++) {
      if (a[2 + j].type != MSGPACK_OBJECT_POSITIVE_INTEGER || a[2 + j].via.u64 > 0xFFFF)
        return pnas_seterr(err, errlen, "cell: concat list %d is not a 16-bit mask", j + 1);
      c.concat[j] = (uint16_t)a[2 + j].via.u64;
    }
  }
  if (space_check(&c, SPACE_ALL_OPS, err, errlen)) return -1;
  *out = c;
  return 0;
}
