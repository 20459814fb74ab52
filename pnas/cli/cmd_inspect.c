// `pnas inspect DIR [--json] [--salvage]`: a run's summary (per level: models, failures, best,
// mean), or every record as one JSON object per line.
#include <math.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pnas/cli/cli.h"
#include "pnas/search/search.h"

static const char USAGE[] = "usage: pnas inspect DIR [--json] [--salvage]\n"
                            "Summarises a run directory; --json prints every record of its "
                            "results log as one JSON object per line.\n"
                            "--salvage reads past corrupt records of the log (with a warning), "
                            "changing nothing\n(`pnas search --resume DIR --salvage` repairs "
                            "the log).\n"
                            "examples:\n"
                            "  pnas inspect runs/a\n"
                            "  pnas inspect runs/a --json | head\n"
                            "  pnas inspect runs/a --salvage\n";

// Output that cannot be written (a full disk, a closed pipe) is a failure, not a silent success.
static int flush_stdout(const char *cmd) {
  errno = 0;
  if (fflush(stdout) == 0 && !ferror(stdout)) return 0;
  fprintf(stderr, "%s: cannot write the output to stdout: %s\n", cmd,
          errno ? strerror(errno) : "write error");
  return 1;
}

int cmd_inspect(int argc, char **argv) {
  int json = 0, salvage = 0, npos = 0;
  const char *pos[1];
  arg_spec specs[] = {{"json", ARG_FLAG, &json, 0, -1, NULL},
                      {"salvage", ARG_FLAG, &salvage, 0, -1, NULL}};
  int rc = args_parse("pnas inspect", USAGE, argc, argv, 1, specs, 2, pos, 1, &npos);
  if (rc == 3) return 0;
  if (rc) return rc;
  if (npos != 1) {
    fprintf(stderr, "pnas inspect: give one run directory\n");
    return 2;
  }
  char path[1100], err[1024];
  snprintf(path, sizeof path, "%s/results.log", pos[0]);
  store_record *recs;
  int n;
  long torn;
  // Read-only: a torn tail is reported, never cut (inspect must not change a run).
  if (store_read_log(path, salvage, &recs, &n, &torn, err, sizeof err)) {
    fprintf(stderr, "pnas inspect: %s\n", err);
    return 1;
  }
  if (json) {
    char line[2048];
    for (int i = 0; i < n; i++) {
      store_record_json(&recs[i], line, sizeof line);
      puts(line);
    }
    free(recs);
    return flush_stdout("pnas inspect");
  }
  search_config cfg;
  if (search_config_load(&cfg, pos[0], err, sizeof err) == 0)
    printf("run %s: strategy %s, max-blocks %d, beam %d, ops %s, dataset %s, N=%d F=%d, "
           "epochs %d\n",
           pos[0], cfg.strategy, cfg.max_blocks, cfg.beam, cfg.ops, cfg.dataset, cfg.N, cfg.F,
           cfg.epochs);
  else
    printf("run %s (no readable config: %s)\n", pos[0], err);
  printf("%-6s %7s %7s %9s %9s %12s %9s\n", "level", "models", "failed", "best", "mean",
         "examples", "seconds");
  int best_i = -1;
  for (int l = 1; l <= SPACE_MAX_BLOCKS; l++) {
    int cnt = 0, fail = 0;
    double best = -1, sum = 0, secs = 0;
    long long ex = 0;
    for (int i = 0; i < n; i++) {
      if (recs[i].level != l) continue;
      cnt++;
      ex += recs[i].examples;
      secs += recs[i].seconds;
      if (!recs[i].ok) {
        fail++;
        continue;
      }
      sum += recs[i].val_acc;
      if (recs[i].val_acc > best) best = recs[i].val_acc;
      if (best_i < 0 || recs[i].level > recs[best_i].level ||
          (recs[i].level == recs[best_i].level && recs[i].val_acc > recs[best_i].val_acc))
        best_i = i;
    }
    if (!cnt) continue;
    printf("%-6d %7d %7d %9.4f %9.4f %12lld %9.1f\n", l, cnt, fail, best,
           cnt > fail ? sum / (cnt - fail) : NAN, ex, secs);
  }
  printf("%d records", n);
  if (torn >= 0) printf(" (a torn last record at offset %ld is ignored)", torn);
  printf("\n");
  if (best_i >= 0) {
    char text[SPACE_TEXT_MAX];
    space_format(&recs[best_i].cell, text, sizeof text);
    printf("best cell of the deepest level: %s  acc %.4f  params %lld  mult-adds %lld\n", text,
           recs[best_i].val_acc, (long long)recs[best_i].params,
           (long long)recs[best_i].mult_adds);
    // The best of every level (a shallower cell may be better and smaller); ties by cell hash.
    const store_record *over = NULL;
    for (int i = 0; i < n; i++)
      if (search_record_better(&recs[i], over)) over = &recs[i];
    if (over && over->val_acc > recs[best_i].val_acc) {
      space_format(&over->cell, text, sizeof text);
      printf("best cell overall (level %d): %s  acc %.4f  params %lld  mult-adds %lld\n",
             over->cell.nblocks, text, over->val_acc, (long long)over->params,
             (long long)over->mult_adds);
    }
  }
  for (int i = 0; i < n; i++)
    if (!recs[i].ok) {
      char text[SPACE_TEXT_MAX];
      space_format(&recs[i].cell, text, sizeof text);
      printf("failed: %s: %s\n", text, recs[i].reason);
    }
  free(recs);
  return flush_stdout("pnas inspect");
}
