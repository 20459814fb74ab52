// Rank 0's dispatcher (pnas/mpi_pool.h): a table of submitted children, each queued, training on
// a worker, following an identical child already in training, or ready to be handed back; free
// workers get the oldest queued child. Rank 0 alone reads and writes the store, in the order the
// results arrive. In one process it defers to search_eval, exactly as the harness always did.
#include "pnas/mpi_pool.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pnas/mpi_world.h"

typedef enum { JOB_QUEUED, JOB_RUNNING, JOB_FOLLOW, JOB_READY } job_state;

typedef struct {
  space_cell cell;    // canonical
  uint64_t hash;
  int level;
  double predicted;
  int ticket;
  job_state state;
  uint32_t id;        // unique per pool; a result names it
  uint32_t leader;    // JOB_FOLLOW: id of the identical child in training
  int worker;         // JOB_RUNNING: its rank
  store_record rec;   // JOB_READY
  int cached;
} pool_job;

struct mpi_pool {
  search_ctx *s;
  int workers;        // 0: evaluate in this process
  pool_job *jobs;     // submitted and not yet returned, in submission order
  int n, cap;
  uint32_t next_id;
  int *running;       // per rank (index 1..workers): id of its job + 1, 0 when idle
  int failed;         // an error left workers in an unknown state
  mpi_msg *out;       // the job message: this search's settings, the child filled in per send
  mpi_msg *in;        // the last message received
};

int mpi_pool_open(mpi_pool **out, search_ctx *s, char *err, size_t errlen) {
  mpi_pool *p = calloc(1, sizeof *p);
  if (!p) goto oom;
  p->s = s;
  p->workers = mpi_world_workers();
  if (p->workers) {
    p->running = calloc((size_t)p->workers + 1, sizeof *p->running);
    p->out = calloc(1, sizeof *p->out); // ~3 KB each: a job carries its settings text
    p->in = calloc(1, sizeof *p->in);
    if (!p->running || !p->out || !p->in) goto oom;
    // What every job of this search shares: its training settings.
    const search_config *cfg = search_ctx_config(s);
    p->out->type = PNAS_MPI_JOB;
    mpi_job *j = &p->out->u.job;
    search_settings_string(cfg, j->settings_text, sizeof j->settings_text);
    j->settings = search_ctx_settings(s);
    if (store_settings_hash(j->settings_text) != j->settings) {
      snprintf(err, errlen, "internal error: training settings do not match their hash (longer "
                            "than %d bytes?)", PNAS_MPI_SETTINGS_MAX);
      mpi_pool_close(p);
      return -1;
    }
    snprintf(j->strategy, sizeof j->strategy, "%s", cfg->strategy);
    snprintf(j->device, sizeof j->device, "%s", cfg->device);
    j->threads = cfg->threads;
    mpi_world_set_run_dir(store_dir(search_ctx_store(s)));
  }
  *out = p;
  return 0;
oom:
  mpi_pool_close(p);
  snprintf(err, errlen, "out of memory");
  return -1;
}

int mpi_pool_capacity(const mpi_pool *p) { return p->workers > 0 ? p->workers : 1; }
int mpi_pool_pending(const mpi_pool *p) { return p->n; }

static pool_job *find_id(mpi_pool *p, uint32_t id) {
  for (int i = 0; i < p->n; i++)
    if (p->jobs[i].id == id) return &p->jobs[i];
  return NULL;
}

static int push_job(mpi_pool *p, pool_job **out) {
  if (p->n == p->cap) {
    int nc = p->cap ? p->cap * 2 : 64;
    pool_job *nj = realloc(p->jobs, sizeof *nj * (size_t)nc);
    if (!nj) return -1;
    p->jobs = nj;
    p->cap = nc;
  }
  *out = &p->jobs[p->n++];
  memset(*out, 0, sizeof **out);
  (*out)->id = p->next_id++;
  return 0;
}

// Hands the oldest queued children to idle workers.
static int dispatch(mpi_pool *p, char *err, size_t errlen) {
  int qi = 0;
  for (int w = 1; w <= p->workers; w++) {
    if (p->running[w]) continue;
    while (qi < p->n && p->jobs[qi].state != JOB_QUEUED) qi++;
    if (qi == p->n) return 0;
    pool_job *jb = &p->jobs[qi];
    mpi_job *j = &p->out->u.job;
    j->id = jb->id;
    j->cell = jb->cell;
    j->level = jb->level;
    j->predicted = jb->predicted;
    if (mpi_world_send(w, p->out, err, errlen)) {
      p->failed = 1;
      return -1;
    }
    jb->state = JOB_RUNNING;
    jb->worker = w;
    p->running[w] = (int)jb->id + 1;
    mpi_world_busy_add(1);
  }
  return 0;
}

int mpi_pool_submit(mpi_pool *p, const space_cell *c, int level, double predicted, int ticket,
                    char *err, size_t errlen) {
  pool_job *jb;
  if (push_job(p, &jb)) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  jb->cell = *c;
  space_canon(&jb->cell);
  jb->hash = space_hash(&jb->cell);
  jb->level = level;
  jb->predicted = predicted;
  jb->ticket = ticket;
  jb->state = JOB_QUEUED;
  if (!p->workers) return 0; // in-process: search_eval does everything when it is waited for
  int found = search_lookup(p->s, &jb->cell, level, predicted, &jb->rec, err, errlen);
  if (found < 0) {
    p->n--;
    return -1;
  }
  if (found) {
    jb->state = JOB_READY;
    jb->cached = 1;
    return 0;
  }
  // The same cell submitted twice (an RL minibatch can sample it twice): train it once; the
  // second copy then finds it in the store, as it would in one process.
  for (int i = 0; i < p->n - 1; i++) {
    const pool_job *o = &p->jobs[i];
    if (o->hash == jb->hash && o->state != JOB_READY) {
      jb->state = JOB_FOLLOW;
      jb->leader = o->state == JOB_FOLLOW ? o->leader : o->id;
      return 0;
    }
  }
  return dispatch(p, err, errlen);
}

// Takes job i out of the table into the caller's outputs.
static void hand_back(mpi_pool *p, int i, store_record *out, int *cached, int *ticket) {
  *out = p->jobs[i].rec;
  *cached = p->jobs[i].cached;
  *ticket = p->jobs[i].ticket;
  memmove(&p->jobs[i], &p->jobs[i + 1], sizeof *p->jobs * (size_t)(p->n - i - 1));
  p->n--;
}

// One message from a worker: a result is checked, committed to the store and made ready, with
// any identical children that waited for it.
static int receive(mpi_pool *p, char *err, size_t errlen) {
  int src = -1;
  char e[1024];
  const char *dir = store_dir(search_ctx_store(p->s));
  if (mpi_world_recv(-1, p->in, &src, -1, e, sizeof e) < 0) {
    snprintf(err, errlen, "MPI: %s (finished children are saved; continue with: pnas search "
                          "--resume %s)", e, dir);
    return -1;
  }
  const mpi_msg *m = p->in;
  if (m->type == PNAS_MPI_ERROR) {
    snprintf(err, errlen, "worker rank %d failed: %s (finished children are saved; fix it and "
                          "continue with: pnas search --resume %s)", src, m->u.error, dir);
    return -1;
  }
  if (m->type != PNAS_MPI_RESULT || src < 1 || src > p->workers || !p->running[src] ||
      (uint32_t)(p->running[src] - 1) != m->u.result.id) {
    snprintf(err, errlen, "protocol error: unexpected %s message from rank %d",
             mpi_msg_type_name(m->type), src);
    return -1;
  }
  pool_job *jb = find_id(p, m->u.result.id);
  store_record r = m->u.result.rec;
  if (!jb || jb->state != JOB_RUNNING || r.hash != jb->hash ||
      r.settings != search_ctx_settings(p->s)) {
    snprintf(err, errlen, "protocol error: rank %d answered job %u with another child or other "
                          "training settings", src, m->u.result.id);
    return -1;
  }
  p->running[src] = 0;
  mpi_world_busy_add(-1);
  // Rank 0 owns what the record says about the search; the worker owns the measurement.
  r.cell = jb->cell;
  r.level = jb->level;
  r.predicted = jb->predicted;
  snprintf(r.strategy, sizeof r.strategy, "%s", search_ctx_config(p->s)->strategy);
  r.seq = 0;
  r.time = 0;
  if (search_commit(p->s, &r, err, errlen)) return -1;
  jb->rec = r;
  jb->cached = 0;
  jb->state = JOB_READY;
  uint32_t id = jb->id;
  for (int i = 0; i < p->n; i++) {
    pool_job *f = &p->jobs[i];
    if (f->state != JOB_FOLLOW || f->leader != id) continue;
    int found = search_lookup(p->s, &f->cell, f->level, f->predicted, &f->rec, err, errlen);
    if (found < 0) return -1;
    if (!found) {
      snprintf(err, errlen, "internal error: a committed child is not in the store");
      return -1;
    }
    f->state = JOB_READY;
    f->cached = 1;
  }
  return dispatch(p, err, errlen);
}

int mpi_pool_wait(mpi_pool *p, store_record *out, int *cached, int *ticket, char *err,
                  size_t errlen) {
  if (p->n == 0) return 0;
  if (!p->workers) {
    pool_job jb = p->jobs[0];
    memmove(&p->jobs[0], &p->jobs[1], sizeof *p->jobs * (size_t)(p->n - 1));
    p->n--;
    if (search_eval(p->s, &jb.cell, jb.level, jb.predicted, out, cached, err, errlen)) return -1;
    *ticket = jb.ticket;
    return 1;
  }
  for (;;) {
    for (int i = 0; i < p->n; i++)
      if (p->jobs[i].state == JOB_READY) {
        hand_back(p, i, out, cached, ticket);
        return 1;
      }
    if (receive(p, err, errlen)) {
      p->failed = 1;
      return -1;
    }
  }
}

void mpi_pool_close(mpi_pool *p) {
  if (!p) return;
  if (p->workers && !p->failed) {
    // Children still training were submitted but never waited for (an asynchronous strategy
    // that stopped early): take their results off the wire so the workers are free and idle.
    for (int w = 1; w <= p->workers; w++) {
      while (p->running[w]) {
        int src;
        char e[512] = "unexpected message";
        if (mpi_world_recv(-1, p->in, &src, -1, e, sizeof e) < 0 ||
            p->in->type != PNAS_MPI_RESULT || src < 1 || src > p->workers || !p->running[src]) {
          fprintf(stderr, "pnas: MPI: while draining the workers: %s\n",
                  p->in->type == PNAS_MPI_ERROR ? p->in->u.error : e);
          p->failed = 1;
          break;
        }
        p->running[src] = 0;
        mpi_world_busy_add(-1);
      }
      if (p->failed) break;
    }
  }
  free(p->jobs);
  free(p->running);
  free(p->out);
  free(p->in);
  free(p);
}
