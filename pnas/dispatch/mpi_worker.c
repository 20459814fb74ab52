// The loop of a worker rank (ranks 1..P-1 of `mpirun -np P pnas search ...`): say hello, train
// every job rank 0 sends and answer with the child's record, until "stop". A worker never opens
// the run directory (only rank 0 writes the store). A child that fails to train is a result with
// ok = 0; a worker that cannot train at all (dataset missing, bad message) reports an error.
// Each worker takes one GPU of its node (local rank mod GPUs) through CUDA_VISIBLE_DEVICES before
// any CUDA call, and trains with the search's --device.
#ifdef PNAS_HAVE_MPI

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include "pnas/dispatch/mpi_world.h"
#include "pnas/search/search.h"

// GPUs on this node, counted without initialising CUDA (a process picks its GPU through
// CUDA_VISIBLE_DEVICES, which must be set before its first CUDA call): the entries of
// CUDA_VISIBLE_DEVICES when it is set (copied to *list), else the entries of
// /proc/driver/nvidia/gpus (the driver's list). 0: no GPU, the worker trains on the CPU.
static int worker_gpus(char *list, size_t listlen) {
  list[0] = '\0';
  const char *v = getenv("CUDA_VISIBLE_DEVICES");
  if (v) {
    snprintf(list, listlen, "%s", v);
    if (!*v) return 0;
    int n = 1;
    for (const char *p = v; *p; p++) n += *p == ',';
    return n;
  }
  DIR *d = opendir("/proc/driver/nvidia/gpus");
  if (!d) return 0;
  int n = 0;
  for (struct dirent *e; (e = readdir(d));)
    n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

// One GPU per worker: local rank mod GPUs (mpi_pick_gpu), made the only visible device of this
// process. Returns the picked index (into the node's GPUs) or -1 (none: CPU).
static int worker_take_gpu(int local_rank) {
  char list[256];
  int n = worker_gpus(list, sizeof list);
  int g = mpi_pick_gpu(local_rank, n);
  if (g < 0) return -1;
  char one[64];
  if (list[0]) { // the g-th entry of the caller's list
    const char *p = list;
    for (int i = 0; i < g && p; i++) p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL;
    size_t len = p ? strcspn(p, ",") : 0;
    if (!p || !len || len >= sizeof one) return -1;
    memcpy(one, p, len);
    one[len] = '\0';
  } else {
    snprintf(one, sizeof one, "%d", g);
  }
  setenv("CUDA_VISIBLE_DEVICES", one, 1);
  return g;
}

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
  // The job's --device: cpu, cuda (this worker's GPU, see worker_take_gpu) or auto.
  snprintf(cfg->device, sizeof cfg->device, "%s", j->device[0] ? j->device : "cpu");
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
  h->gpu = worker_take_gpu(h->local_rank);
  if (h->gpu >= 0)
    snprintf(h->device, sizeof h->device, "gpu %.24s", getenv("CUDA_VISIBLE_DEVICES"));
  else
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

#else // !PNAS_HAVE_MPI: no worker ranks exist; mpi_world_start never calls this.

#include "pnas/dispatch/mpi_world.h"

int mpi_worker_run(void) { return 1; }

#endif
