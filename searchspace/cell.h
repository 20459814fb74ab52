// PNAS search space: cells of blocks, the text form, canonical form, hashing, tokens,
// sampling, mutation and expansion. Pure C, no allocation beyond what callers ask for.
// Does not know about networks or costs (see cost.h).
#ifndef PNAS_SEARCHSPACE_CELL_H
#define PNAS_SEARCHSPACE_CELL_H

#include <stddef.h>
#include <stdint.h>

#define SPACE_MAX_BLOCKS 10
// The operator table (ops.c): PNAS's 8 operators (ids 0..7) and the 5 further ones of NASNet's
// space (ids 8..12). SPACE_NUM_OPS sizes the table and anything indexed by operator id.
#define SPACE_NUM_OPS 13
#define SPACE_PNAS_OPS 8                        // PNAS's operators: ids 0 .. SPACE_PNAS_OPS-1
#define SPACE_NUM_INPUTS (SPACE_MAX_BLOCKS + 1) // input ids 0 .. SPACE_MAX_BLOCKS
#define SPACE_ALL_OPS ((uint32_t)0x1FFF)        // every row of the table (validity checks)
#define SPACE_PNAS_MASK ((uint32_t)0xFF)        // PNAS's 8 operators ('all', 'pnas' in --ops)
// The longest text is 281 chars: blocks 1-9 "9:conv1x7_7x1,9:conv1x7_7x1;" (28 each) + block 10
// "10:conv1x7_7x1,10:conv1x7_7x1" (29). 256 truncated it (found by tests/fuzz/fuzz_cell).
// A NASNet pair is two cells joined by '|', each with an optional "@ids" concat list: 704.
#define SPACE_TEXT_MAX 704

typedef enum {
  SPACE_OP_IDENTITY = 0,
  SPACE_OP_SEP3X3,
  SPACE_OP_SEP5X5,
  SPACE_OP_SEP7X7,
  SPACE_OP_CONV1X7_7X1,
  SPACE_OP_AVG3X3,
  SPACE_OP_MAX3X3,
  SPACE_OP_DIL3X3,
  // NASNet's space (Zoph et al. 2018) adds these five to PNAS's eight.
  SPACE_OP_CONV1X3_3X1,
  SPACE_OP_MAX5X5,
  SPACE_OP_MAX7X7,
  SPACE_OP_CONV1X1,
  SPACE_OP_CONV3X3,
} space_op;

// Inputs: 0 = H[c-1], 1 = H[c-2], k+1 = output of block k (1-based). Block b (1-based) reads 0..b.
typedef struct {
  uint8_t in1, op1, in2, op2;
} space_block;

// A cell of PNAS's space (nred == 0; the same cell, with stride 2, is used at the reductions),
// or a pair of NASNet's space (nred > 0): the normal cell in b[] and the separately searched
// reduction cell in r[] (DESIGN.md s.1, NASNet's space). Zero-initialise, then fill.
typedef struct {
  int nblocks;                     // blocks of the cell (of the normal cell of a pair)
  space_block b[SPACE_MAX_BLOCKS];
  int nred;                        // blocks of the pair's reduction cell; 0 = a PNAS cell
  space_block r[SPACE_MAX_BLOCKS];
  // [pair only] the states each cell concatenates as its output, bit k for input id k (0 =
  // H[c-1], 1 = H[c-2], k+1 = block k), [0] normal, [1] reduction; 0 = NASNet's rule (every
  // block output that no block of the cell reads). Only NASNet-A's official cells set them.
  uint16_t concat[2];
} space_cell;

static inline int space_is_pair(const space_cell *c) { return c->nred > 0; }
// The blocks of one cell of c: kind 0 the (normal) cell, 1 the pair's reduction cell (a PNAS
// cell has one cell: kind 1 gives its blocks too).
static inline const space_block *space_cell_blocks(const space_cell *c, int kind, int *n) {
  int red = kind && c->nred > 0;
  *n = red ? c->nred : c->nblocks;
  return red ? c->r : c->b;
}
// The states the cell of kind concatenates (bit k = input id k): a PNAS cell every block
// output [paper]; a pair's cell its explicit list or NASNet's rule.
uint16_t space_concat_mask(const space_cell *c, int kind);
// How many states that is: the cell's output has this many times its filters channels.
int space_concat_count(const space_cell *c, int kind);
// The pair (c, c) of a PNAS cell c (a pair is returned unchanged).
space_cell space_pair_of(const space_cell *c);

// Operator names, exactly as in files and on the command line.
const char *space_op_name(int op);
int space_op_from_name(const char *s, size_t len); // -1 when unknown
// Parse "sep3x3,max3x3,identity" into a bit mask over space_op. Keywords: "all" and "pnas" are
// PNAS's 8 operators (SPACE_PNAS_MASK; "all" predates the NASNet rows and keeps its meaning so
// saved configs and commands keep their results), "nasnet" is all 13 (SPACE_ALL_OPS).
// 0 ok, -1 with err.
int space_parse_ops(const char *list, uint32_t *mask, char *err, size_t errlen);
int space_ops_count(uint32_t mask);
// The bit mask of the operators cell c uses (bit o for op id o; ids of 32 and above, never
// valid, set no bit).
uint32_t space_cell_ops(const space_cell *c);
void space_format_ops(uint32_t mask, char *buf, size_t n);
// [ours] The vocabulary of learned models (predictors, the RL controller): how many operator ids
// they embed. SPACE_PNAS_OPS when mask uses only PNAS's operators (ids 0..7), so models of a
// PNAS-space search keep the sizes, initialisation and results they had before the NASNet
// operators were added; SPACE_NUM_OPS otherwise.
int space_vocab_ops(uint32_t mask);
// [ours] The vocabulary of models of NASNet's pairs: the reduction cell's operators are tokens of
// their own (ids SPACE_NUM_OPS + op), so a model embeds 2 x 13 operator ids; input tokens are
// shared by the two cells (the LSTM and the ridge features see the position anyway).
#define SPACE_PAIR_VOCAB (2 * SPACE_NUM_OPS)

// Parse the text form "I1:O1,I2:O2;..." or a built-in name ("pnasnet-5", "nasnet-a"); a pair
// is "NORMAL|REDUCTION", each optionally followed by "@k,k,..." (its concatenated states). The result is NOT
// canonicalised (use space_canon). 0 ok; -1 with a message naming position and reason in err.
int space_parse(const char *text, space_cell *out, char *err, size_t errlen);
// space_parse for a command's --space: "pnas" refuses a pair, "nasnet" takes a pair or makes
// the tied pair (c, c) of a single cell, NULL or "" takes what the text says. text NULL gives
// the space's reference cell (pnasnet-5, nasnet-a). 0 ok; -1 with err.
int space_parse_in(const char *text, const char *space, space_cell *out, char *err,
                   size_t errlen);
// Write the text form; returns chars written (excluding NUL), truncates safely.
int space_format(const space_cell *c, char *buf, size_t n);
// 0 when every op is in mask and every input is valid for its block; else -1 with reason in err.
int space_check(const space_cell *c, uint32_t mask, char *err, size_t errlen);

// Canonical form: within each block the two (input, op) branches are sorted by (input, op).
void space_canon(space_cell *c);
int space_equal(const space_cell *a, const space_cell *b); // exact (call canon first)
// Stable 64-bit FNV-1a hash of the canonical form (canonicalises a copy first).
uint64_t space_hash(const space_cell *c);

// Token encoding for predictors/controllers: per block I1, I2, O1, O2 (4b tokens); a pair
// gives its normal cell's tokens, then its reduction cell's (4(nblocks + nred) tokens).
// Positions with (t % 4) < 2 are input tokens (vocabulary SPACE_NUM_INPUTS), the others op
// tokens (vocabulary SPACE_NUM_OPS; models use space_vocab_ops). Returns the number of tokens written (4 * nblocks).
int space_tokens(const space_cell *c, int *tokens /* (4*nblocks) */);
static inline int space_token_is_input(int t) { return (t % 4) < 2; }

// Unique new blocks that can be appended as block number b (1-based), ops restricted to mask.
// With m = |mask| * b branches there are m(m+1)/2 of them. Writes up to cap blocks into out
// (out may be NULL to count). Returns the total number.
int space_blocks_at(int b, uint32_t mask, space_block *out, int cap);
// Children of c: c plus one unique appended block. Writes canonical children into out (may be
// NULL to count), returns the total. Returns 0 if c already has SPACE_MAX_BLOCKS blocks.
// [ours] The children of a pair (N, R) append one block to each cell: (N + x, R + y) for every
// x new in N and y new in R, x-major (n_x * n_y children).
int space_expand(const space_cell *c, uint32_t mask, space_cell *out, int cap);
// Child k (0 <= k < space_expand(c, mask, NULL, 0)) of c, without enumerating the others.
// 0 ok, -1 when k is out of range.
int space_child_at(const space_cell *c, uint32_t mask, int64_t k, space_cell *out);

// Deterministic RNG (splitmix64 seeding + xoshiro256**); the state is explicit, no globals.
typedef struct {
  uint64_t s[4];
} space_rng;
void space_rng_seed(space_rng *r, uint64_t seed);
uint64_t space_rng_next(space_rng *r);
double space_rng_uniform(space_rng *r);       // [0, 1)
int space_rng_below(space_rng *r, int n);     // [0, n)

// Uniform random b-block cell over canonical cells (each block uniform over unique blocks).
void space_sample(space_cell *out, int nblocks, uint32_t mask, space_rng *r);
// A uniform random pair of b-block cells (normal then reduction, each as space_sample).
void space_sample_pair(space_cell *out, int nblocks, uint32_t mask, space_rng *r);
// One mutation: a random block, a random branch, change its input (to another valid one) or its
// op (to another op in mask), chosen 50/50 (falls back to the other kind when one has no
// alternative). Result is canonical. Returns 0, or -1 when no mutation is possible. A pair
// first picks its normal or reduction cell (50/50), then mutates it as above.
int space_mutate(space_cell *c, uint32_t mask, space_rng *r);

// msgpack: a cell is an array of blocks, each an array [in1, op1, in2, op2]; a pair is the
// array [normal blocks, reduction blocks, concat normal, concat reduction].
struct msgpack_packer;
struct msgpack_object;
int space_pack(const space_cell *c, struct msgpack_packer *pk);
int space_unpack(const struct msgpack_object *o, space_cell *out, char *err, size_t errlen);

#endif
