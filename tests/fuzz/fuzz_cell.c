// Fuzz target: the cell text parser (space_parse) and the ops-list parser. Properties checked
// beyond "no crash": a parsed cell passes space_check, formats to text that parses back to the
// same cell, and its canonical form and hash are stable; a rejected cell always has a message.
#include "fuzz_common.h"
#include "searchspace/cell.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0;
  char *s = malloc(size + 1);
  if (!s) return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  space_cell c;
  char err[256] = "";
  if (space_parse(s, &c, err, sizeof err) == 0) {
    FUZZ_CHECK(c.nblocks >= 1 && c.nblocks <= SPACE_MAX_BLOCKS, "%d blocks", c.nblocks);
    FUZZ_CHECK(space_check(&c, SPACE_ALL_OPS, err, sizeof err) == 0, "%s", err);
    char text[SPACE_TEXT_MAX];
    int n = space_format(&c, text, sizeof text);
    FUZZ_CHECK((size_t)n == strlen(text), "format length %d", n);
    space_cell c2;
    FUZZ_CHECK(space_parse(text, &c2, err, sizeof err) == 0, "'%s' does not parse back: %s", text,
               err);
    FUZZ_CHECK(space_equal(&c, &c2), "'%s' parses back to another cell", text);
    space_cell k = c;
    space_canon(&k);
    uint64_t h = space_hash(&c);
    FUZZ_CHECK(h == space_hash(&k), "hash depends on branch order");
    space_cell k2 = k;
    space_canon(&k2);
    FUZZ_CHECK(space_equal(&k, &k2), "canonical form not idempotent");
    int tok[8 * SPACE_MAX_BLOCKS];
    FUZZ_CHECK(space_tokens(&k, tok) == 4 * (k.nblocks + k.nred), "token count");
    FUZZ_CHECK(space_concat_mask(&k, 0) == space_concat_mask(&c, 0) &&
                   space_concat_mask(&k, 1) == space_concat_mask(&c, 1),
               "canonical form changes the concatenated states");
  } else {
    FUZZ_CHECK(err[0] != '\0', "cell rejected without a message");
  }
  uint32_t mask = 0;
  err[0] = '\0';
  if (space_parse_ops(s, &mask, err, sizeof err) == 0)
    FUZZ_CHECK(mask && (mask & ~SPACE_ALL_OPS) == 0, "ops mask 0x%x", mask);
  else
    FUZZ_CHECK(err[0] != '\0', "ops list rejected without a message");
  free(s);
  return 0;
}
