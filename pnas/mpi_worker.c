// The loop of a worker rank (ranks 1..P-1 of `mpirun -np P pnas search ...`): say hello, train
// every job rank 0 sends and answer with the child's record, until "stop". A worker never opens
// the run directory (only rank 0 writes the store). A child that fails to train is a result with
// ok = 0; a worker that cannot train at all (dataset missing, bad message) reports an error.
#ifdef PNAS_HAVE_MPI

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pnas/mpi_world.h"
#include "pnas/search.h"

// GPUs this worker may use: none for now, every worker trains on the CPU (untested on GPUs, so
// not enabled). HOOK for one GPU per worker: the "cuda" backend opens device 0, so count the GPUs
// here without initialising CUDA (CUDA_VISIBLE_DEVICES, else /proc/driver/nvidia/gpus), set
// CUDA_VISIBLE_DEVICES to the one mpi_pick_gpu(local rank, count) picks before any CUDA call,
// pass the job's --device instead of "cpu" in config_from_job, and let rank 0 accept --device
// cuda under MPI (search.c choose_device). The hello then names "cuda:<n>".
static int worker_gpus(void) { return 0; }

// The job's training settings ("name=value;..." from search_settings_string) go back through the
// CLI flag table, so every field that keys the cache travels without a list kept here; the
// round trip is checked against the text and its hash.
static int config_from_job(const mpi_job *j, search_config *cfg, char *err, size_t errlen) {
  search_config_default(cfg);
  size_t n = strlen(j->settings_text);
  char *buf = malloc(2 * n + 64);
  char *argv[130];
  int argc = 0;
  if (!buf) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  argv[argc++] = "pnas-worker";
  char *w = buf;
  const char *p = j->settings_text;
  while (*p && argc < 129) {
    const char *e = strchr(p, ';');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    argv[argc++] = w;
    w[0] = '-', w[1] = '-';
    memcpy(w + 2, p, len);
    w[2 + len] = '\0';
    w += len + 3;
    p += len + (e ? 1 : 0);
  }
  arg_spec specs[64];
  int ns = search_config_args(cfg, specs, 64);
  int rc = args_parse("pnas worker", "", argc, argv, 1, specs, ns, NULL, 0, NULL);
  free(buf);
  if (rc) {
    snprintf(err, errlen, "cannot read the training settings of a job: %.900s", j->settings_text);
    return -1;
  }
  snprintf(cfg->strategy, sizeof cfg->strategy, "%s", j->strategy);
  // CPU until workers get GPUs (see worker_gpus); rank 0 already rejected --device cuda.
  snprintf(cfg->device, sizeof cfg->device, "cpu");
  // --threads 0 means "all cores": shared by the workers of this node, not taken by each.
  int t = mpi_world_cpus() / mpi_world_local_workers();
  cfg->threads = j->threads > 0 ? j->threads : t > 0 ? t : 1;
  char again[PNAS_MPI_SETTINGS_MAX];
  search_settings_string(cfg, again, sizeof again);
  if (strcmp(again, j->settings_text) || store_settings_hash(again) != j->settings) {
    snprintf(err, errlen, "the training settings of a job do not survive the round trip (a "
                          "value containing ';'?): %.900s", j->settings_text);
    return -1;
  }
  return 0;
}

static void report(int rank, const char *what) {
  fprintf(stderr, "pnas: worker rank %d: %s\n", rank, what);
  mpi_msg m = {.type = PNAS_MPI_ERROR};
  snprintf(m.u.error, sizeof m.u.error, "%s", what);
  char err[256];
  if (mpi_world_send(0, &m, err, sizeof err))
    fprintf(stderr, "pnas: worker rank %d: cannot report to rank 0: %s\n", rank, err);
}

int mpi_worker_run(void) {
  int rank = mpi_world_rank();
  char err[1200];
  mpi_msg *m = calloc(1, sizeof *m); // ~3 KB: a job with its settings text
  if (!m) {
    fprintf(stderr, "pnas: worker rank %d: out of memory\n", rank);
    return 1;
  }
  m->type = PNAS_MPI_HELLO;
  mpi_hello *h = &m->u.hello;
  h->rank = rank;
  h->pid = (int64_t)getpid();
  if (gethostname(h->host, sizeof h->host)) snprintf(h->host, sizeof h->host, "?");
  h->host[sizeof h->host - 1] = '\0';
  h->local_rank = mpi_world_local_rank();
  h->local_workers = mpi_world_local_workers();
  h->gpu = mpi_pick_gpu(h->local_rank, worker_gpus());
  snprintf(h->device, sizeof h->device, "cpu");
  if (mpi_world_send(0, m, err, sizeof err)) {
    fprintf(stderr, "pnas: worker rank %d: %s\n", rank, err);
    free(m);
    return 1;
  }
  search_ctx *ctx = NULL;
  uint64_t ctx_settings = 0;
  char ctx_strategy[16] = "";
  int ctx_threads = -1, failed = 0, rc = 0;
  for (;;) {
    if (mpi_world_recv(0, m, NULL, -1, err, sizeof err) < 0) {
      // Rank 0 is gone or sent garbage: nothing sensible is left to do here.
      fprintf(stderr, "pnas: worker rank %d: %s\n", rank, err);
      rc = 1;
      break;
    }
    if (m->type == PNAS_MPI_STOP) break;
    if (failed) continue; // rank 0 has our error; it stops or aborts the job
    if (m->type != PNAS_MPI_JOB) {
      snprintf(err, sizeof err, "unexpected %s message from rank 0", mpi_msg_type_name(m->type));
      report(rank, err);
      failed = 1;
      continue;
    }
    const mpi_job *j = &m->u.job;
    if (!ctx || j->settings != ctx_settings || j->threads != ctx_threads ||
        strcmp(j->strategy, ctx_strategy)) {
      search_ctx_close(ctx);
      ctx = NULL;
      search_config cfg;
      if (config_from_job(j, &cfg, err, sizeof err) ||
          search_ctx_open(&ctx, &cfg, NULL, 0, 0, err, sizeof err)) {
        report(rank, err);
        failed = 1;
        continue;
      }
      ctx_settings = j->settings;
      ctx_threads = j->threads;
      snprintf(ctx_strategy, sizeof ctx_strategy, "%s", j->strategy);
    }
    mpi_result res;
    res.id = j->id;
    search_train_record(ctx, &j->cell, j->level, j->predicted, &res.rec);
    m->type = PNAS_MPI_RESULT;
    m->u.result = res;
    if (mpi_world_send(0, m, err, sizeof err)) {
      fprintf(stderr, "pnas: worker rank %d: %s\n", rank, err);
      rc = 1;
      break;
    }
  }
  search_ctx_close(ctx);
  free(m);
  return rc;
}

#endif
