// Save / load of predictor ensembles as one msgpack map:
//   {"magic": "pnas-predictor", "version": 1, "kind": "lstm"|"mlp"|"ridge", "embed": E,
//    "hidden": H, "train_loss": [M floats], "members": [[{"name", "shape": [..],
//    "data": bin (float32 little-endian)}, ...] x M]}
// plus, in files written since it was recorded, "domain": {"ops": bit mask over the operators,
// "max_blocks": B, "cells": n}: what the ensemble was fitted on (older files load without it),
// and, when the op vocabulary is not 8 (a model of NASNet's 13 operators), "vocab": 13 before
// "members"; without the entry (every file of vocabulary 8, and all older files) it is 8, so a
// PNAS-space predictor file is byte for byte what it was before the vocabulary was a setting.
// Loading checks every name, shape and size, so a wrong or damaged file is an error, not a crash.
//
// Checksum: files written since this change end with a last key, "crc32": the CRC-32 (zlib's
// function, common/crc32.h) of every byte of the file before that entry, stored as a msgpack
// uint32 (0xce + 4 bytes, big endian), so the entry is always the last 11 bytes: a5 "crc32" ce
// XX XX XX XX (the seal every msgpack file of pnas carries). Loading a sealed file checks it
// and refuses a mismatch (a flipped byte) with PRED_EFORMAT. Older files (version 1 with 7 keys, no checksum) are still read, unchecked:
// the version stays 1. A map with 8 keys but no "crc32" is refused as damaged. Loading also
// refuses any non-finite weight (NaN, inf), naming the member and tensor, so a predictor never
// scores a cell NaN because of its file.
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crc32.h"
#include "searchspace/msgpack_check.h"

#include "predictor/ensemble.h"

#define MAX_TENSORS 10
#define MAX_FILE_BYTES ((size_t)1 << 30)

typedef struct {
  const char *name;
  int ndim, shape[2];
  float *data;
} tspec;

static int member_specs(const pred_ensemble *e, int m, tspec *t) {
  const int E = e->E, H = e->H, NI = SPACE_NUM_INPUTS, NO = e->vocab, NF = ridge_nfeat(NO);
  int k = 0;
#define T2(nm, a, b, p) t[k++] = (tspec){nm, 2, {a, b}, p}
#define T1(nm, a, p) t[k++] = (tspec){nm, 1, {a, 0}, p}
  if (e->kind == PRED_LSTM) {
    const lstm_params *v = &e->lstm[m].v;
    T2("emb_in", NI, E, v->emb);
    T2("emb_op", NO, E, v->emb + (size_t)NI * E);
    T2("w_ih", E, 4 * H, v->w_ih);
    T2("w_hh", H, 4 * H, v->w_hh);
    T1("b", 4 * H, v->b);
    T1("w_fc", H, v->w_fc);
    T1("b_fc", 1, v->b_fc);
  } else if (e->kind == PRED_MLP) {
    const mlp_params *v = &e->mlp[m].v;
    T2("emb_in", NI, E, v->emb);
    T2("emb_op", NO, E, v->emb + (size_t)NI * E);
    T2("w1", 4 * E, H, v->w1);
    T1("b1", H, v->b1);
    T2("w2", H, H, v->w2);
    T1("b2", H, v->b2);
    T1("w3", H, v->w3);
    T1("b3", 1, v->b3);
  } else {
    T1("w", NF, e->ridge[m].w);
    T1("b", 1, e->ridge[m].w + NF);
  }
#undef T1
#undef T2
  return k;
}


static size_t numel(const tspec *t) {
  return t->ndim == 1 ? (size_t)t->shape[0] : (size_t)t->shape[0] * t->shape[1];
}

static void pack_str(msgpack_packer *pk, const char *s) {
  size_t n = strlen(s);
  msgpack_pack_str(pk, n);
  msgpack_pack_str_body(pk, s, n);
}

int pred_ensemble_save_mem(const pred_ensemble *e, char **buf, size_t *len, char *err,
                           size_t errlen) {
  if (!pred_ensemble_is_fitted(e)) {
    snprintf(err, errlen, "cannot save an unfitted predictor");
    return PRED_EARG;
  }
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  int dom = e->dom_cells > 0, voc = e->vocab != SPACE_PNAS_OPS;
  msgpack_pack_map(&pk, 8 + dom + voc); // the last entry, "crc32", is appended below
  pack_str(&pk, "magic");
  pack_str(&pk, PRED_FILE_MAGIC);
  pack_str(&pk, "version");
  msgpack_pack_int(&pk, PRED_FILE_VERSION);
  pack_str(&pk, "kind");
  pack_str(&pk, pred_kind_name(e->kind));
  pack_str(&pk, "embed");
  msgpack_pack_int(&pk, e->E);
  pack_str(&pk, "hidden");
  msgpack_pack_int(&pk, e->H);
  pack_str(&pk, "train_loss");
  msgpack_pack_array(&pk, (size_t)e->members);
  for (int m = 0; m < e->members; m++) msgpack_pack_float(&pk, e->loss[m]);
  if (dom) { // what it was fitted on (pred_ensemble_domain)
    pack_str(&pk, "domain");
    msgpack_pack_map(&pk, 3);
    pack_str(&pk, "ops");
    msgpack_pack_uint32(&pk, e->dom_ops);
    pack_str(&pk, "max_blocks");
    msgpack_pack_int(&pk, e->dom_blocks);
    pack_str(&pk, "cells");
    msgpack_pack_int(&pk, e->dom_cells);
  }
  if (voc) { // the op vocabulary, when not PNAS's 8 (see the top of the file)
    pack_str(&pk, "vocab");
    msgpack_pack_int(&pk, e->vocab);
  }
  pack_str(&pk, "members");
  msgpack_pack_array(&pk, (size_t)e->members);
  unsigned char *le = NULL;
  size_t lecap = 0;
  int rc = PRED_OK;
  for (int m = 0; m < e->members && rc == PRED_OK; m++) {
    tspec t[MAX_TENSORS];
    int nt = member_specs(e, m, t);
    msgpack_pack_array(&pk, (size_t)nt);
    for (int k = 0; k < nt; k++) {
      size_t ne = numel(&t[k]);
      if (ne * 4 > lecap) {
        unsigned char *p = realloc(le, ne * 4);
        if (!p) {
          rc = PRED_ENOMEM;
          break;
        }
        le = p;
        lecap = ne * 4;
      }
      for (size_t i = 0; i < ne; i++) { // explicit little-endian float32
        uint32_t u;
        memcpy(&u, &t[k].data[i], 4);
        le[4 * i] = (unsigned char)u, le[4 * i + 1] = (unsigned char)(u >> 8);
        le[4 * i + 2] = (unsigned char)(u >> 16), le[4 * i + 3] = (unsigned char)(u >> 24);
      }
      msgpack_pack_map(&pk, 3);
      pack_str(&pk, "name");
      pack_str(&pk, t[k].name);
      pack_str(&pk, "shape");
      msgpack_pack_array(&pk, (size_t)t[k].ndim);
      for (int d = 0; d < t[k].ndim; d++) msgpack_pack_int(&pk, t[k].shape[d]);
      pack_str(&pk, "data");
      msgpack_pack_bin(&pk, ne * 4);
      msgpack_pack_bin_body(&pk, le, ne * 4);
    }
  }
  free(le);
  // The checksum of everything so far (see the top of this file).
  if (rc == PRED_OK && sb.data && space_msgpack_seal(&sb)) rc = PRED_ENOMEM;
  if (rc != PRED_OK || !sb.data) {
    msgpack_sbuffer_destroy(&sb);
    snprintf(err, errlen, "out of memory serialising the predictor");
    return PRED_ENOMEM;
  }
  *buf = sb.data; // sbuffer memory is malloc'd; the caller frees it
  *len = sb.size;
  return PRED_OK;
}

int pred_ensemble_save(const pred_ensemble *e, const char *path, char *err, size_t errlen) {
  char *buf;
  size_t len;
  int rc = pred_ensemble_save_mem(e, &buf, &len, err, errlen);
  if (rc) return rc;
  // Write to a temporary name and rename, so a crash never leaves a half-written model.
  size_t pl = strlen(path);
  char *tmp = malloc(pl + 8);
  if (!tmp) {
    free(buf);
    snprintf(err, errlen, "out of memory");
    return PRED_ENOMEM;
  }
  memcpy(tmp, path, pl);
  memcpy(tmp + pl, ".tmp", 5);
  // A fresh tmp (O_EXCL), never through a symbolic link planted at its name; a stale one is
  // removed only when it is a regular file of ours.
  struct stat st;
  FILE *f = NULL;
  if (lstat(tmp, &st) == 0 && (!S_ISREG(st.st_mode) || st.st_uid != geteuid())) {
    snprintf(err, errlen, "%s: exists and is %s; refusing to write through it", tmp,
             S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file of ours");
    rc = PRED_EIO;
  } else {
    if (unlink(tmp) && errno != ENOENT) {} // a failure shows as EEXIST below
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0 && !(f = fdopen(fd, "wb"))) close(fd);
    if (!f) {
      snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
      rc = PRED_EIO;
    }
  }
  if (f) {
    int bad = fwrite(buf, 1, len, f) != len;
    bad |= fflush(f) != 0;
    bad |= fclose(f) != 0;
    if (bad) {
      snprintf(err, errlen, "%s: write failed: %s", tmp, strerror(errno));
      remove(tmp);
      rc = PRED_EIO;
    } else if (rename(tmp, path)) {
      snprintf(err, errlen, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
      remove(tmp);
      rc = PRED_EIO;
    }
  }
  free(tmp);
  free(buf);
  return rc;
}

static const msgpack_object *find_key(const msgpack_object *map, const char *key) {
  size_t kl = strlen(key);
  for (uint32_t i = 0; i < map->via.map.size; i++) {
    const msgpack_object_kv *kv = &map->via.map.ptr[i];
    if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == kl &&
        !memcmp(kv->key.via.str.ptr, key, kl))
      return &kv->val;
  }
  return NULL;
}

static int get_int(const msgpack_object *o, int64_t *v) {
  if (!o) return -1;
  if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) {
    *v = (int64_t)o->via.u64;
    return 0;
  }
  if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
    *v = o->via.i64;
    return 0;
  }
  return -1;
}

static int str_eq(const msgpack_object *o, const char *s) {
  return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
         !memcmp(o->via.str.ptr, s, o->via.str.size);
}

#define REGEN "; refit it (pnas predictor retrain) to regenerate"

// buf, len: the whole file, root: its parsed map (for the checksum; see the top of the file).
static int load_obj(pred_ensemble *e, const msgpack_object *root, const char *buf, size_t len,
                    char *err, size_t errlen) {
  if (root->type != MSGPACK_OBJECT_MAP || !str_eq(find_key(root, "magic"), PRED_FILE_MAGIC)) {
    snprintf(err, errlen, "not a pnas predictor file (no \"%s\" magic)", PRED_FILE_MAGIC);
    return PRED_EFORMAT;
  }
  // A file of 8 to 10 keys (8: crc32 without domain, 9: with, 10: and vocab) was written sealed.
  if (space_msgpack_sealed(root, buf, len) || find_key(root, "crc32") || root->via.map.size >= 8) {
    char why[120];
    if (pnas_crc_check(buf, len, why, sizeof why)) {
      snprintf(err, errlen, "predictor file is damaged (%s)" REGEN, why);
      return PRED_EFORMAT;
    }
  }
  int64_t ver, E, H;
  if (get_int(find_key(root, "version"), &ver)) {
    snprintf(err, errlen, "predictor file has no version" REGEN);
    return PRED_EFORMAT;
  }
  if (ver != PRED_FILE_VERSION) {
    snprintf(err, errlen, "predictor file version %lld, this build reads version %d" REGEN,
             (long long)ver, PRED_FILE_VERSION);
    return PRED_EFORMAT;
  }
  const msgpack_object *kind = find_key(root, "kind");
  int k = -1;
  for (int i = 0; i < 3; i++)
    if (str_eq(kind, pred_kind_name((pred_kind)i))) k = i;
  if (k < 0) {
    snprintf(err, errlen, "predictor file: unknown or missing kind (lstm, mlp, ridge)");
    return PRED_EFORMAT;
  }
  if (get_int(find_key(root, "embed"), &E) || get_int(find_key(root, "hidden"), &H) || E < 1 ||
      E > 4096 || H < 1 || H > 4096) {
    snprintf(err, errlen, "predictor file: missing or bad embed / hidden sizes");
    return PRED_EFORMAT;
  }
  const msgpack_object *mem = find_key(root, "members");
  if (!mem || mem->type != MSGPACK_OBJECT_ARRAY || mem->via.array.size < 1 ||
      mem->via.array.size > 64) {
    snprintf(err, errlen, "predictor file: \"members\" must be an array of 1..64 members");
    return PRED_EFORMAT;
  }
  const int M = (int)mem->via.array.size;
  int64_t vocab = SPACE_PNAS_OPS; // files without the entry: PNAS's 8 operators
  const msgpack_object *vo = find_key(root, "vocab");
  if (vo && (get_int(vo, &vocab) || (vocab != SPACE_PNAS_OPS && vocab != SPACE_NUM_OPS &&
                                     vocab != SPACE_PAIR_VOCAB))) {
    snprintf(err, errlen, "predictor file: bad \"vocab\" entry (expected %d, %d or %d)" REGEN,
             SPACE_PNAS_OPS, SPACE_NUM_OPS, SPACE_PAIR_VOCAB);
    return PRED_EFORMAT;
  }
  if (pred_ensemble_alloc(e, (pred_kind)k, M, (int)E, (int)H, (int)vocab)) {
    snprintf(err, errlen, "out of memory loading a %d-member predictor", M);
    return PRED_ENOMEM;
  }
  const msgpack_object *dom = find_key(root, "domain");
  if (dom) { // optional: absent from files written before it was recorded
    int64_t ops, mb, nc;
    if (dom->type != MSGPACK_OBJECT_MAP || get_int(find_key(dom, "ops"), &ops) ||
        get_int(find_key(dom, "max_blocks"), &mb) || get_int(find_key(dom, "cells"), &nc) ||
        ops < 0 || ops >= (1LL << vocab) || mb < 1 || mb > SPACE_MAX_BLOCKS || nc < 1 ||
        nc > INT32_MAX) {
      snprintf(err, errlen, "predictor file: bad \"domain\" entry" REGEN);
      pred_ensemble_clear(e);
      return PRED_EFORMAT;
    }
    e->dom_ops = (uint32_t)ops, e->dom_blocks = (int)mb, e->dom_cells = (int)nc;
  }
  const msgpack_object *tl = find_key(root, "train_loss");
  for (int m = 0; m < M; m++) {
    e->loss[m] = NAN;
    if (tl && tl->type == MSGPACK_OBJECT_ARRAY && tl->via.array.size == (uint32_t)M) {
      const msgpack_object *o = &tl->via.array.ptr[m];
      if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
        e->loss[m] = (float)o->via.f64;
    }
  }
  for (int m = 0; m < M; m++) {
    tspec t[MAX_TENSORS];
    int nt = member_specs(e, m, t);
    const msgpack_object *arr = &mem->via.array.ptr[m];
    if (arr->type != MSGPACK_OBJECT_ARRAY || arr->via.array.size != (uint32_t)nt) {
      snprintf(err, errlen, "predictor file: member %d must hold %d tensors", m, nt);
      return PRED_EFORMAT;
    }
    for (int i = 0; i < nt; i++) {
      const msgpack_object *o = &arr->via.array.ptr[i];
      const msgpack_object *shape = o->type == MSGPACK_OBJECT_MAP ? find_key(o, "shape") : NULL;
      const msgpack_object *data = o->type == MSGPACK_OBJECT_MAP ? find_key(o, "data") : NULL;
      int ok = o->type == MSGPACK_OBJECT_MAP && str_eq(find_key(o, "name"), t[i].name) && shape &&
               shape->type == MSGPACK_OBJECT_ARRAY &&
               shape->via.array.size == (uint32_t)t[i].ndim;
      for (int d = 0; ok && d < t[i].ndim; d++) {
        int64_t v;
        ok = !get_int(&shape->via.array.ptr[d], &v) && v == t[i].shape[d];
      }
      size_t ne = numel(&t[i]);
      ok = ok && data && data->type == MSGPACK_OBJECT_BIN && data->via.bin.size == ne * 4;
      if (!ok) {
        if (t[i].ndim == 2)
          snprintf(err, errlen, "predictor file: member %d tensor %d must be \"%s\" (%d, %d) float32",
                   m, i, t[i].name, t[i].shape[0], t[i].shape[1]);
        else
          snprintf(err, errlen, "predictor file: member %d tensor %d must be \"%s\" (%d) float32",
                   m, i, t[i].name, t[i].shape[0]);
        return PRED_EFORMAT;
      }
      const unsigned char *b = (const unsigned char *)data->via.bin.ptr;
      for (size_t j = 0; j < ne; j++) {
        uint32_t u = (uint32_t)b[4 * j] | (uint32_t)b[4 * j + 1] << 8 |
                     (uint32_t)b[4 * j + 2] << 16 | (uint32_t)b[4 * j + 3] << 24;
        memcpy(&t[i].data[j], &u, 4);
        if (!isfinite(t[i].data[j])) {
          snprintf(err, errlen, "predictor file: member %d tensor \"%s\" holds a non-finite "
                                "weight (%g at index %zu)" REGEN,
                   m, t[i].name, (double)t[i].data[j], j);
          return PRED_EFORMAT;
        }
      }
    }
  }
  return PRED_OK;
}

int pred_ensemble_load_mem(pred_ensemble **out, const char *buf, size_t len, char *err,
                           size_t errlen) {
  *out = NULL;
  msgpack_unpacked u;
  msgpack_unpacked_init(&u);
  size_t off = 0;
  // Untrusted bytes: check the structure before msgpack-c allocates for the counts it claims.
  char serr[200];
  // Trailing bytes after a well-formed first object are reported below, after the magic check.
  if (space_msgpack_check(buf, len, serr, sizeof serr) && !strstr(serr, "trailing")) {
    msgpack_unpacked_destroy(&u);
    if (!strncmp(serr, "truncated", 9) || len == 0)
      snprintf(err, errlen, "predictor file is truncated (%zu bytes: %s)" REGEN, len, serr);
    else
      snprintf(err, errlen, "not a pnas predictor file (not msgpack: %s)", serr);
    return PRED_EFORMAT;
  }
  msgpack_unpack_return r = msgpack_unpack_next(&u, buf, len, &off);
  int rc = PRED_OK;
  if (r == MSGPACK_UNPACK_CONTINUE || (r != MSGPACK_UNPACK_SUCCESS && len == 0)) {
    snprintf(err, errlen, "predictor file is truncated (%zu bytes)" REGEN, len);
    rc = PRED_EFORMAT;
  } else if (r == MSGPACK_UNPACK_NOMEM_ERROR) {
    snprintf(err, errlen, "out of memory parsing the predictor file");
    rc = PRED_ENOMEM;
  } else if (r != MSGPACK_UNPACK_SUCCESS && r != MSGPACK_UNPACK_EXTRA_BYTES) {
    snprintf(err, errlen, "not a pnas predictor file (not msgpack)");
    rc = PRED_EFORMAT;
  }
  pred_ensemble *e = NULL;
  if (rc == PRED_OK) {
    e = pred_ensemble_new();
    if (!e) {
      snprintf(err, errlen, "out of memory");
      rc = PRED_ENOMEM;
    } else {
      rc = load_obj(e, &u.data, buf, off, err, errlen);
    }
  }
  if (rc == PRED_OK && off != len) {
    snprintf(err, errlen, "predictor file has %zu trailing bytes (corrupt?)" REGEN, len - off);
    rc = PRED_EFORMAT;
  }
  msgpack_unpacked_destroy(&u);
  if (rc != PRED_OK) {
    pred_ensemble_free(e);
    return rc;
  }
  *out = e;
  return PRED_OK;
}

int pred_ensemble_load(pred_ensemble **out, const char *path, char *err, size_t errlen) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    return PRED_EIO;
  }
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  int rc = PRED_OK;
  while (buf) {
    if (len == cap) {
      if (cap >= MAX_FILE_BYTES) {
        snprintf(err, errlen, "%s: larger than %zu bytes, not a predictor file", path,
                 MAX_FILE_BYTES);
        rc = PRED_EFORMAT;
        break;
      }
      char *p = realloc(buf, cap * 2);
      if (!p) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = p;
      cap *= 2;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) break;
  }
  if (!buf) {
    snprintf(err, errlen, "%s: out of memory reading", path);
    rc = PRED_ENOMEM;
  } else if (rc == PRED_OK && ferror(f)) {
    snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
    rc = PRED_EIO;
  }
  fclose(f);
  if (rc == PRED_OK) {
    char msg[384];
    rc = pred_ensemble_load_mem(out, buf, len, msg, sizeof msg);
    if (rc) snprintf(err, errlen, "%s: %s", path, msg);
  }
  free(buf);
  return rc;
}
