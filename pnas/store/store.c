// Run store implementation: the framed results log (header "PNASLOG\0" + u32 version, then
// frames of u32 length, u32 CRC32, msgpack payload), the in-memory cache index, and atomic
// small-file writes. Records are msgpack maps with string keys; unknown keys are ignored so
// later versions can add fields.
#include "pnas/store/store.h"
#include "searchspace/msgpack_check.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "common/common.h"

struct store {
  char dir[1024];
  char log_path[1100];
  int fd; // append fd of the log
  // DIR/.lock, held with an exclusive flock from store_open to store_close (see store_lock).
  int lock_fd;
  store_record *recs;
  int n, cap;
  // Open-addressing index over (hash, settings) -> first record index + 1.
  int *slots;
  int nslots;
  // Fault injection for tests (tests/hardening/faults.sh): PNAS_FAULT_WRITE_AFTER=N makes the
  // append after N successful ones write half its frame and fail with ENOSPC, like a full disk.
  long fault_after; // -1 = off
  int readonly;     // store_open_readonly: never appended to, no lock held
  int made_dir;     // this open created the directory (store_discard removes it again)
};

static void put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t store_settings_hash(const char *settings) {
  uint64_t h = 1469598103934665603ULL;
  for (const unsigned char *p = (const unsigned char *)settings; *p; p++) {
    h ^= *p;
    h *= 1099511628211ULL;
  }
  return h;
}

// --- record encoding ---

static void pack_str(msgpack_packer *pk, const char *s) {
  size_t n = strlen(s);
  msgpack_pack_str(pk, n);
  msgpack_pack_str_body(pk, s, n);
}

int store_encode_record(const store_record *r, void **data, size_t *len) {
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  char text[SPACE_TEXT_MAX];
  space_format(&r->cell, text, sizeof text);
  // Optional keys: from_cache only when set, elapsed only when known.
  msgpack_pack_map(&pk, 20 + (r->from_cache != 0) + (isfinite(r->elapsed) != 0));
  pack_str(&pk, "cell");
  space_pack(&r->cell, (struct msgpack_packer *)&pk);
  pack_str(&pk, "cell_text"), pack_str(&pk, text);
  pack_str(&pk, "hash"), msgpack_pack_uint64(&pk, r->hash);
  pack_str(&pk, "settings"), msgpack_pack_uint64(&pk, r->settings);
  pack_str(&pk, "level"), msgpack_pack_int(&pk, r->level);
  pack_str(&pk, "strategy"), pack_str(&pk, r->strategy);
  pack_str(&pk, "ok"), r->ok ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
  pack_str(&pk, "reason"), pack_str(&pk, r->reason);
  pack_str(&pk, "val_acc"), msgpack_pack_double(&pk, r->val_acc);
  pack_str(&pk, "val_top5"), msgpack_pack_double(&pk, r->val_top5);
  pack_str(&pk, "examples"), msgpack_pack_int64(&pk, r->examples);
  pack_str(&pk, "seconds"), msgpack_pack_double(&pk, r->seconds);
  pack_str(&pk, "device"), pack_str(&pk, r->device);
  pack_str(&pk, "seed"), msgpack_pack_uint64(&pk, r->seed);
  pack_str(&pk, "params"), msgpack_pack_int64(&pk, r->params);
  pack_str(&pk, "mult_adds"), msgpack_pack_int64(&pk, r->mult_adds);
  pack_str(&pk, "predicted"), msgpack_pack_double(&pk, r->predicted);
  pack_str(&pk, "seq"), msgpack_pack_int64(&pk, r->seq);
  pack_str(&pk, "time"), msgpack_pack_double(&pk, r->time);
  pack_str(&pk, "version"), msgpack_pack_uint32(&pk, STORE_LOG_VERSION);
  if (r->from_cache) pack_str(&pk, "from_cache"), msgpack_pack_true(&pk);
  if (isfinite(r->elapsed)) pack_str(&pk, "elapsed"), msgpack_pack_double(&pk, r->elapsed);
  *data = sb.data; // ownership moves to the caller (free())
  *len = sb.size;
  return 0;
}

static int key_is(const msgpack_object *k, const char *name) {
  return k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(name) &&
         !memcmp(k->via.str.ptr, name, k->via.str.size);
}

static int get_num(const msgpack_object *v, double *out) {
  switch (v->type) {
  case MSGPACK_OBJECT_FLOAT32:
  case MSGPACK_OBJECT_FLOAT64: *out = v->via.f64; return 0;
  case MSGPACK_OBJECT_POSITIVE_INTEGER: *out = (double)v->via.u64; return 0;
  case MSGPACK_OBJECT_NEGATIVE_INTEGER: *out = (double)v->via.i64; return 0;
  default: return -1;
  }
}

static int get_int(const msgpack_object *v, int64_t *out) {
  if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= (uint64_t)INT64_MAX) {
    *out = (int64_t)v->via.u64;
    return 0;
  }
  if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
    *out = v->via.i64;
    return 0;
  }
  return -1;
}

static int get_str(const msgpack_object *v, char *buf, size_t n) {
  if (v->type != MSGPACK_OBJECT_STR) return -1;
  size_t len = v->via.str.size < n - 1 ? v->via.str.size : n - 1;
  memcpy(buf, v->via.str.ptr, len);
  buf[len] = '\0';
  return 0;
}

int store_decode_record(const void *data, size_t len, store_record *r, char *err, size_t errlen) {
  msgpack_unpacked up;
  msgpack_unpacked_init(&up);
  size_t off = 0;
  int rc = -1;
  char serr[200];
  if (space_msgpack_check(data, len, serr, sizeof serr)) {
    pnas_seterr(err, errlen, "record is not valid msgpack: %s", serr);
    goto out;
  }
  if (msgpack_unpack_next(&up, data, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len) {
    pnas_seterr(err, errlen, "record is not one msgpack object");
    goto out;
  }
  const msgpack_object *o = &up.data;
  if (o->type != MSGPACK_OBJECT_MAP) {
    pnas_seterr(err, errlen, "record is not a msgpack map");
    goto out;
  }
  memset(r, 0, sizeof *r);
  r->val_top5 = r->predicted = r->elapsed = NAN;
  int have_cell = 0, have_ok = 0;
  for (uint32_t i = 0; i < o->via.map.size; i++) {
    const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
    int64_t iv = 0;
    int bad = 0;
    if (key_is(k, "cell")) {
      char cerr[200];
      if (space_unpack((const struct msgpack_object *)v, &r->cell, cerr, sizeof cerr)) {
        pnas_seterr(err, errlen, "record field 'cell': %s", cerr);
        goto out;
      }
      space_canon(&r->cell);
      have_cell = 1;
    } else if (key_is(k, "hash")) {
      bad = v->type != MSGPACK_OBJECT_POSITIVE_INTEGER;
      r->hash = v->via.u64;
    } else if (key_is(k, "settings")) {
      bad = v->type != MSGPACK_OBJECT_POSITIVE_INTEGER;
      r->settings = v->via.u64;
    } else if (key_is(k, "seed")) {
      bad = v->type != MSGPACK_OBJECT_POSITIVE_INTEGER;
      r->seed = v->via.u64;
    } else if (key_is(k, "level")) {
      bad = get_int(v, &iv) || iv < 1 || iv > SPACE_MAX_BLOCKS;
      r->level = (int)iv;
    } else if (key_is(k, "strategy")) {
      bad = get_str(v, r->strategy, sizeof r->strategy);
    } else if (key_is(k, "reason")) {
      bad = get_str(v, r->reason, sizeof r->reason);
    } else if (key_is(k, "device")) {
      bad = get_str(v, r->device, sizeof r->device);
    } else if (key_is(k, "ok")) {
      bad = v->type != MSGPACK_OBJECT_BOOLEAN;
      r->ok = !bad && v->via.boolean; // via.boolean of a non-boolean is not a valid bool (UB)
      have_ok = 1;
    } else if (key_is(k, "val_acc")) {
      bad = get_num(v, &r->val_acc);
    } else if (key_is(k, "val_top5")) {
      bad = get_num(v, &r->val_top5);
    } else if (key_is(k, "seconds")) {
      bad = get_num(v, &r->seconds);
    } else if (key_is(k, "predicted")) {
      bad = get_num(v, &r->predicted);
    } else if (key_is(k, "time")) {
      bad = get_num(v, &r->time);
    } else if (key_is(k, "examples")) {
      bad = get_int(v, &r->examples);
    } else if (key_is(k, "params")) {
      bad = get_int(v, &r->params);
    } else if (key_is(k, "mult_adds")) {
      bad = get_int(v, &r->mult_adds);
    } else if (key_is(k, "seq")) {
      bad = get_int(v, &r->seq);
    } else if (key_is(k, "elapsed")) {
      bad = get_num(v, &r->elapsed);
    } else if (key_is(k, "from_cache")) {
      bad = v->type != MSGPACK_OBJECT_BOOLEAN;
      r->from_cache = !bad && v->via.boolean;
    }
    if (bad) {
      pnas_seterr(err, errlen, "record field '%.*s' has the wrong type or range",
             k->type == MSGPACK_OBJECT_STR ? (int)k->via.str.size : 1,
             k->type == MSGPACK_OBJECT_STR ? k->via.str.ptr : "?");
      goto out;
    }
  }
  if (!have_cell || !have_ok) {
    pnas_seterr(err, errlen, "record lacks the '%s' field", have_cell ? "ok" : "cell");
    goto out;
  }
  if (r->level != r->cell.nblocks) r->level = r->cell.nblocks;
  if (r->hash != space_hash(&r->cell)) {
    pnas_seterr(err, errlen, "record hash does not match its cell");
    goto out;
  }
  if (!(r->val_acc >= 0 && r->val_acc <= 1)) {
    pnas_seterr(err, errlen, "record val_acc %g outside [0,1]", r->val_acc);
    goto out;
  }
  rc = 0;
out:
  msgpack_unpacked_destroy(&up);
  return rc;
}

// --- small files ---

int store_read_file(const char *path, void **data, size_t *len, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    int e = errno;
    pnas_seterr(err, errlen, "%s: %s", path, pnas_strerror(e));
    errno = e;
    return -1;
  }
  // fopen opens a directory too; its reads then fail with EISDIR: say so up front.
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
    fclose(f);
    pnas_seterr(err, errlen, "%s: is a directory, not a file", path);
    errno = EISDIR;
    return -1;
  }
  size_t cap = 4096, n = 0;
  errno = 0; // a read error below names its cause
  char *buf = malloc(cap);
  for (;;) {
    if (!buf) break;
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (n < cap) break;
    char *nb = realloc(buf, cap * 2);
    if (!nb) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = nb;
    cap *= 2;
  }
  int bad = ferror(f), e = errno;
  fclose(f);
  if (!buf || bad) {
    free(buf);
    pnas_seterr(err, errlen, "%s: %s", path,
                !buf ? "out of memory" : e ? pnas_strerror(e) : "read error");
    return -1;
  }
  *data = buf;
  *len = n;
  return 0;
}

// 0: no fsync (replays from a benchmark table, which can be rebuilt in seconds); see store.h.
static int store_durable = 1;
void store_set_durable(int on) { store_durable = on; }
static int sync_fd(int fd) { return store_durable ? fsync(fd) : 0; }

static int fsync_dir(const char *dir) {
  if (!store_durable) return 0;
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

// fsyncs a file already in place (never through a link).
static int sync_existing(const char *path) {
  if (!store_durable) return 0;
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

static int write_all(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

int store_write_file(const char *dir, const char *name, const void *data, size_t len, char *err,
                     size_t errlen) {
  char path[1200], tmp[1210];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  // The tmp file is created fresh (O_EXCL) and never through a symbolic link (O_NOFOLLOW; with
  // O_EXCL a symlink at tmp makes open fail): a link planted at name.tmp cannot redirect the
  // write to another file. A stale tmp (a crash between open and rename) is removed only when
  // it is a regular file owned by us; anything else there is refused.
  struct stat st;
  if (lstat(tmp, &st) == 0) {
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
      pnas_seterr(err, errlen,
             "%s: exists and is %s; refusing to write through it (remove it if it is yours)",
             tmp, S_ISLNK(st.st_mode) ? "a symbolic link"
                  : !S_ISREG(st.st_mode) ? "not a regular file"
                                         : "owned by another user");
      return -1;
    }
    if (unlink(tmp) && errno != ENOENT) {
      pnas_seterr(err, errlen, "%s: cannot remove the stale temporary file: %s", tmp, pnas_strerror(errno));
      return -1;
    }
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    pnas_seterr(err, errlen, "%s: %s", tmp, pnas_strerror(errno));
    return -1;
  }
  if (write_all(fd, data, len) || sync_fd(fd)) {
    int e = errno;
    close(fd);
    unlink(tmp);
    pnas_seterr(err, errlen, "%s: write failed: %s", tmp, pnas_strerror(e));
    return -1;
  }
  close(fd);
  if (rename(tmp, path)) {
    pnas_seterr(err, errlen, "%s: rename failed: %s", path, pnas_strerror(errno));
    unlink(tmp);
    return -1;
  }
  fsync_dir(dir);
  return 0;
}

// --- log reading ---

static int push_record(store_record **recs, int *n, int *cap, const store_record *r) {
  if (*n == *cap) {
    int nc = *cap ? *cap * 2 : 64;
    store_record *nr = realloc(*recs, sizeof *nr * (size_t)nc);
    if (!nr) return -1;
    *recs = nr;
    *cap = nc;
  }
  (*recs)[(*n)++] = *r;
  return 0;
}

// Checks one frame at off; 1 = valid (decoded into r), 0 = invalid.
static int frame_ok(const uint8_t *buf, size_t size, size_t off, store_record *r, char *why,
                    size_t whylen) {
  if (size - off < 8) {
    pnas_seterr(why, whylen, "incomplete frame header");
    return 0;
  }
  uint32_t len = get_u32(buf + off), crc = get_u32(buf + off + 4);
  if (len == 0 || len > STORE_MAX_RECORD) {
    pnas_seterr(why, whylen, "impossible record length %u", len);
    return 0;
  }
  if (len > size - off - 8) {
    pnas_seterr(why, whylen, "record of %u bytes runs past the end of the file", len);
    return 0;
  }
  if ((uint32_t)crc32(0L, buf + off + 8, len) != crc) {
    pnas_seterr(why, whylen, "checksum mismatch");
    return 0;
  }
  char derr[200];
  if (store_decode_record(buf + off + 8, len, r, derr, sizeof derr)) {
    pnas_seterr(why, whylen, "undecodable record: %s", derr);
    return 0;
  }
  return 1;
}

// The run directory of a log path (what precedes its last '/', "." when none), as one shell
// word: quoted when it holds anything but plain path characters.
static void log_dir_word(const char *path, char *out, size_t n) {
  const char *slash = strrchr(path, '/');
  int len = slash ? (int)(slash - path) : 1;
  const char *dir = slash ? (len ? path : "/") : ".";
  if (slash && !len) len = 1;
  int plain = 1;
  for (int i = 0; i < len; i++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+,:=@",
                dir[i]))
      plain = 0;
  if (plain || memchr(dir, '\'', (size_t)len)) snprintf(out, n, "%.*s", len, dir);
  else snprintf(out, n, "'%.*s'", len, dir);
}

int store_read_log(const char *path, int salvage, store_record **recs, int *n, long *torn_at,
                   char *err, size_t errlen) {
  *recs = NULL;
  *n = 0;
  if (torn_at) *torn_at = -1;
  void *data;
  size_t size;
  if (store_read_file(path, &data, &size, err, errlen)) return -1;
  const uint8_t *buf = data;
  int cap = 0, rc = -1;
  if (size < 12 || memcmp(buf, STORE_LOG_MAGIC, 8)) {
    pnas_seterr(err, errlen,
           "%s: not a pnas results log (bad magic; expected \"PNASLOG\" header). "
           "It may belong to another program or be damaged at its start.",
           path);
    goto out;
  }
  uint32_t version = get_u32(buf + 8);
  if (version != STORE_LOG_VERSION) {
    pnas_seterr(err, errlen,
           "%s: results log version %u, this pnas reads version %u (rerun the search with a "
           "matching pnas, or start a new run directory)",
           path, version, STORE_LOG_VERSION);
    goto out;
  }
  size_t off = 12;
  while (off < size) {
    store_record r;
    char why[256];
    if (frame_ok(buf, size, off, &r, why, sizeof why)) {
      if (push_record(recs, n, &cap, &r)) {
        pnas_seterr(err, errlen, "%s: out of memory", path);
        goto out;
      }
      off += 8 + get_u32(buf + off);
      continue;
    }
    // Invalid frame. If its claimed extent reaches the end of the file (or the header itself
    // is cut), it is the torn tail of an interrupted append: drop it.
    uint32_t len = size - off >= 8 ? get_u32(buf + off) : 0;
    int is_tail = size - off < 8 || (uint64_t)off + 8 + len >= size;
    if (is_tail && len <= STORE_MAX_RECORD) {
      fprintf(stderr, "pnas: warning: %s: dropping a torn last record at offset %zu (%s)\n", path,
              off, why);
      if (torn_at) *torn_at = (long)off;
      break;
    }
    if (!salvage) {
      char dir[1100];
      log_dir_word(path, dir, sizeof dir);
      pnas_seterr(err, errlen,
             "%s: corrupt record at offset %zu (%s) with %zu more bytes after it; `pnas search "
             "--resume %s --salvage` repairs the log, keeping the good records (the damaged "
             "original is kept beside it), and with --salvage `pnas inspect` and `pnas predictor "
             "retrain|eval --run` read past the damage without changing the run",
             path, off, why, size - off, dir);
      rc = -2;
      goto out;
    }
    // Salvage: scan forward for the next valid frame.
    size_t next = off + 1;
    while (next < size && !frame_ok(buf, size, next, &r, why, sizeof why)) next++;
    fprintf(stderr, "pnas: warning: %s: skipped %zu corrupt bytes at offset %zu (--salvage)\n",
            path, next - off, off);
    off = next;
  }
  rc = 0;
out:
  if (rc) {
    free(*recs);
    *recs = NULL;
    *n = 0;
  }
  free(data);
  return rc;
}

// --- the store ---

static uint64_t key_of(uint64_t hash, uint64_t settings) {
  return hash ^ (settings * 0x9E3779B97F4A7C15ULL);
}

static int index_rebuild(store *s) {
  int want = 64;
  while (want < 2 * (s->n + 1)) want *= 2;
  if (want != s->nslots) {
    int *ns = calloc((size_t)want, sizeof *ns);
    if (!ns) return -1;
    free(s->slots);
    s->slots = ns;
    s->nslots = want;
  } else {
    memset(s->slots, 0, sizeof *s->slots * (size_t)s->nslots);
  }
  for (int i = 0; i < s->n; i++) {
    const store_record *r = &s->recs[i];
    uint64_t k = key_of(r->hash, r->settings);
    for (int j = (int)(k & (uint64_t)(s->nslots - 1));; j = (j + 1) & (s->nslots - 1)) {
      if (!s->slots[j]) {
        s->slots[j] = i + 1;
        break;
      }
      const store_record *o = &s->recs[s->slots[j] - 1];
      if (o->hash == r->hash && o->settings == r->settings) {
        if (!o->ok) s->slots[j] = i + 1; // a later record supersedes a failed one (a retry)
        break; // else keep the first
      }
    }
  }
  return 0;
}

const store_record *store_find(const store *s, uint64_t hash, uint64_t settings) {
  if (!s->nslots) return NULL;
  uint64_t k = key_of(hash, settings);
  for (int j = (int)(k & (uint64_t)(s->nslots - 1));; j = (j + 1) & (s->nslots - 1)) {
    if (!s->slots[j]) return NULL;
    const store_record *o = &s->recs[s->slots[j] - 1];
    if (o->hash == hash && o->settings == settings) return o;
  }
}

static int copy_bytes(const char *from, long off, const char *to) {
  FILE *f = fopen(from, "rb"), *g = NULL;
  if (!f) return -1;
  int gfd = -1;
  if (fseek(f, off, SEEK_SET) == 0 &&
      (gfd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644)) >= 0 &&
      !(g = fdopen(gfd, "wb")))
    close(gfd);
  if (g) {
    char b[4096];
    size_t k;
    while ((k = fread(b, 1, sizeof b, f)) > 0) fwrite(b, 1, k, g);
    fclose(g);
  }
  fclose(f);
  return g ? 0 : -1;
}

// The run directory's lock: DIR/.lock (created when missing, never through a symbolic link)
// held with a non-blocking exclusive flock for the life of the open store, so two searches (or
// a search and a resume) never append to one log. The kernel drops it when the process dies
// (kill -9 included), so there is no stale lock to clean up; the file stays, empty once its
// holder closed the store (it may keep the pid of a killed one). Nothing in the directory is
// written before the lock is held, and a refused open changes nothing. flock locks belong to the open file, so a second store_open of
// the same directory in one process is refused too (close the first store before reopening).
// Returns the lock fd, or -1 with err.
static int store_lock(const char *dir, char *err, size_t errlen) {
  char path[1100];
  snprintf(path, sizeof path, "%s/.lock", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    pnas_seterr(err, errlen, "%s: cannot open the run directory's lock file: %s", path,
           pnas_strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
    pnas_seterr(err, errlen, "%s: the lock file is not a regular file", path);
    close(fd);
    return -1;
  }
  while (flock(fd, LOCK_EX | LOCK_NB)) {
    if (errno == EINTR) continue;
    int e = errno;
    if (e != EWOULDBLOCK) {
      pnas_seterr(err, errlen, "%s: cannot lock the run directory: %s", path, pnas_strerror(e));
      close(fd);
      return -1;
    }
    // Held: say by whom (the holder wrote "pid host" once it had the lock).
    char buf[300] = {0};
    ssize_t got = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    long pid = got > 0 ? strtol(buf, NULL, 10) : 0;
    char host[256] = "";
    const char *sp = got > 0 ? strchr(buf, ' ') : NULL;
    if (sp) sscanf(sp + 1, "%255s", host);
    if (pid > 0 && pid == (long)getpid()) {
      pnas_seterr(err, errlen,
             "run directory %s is already open in this process (is --cache the run directory "
             "itself?)",
             dir);
      return -1;
    }
    char who[320];
    if (pid > 0)
      snprintf(who, sizeof who, "pid %ld%s%s", pid, host[0] ? " on " : "", host);
    else
      snprintf(who, sizeof who, "pid unknown");
    pnas_seterr(err, errlen,
           "run directory %s is in use by %s (another search or resume); wait for it or "
           "choose another --run",
           dir, who);
    return -1;
  }
  char host[256] = "?", line[320];
  if (gethostname(host, sizeof host)) snprintf(host, sizeof host, "?");
  host[sizeof host - 1] = '\0';
  int n = snprintf(line, sizeof line, "%ld %s\n", (long)getpid(), host);
  // Best effort: the content only names the holder in the refusal message.
  if (ftruncate(fd, 0) == 0 && pwrite(fd, line, (size_t)n, 0) < 0) {}
  return fd;
}

// Checks the run directory, creating it when create=1 and it is missing (*made = 1 then).
// A symbolic link loop or a link to nothing is named as such, not as mkdir's "File exists".
static int run_dir_check(const char *dir, int create, int *made, char *err, size_t errlen) {
  struct stat st;
  *made = 0;
  if (stat(dir, &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      return pnas_seterr(err, errlen, "%s: exists and is not a directory", dir);
    return 0;
  }
  int e = errno;
  if (e == ENOENT && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
    return pnas_seterr(err, errlen, "%s: is a symbolic link to nothing (its target is missing); "
                                    "refusing to %s through it",
                       dir, create ? "create the run directory" : "use it");
  // ENOTDIR (a file where a parent folder should be) is left to mkdir, which names it.
  if (e != ENOENT && !(e == ENOTDIR && create))
    return pnas_seterr(err, errlen, "%s: cannot use it as the run directory: %s", dir,
                       pnas_strerror(e));
  if (!create) return pnas_seterr(err, errlen, "%s: no such run directory", dir);
  if (mkdir(dir, 0755))
    return pnas_seterr(err, errlen, "%s: cannot create the run directory: %s", dir,
                       pnas_strerror(errno));
  *made = 1;
  return 0;
}

// A frame of the log (u32 length, u32 CRC32, payload) for one record, malloc'd; NULL when out
// of memory.
static uint8_t *frame_record(const store_record *r, size_t *flen) {
  void *payload;
  size_t len;
  store_encode_record(r, &payload, &len);
  uint8_t *frame = malloc(len + 8);
  if (frame) {
    put_u32(frame, (uint32_t)len);
    put_u32(frame + 4, (uint32_t)crc32(0L, payload, (uInt)len));
    memcpy(frame + 8, payload, len);
    *flen = len + 8;
  }
  free(payload);
  return frame;
}

// 1 when path is a regular file (not a link) holding exactly data[len].
static int same_file_bytes(const char *path, const void *data, size_t len) {
  struct stat st;
  if (lstat(path, &st) || !S_ISREG(st.st_mode) || (size_t)st.st_size != len) return 0;
  void *got;
  size_t n;
  char e[64];
  if (store_read_file(path, &got, &n, e, sizeof e)) return 0;
  int same = n == len && !memcmp(got, data, len);
  free(got);
  return same;
}

// Keeps the damaged log's bytes as results.log.corrupt (written to a tmp file, fsync'd, renamed,
// directory fsync'd) before anything replaces results.log. A results.log.corrupt that already
// holds these bytes (an interrupted salvage of this same log) is kept as it is; one that holds
// anything else (an earlier salvage's original) is never overwritten: the bytes go to the first
// free results.log.corrupt.N instead. Its name goes to kept. 0 ok, -1 with err.
static int keep_damaged(const store *s, const void *data, size_t len, char *kept, size_t keptlen,
                        char *err, size_t errlen) {
  for (int k = 0; k < 1000; k++) {
    char name[64], path[1200];
    if (k) snprintf(name, sizeof name, "%s.corrupt.%d", STORE_LOG_NAME, k);
    else snprintf(name, sizeof name, "%s.corrupt", STORE_LOG_NAME);
    snprintf(path, sizeof path, "%s/%s", s->dir, name);
    snprintf(kept, keptlen, "%s", path);
    struct stat st;
    if (lstat(path, &st) != 0) {
      if (errno != ENOENT)
        return pnas_seterr(err, errlen, "%s: %s", path, pnas_strerror(errno));
      return store_write_file(s->dir, name, data, len, err, errlen);
    }
    if (same_file_bytes(path, data, len)) {
      if (sync_existing(path) || fsync_dir(s->dir))
        return pnas_seterr(err, errlen, "%s: cannot sync: %s", path, pnas_strerror(errno));
      return 0;
    }
  }
  return pnas_seterr(err, errlen, "%s/%s.corrupt .. .corrupt.999 are all taken: move the old "
                                  "ones away before salvaging again",
                     s->dir, STORE_LOG_NAME);
}

// --salvage after a read that skipped corrupt bytes: s->recs holds the good records. Keeps the
// damaged original (keep_damaged), then writes the repaired log (the good records, renumbered,
// their training times kept) to results.log.tmp, fsyncs it and renames it over results.log, and
// fsyncs the directory. A kill at any point leaves results.log either the damaged original (run
// the salvage again) or the complete repaired log; leftover tmp files are removed by the next
// try (store_write_file). 0 ok, -1 with err (results.log is then the damaged original).
static int salvage_rewrite(store *s, char *err, size_t errlen) {
  void *orig;
  size_t olen;
  if (store_read_file(s->log_path, &orig, &olen, err, errlen)) return -1;
  char kept[1200];
  int rc = keep_damaged(s, orig, olen, kept, sizeof kept, err, errlen);
  free(orig);
  if (rc) return -1;
  size_t cap = 12, len = 12;
  for (int i = 0; i < s->n; i++) s->recs[i].seq = i, cap += 1024;
  uint8_t *buf = malloc(cap);
  if (!buf) return pnas_seterr(err, errlen, "out of memory");
  memcpy(buf, STORE_LOG_MAGIC, 8);
  put_u32(buf + 8, STORE_LOG_VERSION);
  for (int i = 0; i < s->n; i++) {
    size_t flen;
    uint8_t *frame = frame_record(&s->recs[i], &flen), *nb = NULL;
    if (frame && len + flen > cap && (nb = realloc(buf, 2 * (len + flen)))) {
      buf = nb;
      cap = 2 * (len + flen);
    }
    if (!frame || len + flen > cap) {
      free(frame);
      free(buf);
      return pnas_seterr(err, errlen, "out of memory");
    }
    memcpy(buf + len, frame, flen);
    len += flen;
    free(frame);
  }
  rc = store_write_file(s->dir, STORE_LOG_NAME, buf, len, err, errlen);
  free(buf);
  if (rc) return -1;
  fprintf(stderr, "pnas: warning: %s: repaired with its %d good records; the damaged original "
                  "is kept as %s\n", s->log_path, s->n, kept);
  return 0;
}

int store_open(const char *dir, int create, int salvage, store **out, char *err, size_t errlen) {
  struct stat st;
  int made = 0;
  if (run_dir_check(dir, create, &made, err, errlen)) return -1;
  store *s = calloc(1, sizeof *s);
  if (!s) {
    if (made) rmdir(dir);
    pnas_seterr(err, errlen, "out of memory");
    return -1;
  }
  s->fd = -1;
  s->lock_fd = -1;
  s->made_dir = made;
  const char *fault = getenv("PNAS_FAULT_WRITE_AFTER");
  s->fault_after = fault && *fault ? strtol(fault, NULL, 10) : -1;
  snprintf(s->dir, sizeof s->dir, "%s", dir);
  snprintf(s->log_path, sizeof s->log_path, "%s/%s", dir, STORE_LOG_NAME);
  if (!create && lstat(s->log_path, &st) != 0) {
    pnas_seterr(err, errlen, "%s: no results log in this directory (is it a pnas run?)", dir);
    free(s);
    return -1;
  }
  s->lock_fd = store_lock(dir, err, errlen);
  if (s->lock_fd < 0) {
    free(s);
    return -1;
  }
  // The log is read, truncated (torn tail) and appended to by name: never through a link.
  if (lstat(s->log_path, &st) == 0 && !S_ISREG(st.st_mode)) {
    struct stat target;
    int loop = S_ISLNK(st.st_mode) && stat(s->log_path, &target) != 0 && errno == ELOOP;
    pnas_seterr(err, errlen, "%s: is %s, not a results log; refusing to use it", s->log_path,
           loop                  ? "a symbolic link loop (too many levels of symbolic links)"
           : S_ISLNK(st.st_mode) ? "a symbolic link"
           : S_ISDIR(st.st_mode) ? "a directory"
                                 : "not a regular file");
    store_close(s);
    return -1;
  }
  if (access(s->log_path, F_OK) != 0) {
    if (!create) {
      pnas_seterr(err, errlen, "%s: no results log in this directory (is it a pnas run?)", dir);
      store_close(s);
      return -1;
    }
    uint8_t hdr[12];
    memcpy(hdr, STORE_LOG_MAGIC, 8);
    put_u32(hdr + 8, STORE_LOG_VERSION);
    if (store_write_file(dir, STORE_LOG_NAME, hdr, sizeof hdr, err, errlen)) {
      store_discard(s); // no log was there: leave the directory as it was
      return -1;
    }
  }
  long torn_at = -1;
  int corrupt_skipped = 0;
  int rc = store_read_log(s->log_path, 0, &s->recs, &s->n, &torn_at, err, errlen);
  if (rc == -2 && salvage) {
    rc = store_read_log(s->log_path, 1, &s->recs, &s->n, &torn_at, err, errlen);
    corrupt_skipped = 1;
  }
  if (rc) {
    store_close(s);
    return -1;
  }
  s->cap = s->n;
  if (torn_at >= 0) {
    // Keep the torn bytes aside, then (unless the salvage below replaces the whole log) cut
    // them off so appends continue from a clean end.
    char torn_path[1200];
    snprintf(torn_path, sizeof torn_path, "%s.torn", s->log_path);
    copy_bytes(s->log_path, torn_at, torn_path);
    if (!corrupt_skipped && truncate(s->log_path, torn_at)) {
      pnas_seterr(err, errlen, "%s: cannot drop the torn record: %s", s->log_path, pnas_strerror(errno));
      store_close(s);
      return -1;
    }
  }
  if (corrupt_skipped && salvage_rewrite(s, err, errlen)) {
    store_close(s);
    return -1;
  }
  s->fd = open(s->log_path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
  if (s->fd < 0) {
    pnas_seterr(err, errlen, "%s: cannot open for appending: %s", s->log_path, pnas_strerror(errno));
    store_close(s);
    return -1;
  }
  if (index_rebuild(s)) {
    pnas_seterr(err, errlen, "out of memory");
    store_close(s);
    return -1;
  }
  *out = s;
  return 0;
}

void store_close(store *s) {
  if (!s) return;
  if (s->fd >= 0) close(s->fd);
  if (s->lock_fd >= 0) {
    // Empty it again before the flock goes (with the close): a run at rest, or one whose open
    // failed, is byte-for-byte what it was (the file only names a live holder).
    if (ftruncate(s->lock_fd, 0)) {}
    close(s->lock_fd);
  }
  free(s->recs);
  free(s->slots);
  free(s);
}

int store_open_readonly(const char *dir, store **out, char *err, size_t errlen) {
  struct stat st;
  int made;
  if (run_dir_check(dir, 0, &made, err, errlen)) return -1;
  store *s = calloc(1, sizeof *s);
  if (!s) return pnas_seterr(err, errlen, "out of memory");
  s->fd = -1;
  s->lock_fd = -1;
  s->readonly = 1;
  snprintf(s->dir, sizeof s->dir, "%s", dir);
  snprintf(s->log_path, sizeof s->log_path, "%s/%s", dir, STORE_LOG_NAME);
  if (stat(s->log_path, &st) != 0) {
    pnas_seterr(err, errlen, "%s: no results log in this directory (is it a pnas run?)", dir);
    free(s);
    return -1;
  }
  // A torn tail (the run is being written, or was killed) is left as it is: not ours to cut.
  long torn_at = -1;
  if (store_read_log(s->log_path, 0, &s->recs, &s->n, &torn_at, err, errlen)) {
    free(s);
    return -1;
  }
  s->cap = s->n;
  if (index_rebuild(s)) {
    store_close(s);
    return pnas_seterr(err, errlen, "out of memory");
  }
  *out = s;
  return 0;
}

void store_discard(store *s) {
  if (!s) return;
  PNAS_ASSERT(!s->readonly);
  if (s->n == 0) {
    // Still under the lock: the log, then the lock file, then (when this open made it) the
    // directory, which rmdir leaves alone unless it is empty.
    unlink(s->log_path);
    char path[1100];
    snprintf(path, sizeof path, "%s/.lock", s->dir);
    if (s->lock_fd >= 0) unlink(path);
  }
  int made = s->made_dir && s->n == 0;
  char dir[sizeof s->dir];
  memcpy(dir, s->dir, sizeof dir);
  store_close(s);
  if (made) rmdir(dir);
}

const char *store_dir(const store *s) { return s->dir; }
int store_count(const store *s) { return s->n; }
const store_record *store_get(const store *s, int i) {
  return (i >= 0 && i < s->n) ? &s->recs[i] : NULL;
}

int store_append(store *s, store_record *rec, char *err, size_t errlen) {
  PNAS_ASSERT(!s->readonly);
  space_canon(&rec->cell);
  rec->hash = space_hash(&rec->cell);
  rec->level = rec->cell.nblocks;
  rec->seq = s->n;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  rec->time = (double)ts.tv_sec + ts.tv_nsec * 1e-9;
  size_t flen;
  uint8_t *frame = frame_record(rec, &flen);
  if (!frame) {
    pnas_seterr(err, errlen, "out of memory");
    return -1;
  }
  off_t before = lseek(s->fd, 0, SEEK_END);
  int bad;
  if (s->fault_after == 0) // injected disk full (see fault_after)
    bad = write_all(s->fd, frame, flen / 2) || (errno = ENOSPC);
  else
    bad = write_all(s->fd, frame, flen) || sync_fd(s->fd);
  if (!bad && s->fault_after > 0) s->fault_after--;
  int e = errno;
  free(frame);
  if (bad) {
    // Leave the log as it was: cut off whatever part of the frame made it to disk.
    if (before >= 0 && ftruncate(s->fd, before) == 0) fsync(s->fd);
    pnas_seterr(err, errlen, "%s: cannot write a record: %s (the log is intact; free space and "
                        "rerun with --resume)",
           s->log_path, pnas_strerror(e));
    return -1;
  }
  if (s->n == s->cap) {
    int nc = s->cap ? s->cap * 2 : 64;
    store_record *nr = realloc(s->recs, sizeof *nr * (size_t)nc);
    if (!nr) {
      pnas_seterr(err, errlen, "out of memory");
      return -1;
    }
    s->recs = nr;
    s->cap = nc;
  }
  s->recs[s->n++] = *rec;
  if (2 * (s->n + 1) > s->nslots) return index_rebuild(s);
  // Insert into the index (first record wins).
  uint64_t k = key_of(rec->hash, rec->settings);
  for (int j = (int)(k & (uint64_t)(s->nslots - 1));; j = (j + 1) & (s->nslots - 1)) {
    if (!s->slots[j]) {
      s->slots[j] = s->n;
      break;
    }
    const store_record *o = &s->recs[s->slots[j] - 1];
    if (o->hash == rec->hash && o->settings == rec->settings) {
      if (!o->ok) s->slots[j] = s->n; // a retry supersedes the failed record
      break;
    }
  }
  return 0;
}

static int json_num(char *buf, size_t n, double x) {
  return isfinite(x) ? snprintf(buf, n, "%.6g", x) : snprintf(buf, n, "null");
}

int store_record_json(const store_record *r, char *buf, size_t n) {
  char text[SPACE_TEXT_MAX], acc[32], top5[32], pred[32], elapsed[32];
  space_format(&r->cell, text, sizeof text);
  json_num(acc, sizeof acc, r->val_acc);
  json_num(top5, sizeof top5, r->val_top5);
  json_num(pred, sizeof pred, r->predicted);
  json_num(elapsed, sizeof elapsed, r->elapsed);
  // reason comes from our own messages; escape quotes and backslashes defensively.
  char reason[2 * sizeof r->reason];
  size_t k = 0;
  for (const char *p = r->reason; *p && k + 2 < sizeof reason; p++) {
    if (*p == '"' || *p == '\\') reason[k++] = '\\';
    reason[k++] = (*p >= 32) ? *p : ' ';
  }
  reason[k] = '\0';
  return snprintf(buf, n,
                  "{\"seq\": %lld, \"cell\": \"%s\", \"hash\": \"%016llx\", \"level\": %d, "
                  "\"strategy\": \"%s\", \"ok\": %s, \"reason\": \"%s\", \"val_acc\": %s, "
                  "\"val_top5\": %s, \"examples\": %lld, \"seconds\": %.3f, \"device\": \"%s\", "
                  "\"seed\": %llu, \"params\": %lld, \"mult_adds\": %lld, \"predicted\": %s, "
                  "\"settings\": \"%016llx\", \"time\": %.3f, \"from_cache\": %s, \"elapsed\": %s}",
                  (long long)r->seq, text, (unsigned long long)r->hash, r->level, r->strategy,
                  r->ok ? "true" : "false", reason, acc, top5, (long long)r->examples, r->seconds,
                  r->device, (unsigned long long)r->seed, (long long)r->params,
                  (long long)r->mult_adds, pred, (unsigned long long)r->settings, r->time,
                  r->from_cache ? "true" : "false", elapsed);
}
