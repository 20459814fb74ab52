// Search-space tests: counts from the paper, canonical form, parser errors, hashing, tokens,
// sampling, mutation, expansion, msgpack round trips and the checksum seal of msgpack files.
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "common/crc32.h"
#include "searchspace/cell.h"
#include "searchspace/msgpack_check.h"
#include "searchspace/ops.h"
#include "tests/check.h"

// Pinned: run logs written by earlier versions key their cache on this hash.
#define PNASNET5_HASH 0xae95dd52b1ac9943ULL

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

// Number of distinct values in h[0..n) (sorts h).
static int distinct(uint64_t *h, int n) {
  qsort(h, (size_t)n, sizeof *h, cmp_u64);
  int d = n ? 1 : 0;
  for (int i = 1; i < n; i++) d += h[i] != h[i - 1];
  return d;
}

static void test_counts(void) {
  // 1-block cells: 256 ordered, 136 unique.
  int ordered = 0;
  uint64_t hs[256];
  for (int i1 = 0; i1 < 2; i1++)
    for (int o1 = 0; o1 < 8; o1++)
      for (int i2 = 0; i2 < 2; i2++)
        for (int o2 = 0; o2 < 8; o2++) {
          space_cell c = {.nblocks = 1, .b = {{(uint8_t)i1, (uint8_t)o1, (uint8_t)i2, (uint8_t)o2}}};
          hs[ordered++] = space_hash(&c);
        }
  CHECK(ordered == 256, "ordered %d", ordered);
  CHECK(distinct(hs, 256) == 136, "unique 1-block cells %d", distinct(hs, 256));
  int expect[6] = {0, 136, 300, 528, 820, 1176};
  for (int b = 1; b <= 5; b++)
    CHECK(space_blocks_at(b, SPACE_PNAS_MASK, NULL, 0) == expect[b], "level %d: %d", b,
          space_blocks_at(b, SPACE_PNAS_MASK, NULL, 0));
  // Operator subset: 3 ops -> m = 3(b+1).
  uint32_t mask;
  char err[256];
  CHECK(space_parse_ops("sep3x3,max3x3,identity", &mask, err, sizeof err) == 0, "%s", err);
  CHECK(space_blocks_at(1, mask, NULL, 0) == 21, "3-op level 1: %d", space_blocks_at(1, mask, NULL, 0));
  CHECK(space_blocks_at(2, mask, NULL, 0) == 45, "3-op level 2");
  CHECK(space_parse_ops("sep3x3,bogus", &mask, err, sizeof err) == -1 && strstr(err, "bogus"),
        "bad op list: %s", err);
  CHECK(space_parse_ops("sep3x3,,max3x3", &mask, err, sizeof err) == -1, "empty op name");
}

static void test_expansion(void) {
  space_cell empty = {0};
  space_cell level1[136];
  CHECK(space_expand(&empty, SPACE_PNAS_MASK, level1, 136) == 136, "level1 expand");
  // All 136 x 300 = 40,800 2-block children are distinct and valid.
  int total = 0;
  uint64_t *hs = malloc(sizeof *hs * 40800);
  space_cell kids[300];
  char err[256];
  for (int i = 0; i < 136; i++) {
    int n = space_expand(&level1[i], SPACE_PNAS_MASK, kids, 300);
    CHECK(n == 300, "children %d", n);
    for (int k = 0; k < n && total < 40800; k++) {
      CHECK(space_check(&kids[k], SPACE_PNAS_MASK, err, sizeof err) == 0, "%s", err);
      space_cell c = kids[k];
      space_canon(&c);
      CHECK(space_equal(&c, &kids[k]), "child not canonical");
      hs[total++] = space_hash(&kids[k]);
    }
  }
  CHECK(total == 40800, "total %d", total);
  CHECK(distinct(hs, total) == 40800, "distinct 2-block cells %d", distinct(hs, total));
  free(hs);
  // Deeper levels keep m(m+1)/2 children per parent.
  space_cell p;
  space_parse("pnasnet-5", &p, err, sizeof err);
  p.nblocks = 4;
  CHECK(space_expand(&p, SPACE_PNAS_MASK, NULL, 0) == 1176, "5th block children");
  uint32_t mask;
  space_parse_ops("sep3x3,max3x3,identity", &mask, err, sizeof err);
  CHECK(space_expand(&empty, mask, NULL, 0) == 21, "subset level 1");
  space_cell sub[21];
  space_expand(&empty, mask, sub, 21);
  for (int i = 0; i < 21; i++) CHECK(space_check(&sub[i], mask, err, sizeof err) == 0, "%s", err);
}

static void test_parse(void) {
  char err[256], text[SPACE_TEXT_MAX];
  space_cell c;
  const char *pnas5 =
      "1:sep5x5,1:max3x3;0:sep7x7,0:max3x3;0:sep5x5,0:sep3x3;4:sep3x3,0:max3x3;1:sep3x3,0:identity";
  CHECK(space_parse("pnasnet-5", &c, err, sizeof err) == 0, "%s", err);
  CHECK(c.nblocks == 5, "blocks");
  space_format(&c, text, sizeof text);
  CHECK(!strcmp(text, pnas5), "format %s", text);
  space_canon(&c);
  space_format(&c, text, sizeof text);
  CHECK(!strcmp(text, "1:sep5x5,1:max3x3;0:sep7x7,0:max3x3;0:sep3x3,0:sep5x5;0:max3x3,4:sep3x3;"
                      "0:identity,1:sep3x3"),
        "canon %s", text);
  // Hash: canonical-form invariant and stable across releases (stored run logs rely on it).
  space_cell a, b;
  space_parse("1:sep3x3,0:max3x3", &a, err, sizeof err);
  space_parse("0:max3x3,1:sep3x3", &b, err, sizeof err);
  CHECK(space_hash(&a) == space_hash(&b), "hash not canonical");
  CHECK(space_hash(&a) != space_hash(&c), "hash collision");
  CHECK(space_hash(&c) == PNASNET5_HASH, "pnasnet-5 hash changed: %016llx", (unsigned long long)space_hash(&c));
  struct {
    const char *text, *needle;
  } bad[] = {
      {"", "empty cell"},
      {"0:sep3x3", "one branch"},
      {"0:sep3x3,0:foo", "unknown operator 'foo'"},
      {"0:sep3x3,2:max3x3", "input 2 out of range for block 1"},
      {"0:sep3x3,1:max3x3;3:sep3x3,0:identity", "input 3 out of range for block 2"},
      {"0:sep3x3,1:max3x3;", "trailing ';'"},
      {";0:sep3x3,1:max3x3", "empty block 1"},
      {"0:sep3x3,1:max3x3;;0:sep3x3,1:max3x3", "empty block 2"},
      {"0:sep3x3,1:max3x3,1:max3x3", "more than two branches"},
      {"0sep3x3,1:max3x3", "no ':'"},
      {"x:sep3x3,1:max3x3", "bad input 'x'"},
      {":sep3x3,1:max3x3", "bad input ''"},
      {"0:sep3x3, 1:max3x3", "whitespace"},
      {"0:sep3x3,", "empty branch"},
      {"0:,1:max3x3", "unknown operator ''"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    int rc = space_parse(bad[i].text, &c, err, sizeof err);
    CHECK(rc == -1 && strstr(err, bad[i].needle), "'%s' -> rc %d err '%s' (want '%s')",
          bad[i].text, rc, err, bad[i].needle);
    CHECK(rc != -1 || strstr(err, "position") || strstr(err, "empty cell"), "no position: %s", err);
  }
  // More than 10 blocks.
  char big[1024] = "";
  for (int i = 0; i < 11; i++) strcat(big, i ? ";0:sep3x3,1:max3x3" : "0:sep3x3,1:max3x3");
  CHECK(space_parse(big, &c, err, sizeof err) == -1 && strstr(err, "more than 10 blocks"), "%s",
        err);
  big[strlen(big) - strlen(";0:sep3x3,1:max3x3")] = '\0';
  CHECK(space_parse(big, &c, err, sizeof err) == 0 && c.nblocks == 10, "10 blocks: %s", err);
}

static void test_tokens(void) {
  space_cell c;
  char err[256];
  space_parse("1:sep5x5,1:max3x3;2:identity,0:dil3x3", &c, err, sizeof err);
  int t[8];
  CHECK(space_tokens(&c, t) == 8, "token count");
  int want[8] = {1, 1, SPACE_OP_SEP5X5, SPACE_OP_MAX3X3, 2, 0, SPACE_OP_IDENTITY, SPACE_OP_DIL3X3};
  for (int i = 0; i < 8; i++) CHECK(t[i] == want[i], "token %d = %d", i, t[i]);
  CHECK(space_token_is_input(0) && space_token_is_input(5) && !space_token_is_input(2) &&
            !space_token_is_input(7),
        "token types");
}

static void test_sample_mutate(void) {
  space_rng r;
  space_rng_seed(&r, 42);
  char err[256];
  // Uniform over the 136 unique 1-block cells: chi-square with 135 dof.
  space_cell level1[136];
  space_cell empty = {0};
  space_expand(&empty, SPACE_PNAS_MASK, level1, 136);
  static int counts[136];
  int draws = 136 * 200;
  for (int i = 0; i < draws; i++) {
    space_cell c;
    space_sample(&c, 1, SPACE_PNAS_MASK, &r);
    int found = -1;
    for (int k = 0; k < 136; k++)
      if (space_equal(&c, &level1[k])) found = k;
    CHECK(found >= 0, "sampled cell not canonical");
    if (found >= 0) counts[found]++;
  }
  double chi = 0;
  for (int k = 0; k < 136; k++) chi += (counts[k] - 200.0) * (counts[k] - 200.0) / 200.0;
  CHECK(chi < 200, "chi-square %.1f too large for uniform sampling", chi); // p ~ 0.0003 at 200
  uint32_t mask;
  space_parse_ops("sep3x3,max3x3,identity", &mask, err, sizeof err);
  for (int i = 0; i < 2000; i++) {
    space_cell c, m;
    space_sample(&c, 1 + i % 5, mask, &r);
    CHECK(space_check(&c, mask, err, sizeof err) == 0, "sample: %s", err);
    m = c;
    CHECK(space_mutate(&m, mask, &r) == 0, "mutate failed");
    CHECK(space_check(&m, mask, err, sizeof err) == 0, "mutant: %s", err);
    CHECK(!space_equal(&m, &c), "mutation left the cell unchanged");
    // Exactly one branch differs (compare as multisets per block).
    int diff_blocks = 0;
    for (int b = 0; b < c.nblocks; b++)
      if (memcmp(&c.b[b], &m.b[b], sizeof c.b[b])) diff_blocks++;
    CHECK(diff_blocks == 1, "mutation changed %d blocks", diff_blocks);
  }
  // Determinism.
  space_rng r1, r2;
  space_rng_seed(&r1, 7);
  space_rng_seed(&r2, 7);
  for (int i = 0; i < 100; i++) CHECK(space_rng_next(&r1) == space_rng_next(&r2), "rng");
}

static void test_msgpack(void) {
  space_cell c, d;
  char err[256];
  space_parse("pnasnet-5", &c, err, sizeof err);
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  CHECK(space_pack(&c, (struct msgpack_packer *)&pk) == 0, "pack");
  msgpack_unpacked up;
  msgpack_unpacked_init(&up);
  CHECK(msgpack_unpack_next(&up, sb.data, sb.size, NULL) == MSGPACK_UNPACK_SUCCESS, "unpack");
  CHECK(space_unpack((struct msgpack_object *)&up.data, &d, err, sizeof err) == 0, "%s", err);
  CHECK(space_equal(&c, &d), "round trip");
  msgpack_unpacked_destroy(&up);
  msgpack_sbuffer_destroy(&sb);
  // Bad objects: not an array, a block with 3 fields, an input out of range, an operator id
  // past the table (13 rows: 0..12).
  const char *bad[] = {"\x05", "\x91\x93\x00\x01\x00", "\x91\x94\x05\x01\x00\x01",
                       "\x91\x94\x00\x0d\x00\x01"};
  size_t lens[] = {1, 5, 6, 6};
  for (int i = 0; i < 4; i++) {
    msgpack_unpacked_init(&up);
    CHECK(msgpack_unpack_next(&up, bad[i], lens[i], NULL) == MSGPACK_UNPACK_SUCCESS, "raw %d", i);
    err[0] = 0;
    CHECK(space_unpack((struct msgpack_object *)&up.data, &d, err, sizeof err) == -1 && err[0],
          "bad msgpack %d accepted", i);
    msgpack_unpacked_destroy(&up);
  }
}

// Packs {"format": "x", "n": 7[, "crc32": ...]} into sb, sealed or not.
static void pack_small(msgpack_sbuffer *sb, int seal) {
  msgpack_packer pk;
  msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
  msgpack_pack_map(&pk, 2 + (seal != 0));
  msgpack_pack_str_with_body(&pk, "format", 6);
  msgpack_pack_str_with_body(&pk, "x", 1);
  msgpack_pack_str_with_body(&pk, "n", 1);
  msgpack_pack_int(&pk, 7);
  if (seal) CHECK(space_msgpack_seal(sb) == 0, "seal");
}

// 1 when the bytes are one well-formed object that space_msgpack_sealed calls sealed.
static int sealed(const char *data, size_t len) {
  msgpack_unpacked up;
  msgpack_unpacked_init(&up);
  int ok = space_msgpack_check(data, len, NULL, 0) == 0 &&
           msgpack_unpack_next(&up, data, len, NULL) == MSGPACK_UNPACK_SUCCESS;
  int s = ok && space_msgpack_sealed(&up.data, data, len);
  msgpack_unpacked_destroy(&up);
  return s;
}

// space_msgpack_seal appends the crc32 entry of common/crc32.h; space_msgpack_sealed tells a
// sealed map (by its last key or its last bytes) from one written before checksums.
static void test_seal(void) {
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  pack_small(&sb, 1);
  char why[160];
  CHECK(sb.size > PNAS_CRC_ENTRY_LEN && space_msgpack_check(sb.data, sb.size, why, sizeof why) == 0,
        "one object: %s", why);
  CHECK(sealed(sb.data, sb.size) && pnas_crc_check(sb.data, sb.size, why, sizeof why) == 0,
        "sealed map: %s", why);
  // A value changed (7 -> 8): still sealed, the check refuses it.
  sb.data[sb.size - PNAS_CRC_ENTRY_LEN - 1] = 8;
  CHECK(sealed(sb.data, sb.size) && pnas_crc_check(sb.data, sb.size, why, sizeof why) == -1 &&
            strstr(why, "checksum mismatch"),
        "flipped value: %s", why);
  // The crc32 value as a uint16 (the map's last key is still crc32): sealed, entry not found.
  msgpack_sbuffer_clear(&sb);
  pack_small(&sb, 0);
  sb.data[0] = (char)0x83;
  msgpack_sbuffer_write(&sb, "\xa5" "crc32" "\xcd\x12\x34", 9);
  CHECK(sealed(sb.data, sb.size) && pnas_crc_check(sb.data, sb.size, why, sizeof why) == -1 &&
            strstr(why, "missing or not at the end"),
        "short crc32 value: %s", why);
  // Written before checksums: not sealed, nothing to check; neither is a bare value.
  msgpack_sbuffer_clear(&sb);
  pack_small(&sb, 0);
  CHECK(!sealed(sb.data, sb.size), "an unsealed map taken for sealed");
  CHECK(!sealed("\x07", 1) && !sealed("\x80", 1), "a value or an empty map taken for sealed");
  msgpack_sbuffer_destroy(&sb);
}

// The operator table: names round-trip, rows are well formed, exactly the ops that cannot
// reduce by themselves take the projection at stride 2.
static void test_op_table(void) {
  for (int op = 0; op < SPACE_NUM_OPS; op++) {
    const space_op_def *d = space_op_def_of(op);
    CHECK(d != NULL && d->nlayers <= SPACE_OP_MAX_LAYERS, "op %d row", op);
    const char *nm = space_op_name(op);
    CHECK(space_op_from_name(nm, strlen(nm)) == op, "op %s round trip", nm);
    int strided = 0, params = 0;
    for (int i = 0; i < d->nlayers; i++) {
      const space_layer *l = &d->layer[i];
      strided += l->strided;
      int has = l->kind == SPACE_L_CONV || l->kind == SPACE_L_DWCONV || l->kind == SPACE_L_BN;
      params += has;
      CHECK(has == (l->name != NULL), "%s layer %d: named iff it has parameters", nm, i);
      if (l->kind != SPACE_L_RELU && l->kind != SPACE_L_BN)
        CHECK(l->kh >= 1 && l->kw >= 1 && l->dil >= 1, "%s layer %d window", nm, i);
    }
    CHECK(strided <= 1, "%s: %d strided layers", nm, strided);
    CHECK(space_op_layers(op, 1) == (strided ? d : space_op_projection()), "%s at stride 2", nm);
    CHECK(space_op_layers(op, 0) == d, "%s at stride 1", nm);
    CHECK((op == SPACE_OP_IDENTITY) == (d->nlayers == 0), "%s: no layers iff identity", nm);
    int pool = op == SPACE_OP_AVG3X3 || op == SPACE_OP_MAX3X3 || op == SPACE_OP_MAX5X5 ||
               op == SPACE_OP_MAX7X7;
    CHECK(pool == (params == 0 && d->nlayers > 0), "%s: parameter-free layers iff pooling", nm);
    CHECK(pool == (d->family == SPACE_FAMILY_POOL), "%s: pool family iff pooling", nm);
  }
  CHECK(space_op_def_of(-1) == NULL && space_op_def_of(SPACE_NUM_OPS) == NULL, "out of range");
  CHECK(!strcmp(space_op_name(SPACE_NUM_OPS), "?"), "name out of range");
  const space_op_def *p = space_op_projection();
  CHECK(p->nlayers == 3 && p->layer[1].kind == SPACE_L_CONV && p->layer[1].kh == 1 &&
            p->layer[1].strided,
        "projection = ReLU, strided 1x1 conv, BN");
}

// Layer kinds, windows, dilation and stride flags of one op row, as a short string
// ("relu conv1x3s conv3x1 bn"), for the checks below.
static void row_text(int op, char *buf, size_t n) {
  const space_op_def *d = space_op_def_of(op);
  size_t used = 0;
  buf[0] = 0;
  for (int i = 0; d && i < d->nlayers && used < n; i++) {
    const space_layer *l = &d->layer[i];
    int w = l->kind == SPACE_L_RELU || l->kind == SPACE_L_BN
                ? snprintf(buf + used, n - used, "%s%s", i ? " " : "", space_layer_kind_name(l->kind))
                : snprintf(buf + used, n - used, "%s%s%dx%d%s%s", i ? " " : "",
                           space_layer_kind_name(l->kind), l->kh, l->kw, l->dil > 1 ? "d2" : "",
                           l->strided ? "s" : "");
    used += (size_t)w;
  }
}

// NASNet's five operators (ids 8..12 after PNAS's 8): names, rows, op lists, the vocabulary
// rule, and counts of unique blocks against a brute-force enumeration.
static void test_nasnet_ops(void) {
  static const struct {
    int op;
    const char *name, *layers;
    int family;
  } rows[] = {
      {SPACE_OP_CONV1X3_3X1, "conv1x3_3x1", "relu conv1x3s conv3x1 bn", SPACE_FAMILY_CONV},
      {SPACE_OP_MAX5X5, "max5x5", "max5x5s", SPACE_FAMILY_POOL},
      {SPACE_OP_MAX7X7, "max7x7", "max7x7s", SPACE_FAMILY_POOL},
      {SPACE_OP_CONV1X1, "conv1x1", "relu conv1x1s bn", SPACE_FAMILY_CONV},
      {SPACE_OP_CONV3X3, "conv3x3", "relu conv3x3s bn", SPACE_FAMILY_CONV},
      // Two of PNAS's, for comparison: the spelling of the rows above follows theirs.
      {SPACE_OP_CONV1X7_7X1, "conv1x7_7x1", "relu conv1x7s conv7x1 bn", SPACE_FAMILY_CONV},
      {SPACE_OP_DIL3X3, "dil3x3", "relu conv3x3d2s bn", SPACE_FAMILY_CONV},
  };
  CHECK(SPACE_NUM_OPS == 13 && SPACE_PNAS_OPS == 8, "table sizes %d / %d", SPACE_NUM_OPS,
        SPACE_PNAS_OPS);
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    char got[128];
    row_text(rows[i].op, got, sizeof got);
    CHECK(!strcmp(space_op_name(rows[i].op), rows[i].name), "op %d is '%s', want '%s'", rows[i].op,
          space_op_name(rows[i].op), rows[i].name);
    CHECK(!strcmp(got, rows[i].layers), "%s layers '%s', want '%s'", rows[i].name, got,
          rows[i].layers);
    CHECK(space_op_def_of(rows[i].op)->family == rows[i].family, "%s family", rows[i].name);
  }
  CHECK(SPACE_OP_CONV1X3_3X1 == 8 && SPACE_OP_CONV3X3 == 12, "NASNet ids 8..12");
  // Op lists: names, keywords, the vocabulary rule.
  uint32_t mask;
  char err[256], buf[256];
  CHECK(space_parse_ops("conv1x3_3x1,max5x5,max7x7,conv1x1,conv3x3", &mask, err, sizeof err) == 0 &&
            mask == 0x1F00u,
        "NASNet op names: %s mask 0x%x", err, mask);
  space_format_ops(mask, buf, sizeof buf);
  CHECK(!strcmp(buf, "conv1x3_3x1,max5x5,max7x7,conv1x1,conv3x3"), "format '%s'", buf);
  CHECK(space_parse_ops("all", &mask, err, sizeof err) == 0 && mask == SPACE_PNAS_MASK, "all");
  CHECK(space_parse_ops("pnas", &mask, err, sizeof err) == 0 && mask == SPACE_PNAS_MASK, "pnas");
  CHECK(space_parse_ops("nasnet", &mask, err, sizeof err) == 0 && mask == SPACE_ALL_OPS &&
            space_ops_count(mask) == 13,
        "nasnet");
  CHECK(space_parse_ops("sep3x3,max9x9", &mask, err, sizeof err) == -1 && strstr(err, "conv3x3"),
        "the error lists the new names: %s", err);
  CHECK(space_vocab_ops(SPACE_PNAS_MASK) == 8 && space_vocab_ops(0x63) == 8 &&
            space_vocab_ops(SPACE_ALL_OPS) == 13 && space_vocab_ops(1u << SPACE_OP_CONV3X3) == 13 &&
            space_vocab_ops(0x1u | (1u << SPACE_OP_MAX5X5)) == 13,
        "vocabulary rule");
  // Cell text with every new op: parse, check, print, hash stable across a round trip.
  space_cell c, d;
  const char *txt = "0:conv1x3_3x1,1:max5x5;2:max7x7,0:conv1x1;1:conv3x3,3:identity";
  CHECK(space_parse(txt, &c, err, sizeof err) == 0, "%s", err);
  CHECK(space_check(&c, SPACE_ALL_OPS, err, sizeof err) == 0, "%s", err);
  CHECK(space_check(&c, SPACE_PNAS_MASK, err, sizeof err) == -1 && strstr(err, "not in the"),
        "PNAS mask refuses NASNet ops: %s", err);
  space_format(&c, buf, sizeof buf);
  CHECK(!strcmp(buf, txt), "format '%s'", buf);
  CHECK(space_parse(buf, &d, err, sizeof err) == 0 && space_hash(&c) == space_hash(&d), "round");
  // Unique blocks at levels 1..3 for masks with NASNet ops, against brute force: every ordered
  // pair of branches (input 0..b, op in mask), unordered by hashing the canonical 1-block cell.
  const uint32_t masks[] = {(1u << SPACE_OP_IDENTITY) | (1u << SPACE_OP_CONV1X3_3X1) |
                                (1u << SPACE_OP_CONV1X1) | (1u << SPACE_OP_CONV3X3),
                            SPACE_ALL_OPS, 1u << SPACE_OP_MAX7X7,
                            (1u << SPACE_OP_SEP3X3) | (1u << SPACE_OP_MAX5X5)};
  static uint64_t hs[(13 * 4) * (13 * 4)];
  static space_block blk[(13 * 4) * (13 * 4)];
  for (size_t mi = 0; mi < sizeof masks / sizeof masks[0]; mi++)
    for (int b = 1; b <= 3; b++) {
      int n = 0;
      for (int i1 = 0; i1 <= b; i1++)
        for (int o1 = 0; o1 < 32; o1++)
          for (int i2 = 0; i2 <= b; i2++)
            for (int o2 = 0; o2 < 32; o2++) {
              if (!((masks[mi] >> o1) & 1) || !((masks[mi] >> o2) & 1)) continue;
              space_cell one = {.nblocks = 1, .b = {{(uint8_t)i1, (uint8_t)o1, (uint8_t)i2, (uint8_t)o2}}};
              hs[n++] = space_hash(&one); // inputs beyond 1 hash fine: no check here
            }
      int want = distinct(hs, n);
      int got = space_blocks_at(b, masks[mi], NULL, 0);
      CHECK(got == want, "mask 0x%x level %d: %d unique blocks, brute force %d", masks[mi], b,
            got, want);
      // And the enumerated blocks are exactly those: distinct, canonical, in the mask.
      CHECK(space_blocks_at(b, masks[mi], blk, got) == got, "enumerate");
      for (int k = 0; k < got; k++) {
        space_cell one = {.nblocks = 1, .b = {blk[k]}};
        space_cell canon = one;
        space_canon(&canon);
        CHECK(space_equal(&one, &canon), "mask 0x%x level %d block %d not canonical", masks[mi],
              b, k);
        CHECK(((masks[mi] >> blk[k].op1) & 1) && ((masks[mi] >> blk[k].op2) & 1), "op in mask");
        hs[k] = space_hash(&one);
      }
      CHECK(distinct(hs, got) == got, "mask 0x%x level %d: duplicate blocks", masks[mi], b);
    }
  // The whole table: 13 ops x 2 inputs = 26 branches -> 351 one-block cells; a 10-block parent
  // cannot grow, a 9-block one has (13 * 11)(13 * 11 + 1) / 2 = 10296 children.
  space_cell empty = {0};
  CHECK(space_expand(&empty, SPACE_ALL_OPS, NULL, 0) == 351, "351 one-block cells");
  space_cell nine;
  space_rng r;
  space_rng_seed(&r, 5);
  space_sample(&nine, 9, SPACE_ALL_OPS, &r);
  CHECK(space_check(&nine, SPACE_ALL_OPS, err, sizeof err) == 0, "%s", err);
  static space_cell kids[10296];
  CHECK(space_expand(&nine, SPACE_ALL_OPS, kids, 10296) == 10296, "9-block parent");
  CHECK(space_check(&kids[10295], SPACE_ALL_OPS, err, sizeof err) == 0 && kids[10295].nblocks == 10,
        "%s", err);
  // Sampling and mutation stay in the mask.
  uint32_t m4 = masks[0];
  for (int i = 0; i < 200; i++) {
    space_sample(&c, 1 + i % 5, m4, &r);
    CHECK(space_check(&c, m4, err, sizeof err) == 0, "sample: %s", err);
    CHECK(space_mutate(&c, m4, &r) == 0 && space_check(&c, m4, err, sizeof err) == 0,
          "mutate: %s", err);
  }
}

// NASNet's space: pairs of a normal and a reduction cell (DESIGN.md s.1).
static void test_nasnet_pair(void) {
  char err[256], text[SPACE_TEXT_MAX];
  space_cell a, b;
  // NASNet-A as the official code builds it, and its concatenated states.
  CHECK(space_parse("nasnet-a", &a, err, sizeof err) == 0, "%s", err);
  CHECK(space_is_pair(&a) && a.nblocks == 5 && a.nred == 5, "nasnet-a is a 5+5 pair");
  CHECK(space_concat_mask(&a, 0) == 0x7E, "normal concat 0x%x (H[c-2] and blocks 1-5)",
        space_concat_mask(&a, 0));
  CHECK(space_concat_mask(&a, 1) == 0x78, "reduction concat 0x%x (blocks 2-5)",
        space_concat_mask(&a, 1));
  space_format(&a, text, sizeof text);
  CHECK(!strcmp(text, "0:sep5x5,1:sep3x3;1:sep5x5,1:sep3x3;0:avg3x3,1:identity;1:avg3x3,1:avg3x3;"
                      "0:sep3x3,0:identity@1,2,3,4,5,6|0:sep5x5,1:sep7x7;0:max3x3,1:sep7x7;"
                      "0:avg3x3,1:sep5x5;3:identity,2:avg3x3;2:sep3x3,0:max3x3@3,4,5,6"),
        "format %s", text);
  CHECK(space_parse(text, &b, err, sizeof err) == 0 && space_equal(&a, &b), "round trip %s", err);
  // NASNet's rule: a block output no block reads. "0:sep3x3,0:max3x3;2:identity,0:avg3x3"
  // reads block 1 in block 2, so only block 2 (state 3) is concatenated.
  CHECK(space_parse("0:sep3x3,0:max3x3;2:identity,0:avg3x3|0:max3x3,1:max3x3", &b, err,
                    sizeof err) == 0, "%s", err);
  CHECK(space_concat_mask(&b, 0) == 0x8 && space_concat_mask(&b, 1) == 0x4, "rule 0x%x 0x%x",
        space_concat_mask(&b, 0), space_concat_mask(&b, 1));
  // An explicit list equal to the rule canonicalises away (same hash as without it).
  space_cell e;
  CHECK(space_parse("0:sep3x3,0:max3x3;2:identity,0:avg3x3@3|0:max3x3,1:max3x3", &e, err,
                    sizeof err) == 0, "%s", err);
  CHECK(space_hash(&e) == space_hash(&b), "explicit rule list changes the hash");
  // The pair's hash differs from its normal cell's, and from the swapped pair's.
  space_cell n1;
  space_parse("0:sep3x3,0:max3x3;2:identity,0:avg3x3", &n1, err, sizeof err);
  CHECK(space_hash(&n1) != space_hash(&b), "pair hashes as its normal cell");
  space_cell sw;
  CHECK(space_parse("0:max3x3,1:max3x3|0:sep3x3,0:max3x3", &sw, err, sizeof err) == 0, "%s", err);
  space_cell sw2;
  space_parse("0:sep3x3,0:max3x3|0:max3x3,1:max3x3", &sw2, err, sizeof err);
  CHECK(space_hash(&sw) != space_hash(&sw2), "swapping the cells keeps the hash");
  // Bad pairs: each refused with a message.
  const char *bad[] = {"0:sep3x3,0:max3x3|",        "|0:sep3x3,0:max3x3",
                       "0:sep3x3,0:max3x3|0:sep3x3,0:max3x3|0:sep3x3,0:max3x3",
                       "0:sep3x3,0:max3x3@",        "0:sep3x3,0:max3x3@2",
                       "0:sep3x3,0:max3x3@9|0:sep3x3,0:max3x3",
                       "0:sep3x3,0:max3x3@2,2|0:sep3x3,0:max3x3",
                       "0:sep3x3,0:max3x3|0:sep3x3,0:max3x3@0",
                       "0:sep3x3,0:max3x3@x|0:sep3x3,0:max3x3"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    CHECK(space_parse(bad[i], &b, err, sizeof err) != 0 && err[0], "'%s' accepted", bad[i]);
  }
  // Children of a pair, derived independently: every ordered (branch, branch) of the new
  // normal block times every one of the new reduction block, deduplicated by hash, against
  // space_expand and space_child_at. 3 operators, parent at level 1: m = 3 * 3 = 9 branches,
  // 45 unique blocks per cell, 2025 children.
  uint32_t mask = (1u << SPACE_OP_SEP3X3) | (1u << SPACE_OP_MAX3X3) | (1u << SPACE_OP_IDENTITY);
  space_cell par;
  CHECK(space_parse("0:sep3x3,1:max3x3|1:identity,0:identity", &par, err, sizeof err) == 0, "%s",
        err);
  static uint64_t hs[81 * 81];
  static space_cell kids[2025];
  int ops[3] = {SPACE_OP_IDENTITY, SPACE_OP_SEP3X3, SPACE_OP_MAX3X3}, n = 0;
  for (int x = 0; x < 81; x++)
    for (int y = 0; y < 81; y++) {
      space_cell c = par;
      int bx[4] = {x % 9 / 3, x % 3, x / 9 / 3, x / 9 % 3}, by[4] = {y % 9 / 3, y % 3, y / 9 / 3, y / 9 % 3};
      c.b[1] = (space_block){(uint8_t)bx[0], (uint8_t)ops[bx[1]], (uint8_t)bx[2], (uint8_t)ops[bx[3]]};
      c.r[1] = (space_block){(uint8_t)by[0], (uint8_t)ops[by[1]], (uint8_t)by[2], (uint8_t)ops[by[3]]};
      c.nblocks = c.nred = 2;
      hs[n++] = space_hash(&c);
    }
  int want = distinct(hs, n);
  CHECK(want == 2025, "brute force %d pair children", want);
  CHECK(space_expand(&par, mask, NULL, 0) == want, "space_expand counts %d",
        space_expand(&par, mask, NULL, 0));
  CHECK(space_expand(&par, mask, kids, 2025) == 2025, "enumerate");
  for (int k = 0; k < 2025; k++) {
    space_cell c;
    CHECK(space_child_at(&par, mask, k, &c) == 0 && space_equal(&c, &kids[k]), "child_at %d", k);
    CHECK(space_check(&c, mask, err, sizeof err) == 0 && c.nblocks == 2 && c.nred == 2, "%s", err);
    hs[k] = space_hash(&c);
  }
  CHECK(distinct(hs, 2025) == 2025, "duplicate children");
  CHECK(space_child_at(&par, mask, 2025, &b) != 0, "child 2025 exists");
  // With all 13 operators a level-1 pair has 780^2 children (m = 13 * 3 = 39, 39*40/2 = 780).
  CHECK(space_expand(&par, SPACE_ALL_OPS, NULL, 0) == 780 * 780, "13-op children %d",
        space_expand(&par, SPACE_ALL_OPS, NULL, 0));
  // Sampling and mutating pairs stay pairs in the mask; msgpack round trip.
  space_rng r;
  space_rng_seed(&r, 11);
  for (int i = 0; i < 300; i++) {
    space_cell c;
    space_sample_pair(&c, 1 + i % 5, mask, &r);
    CHECK(space_is_pair(&c) && c.nblocks == c.nred && space_check(&c, mask, err, sizeof err) == 0,
          "sample pair: %s", err);
    space_cell m = c;
    CHECK(space_mutate(&m, mask, &r) == 0 && space_check(&m, mask, err, sizeof err) == 0 &&
              space_is_pair(&m) && !space_equal(&m, &c),
          "mutate pair: %s", err);
  }
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  CHECK(space_pack(&a, (struct msgpack_packer *)&pk) == 0, "pack");
  msgpack_unpacked u;
  msgpack_unpacked_init(&u);
  CHECK(msgpack_unpack_next(&u, sb.data, sb.size, NULL) == MSGPACK_UNPACK_SUCCESS, "unpack");
  CHECK(space_unpack((struct msgpack_object *)&u.data, &b, err, sizeof err) == 0 &&
            space_equal(&a, &b),
        "msgpack round trip: %s", err);
  msgpack_unpacked_destroy(&u);
  msgpack_sbuffer_destroy(&sb);
  // The tied pair of a PNAS cell.
  space_cell t = space_pair_of(&n1);
  CHECK(space_is_pair(&t) && t.nred == 2 && !memcmp(t.r, n1.b, sizeof t.r), "pair_of");
}

int main(void) {
  test_nasnet_pair();
  test_counts();
  test_expansion();
  test_parse();
  test_tokens();
  test_sample_mutate();
  test_msgpack();
  test_seal();
  test_op_table();
  test_nasnet_ops();
  return CHECK_DONE();
}
