// MPI start-up/shutdown and the message transport (pnas/dispatch/mpi_world.h). The state below is the one
// process-wide object here: MPI itself is initialised once per process, and the SIGTERM handler
// that explains a launcher's kill can reach nothing else. Built without MPI, the world has one rank.
#define _GNU_SOURCE // sched_getaffinity, CPU_COUNT
#include "pnas/dispatch/mpi_world.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef PNAS_HAVE_MPI
#include <mpi.h>
#endif

#include "common/common.h"

#define PNAS_MPI_TAG 7 // one tag for every pnas message; the message says what it is

static struct {
  int active;           // MPI_Init was called (and MPI_Finalize not yet)
  int rank, size;
  int local_rank, local_workers, cpus;
  int busy;             // rank 0: jobs sent and not answered
  char term_msg[1400];  // rank 0: written by the SIGTERM handler
} W = {0, 0, 1, 0, 1, 0, 0, ""};

int mpi_world_size(void) { return W.size; }
int mpi_world_rank(void) { return W.rank; }
int mpi_world_workers(void) { return W.size > 1 && W.rank == 0 ? W.size - 1 : 0; }
int mpi_world_local_rank(void) { return W.local_rank; }
int mpi_world_local_workers(void) { return W.local_workers; }
static int affinity_cpus(void);
// Set by mpi_world_start; a process that never called it (a test) asks the scheduler.
int mpi_world_cpus(void) { return W.cpus > 0 ? W.cpus : affinity_cpus(); }
void mpi_world_busy_add(int delta) { W.busy += delta; }

int mpi_pick_gpu(int local_rank, int ngpus) {
  return ngpus > 0 && local_rank >= 0 ? local_rank % ngpus : -1;
}

static int env_int(const char *name, int *out) {
  const char *v = getenv(name);
  if (!v || !*v) return 0;
  char *end;
  long x = strtol(v, &end, 10);
  if (*end || x < 0 || x > 1 << 24) return 0;
  *out = (int)x;
  return 1;
}

int mpi_launched_size(void) {
  const char *force = getenv("PNAS_MPI");
  if (force && !strcmp(force, "0")) return 0;
  int n;
  if (env_int("OMPI_COMM_WORLD_SIZE", &n) || env_int("PMI_SIZE", &n) ||
      env_int("MV2_COMM_WORLD_SIZE", &n))
    return n;
  if (getenv("PMIX_RANK") || getenv("MPI_LOCALNRANKS")) return -1;
  return 0;
}

static int affinity_cpus(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

void mpi_world_set_run_dir(const char *dir) {
  snprintf(W.term_msg, sizeof W.term_msg,
           "\npnas: rank 0 was terminated by the MPI launcher: a rank died (e.g. a worker was "
           "killed) or the job was cancelled. Every finished child is saved in %s/results.log; "
           "continue with: pnas search --resume %s\n",
           dir, dir);
}

#ifdef PNAS_HAVE_MPI

static void on_term(int sig) {
  // Only async-signal-safe calls: write(2), then die of the same signal.
  size_t n = strlen(W.term_msg);
  if (n) {
    ssize_t w = write(STDERR_FILENO, W.term_msg, n);
    (void)w;
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

static int mpi_fail(int rc, const char *call, char *err, size_t errlen) {
  char s[MPI_MAX_ERROR_STRING];
  int n = 0;
  if (MPI_Error_string(rc, s, &n) != MPI_SUCCESS) snprintf(s, sizeof s, "error %d", rc);
  pnas_seterr(err, errlen, "MPI call %s failed: %s", call, s);
  return -1;
}
// Every MPI call goes through this: the communicator returns errors (MPI_ERRORS_RETURN).
#define PNAS_MPI_CHECK(call)                                                                     \
  do {                                                                                           \
    int rc_ = (call);                                                                            \
    if (rc_ != MPI_SUCCESS) return mpi_fail(rc_, #call, err, errlen);                             \
  } while (0)

int mpi_world_send(int dest, const mpi_msg *m, char *err, size_t errlen) {
  if (!W.active || dest < 0 || dest >= W.size || dest == W.rank) {
    pnas_seterr(err, errlen, "internal error: send to rank %d in a world of %d", dest, W.size);
    return -1;
  }
  void *buf;
  size_t len;
  if (mpi_encode_msg(m, &buf, &len, err, errlen)) return -1;
  if (len > PNAS_MPI_MAX_MSG) {
    free(buf);
    pnas_seterr(err, errlen, "%s message of %zu bytes is over the limit", mpi_msg_type_name(m->type),
           len);
    return -1;
  }
  int rc = MPI_Send(buf, (int)len, MPI_BYTE, dest, PNAS_MPI_TAG, MPI_COMM_WORLD);
  free(buf);
  if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Send", err, errlen);
  return 0;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int mpi_world_recv(int from, mpi_msg *m, int *src, double timeout_s, char *err, size_t errlen) {
  if (!W.active) {
    pnas_seterr(err, errlen, "internal error: receive without MPI");
    return -1;
  }
  // Blocking MPI_Recv spins at 100% CPU in Open MPI; an idle rank 0 (or an idle worker while
  // rank 0 fits the predictor) would take a core from the ranks doing work. Poll with sleeps
  // that grow from 50 us to 5 ms: negligible latency against children that train for seconds.
  MPI_Status st;
  int flag = 0;
  long sleep_ns = 50000;
  double t0 = timeout_s >= 0 ? now_s() : 0;
  for (;;) {
    PNAS_MPI_CHECK(MPI_Iprobe(from < 0 ? MPI_ANY_SOURCE : from, PNAS_MPI_TAG, MPI_COMM_WORLD,
                              &flag, &st));
    if (flag) break;
    if (timeout_s >= 0 && now_s() - t0 >= timeout_s) return 0;
    struct timespec ts = {0, sleep_ns};
    nanosleep(&ts, NULL);
    if (sleep_ns < 5000000) sleep_ns = sleep_ns * 2 > 5000000 ? 5000000 : sleep_ns * 2;
  }
  int count = 0;
  PNAS_MPI_CHECK(MPI_Get_count(&st, MPI_BYTE, &count));
  int sender = st.MPI_SOURCE;
  if (count < 0 || (unsigned)count > PNAS_MPI_MAX_MSG) {
    pnas_seterr(err, errlen, "rank %d sent a message of %d bytes (limit %u)", sender, count,
           PNAS_MPI_MAX_MSG);
    return -1;
  }
  void *buf = malloc(count ? (size_t)count : 1);
  if (!buf) {
    pnas_seterr(err, errlen, "out of memory receiving %d bytes", count);
    return -1;
  }
  int rc = MPI_Recv(buf, count, MPI_BYTE, sender, PNAS_MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  if (rc != MPI_SUCCESS) {
    free(buf);
    return mpi_fail(rc, "MPI_Recv", err, errlen);
  }
  char e[512];
  rc = mpi_decode_msg(buf, (size_t)count, m, e, sizeof e);
  free(buf);
  if (rc) {
    pnas_seterr(err, errlen, "undecodable message from rank %d: %s", sender, e);
    return -1;
  }
  if (src) *src = sender;
  return 1;
}

// Worker ranks per node and this worker's index among them (rank 0 trains nothing).
static int local_layout(char *err, size_t errlen) {
  MPI_Comm node;
  PNAS_MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, W.rank, MPI_INFO_NULL,
                                     &node));
  MPI_Comm_set_errhandler(node, MPI_ERRORS_RETURN);
  int nrank, nsize, is0 = W.rank == 0, has0 = 0;
  PNAS_MPI_CHECK(MPI_Comm_rank(node, &nrank));
  PNAS_MPI_CHECK(MPI_Comm_size(node, &nsize));
  PNAS_MPI_CHECK(MPI_Allreduce(&is0, &has0, 1, MPI_INT, MPI_MAX, node));
  PNAS_MPI_CHECK(MPI_Comm_free(&node));
  // Split keys are world ranks, so rank 0 is the first of its node.
  W.local_workers = nsize - has0 > 0 ? nsize - has0 : 1;
  W.local_rank = W.rank == 0 ? 0 : nrank - has0;
  return 0;
}

// Rank 0: one hello per worker, printed; a worker that speaks another version fails here.
static int collect_hellos(char *err, size_t errlen) {
  fprintf(stderr, "pnas: MPI: %d ranks; rank 0 runs the search, %d worker%s train%s children\n",
          W.size, W.size - 1, W.size == 2 ? "" : "s", W.size == 2 ? "s" : "");
  for (int i = 1; i < W.size; i++) {
    mpi_msg m;
    int src;
    if (mpi_world_recv(-1, &m, &src, -1, err, errlen) < 0) return -1;
    if (m.type == PNAS_MPI_ERROR) {
      pnas_seterr(err, errlen, "worker rank %d: %s", src, m.u.error);
      return -1;
    }
    if (m.type != PNAS_MPI_HELLO || m.u.hello.rank != src) {
      pnas_seterr(err, errlen, "rank %d: expected a hello, got a %s message", src,
             mpi_msg_type_name(m.type));
      return -1;
    }
    fprintf(stderr, "pnas: MPI: worker rank %d pid %lld on %s (worker %d of %d there, device %s)\n",
            src, (long long)m.u.hello.pid, m.u.hello.host, m.u.hello.local_rank,
            m.u.hello.local_workers, m.u.hello.device);
  }
  return 0;
}

int mpi_world_start(int *argc, char ***argv, int (*worker_run)(void), int *exit_code) {
  const char *force = getenv("PNAS_MPI");
  W.cpus = affinity_cpus();
  if (!(force && !strcmp(force, "1")) && mpi_launched_size() == 0) return 0;
  char err[1024] = "";
  int rc = MPI_Init(argc, argv);
  if (rc != MPI_SUCCESS) {
    fprintf(stderr, "pnas: MPI_Init failed (error %d); run pnas without mpirun, or with "
                    "PNAS_MPI=0 to ignore the launcher\n", rc);
    *exit_code = 1;
    return 1;
  }
  W.active = 1;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  if (MPI_Comm_rank(MPI_COMM_WORLD, &W.rank) != MPI_SUCCESS ||
      MPI_Comm_size(MPI_COMM_WORLD, &W.size) != MPI_SUCCESS ||
      (W.size > 1 && local_layout(err, sizeof err))) {
    fprintf(stderr, "pnas: MPI start-up failed: %s\n", err[0] ? err : "MPI_Comm_rank/size");
    MPI_Abort(MPI_COMM_WORLD, 1);
    *exit_code = 1;
    return 1;
  }
  if (W.size == 1) return 0; // mpirun -np 1: the search runs in this process
  if (W.rank > 0) {
    *exit_code = worker_run();
    MPI_Finalize();
    W.active = 0;
    return 1;
  }
  // Rank 0. The launcher kills every rank when one dies; say what happened and how to go on.
  snprintf(W.term_msg, sizeof W.term_msg,
           "\npnas: rank 0 was terminated by the MPI launcher: a rank died (e.g. a worker was "
           "killed) or the job was cancelled. Finished children are saved in the run directory; "
           "continue with: pnas search --resume DIR\n");
  signal(SIGTERM, on_term);
  if (collect_hellos(err, sizeof err)) {
    fprintf(stderr, "pnas: MPI start-up failed: %s\n", err);
    MPI_Abort(MPI_COMM_WORLD, 1);
    *exit_code = 1;
    return 1;
  }
  return 0;
}

int mpi_world_finish(int rc) {
  if (!W.active) return rc;
  if (W.size > 1 && W.rank == 0) {
    if (W.busy > 0) {
      fprintf(stderr, "pnas: aborting the MPI job (%d child%s handed to workers not answered)\n",
              W.busy, W.busy == 1 ? "" : "ren");
      fflush(stderr);
      MPI_Abort(MPI_COMM_WORLD, rc ? rc : 1);
      return rc ? rc : 1;
    }
    char err[512];
    mpi_msg stop = {.type = PNAS_MPI_STOP};
    for (int r = 1; r < W.size; r++)
      if (mpi_world_send(r, &stop, err, sizeof err)) {
        fprintf(stderr, "pnas: cannot stop worker rank %d: %s\n", r, err);
        MPI_Abort(MPI_COMM_WORLD, rc ? rc : 1);
        return rc ? rc : 1;
      }
  }
  signal(SIGTERM, SIG_DFL);
  MPI_Finalize();
  W.active = 0;
  return rc;
}

#else // !PNAS_HAVE_MPI: one process; refuse to run as several copies of the same search.

int mpi_world_start(int *argc, char ***argv, int (*worker_run)(void), int *exit_code) {
  W.cpus = affinity_cpus();
  int n = mpi_launched_size();
  if (n > 1 || n < 0) {
    int rank = 0;
    if (!env_int("OMPI_COMM_WORLD_RANK", &rank)) env_int("PMI_RANK", &rank);
    if (rank == 0)
      fprintf(stderr, "pnas: started by an MPI launcher, but this pnas was built without MPI "
                      "(install an MPI, e.g. Debian's libopenmpi-dev, and rebuild); every process "
                      "would run the whole search. Run it without mpirun, or set PNAS_MPI=0.\n");
    *exit_code = 1;
    return 1;
  }
  return 0;
}

int mpi_world_finish(int rc) { return rc; }

int mpi_world_send(int dest, const mpi_msg *m, char *err, size_t errlen) {
  pnas_seterr(err, errlen, "this pnas was built without MPI");
  return -1;
}

int mpi_world_recv(int from, mpi_msg *m, int *src, double timeout_s, char *err, size_t errlen) {
  pnas_seterr(err, errlen, "this pnas was built without MPI");
  return -1;
}

#endif
