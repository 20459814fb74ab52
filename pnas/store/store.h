// The run store: a run directory with an append-only results log (one msgpack record per
// trained child, framed with length + CRC32, fsync'd per record) and small state files written
// atomically. It does not train or search; it remembers, and answers "was this trained?".
#ifndef PNAS_STORE_H
#define PNAS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "searchspace/cell.h"

#define STORE_LOG_NAME "results.log"
#define STORE_LOG_MAGIC "PNASLOG\0" // 8 bytes, then a little-endian u32 version
#define STORE_LOG_VERSION 1u
#define STORE_MAX_RECORD (1u << 20) // a frame longer than this is corrupt, not a record

typedef struct {
  space_cell cell;      // canonical
  uint64_t hash;        // space_hash(cell)
  uint64_t settings;    // hash of the training settings (store_settings_hash)
  int level;            // number of blocks
  char strategy[16];    // pnas, rl, random, evolution
  int ok;               // 1 trained, 0 failed (reason says why)
  char reason[160];
  double val_acc;       // top-1 validation accuracy in [0,1] (0 when failed)
  double val_top5;      // top-5 (NaN when not measured)
  int64_t examples;     // steps x batch
  double seconds;       // wall seconds of training + validation
  char device[32];      // "cpu", "cuda:0", ...
  uint64_t seed;        // training seed of this child
  int64_t params, mult_adds;
  double predicted;     // predictor's score when the child was chosen (NaN when none)
  int64_t seq;          // position in the log, assigned by store_append
  double time;          // unix time of the record
  double elapsed;       // wall seconds the run had spent when this record was written, summed
                        // over the processes that ran it (NaN in logs written before it existed)
  int from_cache;       // 1: copied from a --cache or a benchmark table, not trained by this
                        // run (its examples and seconds are the original training's)
} store_record;

typedef struct store store;

// Opens (create=1: creates the directory and an empty log when missing) and reads every
// record. A torn last record (a crash during its write) is dropped with a warning on stderr and
// its bytes are kept in results.log.torn; a corrupt record followed by more data is an error that
// names the offset, unless salvage=1: then bad bytes are skipped with a warning and the log is
// repaired crash-safely. The damaged original is first kept, fsync'd, as results.log.corrupt
// (never overwriting an older, different one: then results.log.corrupt.N), then the good records
// (renumbered, their times kept) are written to results.log.tmp, fsync'd and renamed over
// results.log. Killed at any point, results.log is the damaged original (salvage again: the
// leftover tmp files are removed, a results.log.corrupt of the same bytes is reused) or the
// complete repaired log.
int store_open(const char *dir, int create, int salvage, store **out, char *err, size_t errlen);
void store_close(store *s);
// Opens another run's store for lookups only (a --cache): reads every record, takes no lock
// (the run may be live), never writes (a torn tail is ignored, not cut off); store_append on it
// is a bug. A missing directory or log is an error. 0 ok, -1 with err.
int store_open_readonly(const char *dir, store **out, char *err, size_t errlen);
// Closes a store opened with create=1 after a start that failed: when it holds no records, its
// log and lock file are removed, and the directory too when this open created it and it is
// empty then, so the failed start leaves nothing behind. With records it is store_close.
void store_discard(store *s);
const char *store_dir(const store *s);
int store_count(const store *s);
const store_record *store_get(const store *s, int i);
// The record of this cell under these settings, or NULL: the first, except that a failed record
// is superseded by a later one of the same cell (a retry). A run never holds two records of
// one cell otherwise.
const store_record *store_find(const store *s, uint64_t hash, uint64_t settings);
// Appends, flushes and fsyncs one record; sets rec->seq and rec->time. 0 ok, -1 (with err) when
// the write fails - then the log is left as it was (a partial frame is truncated away).
int store_append(store *s, store_record *rec, char *err, size_t errlen);

// Reads a log file into a new array (caller frees); never writes. Same torn/corrupt rules as
// store_open (salvage=1 skips corrupt records in memory only); torn_at reports the offset of a
// torn tail (-1 when none). 0 ok; -2 with err when salvage=0 and a corrupt record is followed by
// more data (what salvage=1 reads past; err names the commands that can); -1 with err otherwise.
int store_read_log(const char *path, int salvage, store_record **recs, int *n, long *torn_at,
                   char *err, size_t errlen);
// Decodes one record payload (msgpack map). 0 ok, -1 with err.
int store_decode_record(const void *data, size_t len, store_record *r, char *err, size_t errlen);
// Encodes a record payload into a malloc'd buffer.
int store_encode_record(const store_record *r, void **data, size_t *len);

// Small files in the run directory, written atomically (tmp + fsync + rename + dir fsync).
int store_write_file(const char *dir, const char *name, const void *data, size_t len, char *err,
                     size_t errlen);
// Reads a whole file (caller frees *data). 0 ok, -1 with err (missing: errno ENOENT kept).
int store_read_file(const char *path, void **data, size_t *len, char *err, size_t errlen);

// Durability for this process: 1 (default) fsyncs every record and state file; 0 skips fsync
// (used by `pnas compare --table`, whose runs are replays of a table, rebuilt in seconds).
void store_set_durable(int on);

// FNV-1a over a settings string (e.g. "dataset=fashion-mnist;N=1;F=8;..."): the cache key part.
uint64_t store_settings_hash(const char *settings);
// JSON of one record (one line, no newline) into buf; returns length.
int store_record_json(const store_record *r, char *buf, size_t n);

#endif
