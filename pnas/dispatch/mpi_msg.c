// The MPI message format (pnas/dispatch/mpi_msg.h): msgpack encoding and a strict decoder. A result
// carries its record in the run store's own record encoding (store_encode_record), as bytes, so
// a record means the same thing on the wire and on disk. It does not send or receive anything.
#include "pnas/dispatch/mpi_msg.h"
#include "searchspace/msgpack_check.h"

#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

const char *mpi_msg_type_name(int type) {
  switch (type) {
  case PNAS_MPI_HELLO: return "hello";
  case PNAS_MPI_JOB: return "job";
  case PNAS_MPI_RESULT: return "result";
  case PNAS_MPI_ERROR: return "error";
  case PNAS_MPI_STOP: return "stop";
  default: return "?";
  }
}

// --- encoding ---

static void pack_str(msgpack_packer *pk, const char *s) {
  size_t n = strlen(s);
  msgpack_pack_str(pk, n);
  msgpack_pack_str_body(pk, s, n);
}

static void pack_head(msgpack_packer *pk, int nfields, const char *type) {
  msgpack_pack_map(pk, (size_t)(3 + nfields));
  pack_str(pk, "format"), pack_str(pk, PNAS_MPI_FORMAT);
  pack_str(pk, "version"), msgpack_pack_int(pk, PNAS_MPI_VERSION);
  pack_str(pk, "type"), pack_str(pk, type);
}

int mpi_encode_msg(const mpi_msg *m, void **data, size_t *len, char *err, size_t errlen) {
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  switch (m->type) {
  case PNAS_MPI_HELLO: {
    const mpi_hello *h = &m->u.hello;
    pack_head(&pk, 7, "hello");
    pack_str(&pk, "rank"), msgpack_pack_int(&pk, h->rank);
    pack_str(&pk, "pid"), msgpack_pack_int64(&pk, h->pid);
    pack_str(&pk, "host"), pack_str(&pk, h->host);
    pack_str(&pk, "local_rank"), msgpack_pack_int(&pk, h->local_rank);
    pack_str(&pk, "local_workers"), msgpack_pack_int(&pk, h->local_workers);
    pack_str(&pk, "gpu"), msgpack_pack_int(&pk, h->gpu);
    pack_str(&pk, "device"), pack_str(&pk, h->device);
    break;
  }
  case PNAS_MPI_JOB: {
    const mpi_job *j = &m->u.job;
    pack_head(&pk, 10, "job");
    pack_str(&pk, "id"), msgpack_pack_uint32(&pk, j->id);
    pack_str(&pk, "cell"), space_pack(&j->cell, (struct msgpack_packer *)&pk);
    pack_str(&pk, "hash"), msgpack_pack_uint64(&pk, space_hash(&j->cell));
    pack_str(&pk, "level"), msgpack_pack_int(&pk, j->level);
    pack_str(&pk, "predicted");
    isnan(j->predicted) ? msgpack_pack_nil(&pk) : msgpack_pack_double(&pk, j->predicted);
    pack_str(&pk, "settings"), msgpack_pack_uint64(&pk, j->settings);
    pack_str(&pk, "settings_text"), pack_str(&pk, j->settings_text);
    pack_str(&pk, "strategy"), pack_str(&pk, j->strategy);
    pack_str(&pk, "device"), pack_str(&pk, j->device);
    pack_str(&pk, "threads"), msgpack_pack_int(&pk, j->threads);
    break;
  }
  case PNAS_MPI_RESULT: {
    void *rec;
    size_t rlen;
    if (store_encode_record(&m->u.result.rec, &rec, &rlen) || !rec) {
      msgpack_sbuffer_destroy(&sb);
      pnas_seterr(err, errlen, "out of memory encoding a result");
      return -1;
    }
    pack_head(&pk, 2, "result");
    pack_str(&pk, "id"), msgpack_pack_uint32(&pk, m->u.result.id);
    pack_str(&pk, "record"), msgpack_pack_bin(&pk, rlen), msgpack_pack_bin_body(&pk, rec, rlen);
    free(rec);
    break;
  }
  case PNAS_MPI_ERROR:
    pack_head(&pk, 1, "error");
    pack_str(&pk, "text"), pack_str(&pk, m->u.error);
    break;
  case PNAS_MPI_STOP: pack_head(&pk, 0, "stop"); break;
  default:
    msgpack_sbuffer_destroy(&sb);
    pnas_seterr(err, errlen, "cannot encode message type %d", (int)m->type);
    return -1;
  }
  if (!sb.data) { // msgpack_sbuffer_write failed to allocate
    pnas_seterr(err, errlen, "out of memory encoding a %s message", mpi_msg_type_name(m->type));
    return -1;
  }
  *data = sb.data; // ownership moves to the caller
  *len = sb.size;
  return 0;
}

// --- decoding ---

static int key_is(const msgpack_object *k, const char *name) {
  return k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(name) &&
         !memcmp(k->via.str.ptr, name, k->via.str.size);
}

static int get_str(const msgpack_object *v, char *buf, size_t cap) {
  if (v->type != MSGPACK_OBJECT_STR || v->via.str.size >= cap) return -1;
  memcpy(buf, v->via.str.ptr, v->via.str.size);
  buf[v->via.str.size] = '\0';
  if (strlen(buf) != v->via.str.size) return -1; // embedded NUL
  return 0;
}

static int get_i64(const msgpack_object *v, int64_t lo, int64_t hi, int64_t *out) {
  int64_t x;
  if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
    if (v->via.u64 > (uint64_t)INT64_MAX) return -1;
    x = (int64_t)v->via.u64;
  } else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
    x = v->via.i64;
  } else {
    return -1;
  }
  if (x < lo || x > hi) return -1;
  *out = x;
  return 0;
}

// The fields of one message type: names in order; a bit per field marks it seen.
typedef struct {
  const char *const *names;
  int n;
} field_list;

static const char *const HELLO_F[] = {"rank", "pid", "host", "local_rank", "local_workers", "gpu",
                                      "device"};
static const char *const JOB_F[] = {"id", "cell", "hash", "level", "predicted", "settings",
                                    "settings_text", "strategy", "device", "threads"};
static const char *const RESULT_F[] = {"id", "record"};
static const char *const ERROR_F[] = {"text"};

static int field_index(const field_list *fl, const msgpack_object *k) {
  for (int i = 0; i < fl->n; i++)
    if (key_is(k, fl->names[i])) return i;
  return -1;
}

// Decodes field i of a message of type t from v into m. 0 ok, -1 with err.
static int decode_field(mpi_msg *m, int i, const msgpack_object *v, char *err, size_t errlen) {
  int64_t x;
  char e[256];
  switch (m->type) {
  case PNAS_MPI_HELLO: {
    mpi_hello *h = &m->u.hello;
    switch (i) {
    case 0: if (get_i64(v, 1, INT32_MAX, &x)) return -1; h->rank = (int)x; return 0;
    case 1: if (get_i64(v, 0, INT64_MAX, &x)) return -1; h->pid = x; return 0;
    case 2: return get_str(v, h->host, sizeof h->host);
    case 3: if (get_i64(v, 0, INT32_MAX, &x)) return -1; h->local_rank = (int)x; return 0;
    case 4: if (get_i64(v, 1, INT32_MAX, &x)) return -1; h->local_workers = (int)x; return 0;
    case 5: if (get_i64(v, -1, INT32_MAX, &x)) return -1; h->gpu = (int)x; return 0;
    case 6: return get_str(v, h->device, sizeof h->device);
    }
    return -1;
  }
  case PNAS_MPI_JOB: {
    mpi_job *j = &m->u.job;
    switch (i) {
    case 0: if (get_i64(v, 0, UINT32_MAX, &x)) return -1; j->id = (uint32_t)x; return 0;
    case 1:
      if (space_unpack((const struct msgpack_object *)v, &j->cell, e, sizeof e)) {
        pnas_seterr(err, errlen, "job field 'cell': %s", e);
        return -2;
      }
      space_canon(&j->cell);
      return 0;
    case 2: // the hash is compared with the cell's once the whole message is read
      return v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? 0 : -1;
    case 3:
      if (get_i64(v, 1, SPACE_MAX_BLOCKS, &x)) return -1;
      j->level = (int)x;
      return 0;
    case 4:
      if (v->type == MSGPACK_OBJECT_NIL) j->predicted = NAN;
      else if (v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64)
        j->predicted = v->via.f64;
      else return -1;
      return 0;
    case 5:
      if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER) return -1;
      j->settings = v->via.u64;
      return 0;
    case 6: return get_str(v, j->settings_text, sizeof j->settings_text);
    case 7: return get_str(v, j->strategy, sizeof j->strategy);
    case 8: return get_str(v, j->device, sizeof j->device);
    case 9: if (get_i64(v, 0, 1024, &x)) return -1; j->threads = (int)x; return 0;
    }
    return -1;
  }
  case PNAS_MPI_RESULT:
    if (i == 0) {
      if (get_i64(v, 0, UINT32_MAX, &x)) return -1;
      m->u.result.id = (uint32_t)x;
      return 0;
    }
    if (v->type != MSGPACK_OBJECT_BIN) return -1;
    if (space_msgpack_check(v->via.bin.ptr, v->via.bin.size, e, sizeof e) ||
        store_decode_record(v->via.bin.ptr, v->via.bin.size, &m->u.result.rec, e, sizeof e)) {
      pnas_seterr(err, errlen, "result field 'record': %s", e);
      return -2;
    }
    return 0;
  case PNAS_MPI_ERROR: return get_str(v, m->u.error, sizeof m->u.error);
  default: return -1;
  }
}

// The header, wherever its keys are in the map: format, version, type (copied into type[16]).
static int decode_header(const msgpack_object *o, char *type, char *err, size_t errlen) {
  int have_format = 0;
  int64_t version = -1;
  type[0] = '\0';
  for (uint32_t i = 0; i < o->via.map.size; i++) {
    const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
    if (key_is(k, "format")) {
      char f[32];
      if (get_str(v, f, sizeof f) || strcmp(f, PNAS_MPI_FORMAT)) {
        pnas_seterr(err, errlen, "not a pnas MPI message (format field is not \"%s\")",
               PNAS_MPI_FORMAT);
        return -1;
      }
      have_format = 1;
    } else if (key_is(k, "version")) {
      if (get_i64(v, 0, INT32_MAX, &version)) {
        pnas_seterr(err, errlen, "message field 'version' has the wrong type");
        return -1;
      }
    } else if (key_is(k, "type")) {
      if (get_str(v, type, 16)) {
        pnas_seterr(err, errlen, "message field 'type' has the wrong type");
        return -1;
      }
    }
  }
  if (!have_format || version < 0 || !type[0]) {
    pnas_seterr(err, errlen, "not a pnas MPI message (no %s field)",
           !have_format ? "format" : version < 0 ? "version" : "type");
    return -1;
  }
  if (version != PNAS_MPI_VERSION) {
    pnas_seterr(err, errlen, "MPI message version %lld, this pnas speaks version %d (run the same pnas "
                        "build on every rank)", (long long)version, PNAS_MPI_VERSION);
    return -1;
  }
  return 0;
}

int mpi_decode_msg(const void *data, size_t len, mpi_msg *m, char *err, size_t errlen) {
  char e[256];
  memset(m, 0, sizeof *m);
  if (!data || len == 0) {
    pnas_seterr(err, errlen, "empty message");
    return -1;
  }
  if (len > PNAS_MPI_MAX_MSG) {
    pnas_seterr(err, errlen, "message of %zu bytes is over the %u-byte limit", len, PNAS_MPI_MAX_MSG);
    return -1;
  }
  if (space_msgpack_check(data, len, e, sizeof e)) {
    pnas_seterr(err, errlen, "malformed message: %s", e);
    return -1;
  }
  msgpack_unpacked up;
  msgpack_unpacked_init(&up);
  size_t off = 0;
  int rc = -1;
  if (msgpack_unpack_next(&up, data, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len) {
    pnas_seterr(err, errlen, "malformed message: not one msgpack object");
    goto out;
  }
  const msgpack_object *o = &up.data;
  if (o->type != MSGPACK_OBJECT_MAP) {
    pnas_seterr(err, errlen, "malformed message: not a msgpack map");
    goto out;
  }
  char type[16];
  if (decode_header(o, type, err, errlen)) goto out;
  field_list fl = {NULL, 0};
  if (!strcmp(type, "hello")) m->type = PNAS_MPI_HELLO, fl = (field_list){HELLO_F, 7};
  else if (!strcmp(type, "job")) m->type = PNAS_MPI_JOB, fl = (field_list){JOB_F, 10};
  else if (!strcmp(type, "result")) m->type = PNAS_MPI_RESULT, fl = (field_list){RESULT_F, 2};
  else if (!strcmp(type, "error")) m->type = PNAS_MPI_ERROR, fl = (field_list){ERROR_F, 1};
  else if (!strcmp(type, "stop")) m->type = PNAS_MPI_STOP;
  else {
    pnas_seterr(err, errlen, "unknown MPI message type '%s'", type);
    goto out;
  }
  if (m->type == PNAS_MPI_JOB) m->u.job.predicted = NAN;
  uint32_t seen = 0;
  uint64_t job_hash = 0;
  for (uint32_t i = 0; i < o->via.map.size; i++) {
    const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
    if (key_is(k, "format") || key_is(k, "version") || key_is(k, "type")) continue;
    int f = field_index(&fl, k);
    if (f < 0) {
      if (k->type == MSGPACK_OBJECT_STR)
        pnas_seterr(err, errlen, "%s message has an unknown field '%.*s'", type,
               (int)(k->via.str.size > 40 ? 40 : k->via.str.size), k->via.str.ptr);
      else pnas_seterr(err, errlen, "%s message has a key that is not a string", type);
      goto out;
    }
    if (seen & (1u << f)) {
      pnas_seterr(err, errlen, "%s message has field '%s' twice", type, fl.names[f]);
      goto out;
    }
    seen |= 1u << f;
    if (m->type == PNAS_MPI_JOB && f == 2) job_hash = v->via.u64;
    int r = decode_field(m, f, v, err, errlen);
    if (r == -1) pnas_seterr(err, errlen, "%s message field '%s' has the wrong type, range or length",
                        type, fl.names[f]);
    if (r) goto out;
  }
  if (seen != (fl.n ? (1u << fl.n) - 1 : 0u)) {
    for (int f = 0; f < fl.n; f++)
      if (!(seen & (1u << f))) {
        pnas_seterr(err, errlen, "%s message lacks the field '%s'", type, fl.names[f]);
        break;
      }
    goto out;
  }
  if (m->type == PNAS_MPI_JOB) {
    const mpi_job *j = &m->u.job;
    if (job_hash != space_hash(&j->cell)) {
      pnas_seterr(err, errlen, "job message: hash does not match its cell");
      goto out;
    }
    if (j->cell.nblocks < 1) {
      pnas_seterr(err, errlen, "job message: empty cell");
      goto out;
    }
  }
  if (m->type == PNAS_MPI_HELLO && m->u.hello.local_rank >= m->u.hello.local_workers) {
    pnas_seterr(err, errlen, "hello message: local_rank %d of %d local workers", m->u.hello.local_rank,
           m->u.hello.local_workers);
    goto out;
  }
  rc = 0;
out:
  msgpack_unpacked_destroy(&up);
  return rc;
}
