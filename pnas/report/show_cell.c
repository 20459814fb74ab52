// Cell diagrams (see show.h): text, Graphviz DOT, and SVG through the external `dot` program.
// Nodes: the two cell inputs H[c-1] and H[c-2], one node per branch op, one add per block and
// the concat output. SVG rendering is Graphviz's; we only feed it DOT through a pipe.
#include "pnas/report/show.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "searchspace/ops.h"

extern char **environ;

// Human name of input id `in` for text ("H[c-1]", "H[c-2]", "b3").
static void input_name(int in, char *buf, size_t n) {
  if (in == 0)
    snprintf(buf, n, "H[c-1]");
  else if (in == 1)
    snprintf(buf, n, "H[c-2]");
  else
    snprintf(buf, n, "b%d", in - 1);
}

// The body of one cell (kind 0 the cell, 1 a pair's reduction cell) in text.
static void text_cell(const space_cell *c, int kind, FILE *f) {
  int nb;
  const space_block *b = space_cell_blocks(c, kind, &nb);
  unsigned cat = space_concat_mask(c, kind);
  if (!space_is_pair(c))
    fprintf(f, "blocks     %d (output: concat of all %d block outputs, %d*F channels)\n\n", nb, nb,
            nb);
  else
    fprintf(f, "\n%s cell: %d blocks (output: concat of %d states, %d*F channels%s)\n",
            kind ? "reduction" : "normal", nb, space_concat_count(c, kind),
            space_concat_count(c, kind),
            kind ? "; stride 2 on ops reading in0/in1, filters doubled" : "");
  fprintf(f, "  in0 = H[c-1]   output of the previous cell (1x1 conv to F)\n");
  fprintf(f, "  in1 = H[c-2]   output of the cell before it (reduced/projected to F if needed)\n");
  for (int i = 0; i < nb; i++) {
    char a[16], d[16];
    input_name(b[i].in1, a, sizeof a);
    input_name(b[i].in2, d, sizeof d);
    fprintf(f, "  b%-2d = %s(%s) + %s(%s)\n", i + 1, space_op_name(b[i].op1), a,
            space_op_name(b[i].op2), d);
  }
  fprintf(f, "  out = concat(");
  for (int k = 0, first = 1; k < nb + 2; k++) {
    if (!((cat >> k) & 1)) continue;
    char nm[16];
    input_name(k, nm, sizeof nm);
    fprintf(f, "%s%s", first ? "" : ", ", nm);
    first = 0;
  }
  fprintf(f, ")\n");
  // Which block outputs feed later blocks.
  for (int i = 0; i < nb; i++) {
    int used = 0;
    for (int j = i + 1; j < nb; j++) {
      if (b[j].in1 == i + 2 || b[j].in2 == i + 2) {
        if (!used) fprintf(f, "  b%d feeds", i + 1);
        fprintf(f, " b%d", j + 1);
        used = 1;
      }
    }
    if (used) fputc('\n', f);
  }
}

int show_write_text(const space_cell *c, FILE *f) {
  char text[SPACE_TEXT_MAX], canon[SPACE_TEXT_MAX];
  space_cell k = *c;
  space_format(c, text, sizeof text);
  space_canon(&k);
  space_format(&k, canon, sizeof canon);
  fprintf(f, "cell       %s\n", text);
  fprintf(f, "canonical  %s\n", canon);
  fprintf(f, "hash       %016" PRIx64 "\n", space_hash(c));
  if (space_is_pair(c))
    fprintf(f, "space      NASNet: a normal cell, and a reduction cell before normal cells N "
               "and 2N\n");
  text_cell(c, 0, f);
  if (space_is_pair(c)) text_cell(c, 1, f);
  return ferror(f) ? -1 : 0;
}

// Fill colour by the operator's family (searchspace/ops.h).
static const char *op_color(int op) {
  const space_op_def *d = space_op_def_of(op);
  switch (d ? d->family : SPACE_FAMILY_CONV) {
  case SPACE_FAMILY_SEP:
    return "#fff2cc"; // separable convs
  case SPACE_FAMILY_POOL:
    return "#d0e0e3"; // pooling
  case SPACE_FAMILY_IDENTITY:
    return "#eeeeee";
  default:
    return "#f4cccc"; // other convs
  }
}

// DOT node id of input `in` in the cell with node prefix p.
static void input_node(const char *p, int in, char *buf, size_t n) {
  if (in < 2)
    snprintf(buf, n, "%sin%d", p, in);
  else
    snprintf(buf, n, "%sb%d", p, in - 1);
}

// One cell's nodes and edges; p prefixes the node ids ("" for a PNAS cell, "n_"/"r_" in a pair).
static void dot_cell(const space_cell *c, int kind, const char *p, const char *ind, FILE *f) {
  int nb;
  const space_block *b = space_cell_blocks(c, kind, &nb);
  unsigned cat = space_concat_mask(c, kind);
  fprintf(f, "%s%sin0 [label=\"H[c-1]\", shape=box, style=filled, fillcolor=\"#cfe2f3\"];\n", ind, p);
  fprintf(f, "%s%sin1 [label=\"H[c-2]\", shape=box, style=filled, fillcolor=\"#cfe2f3\"];\n", ind, p);
  fprintf(f, "%s{ rank=same; %sin0; %sin1; }\n", ind, p, p);
  for (int i = 0; i < nb; i++) {
    int ins[2] = {b[i].in1, b[i].in2}, ops[2] = {b[i].op1, b[i].op2};
    const char *side[2] = {"l", "r"};
    for (int s = 0; s < 2; s++) {
      char src[24];
      input_node(p, ins[s], src, sizeof src);
      fprintf(f, "%s%sb%d_%s [label=\"%s\", shape=box, style=\"rounded,filled\", fillcolor=\"%s\"];\n",
              ind, p, i + 1, side[s], space_op_name(ops[s]), op_color(ops[s]));
      fprintf(f, "%s%s -> %sb%d_%s;\n", ind, src, p, i + 1, side[s]);
    }
    fprintf(f, "%s%sb%d [label=\"+\\nblock %d\", shape=ellipse];\n", ind, p, i + 1, i + 1);
    fprintf(f, "%s%sb%d_l -> %sb%d;\n%s%sb%d_r -> %sb%d;\n", ind, p, i + 1, p, i + 1, ind, p, i + 1,
            p, i + 1);
  }
  fprintf(f, "%s%sout [label=\"concat\\nH[c]\", shape=box, style=filled, fillcolor=\"#d9ead3\"];\n",
          ind, p);
  for (int k = 0; k < nb + 2; k++) {
    if (!((cat >> k) & 1)) continue;
    char src[24];
    input_node(p, k, src, sizeof src);
    fprintf(f, "%s%s -> %sout;\n", ind, src, p);
  }
}

int show_write_dot(const space_cell *c, FILE *f) {
  char text[SPACE_TEXT_MAX];
  space_format(c, text, sizeof text);
  fprintf(f, "// PNAS cell %s (pnas show --format dot)\n", text);
  fprintf(f, "digraph pnas_cell {\n");
  fprintf(f, "  label=\"%s\";\n  labelloc=t;\n  fontname=\"Helvetica\";\n  fontsize=12;\n", text);
  fprintf(f, "  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=11];\n");
  fprintf(f, "  edge [color=\"#555555\"];\n");
  if (!space_is_pair(c)) {
    dot_cell(c, 0, "", "  ", f);
  } else { // NASNet's pair: one cluster per cell
    for (int kind = 0; kind < 2; kind++) {
      fprintf(f, "  subgraph cluster_%s {\n    label=\"%s cell\";\n", kind ? "reduction" : "normal",
              kind ? "reduction" : "normal");
      dot_cell(c, kind, kind ? "r_" : "n_", "    ", f);
      fprintf(f, "  }\n");
    }
  }
  fprintf(f, "}\n");
  return ferror(f) ? -1 : 0;
}

int show_find_on_path(const char *name, char *buf, size_t n) {
  const char *path = getenv("PATH");
  if (!path || !*path) return -1;
  const char *p = path;
  while (1) {
    const char *colon = strchr(p, ':');
    size_t len = colon ? (size_t)(colon - p) : strlen(p);
    // An empty PATH entry means the current directory.
    int k = len ? snprintf(buf, n, "%.*s/%s", (int)len, p, name) : snprintf(buf, n, "./%s", name);
    struct stat st;
    if (k > 0 && (size_t)k < n && stat(buf, &st) == 0 && S_ISREG(st.st_mode) &&
        access(buf, X_OK) == 0)
      return 0;
    if (!colon) break;
    p = colon + 1;
  }
  return -1;
}

int show_write_svg(const space_cell *c, const char *out_path, char *err, size_t errlen) {
  char dot[4096];
  if (show_find_on_path("dot", dot, sizeof dot)) {
    pnas_seterr(err, errlen,
            "Graphviz 'dot' not found on PATH (install graphviz, or use --format dot and render "
            "it elsewhere)");
    return -1;
  }
  int fds[2];
  if (pipe(fds) != 0) {
    pnas_seterr(err, errlen, "pipe: %s", strerror(errno));
    return -1;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  posix_spawn_file_actions_addclose(&fa, fds[1]);
  char *argv_out[] = {dot, "-Tsvg", "-o", (char *)out_path, NULL};
  char *argv_std[] = {dot, "-Tsvg", NULL};
  fflush(stdout); // the child writes to the same stdout
  pid_t pid;
  int rc = posix_spawn(&pid, dot, &fa, NULL, out_path ? argv_out : argv_std, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[0]);
  if (rc != 0) {
    close(fds[1]);
    pnas_seterr(err, errlen, "cannot run %s: %s", dot, strerror(rc));
    return -1;
  }
  // If dot dies early, a write to the pipe must fail with EPIPE rather than kill us.
  void (*old)(int) = signal(SIGPIPE, SIG_IGN);
  FILE *f = fdopen(fds[1], "w");
  int werr = 0;
  if (!f) {
    close(fds[1]);
    werr = 1;
  } else {
    werr = show_write_dot(c, f) != 0;
    if (fclose(f) != 0) werr = 1;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  signal(SIGPIPE, old);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    pnas_seterr(err, errlen, "%s -Tsvg failed (%s %d)%s%s", dot,
            WIFEXITED(status) ? "exit status" : "signal",
            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), out_path ? " writing " : "",
            out_path ? out_path : "");
    return -1;
  }
  if (werr) {
    pnas_seterr(err, errlen, "could not send the graph to %s", dot);
    return -1;
  }
  return 0;
}
