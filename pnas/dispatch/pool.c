// Rank 0's dispatcher (pnas/dispatch/pool.h): a table of submitted children, each queued, training on
// a worker, following an identical child already in training, or ready to be handed back; free
// workers get the oldest queued child. A worker is an MPI rank (a job message out, a result
// message back) or an in-process thread (--jobs > 1: the job handed over under a mutex, the
// result signalled with a condition variable). Either way the calling thread alone reads and
// writes the store, in the order the results arrive. With neither it defers to search_eval,
// exactly as the harness always did.
#include "pnas/dispatch/pool.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/backend.h"
#include "pnas/dispatch/mpi_world.h"

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
  int worker;         // JOB_RUNNING: its rank or thread (1..workers)
  store_record rec;   // JOB_READY
  int cached;
  // threads only
  int overlapped;     // another child trained at the same time as this one
  int alone;          // ran out of memory next to others: trains with no other child running
} pool_job;

// One in-process worker thread. The fields after `status` are shared with the calling thread
// and guarded by the pool's mutex.
typedef struct {
  dispatch_pool *p;
  int index;          // 1..workers
  pthread_t tid;
  int started;        // pthread_create succeeded (to join)
  struct kn_device *dev; // its device on a device backend (NULL on the CPU)
  int status;         // 0 starting, 1 ready, -1 could not start (why)
  char why[256];
  int assigned;       // a job waits in id..predicted
  int busy;           // training it
  int finished;       // rec / memory hold its result
  uint32_t id;
  space_cell cell;
  int level;
  double predicted;
  store_record rec;
  size_t memory;
  uint64_t seq;       // arrival order of the result
} pool_thread;

struct dispatch_pool {
  search_ctx *s;
  int workers;        // 0: evaluate in this process with search_eval
  pool_job *jobs;     // submitted and not yet returned, in submission order
  int n, cap;
  uint32_t next_id;
  int *running;       // per worker (index 1..workers): id of its job + 1, 0 when idle
  int failed;         // an error left workers in an unknown state
  // MPI workers
  mpi_msg *out;       // the job message: this search's settings, the child filled in per send
  mpi_msg *in;        // the last message received
  // thread workers (--jobs > 1 in one process); th == NULL otherwise
  pool_thread *th;    // (workers + 1), index 0 unused
  int live;           // threads that started (the capacity)
  int child_threads;  // CPU threads per child
  pool_trainer train;
  size_t max_memory;
  int sync_init;
  pthread_mutex_t mu;
  pthread_cond_t work, done; // a job was handed out (or stop) / a result or a start-up status
  int stop;           // guarded by mu
  uint64_t arrivals;  // guarded by mu
};

static pool_trainer g_trainer; // tests only (pool_set_trainer)

void pool_set_trainer(pool_trainer f) { g_trainer = f; }

static int is_oom(const char *why) { return search_reason_is_oom(why); }

static void *thread_main(void *arg) {
  pool_thread *t = arg;
  dispatch_pool *p = t->p;
  const kn_backend *be = kn_backend_by_name(search_ctx_backend(p->s));
  char why[256] = "";
  int ok = 1;
  // A device backend: a device of its own (kernels/backend.h: not shared between threads).
  // Opened once per search and thread slot, then kept (search_ctx_device_slot): a PNAS level's
  // pool reuses the cuDNN plans the previous level's children made.
  kn_device **slot = search_ctx_device_slot(p->s, t->index - 1);
  if (be && be->dev_open && slot) {
    if (!*slot && be->dev_open(slot, why, sizeof why)) ok = 0;
    t->dev = *slot;
  } else if (be && be->dev_open) {
    snprintf(why, sizeof why, "no device slot for pool thread %d", t->index);
    ok = 0;
  }
  pthread_mutex_lock(&p->mu);
  t->status = ok ? 1 : -1;
  snprintf(t->why, sizeof t->why, "%s", why);
  pthread_cond_broadcast(&p->done);
  while (ok) {
    while (!t->assigned && !p->stop) pthread_cond_wait(&p->work, &p->mu);
    if (p->stop) break; // a job handed out but not started is dropped (see pool_close)
    t->assigned = 0;
    t->busy = 1;
    space_cell c = t->cell;
    int level = t->level;
    double predicted = t->predicted;
    pthread_mutex_unlock(&p->mu);
    store_record r;
    size_t mem = 0;
    p->train(p->s, t->dev, p->child_threads, &c, level, predicted, &r, &mem);
    pthread_mutex_lock(&p->mu);
    t->busy = 0;
    t->finished = 1;
    t->rec = r;
    t->memory = mem;
    t->seq = ++p->arrivals;
    pthread_cond_broadcast(&p->done);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

// --jobs J > 1 in one process: J threads, each training one child at a time with
// max(1, threads / J) CPU threads. 0 ok (at least one thread started), -1 with err.
static int open_threads(dispatch_pool *p, int jobs, char *err, size_t errlen) {
  const search_config *cfg = search_ctx_config(p->s);
  p->th = calloc((size_t)jobs + 1, sizeof *p->th);
  p->running = calloc((size_t)jobs + 1, sizeof *p->running);
  if (!p->th || !p->running) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  if (pthread_mutex_init(&p->mu, NULL)) {
    snprintf(err, errlen, "cannot create a mutex");
    return -1;
  }
  if (pthread_cond_init(&p->work, NULL)) {
    pthread_mutex_destroy(&p->mu);
    snprintf(err, errlen, "cannot create a condition variable");
    return -1;
  }
  if (pthread_cond_init(&p->done, NULL)) {
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->mu);
    snprintf(err, errlen, "cannot create a condition variable");
    return -1;
  }
  p->sync_init = 1;
  p->workers = jobs;
  int total = cfg->threads > 0 ? cfg->threads : mpi_world_cpus();
  p->child_threads = total / jobs > 1 ? total / jobs : 1;
  p->train = g_trainer ? g_trainer : search_train_record_dev;
  // Thread w trains on device slot w-1: slot 0 is the search's own device (the caller does not
  // train while a pool is open).
  for (int w = 1; w <= jobs; w++) {
    pool_thread *t = &p->th[w];
    t->p = p;
    t->index = w;
    if (pthread_create(&t->tid, NULL, thread_main, t) == 0) {
      t->started = 1;
    } else {
      t->status = -1;
      snprintf(t->why, sizeof t->why, "cannot start a thread");
    }
  }
  pthread_mutex_lock(&p->mu);
  for (int w = 1; w <= jobs; w++)
    while (p->th[w].status == 0) pthread_cond_wait(&p->done, &p->mu);
  pthread_mutex_unlock(&p->mu);
  const char *why = NULL;
  for (int w = 1; w <= jobs; w++) {
    if (p->th[w].status == 1) p->live++;
    else if (!why) why = p->th[w].why;
  }
  if (!p->live) {
    snprintf(err, errlen, "--jobs %d: no worker thread could start: %s", jobs, why);
    return -1;
  }
  if (p->live < jobs)
    fprintf(stderr, "pnas: --jobs %d: %d of the threads cannot train (%s); training %d children "
                    "at once\n",
            jobs, jobs - p->live, why, p->live);
  return 0;
}

int pool_open(dispatch_pool **out, search_ctx *s, char *err, size_t errlen) {
  dispatch_pool *p = calloc(1, sizeof *p);
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
      pool_close(p);
      return -1;
    }
    snprintf(j->strategy, sizeof j->strategy, "%s", cfg->strategy);
    snprintf(j->device, sizeof j->device, "%s", cfg->device);
    j->threads = cfg->threads;
    mpi_world_set_run_dir(store_dir(search_ctx_store(s)));
  } else if (search_ctx_config(s)->jobs > 1) {
    if (open_threads(p, search_ctx_config(s)->jobs, err, errlen)) {
      pool_close(p);
      return -1;
    }
  }
  *out = p;
  return 0;
oom:
  pool_close(p);
  snprintf(err, errlen, "out of memory");
  return -1;
}

int pool_capacity(const dispatch_pool *p) {
  if (p->th) return p->live;
  return p->workers > 0 ? p->workers : 1;
}
int pool_pending(const dispatch_pool *p) { return p->n; }
size_t pool_max_memory(const dispatch_pool *p) { return p->max_memory; }

static pool_job *find_id(dispatch_pool *p, uint32_t id) {
  for (int i = 0; i < p->n; i++)
    if (p->jobs[i].id == id) return &p->jobs[i];
  return NULL;
}

static int push_job(dispatch_pool *p, pool_job **out) {
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

// Hands a job to thread w.
static void hand_to_thread(dispatch_pool *p, int w, const pool_job *jb) {
  pool_thread *t = &p->th[w];
  pthread_mutex_lock(&p->mu);
  t->id = jb->id;
  t->cell = jb->cell;
  t->level = jb->level;
  t->predicted = jb->predicted;
  t->assigned = 1;
  pthread_cond_broadcast(&p->work);
  pthread_mutex_unlock(&p->mu);
}

// Hands the oldest queued children to idle workers. With threads, a child that must train alone
// waits (and holds back the children queued after it) until no other child trains, and nothing
// starts next to it.
// Device backends: room for one more child next to those running, judged by the largest child
// measured so far (net + data, plus half again for workspaces and scratch) against the device's
// free memory now. Always 1 before a child has been measured and on the CPU.
static int memory_fits(dispatch_pool *p) {
  const kn_backend *be = kn_backend_by_name(search_ctx_backend(p->s));
  kn_device *dev = search_ctx_device(p->s);
  size_t fr = 0, total = 0;
  if (!be || !be->dev_mem || !dev || p->max_memory == 0 || be->dev_mem(dev, &fr, &total)) return 1;
  return fr >= p->max_memory + p->max_memory / 2;
}

static int dispatch(dispatch_pool *p, char *err, size_t errlen) {
  int qi = 0, busy = 0;
  if (p->th) {
    for (int w = 1; w <= p->workers; w++) {
      if (!p->running[w]) continue;
      busy++;
      const pool_job *r = find_id(p, (uint32_t)(p->running[w] - 1));
      if (r && r->alone) return 0;
    }
  }
  for (int w = 1; w <= p->workers; w++) {
    if (p->running[w]) continue;
    if (p->th && p->th[w].status != 1) continue; // a thread that could not start
    while (qi < p->n && p->jobs[qi].state != JOB_QUEUED) qi++;
    if (qi == p->n) return 0;
    pool_job *jb = &p->jobs[qi];
    if (p->th) {
      if (jb->alone && busy) return 0;
      if (busy && !memory_fits(p)) return 0; // waits for a running child to finish
      if (busy) { // every child training now overlaps this one
        jb->overlapped = 1;
        for (int v = 1; v <= p->workers; v++) {
          pool_job *r = p->running[v] ? find_id(p, (uint32_t)(p->running[v] - 1)) : NULL;
          if (r) r->overlapped = 1;
        }
      }
      hand_to_thread(p, w, jb);
    } else {
      mpi_job *j = &p->out->u.job;
      j->id = jb->id;
      j->cell = jb->cell;
      j->level = jb->level;
      j->predicted = jb->predicted;
      if (mpi_world_send(w, p->out, err, errlen)) {
        p->failed = 1;
        return -1;
      }
      mpi_world_busy_add(1);
    }
    jb->state = JOB_RUNNING;
    jb->worker = w;
    p->running[w] = (int)jb->id + 1;
    busy++;
    if (jb->alone) return 0;
  }
  return 0;
}

int pool_submit(dispatch_pool *p, const space_cell *c, int level, double predicted, int ticket,
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
static void hand_back(dispatch_pool *p, int i, store_record *out, int *cached, int *ticket) {
  *out = p->jobs[i].rec;
  *cached = p->jobs[i].cached;
  *ticket = p->jobs[i].ticket;
  memmove(&p->jobs[i], &p->jobs[i + 1], sizeof *p->jobs * (size_t)(p->n - i - 1));
  p->n--;
}

// A trained child: committed to the store and made ready, with any identical children that
// waited for it; the freed worker gets the next queued child.
static int finish(dispatch_pool *p, pool_job *jb, store_record *r, char *err, size_t errlen) {
  if (search_commit(p->s, r, err, errlen)) return -1;
  jb->rec = *r;
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

// One message from a worker rank: a result is checked and finished.
static int receive(dispatch_pool *p, char *err, size_t errlen) {
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
  return finish(p, jb, &r, err, errlen);
}

// The next result of a worker thread (the earliest finished), waiting for one when none is
// there yet. A child that ran out of memory next to other children is queued again, alone.
static int receive_thread(dispatch_pool *p, char *err, size_t errlen) {
  pool_thread *t = NULL;
  int inflight;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    inflight = 0;
    for (int w = 1; w <= p->workers; w++) {
      pool_thread *x = &p->th[w];
      if (x->finished && (!t || x->seq < t->seq)) t = x;
      inflight += x->assigned || x->busy;
    }
    if (t || !inflight) break;
    pthread_cond_wait(&p->done, &p->mu);
  }
  store_record r;
  size_t mem = 0;
  if (t) {
    r = t->rec;
    mem = t->memory;
    t->finished = 0;
  }
  pthread_mutex_unlock(&p->mu);
  if (!t) {
    snprintf(err, errlen, "internal error: waiting for a result while no thread trains a child");
    return -1;
  }
  int w = t->index;
  pool_job *jb = p->running[w] ? find_id(p, (uint32_t)(p->running[w] - 1)) : NULL;
  if (!jb || jb->state != JOB_RUNNING || r.hash != jb->hash) {
    snprintf(err, errlen, "internal error: thread %d answered with another child", w);
    return -1;
  }
  p->running[w] = 0;
  if (mem > p->max_memory) p->max_memory = mem;
  if (!r.ok && jb->overlapped && is_oom(r.reason)) {
    // Not this child's failure: the children next to it took the memory. It trains again when
    // it can run alone; only a failure then is recorded.
    char text[SPACE_TEXT_MAX];
    space_format(&jb->cell, text, sizeof text);
    search_progress_done(p->s);
    fprintf(stderr, "pnas: %s ran out of memory while other children trained (%s); it will "
                    "train again alone\n",
            text, r.reason);
    jb->state = JOB_QUEUED;
    jb->alone = 1;
    jb->overlapped = 0;
    return dispatch(p, err, errlen);
  }
  return finish(p, jb, &r, err, errlen);
}

int pool_wait(dispatch_pool *p, store_record *out, int *cached, int *ticket, char *err,
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
    if (p->th ? receive_thread(p, err, errlen) : receive(p, err, errlen)) {
      p->failed = 1;
      return -1;
    }
  }
}

void pool_close(dispatch_pool *p) {
  if (!p) return;
  if (p->th) {
    // Threads finish the child they are training (its result is dropped) and stop.
    if (p->sync_init) {
      pthread_mutex_lock(&p->mu);
      p->stop = 1;
      pthread_cond_broadcast(&p->work);
      pthread_mutex_unlock(&p->mu);
    }
    for (int w = 1; w <= p->workers; w++)
      if (p->th[w].started) pthread_join(p->th[w].tid, NULL);
    if (p->sync_init) {
      pthread_cond_destroy(&p->done);
      pthread_cond_destroy(&p->work);
      pthread_mutex_destroy(&p->mu);
    }
  } else if (p->workers && !p->failed) {
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
  free(p->th);
  free(p->out);
  free(p->in);
  free(p);
}
