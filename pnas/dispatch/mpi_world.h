// MPI start-up, shutdown and transport for the pnas binary: decides whether this process is part
// of an MPI job (launcher environment, before MPI_Init), runs the worker loop on ranks > 0, and
// moves mpi_msg messages between rank 0 and the workers. Without MPI (not built, or not launched
// by mpirun/srun) every function here reports a world of one process and the search runs in-process.
#ifndef PNAS_MPI_WORLD_H
#define PNAS_MPI_WORLD_H

#include <stddef.h>

#include "pnas/dispatch/mpi_msg.h"

// Processes an MPI launcher says it started, from its environment (OMPI_COMM_WORLD_SIZE,
// PMI_SIZE, MV2_COMM_WORLD_SIZE; PMIX_RANK / MPI_LOCALNRANKS without a size give -1), 0 when
// not launched by one. PNAS_MPI=0 in the environment forces 0 (never start MPI).
int mpi_launched_size(void);

// Call first in main. Starts MPI when the process was launched by an MPI launcher (a singleton
// MPI_Init costs ~0.4 s and forks a daemon, so plain `pnas` never calls it; PNAS_MPI=1 forces
// it). Rank 0 collects every worker's hello and prints one line per worker; a worker rank runs
// worker_run (mpi_worker_run: passed in by main, so that this transport does not call the
// worker loop above it). Returns 0 when this process should run the command (rank 0, or no
// MPI); 1 when main must return *exit_code now: a worker rank that has finished its loop, or
// MPI failed to start (message printed).
int mpi_world_start(int *argc, char ***argv, int (*worker_run)(void), int *exit_code);
// Call last in main on the process that ran the command, with its exit status. Rank 0 of a job
// with workers sends them "stop" and finalises MPI when they are all idle; when a worker is still
// training (the search failed part-way) it aborts the job instead. Returns the exit status.
int mpi_world_finish(int rc);

int mpi_world_size(void);    // 1 without MPI
int mpi_world_rank(void);    // 0 without MPI
int mpi_world_workers(void); // on rank 0 of an MPI job: size - 1 worker ranks; else 0
// This process's index among the worker ranks of its node, their count, and the CPUs it may
// run on (sched affinity).
int mpi_world_local_rank(void);
int mpi_world_local_workers(void);
int mpi_world_cpus(void);

// Rank 0: children handed out and not yet answered (mpi_world_finish aborts when > 0).
void mpi_world_busy_add(int delta);
// Rank 0: the run directory, named in the message printed when the launcher terminates rank 0
// (e.g. because a worker process died).
void mpi_world_set_run_dir(const char *dir);

// Sends one message to rank dest (MPI_Send). 0 ok, -1 with err.
int mpi_world_send(int dest, const mpi_msg *m, char *err, size_t errlen);
// Receives one message from rank `from` (-1: any rank), polling with short sleeps so an idle
// rank does not spin a core that a training worker needs. *src = sender. timeout_s < 0 waits
// for ever. 1 received, 0 timed out, -1 error (MPI failure or undecodable message, with err).
int mpi_world_recv(int from, mpi_msg *m, int *src, double timeout_s, char *err, size_t errlen);

// GPU of a worker: local_rank mod ngpus, or -1 (CPU) when there is none.
int mpi_pick_gpu(int local_rank, int ngpus);

// The worker loop (pnas/dispatch/mpi_worker.c): hello, then train every job until "stop". Returns
// the process exit status. main passes it to mpi_world_start.
int mpi_worker_run(void);

#endif
