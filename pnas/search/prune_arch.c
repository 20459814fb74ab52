// The pruned-architecture file (prune_arch.h): writer, strict reader and checks against the
// network walk and the cost model.
#include "pnas/search/prune_arch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/common.h"
#include "common/crc32.h"
#include "pnas/store/store.h"
#include "searchspace/layout.h"
#include "searchspace/ops.h"

#define MAGIC "pnas-pruned-arch 1"

int prune_arch_cost_config(const prune_arch *a, cost_config *cc, char *err, size_t errlen) {
  cost_config c;
  if (strcmp(a->dataset, "imagenet") == 0 || cost_config_for_dataset(a->dataset, &c))
    return pnas_seterr(err, errlen, "unknown dataset '%s' (fashion-mnist, cifar10)", a->dataset);
  c.N = a->N, c.F = a->F, c.stem_mult = a->stem_mult, c.widths = &a->w;
  *cc = c;
  return 0;
}

// The separable ops of the network, from the walk: for each cell index, its filters and which
// (block, branch) are separable.
typedef struct {
  const space_cell *cell;
  int ncells;
  int filters[COST_MAX_CELLS];
  uint8_t sep[COST_MAX_CELLS][SPACE_MAX_BLOCKS][2];
} sep_map;

static void map_cell(void *ctx, const space_cell_layout *L) {
  sep_map *m = ctx;
  if (L->index >= COST_MAX_CELLS) return;
  m->ncells = L->index + 1;
  m->filters[L->index] = L->filters;
  int nb;
  const space_block *b = space_cell_blocks(m->cell, L->kind, &nb);
  for (int i = 0; i < nb; i++) { // (a strided op keeps its layers when it has an inner one)
    m->sep[L->index][i][0] = (uint8_t)space_op_has_inner(b[i].op1);
    m->sep[L->index][i][1] = (uint8_t)space_op_has_inner(b[i].op2);
  }
}

static int build_map(const prune_arch *a, sep_map *m, space_net_layout *net, char *err,
                     size_t errlen) {
  memset(m, 0, sizeof *m);
  m->cell = &a->cell;
  cost_config cc;
  if (prune_arch_cost_config(a, &cc, err, errlen)) return -1;
  cc.widths = NULL; // the unpruned walk: full stem channels
  return space_net_walk(&a->cell, &cc, net, map_cell, m, err, errlen);
}

int prune_arch_format(const prune_arch *a, char **buf, size_t *len) {
  char text[SPACE_TEXT_MAX];
  space_format(&a->cell, text, sizeof text);
  size_t cap = 4096 + (size_t)COST_MAX_CELLS * SPACE_MAX_BLOCKS * 2 * 40, n = 0;
  char *b = malloc(cap);
  if (!b) return -1;
#define OUT(...) n += (size_t)snprintf(b + n, n < cap ? cap - n : 0, __VA_ARGS__)
  OUT("%s\ncell %s\ndataset %s\nN %d\nF %d\nstem_mult %.17g\nstem %d\n", MAGIC, text, a->dataset,
      a->N, a->F, a->stem_mult, a->w.stem);
  sep_map m;
  space_net_layout net;
  char err[200];
  if (build_map(a, &m, &net, err, sizeof err) == 0)
    for (int c = 0; c < m.ncells; c++)
      for (int i = 0; i < SPACE_MAX_BLOCKS; i++)
        for (int br = 0; br < 2; br++)
          if (m.sep[c][i][br])
            OUT("inner %d %d %s %d\n", c, i + 1, br ? "right" : "left",
                cost_inner(&a->w, c, i, br, m.filters[c]));
  OUT("params %" PRId64 "\nmult_adds %" PRId64 "\n", a->params, a->mult_adds);
  uint32_t crc = pnas_crc32(b, n);
  OUT("crc32 %08x\n", crc);
#undef OUT
  if (n >= cap) {
    free(b);
    return -1;
  }
  *buf = b;
  *len = n;
  return 0;
}

static int parse_int(const char *s, long long lo, long long hi, long long *v) {
  char *end;
  errno = 0;
  long long x = strtoll(s, &end, 10);
  if (errno || end == s || *end || x < lo || x > hi) return -1;
  *v = x;
  return 0;
}

int prune_arch_parse(const char *buf, size_t len, prune_arch *a, char *err, size_t errlen) {
  memset(a, 0, sizeof *a);
  if (len == 0) return pnas_seterr(err, errlen, "empty file (not a pruned architecture)");
  if (memchr(buf, '\0', len))
    return pnas_seterr(err, errlen, "binary data (a NUL byte): not a pruned architecture");
  if (len < strlen(MAGIC) + 1 || memcmp(buf, MAGIC "\n", strlen(MAGIC) + 1))
    return pnas_seterr(err, errlen, "line 1: not a pruned architecture (expected '%s')", MAGIC);
  if (buf[len - 1] != '\n')
    return pnas_seterr(err, errlen, "truncated (the last line has no end; expected a final "
                       "crc32 line)");
  // The seal: the last line is "crc32 XXXXXXXX" over every byte before it.
  const char *last = buf + len - 1;
  while (last > buf && last[-1] != '\n') last--;
  unsigned got;
  char tail[32];
  size_t tl = (size_t)(buf + len - 1 - last);
  if (tl >= sizeof tail) tl = sizeof tail - 1;
  memcpy(tail, last, tl);
  tail[tl] = '\0';
  if (sscanf(tail, "crc32 %8x", &got) != 1 || strlen(tail) != 14)
    return pnas_seterr(err, errlen, "no final crc32 line (truncated or damaged)");
  if (pnas_crc32(buf, (size_t)(last - buf)) != got)
    return pnas_seterr(err, errlen, "checksum mismatch: the file was damaged or edited");
  int have[8] = {0}; // cell dataset N F stem_mult stem params mult_adds
  int lineno = 1;
  const char *p = buf + strlen(MAGIC) + 1;
  while (p < last) {
    lineno++;
    const char *e = memchr(p, '\n', (size_t)(last - p));
    size_t l = (size_t)(e - p);
    char line[SPACE_TEXT_MAX + 32];
    if (l >= sizeof line) return pnas_seterr(err, errlen, "line %d: too long", lineno);
    memcpy(line, p, l);
    line[l] = '\0';
    p = e + 1;
    char *sp = strchr(line, ' ');
    if (!sp) return pnas_seterr(err, errlen, "line %d: expected 'KEY VALUE', got '%s'", lineno, line);
    *sp = '\0';
    const char *key = line, *val = sp + 1;
    long long v;
    if (!strcmp(key, "cell")) {
      char why[256];
      if (space_parse(val, &a->cell, why, sizeof why))
        return pnas_seterr(err, errlen, "line %d: bad cell: %s", lineno, why);
      have[0] = 1;
    } else if (!strcmp(key, "dataset")) {
      if (strcmp(val, "fashion-mnist") && strcmp(val, "cifar10"))
        return pnas_seterr(err, errlen, "line %d: unknown dataset '%s'", lineno, val);
      snprintf(a->dataset, sizeof a->dataset, "%s", val);
      have[1] = 1;
    } else if (!strcmp(key, "N") || !strcmp(key, "F") || !strcmp(key, "stem")) {
      long long hi = !strcmp(key, "N") ? 16 : 100000;
      if (parse_int(val, 1, hi, &v))
        return pnas_seterr(err, errlen, "line %d: %s must be an integer 1..%lld, got '%s'", lineno,
                           key, hi, val);
      if (!strcmp(key, "N")) a->N = (int)v, have[2] = 1;
      else if (!strcmp(key, "F")) a->F = (int)v, have[3] = 1;
      else a->w.stem = (int)v, have[5] = 1;
    } else if (!strcmp(key, "stem_mult")) {
      char *end;
      a->stem_mult = strtod(val, &end);
      if (end == val || *end || !(a->stem_mult > 0 && a->stem_mult <= 1000))
        return pnas_seterr(err, errlen, "line %d: bad stem_mult '%s'", lineno, val);
      have[4] = 1;
    } else if (!strcmp(key, "params") || !strcmp(key, "mult_adds")) {
      if (parse_int(val, 1, INT64_MAX, &v))
        return pnas_seterr(err, errlen, "line %d: bad %s '%s'", lineno, key, val);
      if (key[0] == 'p') a->params = v, have[6] = 1;
      else a->mult_adds = v, have[7] = 1;
    } else if (!strcmp(key, "inner")) {
      int c, b, ch, n = 0;
      char side[8];
      if (sscanf(val, "%d %d %7s %d%n", &c, &b, side, &ch, &n) != 4 || val[n] != '\0' ||
          (strcmp(side, "left") && strcmp(side, "right")))
        return pnas_seterr(err, errlen, "line %d: expected 'inner CELL BLOCK left|right "
                           "CHANNELS', got 'inner %s'", lineno, val);
      if (c < 0 || c >= COST_MAX_CELLS || b < 1 || b > SPACE_MAX_BLOCKS || ch < 1 || ch > 32767)
        return pnas_seterr(err, errlen, "line %d: inner entry out of range (cell 0..%d, block "
                           "1..%d, channels >= 1)", lineno, COST_MAX_CELLS - 1, SPACE_MAX_BLOCKS);
      a->w.inner[c][b - 1][side[0] == 'r'] = (int16_t)ch;
    } else {
      return pnas_seterr(err, errlen, "line %d: unknown key '%s'", lineno, key);
    }
  }
  static const char *const NAMES[8] = {"cell", "dataset", "N", "F", "stem_mult", "stem",
                                       "params", "mult_adds"};
  for (int k = 0; k < 8; k++)
    if (!have[k]) return pnas_seterr(err, errlen, "missing '%s' line", NAMES[k]);
  // Every inner entry names a separable op of this network, with at most its cell's filters.
  sep_map m;
  space_net_layout net;
  char why[256];
  if (build_map(a, &m, &net, why, sizeof why))
    return pnas_seterr(err, errlen, "the network does not build: %s", why);
  if (a->w.stem > net.c)
    return pnas_seterr(err, errlen, "stem %d channels: the network's stem has %d", a->w.stem,
                       net.c);
  for (int c = 0; c < COST_MAX_CELLS; c++)
    for (int b = 0; b < SPACE_MAX_BLOCKS; b++)
      for (int br = 0; br < 2; br++) {
        int ch = a->w.inner[c][b][br];
        if (!ch) continue;
        if (c >= m.ncells || !m.sep[c][b][br])
          return pnas_seterr(err, errlen, "inner %d %d %s: no separable op there in this "
                             "network", c, b + 1, br ? "right" : "left");
        if (ch > m.filters[c])
          return pnas_seterr(err, errlen, "inner %d %d %s: %d channels, the cell has %d", c,
                             b + 1, br ? "right" : "left", ch, m.filters[c]);
      }
  cost_config cc;
  cost_result r;
  if (prune_arch_cost_config(a, &cc, why, sizeof why) || cost_network(&a->cell, &cc, &r, why, sizeof why))
    return pnas_seterr(err, errlen, "%s", why);
  if (r.params != a->params || r.mult_adds != a->mult_adds)
    return pnas_seterr(err, errlen, "params %lld / mult_adds %lld, but the cost model gives %lld "
                       "/ %lld for these channels", (long long)a->params, (long long)a->mult_adds,
                       (long long)r.params, (long long)r.mult_adds);
  return 0;
}

int prune_arch_write(const char *dir, const prune_arch *a, char *err, size_t errlen) {
  char *buf;
  size_t len;
  if (prune_arch_format(a, &buf, &len)) return pnas_seterr(err, errlen, "out of memory");
  int rc = store_write_file(dir, PRUNE_ARCH_FILE, buf, len, err, errlen);
  free(buf);
  return rc;
}

int prune_arch_read(const char *path, prune_arch *a, char *err, size_t errlen) {
  char full[1200];
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    snprintf(full, sizeof full, "%s/%s", path, PRUNE_ARCH_FILE);
  else
    snprintf(full, sizeof full, "%s", path);
  void *data;
  size_t len;
  char why[300];
  if (store_read_file(full, &data, &len, why, sizeof why))
    return pnas_seterr(err, errlen, "%s", why);
  int rc = prune_arch_parse(data, len, a, why, sizeof why);
  free(data);
  if (rc) return pnas_seterr(err, errlen, "%s: %s", full, why);
  return 0;
}
