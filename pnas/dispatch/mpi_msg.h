// Messages between rank 0 and the worker ranks of an MPI search: versioned msgpack maps (hello,
// job, result, error, stop). Encoding and a strict decoder over a byte buffer that rejects
// truncated, oversized or malformed input with a message (it is a fuzz target). No MPI calls here.
#ifndef PNAS_MPI_MSG_H
#define PNAS_MPI_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "pnas/store/store.h"
#include "searchspace/cell.h"

// Every message is a map {"format": "pnas-mpi", "version": 1, "type": "<type>", ...}. All ranks
// must run the same pnas build; a version mismatch is reported at the start-up handshake.
// (Enum names use PNAS_MPI_: the MPI standard reserves the MPI_ prefix.)
#define PNAS_MPI_FORMAT "pnas-mpi"
#define PNAS_MPI_VERSION 1
#define PNAS_MPI_MAX_MSG (1u << 20) // a larger message is corrupt, not a message
#define PNAS_MPI_SETTINGS_MAX 2048  // search_settings_string of a search_config

typedef enum {
  PNAS_MPI_HELLO = 1, // worker -> 0 at start: who and where it is
  PNAS_MPI_JOB,       // 0 -> worker: train this child
  PNAS_MPI_RESULT,    // worker -> 0: the child's record (a failed child is a result, ok = 0)
  PNAS_MPI_ERROR,     // worker -> 0: the worker cannot go on (the search must stop)
  PNAS_MPI_STOP,      // 0 -> worker: exit cleanly
} mpi_msg_type;

typedef struct {
  int rank;           // world rank of the worker
  int64_t pid;
  char host[64];
  int local_rank;     // index among the worker ranks on its node (0-based)
  int local_workers;  // worker ranks on its node
  int gpu;            // GPU this worker would use (local_rank mod GPUs), -1 = CPU
  char device[32];    // "cpu", "cuda:0", ...
} mpi_hello;

typedef struct {
  uint32_t id;        // rank 0's job number; the result carries it back
  space_cell cell;    // canonical
  int level;
  double predicted;   // predictor score (NaN when none)
  uint64_t settings;  // store_settings_hash(settings_text): checked by the worker
  char settings_text[PNAS_MPI_SETTINGS_MAX]; // every training setting (search_settings_string)
  char strategy[16];
  char device[16];    // --device of the search: cpu | cuda | auto
  int threads;        // --threads of the search (0 = the worker divides its node's cores)
} mpi_job;

typedef struct {
  uint32_t id;
  store_record rec;   // seq/time are assigned by rank 0's store
} mpi_result;

typedef struct {
  mpi_msg_type type;
  union {
    mpi_hello hello;
    mpi_job job;
    mpi_result result;
    char error[512];  // PNAS_MPI_ERROR: what went wrong, for the user
  } u;
} mpi_msg;

// Encodes m into a malloc'd buffer (caller frees). 0 ok, -1 with err (out of memory, bad type).
int mpi_encode_msg(const mpi_msg *m, void **data, size_t *len, char *err, size_t errlen);
// Decodes one message from exactly len bytes. 0 ok; -1 with err naming the problem (truncated,
// trailing bytes, not a map, wrong format/version, unknown type, missing or mistyped field,
// string too long, cell invalid or not matching its hash ...). Never reads past data + len.
int mpi_decode_msg(const void *data, size_t len, mpi_msg *m, char *err, size_t errlen);
// (The structural pre-check lives in searchspace/msgpack_check.h: space_msgpack_check.)
// Name of a message type ("job" ...), "?" when unknown.
const char *mpi_msg_type_name(int type);

#endif
