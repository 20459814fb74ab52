// `pnas predict --model FILE --cell CELL [--cell CELL ...] [--file PATH] [--json]`: loads a
// saved predictor ensemble (predictor/predictor.h) and prints each cell's predicted accuracy,
// the members' mean and spread (population std). It does not fit anything.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/args.h"
#include "pnas/cli/cli.h"
#include "predictor/predictor.h"
#include "searchspace/cell.h"

static const char USAGE[] =
    "usage: pnas predict --model FILE --cell CELL [--cell CELL ...] [--file PATH] [--json]\n"
    "                    [--threads N]\n"
    "Prints the predicted accuracy (mean and spread over the ensemble members) of each cell.\n"
    "  --model FILE   predictor file written by the search or `pnas predictor retrain`\n"
    "  --cell CELL    a cell in text form (I1:O1,I2:O2;...) or a built-in name; repeatable\n"
    "  --file PATH    also read cells from PATH, one per line ('-' = stdin; # comments)\n"
    "  --json         one JSON object instead of text\n"
    "  --threads N    scoring threads (default: OpenMP's default)\n"
    "example: pnas predict --model runs/a/predictor-L2.msgpack --cell '0:sep3x3,1:max3x3'\n";

typedef struct {
  space_cell *c;
  char **text;
  int n, cap;
} cell_list;

static int add_cell(cell_list *l, const char *text) {
  space_cell c;
  char err[256];
  if (space_parse(text, &c, err, sizeof err)) {
    fprintf(stderr, "pnas predict: bad cell '%s': %s\n", text, err);
    return 2;
  }
  if (space_check(&c, SPACE_ALL_OPS, err, sizeof err)) {
    fprintf(stderr, "pnas predict: bad cell '%s': %s\n", text, err);
    return 2;
  }
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 16;
    space_cell *nc = realloc(l->c, (size_t)cap * sizeof *nc);
    if (nc) l->c = nc;
    char **nt = realloc(l->text, (size_t)cap * sizeof *nt);
    if (nt) l->text = nt;
    if (!nc || !nt) {
      fprintf(stderr, "pnas predict: out of memory\n");
      return 1;
    }
    l->cap = cap;
  }
  space_canon(&c);
  char buf[SPACE_TEXT_MAX];
  space_format(&c, buf, sizeof buf);
  l->text[l->n] = strdup(buf);
  if (!l->text[l->n]) {
    fprintf(stderr, "pnas predict: out of memory\n");
    return 1;
  }
  l->c[l->n++] = c;
  return 0;
}

static int read_file(cell_list *l, const char *path) {
  FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
  if (!f) {
    fprintf(stderr, "pnas predict: %s: cannot open\n", path);
    return 1;
  }
  char line[4096];
  int rc = 0;
  while (!rc && fgets(line, sizeof line, f)) {
    char *s = line, *e;
    while (*s == ' ' || *s == '\t') s++;
    e = s + strcspn(s, "#\r\n");
    while (e > s && (e[-1] == ' ' || e[-1] == '\t')) e--;
    *e = '\0';
    if (*s) rc = add_cell(l, s);
  }
  if (f != stdin) fclose(f);
  return rc;
}

static void json_str(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') putchar('\\');
    if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
    else putchar(*s);
  }
  putchar('"');
}

int cmd_predict(int argc, char **argv) {
  const char *model = NULL, *file = NULL;
  int json = 0, threads = 0;
  cell_list cells = {0};
  int rc = 0;
  // --cell repeats, which the shared flag parser does not do: take those out first.
  char **rest = malloc((size_t)(argc + 1) * sizeof *rest);
  if (!rest) {
    fprintf(stderr, "pnas predict: out of memory\n");
    return 1;
  }
  int nrest = 0;
  for (int i = 0; i < argc && !rc; i++) {
    if (i > 0 && !strcmp(argv[i], "--cell")) {
      if (i + 1 >= argc) {
        fprintf(stderr, "pnas predict: --cell needs a value\n");
        rc = 2;
      } else {
        rc = add_cell(&cells, argv[++i]);
      }
    } else if (i > 0 && !strncmp(argv[i], "--cell=", 7)) {
      rc = add_cell(&cells, argv[i] + 7);
    } else {
      rest[nrest++] = argv[i];
    }
  }
  arg_spec specs[] = {
      {"model", ARG_STR, &model, 0, -1, NULL},
      {"file", ARG_STR, &file, 0, -1, NULL},
      {"json", ARG_FLAG, &json, 0, -1, NULL},
      {"threads", ARG_INT, &threads, 0, 1024, NULL},
  };
  if (!rc) {
    rc = args_parse("pnas predict", USAGE, nrest, rest, 1, specs, sizeof specs / sizeof specs[0],
                    NULL, 0, NULL);
    if (rc == 3) rc = -1; // --help: exit 0 below
  }
  if (!rc && file) rc = read_file(&cells, file);
  if (!rc && !model) {
    fprintf(stderr, "pnas predict: --model is required (see --help)\n");
    rc = 2;
  }
  if (!rc && cells.n == 0) {
    fprintf(stderr, "pnas predict: give at least one --cell (or --file)\n");
    rc = 2;
  }
  pred_ensemble *e = NULL;
  float *mean = NULL, *sd = NULL;
  char err[512];
  if (!rc) {
    if (pred_ensemble_load(&e, model, err, sizeof err)) {
      fprintf(stderr, "pnas predict: %s\n", err);
      rc = 1;
    }
  }
  if (!rc) {
    mean = malloc((size_t)cells.n * sizeof *mean);
    sd = malloc((size_t)cells.n * sizeof *sd);
    if (!mean || !sd) {
      fprintf(stderr, "pnas predict: out of memory\n");
      rc = 1;
    } else if (pred_ensemble_predict(e, cells.c, cells.n, mean, sd, threads, err, sizeof err)) {
      fprintf(stderr, "pnas predict: %s\n", err);
      rc = 1;
    }
  }
  // Never print nan: finite weights (checked at load) can still overflow to inf or nan.
  for (int i = 0; !rc && i < cells.n; i++)
    if (!isfinite(mean[i]) || !isfinite(sd[i])) {
      fprintf(stderr, "pnas predict: %s: the predictor gives a non-finite score for cell %s; "
                      "the model is diverged or damaged: refit it (pnas predictor retrain)\n",
              model, cells.text[i]);
      rc = 1;
    }
  // What the predictor was fitted on: a score outside it is an extrapolation, and says so.
  uint32_t dom_ops = 0;
  int dom_blocks = 0, dom_cells = 0, dom_known = 0, outside = 0;
  char dom_ops_text[160] = "";
  if (!rc) {
    dom_known = pred_ensemble_domain(e, &dom_ops, &dom_blocks, &dom_cells) == 0;
    if (dom_known) space_format_ops(dom_ops, dom_ops_text, sizeof dom_ops_text);
    for (int i = 0; i < cells.n; i++) outside += pred_ensemble_covers(e, &cells.c[i], NULL, 0) == 0;
    if (!dom_known)
      fprintf(stderr, "pnas predict: %s does not record what it was fitted on (written by an "
                      "older pnas): cannot tell interpolation from extrapolation\n", model);
    else if (outside)
      fprintf(stderr, "pnas predict: %d of %d cells lie outside what the predictor was fitted on "
                      "(%d cells of <= %d blocks, operators %s): their scores are extrapolations, "
                      "marked as such\n", outside, cells.n, dom_cells, dom_blocks, dom_ops_text);
  }
  if (!rc) {
    if (json) {
      printf("{\"model\": ");
      json_str(model);
      printf(", \"kind\": \"%s\", \"members\": %d, \"predictions\": [",
             pred_kind_name(pred_ensemble_kind(e)), pred_ensemble_members(e));
      for (int i = 0; i < cells.n; i++) {
        printf("%s{\"cell\": ", i ? ", " : "");
        json_str(cells.text[i]);
        printf(", \"mean\": %.6f, \"std\": %.6f", mean[i], sd[i]);
        char why[160];
        int in = pred_ensemble_covers(e, &cells.c[i], why, sizeof why);
        printf(", \"within_fit\": %s", in < 0 ? "null" : in ? "true" : "false");
        if (in == 0) {
          printf(", \"extrapolated\": ");
          json_str(why);
        }
        putchar('}');
      }
      printf("], \"fitted_on\": ");
      if (dom_known)
        printf("{\"cells\": %d, \"max_blocks\": %d, \"ops\": \"%s\"}", dom_cells, dom_blocks,
               dom_ops_text);
      else
        printf("null");
      printf("}\n");
    } else {
      for (int i = 0; i < cells.n; i++) {
        char why[160];
        if (pred_ensemble_covers(e, &cells.c[i], why, sizeof why) == 0)
          printf("%.4f +- %.4f  %s  [extrapolated: %s]\n", mean[i], sd[i], cells.text[i], why);
        else
          printf("%.4f +- %.4f  %s\n", mean[i], sd[i], cells.text[i]);
      }
    }
    if (fflush(stdout) || ferror(stdout)) {
      fprintf(stderr, "pnas predict: cannot write the output: %s\n", strerror(errno));
      rc = 1;
    }
  }
  pred_ensemble_free(e);
  free(mean);
  free(sd);
  for (int i = 0; i < cells.n; i++) free(cells.text[i]);
  free(cells.c);
  free(cells.text);
  free(rest);
  return rc < 0 ? 0 : rc;
}
