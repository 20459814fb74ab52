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

int space_parse(const char *text, space_cell *out, char *err, size_t errlen) {
  if (!text) text = "";
  if (!strcmp(text, "pnasnet-5") || !strcmp(text, "pnasnet5")) text = PNASNET5_TEXT;
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
  const char *p = text;
  const char *end = text + n;
  for (;;) {
    const char *semi = memchr(p, ';', (size_t)(end - p));
    const char *bend = semi ? semi : end;
    int block = c.nblocks + 1;
    if (bend == p) {
      pnas_seterr(err, errlen, "position %d: empty block %d (extra ';'?)", (int)(p - text), block);
      return -1;
    }
    if (c.nblocks >= SPACE_MAX_BLOCKS) {
      pnas_seterr(err, errlen, "position %d: more than %d blocks", (int)(p - text), SPACE_MAX_BLOCKS);
      return -1;
    }
    const char *comma = memchr(p, ',', (size_t)(bend - p));
    if (!comma) {
      pnas_seterr(err, errlen, "position %d: block %d has one branch; expected two (I1:O1,I2:O2)",
             (int)(p - text), block);
      return -1;
    }
    if (memchr(comma + 1, ',', (size_t)(bend - comma - 1))) {
      pnas_seterr(err, errlen, "position %d: block %d has more than two branches",
             (int)((const char *)memchr(comma + 1, ',', (size_t)(bend - comma - 1)) - text),
             block);
      return -1;
    }
    space_block *b = &c.b[c.nblocks];
    if (parse_branch(text, p, (size_t)(comma - p), block, &b->in1, &b->op1, err, errlen))
      return -1;
    if (parse_branch(text, comma + 1, (size_t)(bend - comma - 1), block, &b->in2, &b->op2, err,
                     errlen))
      return -1;
    c.nblocks++;
    if (!semi) break;
    p = semi + 1;
    if (p == end) {
      pnas_seterr(err, errlen, "position %d: trailing ';' (empty block %d)", (int)(semi - text),
             c.nblocks + 1);
      return -1;
    }
  }
  *out = c;
  return 0;
}

int space_format(const space_cell *c, char *buf, size_t n) {
  size_t used = 0;
  if (n) buf[0] = '\0';
  for (int i = 0; i < c->nblocks; i++) {
    const space_block *b = &c->b[i];
    int w = snprintf(buf + used, used < n ? n - used : 0, "%s%d:%s,%d:%s", i ? ";" : "", b->in1,
                     space_op_name(b->op1), b->in2, space_op_name(b->op2));
    if (w > 0) used += (size_t)w;
  }
  return (int)(used < n ? used : (n ? n - 1 : 0));
}

int space_check(const space_cell *c, uint32_t mask, char *err, size_t errlen) {
  if (c->nblocks < 1 || c->nblocks > SPACE_MAX_BLOCKS) {
    pnas_seterr(err, errlen, "cell has %d blocks (expected 1..%d)", c->nblocks, SPACE_MAX_BLOCKS);
    return -1;
  }
  for (int i = 0; i < c->nblocks; i++) {
    const space_block *b = &c->b[i];
    if (b->in1 > i + 1 || b->in2 > i + 1) {
      pnas_seterr(err, errlen, "block %d reads input %d (valid: 0..%d)", i + 1,
             b->in1 > i + 1 ? b->in1 : b->in2, i + 1);
      return -1;
    }
    if (b->op1 >= SPACE_NUM_OPS || b->op2 >= SPACE_NUM_OPS) {
      pnas_seterr(err, errlen, "block %d has an invalid operator id", i + 1);
      return -1;
    }
    if (!((mask >> b->op1) & 1) || !((mask >> b->op2) & 1)) {
      pnas_seterr(err, errlen, "block %d uses operator '%s', which is not in the operator set",
             i + 1, space_op_name(((mask >> b->op1) & 1) ? b->op2 : b->op1));
      return -1;
    }
  }
  return 0;
}

static int branch_key(uint8_t in, uint8_t op) { return in * SPACE_NUM_OPS + op; }

void space_canon(space_cell *c) {
  for (int i = 0; i < c->nblocks; i++) {
    space_block *b = &c->b[i];
    if (branch_key(b->in2, b->op2) < branch_key(b->in1, b->op1)) {
      uint8_t ti = b->in1, to = b->op1;
      b->in1 = b->in2;
      b->op1 = b->op2;
      b->in2 = ti;
      b->op2 = to;
    }
  }
  for (int i = c->nblocks; i < SPACE_MAX_BLOCKS; i++) memset(&c->b[i], 0, sizeof c->b[i]);
}

int space_equal(const space_cell *a, const space_cell *b) {
  if (a->nblocks != b->nblocks) return 0;
  return memcmp(a->b, b->b, sizeof(space_block) * (size_t)a->nblocks) == 0;
}

uint64_t space_hash(const space_cell *c) {
  space_cell k = *c;
  space_canon(&k);
  uint64_t h = 1469598103934665603ULL; // FNV-1a 64 offset basis
  uint8_t bytes[1 + 4 * SPACE_MAX_BLOCKS];
  size_t n = 0;
  bytes[n++] = (uint8_t)k.nblocks;
  for (int i = 0; i < k.nblocks; i++) {
    bytes[n++] = k.b[i].in1;
    bytes[n++] = k.b[i].op1;
    bytes[n++] = k.b[i].in2;
    bytes[n++] = k.b[i].op2;
  }
  for (size_t i = 0; i < n; i++) {
    h ^= bytes[i];
    h *= 1099511628211ULL;
  }
  return h;
}

int space_tokens(const space_cell *c, int *tokens) {
  for (int i = 0; i < c->nblocks; i++) {
    tokens[4 * i + 0] = c->b[i].in1;
    tokens[4 * i + 1] = c->b[i].in2;
    tokens[4 * i + 2] = c->b[i].op1;
    tokens[4 * i + 3] = c->b[i].op2;
  }
  return 4 * c->nblocks;
}

int space_blocks_at(int b, uint32_t mask, space_block *out, int cap) {
  // Branches in canonical order (input-major, then op); a block is a pair i <= j.
  int ops[SPACE_NUM_OPS], nops = 0;
  for (int o = 0; o < SPACE_NUM_OPS; o++)
    if ((mask >> o) & 1) ops[nops++] = o;
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

int space_expand(const space_cell *c, uint32_t mask, space_cell *out, int cap) {
  if (c->nblocks >= SPACE_MAX_BLOCKS) return 0;
  int b = c->nblocks + 1;
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

void space_sample(space_cell *out, int nblocks, uint32_t mask, space_rng *r) {
  space_cell c;
  memset(&c, 0, sizeof c);
  int nops = space_ops_count(mask);
  int ops[SPACE_NUM_OPS], k = 0;
  for (int o = 0; o < SPACE_NUM_OPS; o++)
    if ((mask >> o) & 1) ops[k++] = o;
  for (int b = 1; b <= nblocks && b <= SPACE_MAX_BLOCKS; b++) {
    // Uniform over the m(m+1)/2 unique blocks: pick an unordered pair {i <= j} uniformly.
    int m = nops * (b + 1);
    int total = m * (m + 1) / 2;
    int idx = space_rng_below(r, total);
    int i = 0;
    while (idx >= m - i) {
      idx -= m - i;
      i++;
    }
    int j = i + idx;
    space_block *bl = &c.b[b - 1];
    bl->in1 = (uint8_t)(i / nops);
    bl->op1 = (uint8_t)ops[i % nops];
    bl->in2 = (uint8_t)(j / nops);
    bl->op2 = (uint8_t)ops[j % nops];
    c.nblocks = b;
  }
  *out = c;
}

int space_mutate(space_cell *c, uint32_t mask, space_rng *r) {
  int nops = space_ops_count(mask);
  if (c->nblocks < 1) return -1;
  int blk = space_rng_below(r, c->nblocks);
  int branch = space_rng_below(r, 2);
  int want_input = space_rng_below(r, 2);
  int ninputs = blk + 2; // block blk+1 (1-based) reads 0..blk+1
  if (want_input && ninputs < 2) want_input = 0;
  if (!want_input && nops < 2) want_input = 1;
  if (want_input && ninputs < 2) return -1;
  space_block *b = &c->b[blk];
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
  space_canon(c);
  return 0;
}

int space_pack(const space_cell *c, struct msgpack_packer *pk) {
  msgpack_packer *p = (msgpack_packer *)pk;
  if (msgpack_pack_array(p, (size_t)c->nblocks)) return -1;
  for (int i = 0; i < c->nblocks; i++) {
    const space_block *b = &c->b[i];
    if (msgpack_pack_array(p, 4) || msgpack_pack_uint8(p, b->in1) ||
        msgpack_pack_uint8(p, b->op1) || msgpack_pack_uint8(p, b->in2) ||
        msgpack_pack_uint8(p, b->op2))
      return -1;
  }
  return 0;
}

int space_unpack(const struct msgpack_object *obj, space_cell *out, char *err, size_t errlen) {
  const msgpack_object *o = (const msgpack_object *)obj;
  if (o->type != MSGPACK_OBJECT_ARRAY) {
    pnas_seterr(err, errlen, "cell: expected an array of blocks");
    return -1;
  }
  if (o->via.array.size < 1 || o->via.array.size > SPACE_MAX_BLOCKS) {
    pnas_seterr(err, errlen, "cell: %u blocks (expected 1..%d)", o->via.array.size, SPACE_MAX_BLOCKS);
    return -1;
  }
  space_cell c;
  memset(&c, 0, sizeof c);
  c.nblocks = (int)o->via.array.size;
  for (int i = 0; i < c.nblocks; i++) {
    const msgpack_object *b = &o->via.array.ptr[i];
    if (b->type != MSGPACK_OBJECT_ARRAY || b->via.array.size != 4) {
      pnas_seterr(err, errlen, "cell: block %d is not an array of 4 integers", i + 1);
      return -1;
    }
    uint8_t v[4];
    for (int k = 0; k < 4; k++) {
      const msgpack_object *x = &b->via.array.ptr[k];
      if (x->type != MSGPACK_OBJECT_POSITIVE_INTEGER || x->via.u64 > 255) {
        pnas_seterr(err, errlen, "cell: block %d field %d is not a small non-negative integer", i + 1,
               k + 1);
        return -1;
      }
      v[k] = (uint8_t)x->via.u64;
    }
    c.b[i].in1 = v[0];
    c.b[i].op1 = v[1];
    c.b[i].in2 = v[2];
    c.b[i].op2 = v[3];
  }
  if (space_check(&c, SPACE_ALL_OPS, err, errlen)) return -1;
  *out = c;
  return 0;
}
