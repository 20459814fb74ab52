// Tests of the MPI message format (pnas/dispatch/mpi_msg.c) without MPI: round trips of every message
// type, every truncation and every single-byte change of real messages (decoded or rejected with
// a message, never a crash), the named rejections, the msgpack pre-check, the GPU pick and the
// launcher detection.
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pnas/dispatch/mpi_msg.h"
#include "searchspace/msgpack_check.h"
#include "pnas/dispatch/mpi_world.h"
#include "tests/check.h"


static void sample_job(mpi_msg *m) {
  memset(m, 0, sizeof *m);
  m->type = PNAS_MPI_JOB;
  mpi_job *j = &m->u.job;
  j->id = 4000000000u;
  char e[200];
  if (space_parse("1:sep5x5,1:max3x3;0:sep7x7,0:max3x3;0:sep5x5,0:sep3x3", &j->cell, e, sizeof e))
    abort();
  space_canon(&j->cell);
  j->level = 3;
  j->predicted = 0.8125;
  snprintf(j->settings_text, sizeof j->settings_text,
           "dataset=fashion-mnist;data=;N=1;F=4;epochs=1;batch=64;lr=0.050000000000000003;"
           "momentum=0.90000000000000002;weight-decay=0.0001;train-subset=600;val-subset=300;"
           "train-seed=1");
  j->settings = store_settings_hash(j->settings_text);
  snprintf(j->strategy, sizeof j->strategy, "pnas");
  snprintf(j->device, sizeof j->device, "auto");
  j->threads = 1;
}

static void sample_result(mpi_msg *m, int ok) {
  memset(m, 0, sizeof *m);
  m->type = PNAS_MPI_RESULT;
  m->u.result.id = 17;
  store_record *r = &m->u.result.rec;
  char e[200];
  if (space_parse("0:identity,1:sep3x3;2:max3x3,0:sep3x3", &r->cell, e, sizeof e)) abort();
  space_canon(&r->cell);
  r->hash = space_hash(&r->cell);
  r->settings = 0x01a202823cee305fULL;
  r->level = 2;
  snprintf(r->strategy, sizeof r->strategy, "pnas");
  r->ok = ok;
  if (!ok) snprintf(r->reason, sizeof r->reason, "loss is NaN at step 3 (diverged)");
  r->val_acc = ok ? 0.19333333333333333 : 0;
  r->val_top5 = ok ? 0.6 : NAN;
  r->examples = 576;
  r->seconds = 1.25;
  snprintf(r->device, sizeof r->device, "cpu");
  r->seed = 8902702769531678307ULL;
  r->params = 1582;
  r->mult_adds = 386048;
  r->predicted = ok ? 0.25 : NAN;
}

static void sample_hello(mpi_msg *m) {
  memset(m, 0, sizeof *m);
  m->type = PNAS_MPI_HELLO;
  mpi_hello *h = &m->u.hello;
  h->rank = 2;
  h->pid = 123456;
  snprintf(h->host, sizeof h->host, "node-7");
  h->local_rank = 1;
  h->local_workers = 2;
  h->gpu = -1;
  snprintf(h->device, sizeof h->device, "cpu");
}

static int same_double(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

static void check_equal(const mpi_msg *a, const mpi_msg *b) {
  CHECK(a->type == b->type, "type %d vs %d", a->type, b->type);
  switch (a->type) {
  case PNAS_MPI_HELLO:
    CHECK(!memcmp(&a->u.hello, &b->u.hello, sizeof a->u.hello), "hello differs");
    break;
  case PNAS_MPI_JOB: {
    const mpi_job *x = &a->u.job, *y = &b->u.job;
    CHECK(x->id == y->id && space_equal(&x->cell, &y->cell) && x->level == y->level &&
              same_double(x->predicted, y->predicted) && x->settings == y->settings &&
              !strcmp(x->settings_text, y->settings_text) && !strcmp(x->strategy, y->strategy) &&
              !strcmp(x->device, y->device) && x->threads == y->threads,
          "job differs");
    break;
  }
  case PNAS_MPI_RESULT: {
    const store_record *x = &a->u.result.rec, *y = &b->u.result.rec;
    CHECK(a->u.result.id == b->u.result.id, "id");
    CHECK(space_equal(&x->cell, &y->cell) && x->hash == y->hash && x->settings == y->settings &&
              x->level == y->level && !strcmp(x->strategy, y->strategy) && x->ok == y->ok &&
              !strcmp(x->reason, y->reason) && same_double(x->val_acc, y->val_acc) &&
              same_double(x->val_top5, y->val_top5) && x->examples == y->examples &&
              same_double(x->seconds, y->seconds) && !strcmp(x->device, y->device) &&
              x->seed == y->seed && x->params == y->params && x->mult_adds == y->mult_adds &&
              same_double(x->predicted, y->predicted),
          "record differs");
    break;
  }
  case PNAS_MPI_ERROR: CHECK(!strcmp(a->u.error, b->u.error), "error text"); break;
  default: break;
  }
}

// Encodes m, decodes it back, and hammers the bytes: every strict prefix must be rejected, every
// single-byte change must be rejected with a message or decode to something that re-encodes.
static void hammer(const mpi_msg *m, int all_values) {
  void *buf;
  size_t len;
  char err[512];
  CHECK(mpi_encode_msg(m, &buf, &len, err, sizeof err) == 0, "encode %s: %s",
        mpi_msg_type_name(m->type), err);
  mpi_msg *d = malloc(sizeof *d);
  err[0] = '\0';
  CHECK(mpi_decode_msg(buf, len, d, err, sizeof err) == 0, "decode %s: %s",
        mpi_msg_type_name(m->type), err);
  check_equal(m, d);
  int prefix_ok = 0;
  for (size_t n = 0; n < len; n++) {
    err[0] = '\0';
    if (mpi_decode_msg(buf, n, d, err, sizeof err) == 0) prefix_ok++;
    else CHECK(err[0], "no message for a prefix of %zu bytes", n);
  }
  CHECK(prefix_ok == 0, "%d truncated %s messages decoded", prefix_ok, mpi_msg_type_name(m->type));
  uint8_t *c = malloc(len);
  int accepted = 0, rejected = 0;
  for (size_t i = 0; i < len; i++) {
    for (int v = 0; v < 256; v++) {
      if (!all_values && v != 0x00 && v != 0x01 && v != 0x7f && v != 0x80 && v != 0xc1 &&
          v != 0xcf && v != 0xd9 && v != 0xdd && v != 0xdf && v != 0xff)
        continue;
      memcpy(c, buf, len);
      if (c[i] == (uint8_t)v) continue;
      c[i] = (uint8_t)v;
      err[0] = '\0';
      if (mpi_decode_msg(c, len, d, err, sizeof err) == 0) {
        accepted++;
        void *b2;
        size_t l2;
        mpi_msg *d2 = malloc(sizeof *d2);
        CHECK(mpi_encode_msg(d, &b2, &l2, err, sizeof err) == 0, "re-encode");
        CHECK(mpi_decode_msg(b2, l2, d2, err, sizeof err) == 0, "re-decode: %s", err);
        check_equal(d, d2);
        free(b2);
        free(d2);
      } else {
        rejected++;
        CHECK(err[0], "rejected without a message (byte %zu = 0x%02x)", i, v);
      }
    }
  }
  printf("%-6s %4zu bytes: %zu prefixes rejected; byte changes: %d rejected, %d still valid\n",
         mpi_msg_type_name(m->type), len, len, rejected, accepted);
  free(c);
  free(d);
  free(buf);
}

// Packs a message by hand: the header plus the given extra packing.
typedef void (*packfn)(msgpack_packer *pk);
static void pack_s(msgpack_packer *pk, const char *s) {
  msgpack_pack_str(pk, strlen(s));
  msgpack_pack_str_body(pk, s, strlen(s));
}

static void expect_reject(const void *data, size_t len, const char *want) {
  mpi_msg *m = malloc(sizeof *m);
  char err[512] = "";
  int rc = mpi_decode_msg(data, len, m, err, sizeof err);
  CHECK(rc == -1, "accepted, want an error with '%s'", want);
  CHECK(strstr(err, want) != NULL, "error '%s' lacks '%s'", err, want);
  free(m);
}

static void reject_cases(void) {
  mpi_msg m;
  void *buf;
  size_t len;
  char err[512];
  // Wrong version, unknown type, wrong format: built by hand.
  msgpack_sbuffer sb;
  msgpack_packer pk;
  const struct {
    const char *format;
    int version;
    const char *type;
    const char *want;
  } heads[] = {
      {"pnas-mpi", 2, "stop", "version 2"},
      {"pnas-mpi", 1, "reboot", "unknown MPI message type 'reboot'"},
      {"other", 1, "stop", "not a pnas MPI message"},
  };
  for (int k = 0; k < 3; k++) {
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    pack_s(&pk, "format"), pack_s(&pk, heads[k].format);
    pack_s(&pk, "version"), msgpack_pack_int(&pk, heads[k].version);
    pack_s(&pk, "type"), pack_s(&pk, heads[k].type);
    expect_reject(sb.data, sb.size, heads[k].want);
    msgpack_sbuffer_destroy(&sb);
  }
  // A stop with an extra field; an error without its text; a duplicated field.
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_map(&pk, 4);
  pack_s(&pk, "format"), pack_s(&pk, "pnas-mpi");
  pack_s(&pk, "version"), msgpack_pack_int(&pk, 1);
  pack_s(&pk, "type"), pack_s(&pk, "stop");
  pack_s(&pk, "now"), msgpack_pack_true(&pk);
  expect_reject(sb.data, sb.size, "unknown field 'now'");
  msgpack_sbuffer_destroy(&sb);
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_map(&pk, 3);
  pack_s(&pk, "format"), pack_s(&pk, "pnas-mpi");
  pack_s(&pk, "version"), msgpack_pack_int(&pk, 1);
  pack_s(&pk, "type"), pack_s(&pk, "error");
  expect_reject(sb.data, sb.size, "lacks the field 'text'");
  msgpack_sbuffer_destroy(&sb);
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_map(&pk, 5);
  pack_s(&pk, "format"), pack_s(&pk, "pnas-mpi");
  pack_s(&pk, "version"), msgpack_pack_int(&pk, 1);
  pack_s(&pk, "type"), pack_s(&pk, "error");
  pack_s(&pk, "text"), pack_s(&pk, "a");
  pack_s(&pk, "text"), pack_s(&pk, "b");
  expect_reject(sb.data, sb.size, "field 'text' twice");
  msgpack_sbuffer_destroy(&sb);

  // A job whose hash does not match its cell: the hash value ends where the "level" key starts.
  sample_job(&m);
  CHECK(mpi_encode_msg(&m, &buf, &len, err, sizeof err) == 0, "encode");
  uint8_t *b = buf;
  for (size_t i = 1; i + 6 <= len; i++)
    if (!memcmp(b + i, "\xa5level", 6)) {
      b[i - 1] ^= 1;
      break;
    }
  expect_reject(buf, len, "hash does not match its cell");
  free(buf);
  // Settings text one byte over the limit.
  sample_job(&m);
  memset(m.u.job.settings_text, 'x', sizeof m.u.job.settings_text - 1);
  m.u.job.settings_text[sizeof m.u.job.settings_text - 1] = '\0';
  CHECK(mpi_encode_msg(&m, &buf, &len, err, sizeof err) == 0, "encode");
  mpi_msg *d = malloc(sizeof *d);
  CHECK(mpi_decode_msg(buf, len, d, err, sizeof err) == 0, "2047-byte settings: %s", err);
  free(buf);
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_map(&pk, 4);
  pack_s(&pk, "format"), pack_s(&pk, "pnas-mpi");
  pack_s(&pk, "version"), msgpack_pack_int(&pk, 1);
  pack_s(&pk, "type"), pack_s(&pk, "error");
  char big[600];
  memset(big, 'e', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  pack_s(&pk, "text"), pack_s(&pk, big);
  expect_reject(sb.data, sb.size, "field 'text' has the wrong type, range or length");
  msgpack_sbuffer_destroy(&sb);
  // A result whose record is not a record.
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_map(&pk, 5);
  pack_s(&pk, "format"), pack_s(&pk, "pnas-mpi");
  pack_s(&pk, "version"), msgpack_pack_int(&pk, 1);
  pack_s(&pk, "type"), pack_s(&pk, "result");
  pack_s(&pk, "id"), msgpack_pack_int(&pk, 3);
  pack_s(&pk, "record"), msgpack_pack_bin(&pk, 3), msgpack_pack_bin_body(&pk, "\x81\xa1x", 3);
  expect_reject(sb.data, sb.size, "result field 'record'");
  msgpack_sbuffer_destroy(&sb);
  free(d);

  // Raw byte strings: structure lies and garbage.
  expect_reject("", 0, "empty message");
  expect_reject("\xdf\xff\xff\xff\xff", 5, "claims 8589934590 objects");
  expect_reject("\xdd\x00\x10\x00\x00\x01\x02", 7, "claims 1048576 objects");
  expect_reject("\xdb\xff\xff\xff\xf0" "abc", 8, "truncated");
  expect_reject("\xc1", 1, "invalid msgpack type byte 0xc1");
  expect_reject("\x80\x80", 2, "1 trailing bytes");
  expect_reject("\x93\x01\x02\x03", 4, "not a msgpack map");
  expect_reject("\x80", 1, "no format field");
  uint8_t deep[40];
  for (int i = 0; i < 39; i++) deep[i] = 0x91; // [[[[...]]]]
  deep[39] = 0x00;
  expect_reject(deep, sizeof deep, "nested deeper than 16");
  uint8_t *huge = calloc(PNAS_MPI_MAX_MSG + 1, 1);
  expect_reject(huge, PNAS_MPI_MAX_MSG + 1, "over the");
  free(huge);
}

// The pre-check accepts every msgpack type and agrees with msgpack-c on where objects end.
static void precheck_accepts_all_types(void) {
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_array(&pk, 24);
  msgpack_pack_nil(&pk), msgpack_pack_true(&pk), msgpack_pack_false(&pk);
  msgpack_pack_int(&pk, 5), msgpack_pack_int(&pk, -5), msgpack_pack_int(&pk, 200);
  msgpack_pack_int(&pk, -200), msgpack_pack_int(&pk, 70000), msgpack_pack_int64(&pk, -(1LL << 40));
  msgpack_pack_uint64(&pk, ~0ULL), msgpack_pack_float(&pk, 1.5f), msgpack_pack_double(&pk, 2.5);
  pack_s(&pk, "short");
  char s300[300];
  memset(s300, 's', sizeof s300);
  msgpack_pack_str(&pk, sizeof s300), msgpack_pack_str_body(&pk, s300, sizeof s300);
  msgpack_pack_bin(&pk, 3), msgpack_pack_bin_body(&pk, "abc", 3);
  msgpack_pack_bin(&pk, sizeof s300), msgpack_pack_bin_body(&pk, s300, sizeof s300);
  for (size_t n = 1; n <= 16; n *= 2) msgpack_pack_ext(&pk, n, 7), msgpack_pack_ext_body(&pk, s300, n);
  msgpack_pack_ext(&pk, 3, 1), msgpack_pack_ext_body(&pk, "xyz", 3);
  msgpack_pack_ext(&pk, 300, 1), msgpack_pack_ext_body(&pk, s300, 300);
  msgpack_pack_map(&pk, 20);
  for (int i = 0; i < 20; i++) msgpack_pack_int(&pk, i), msgpack_pack_array(&pk, 0);
  char err[256] = "";
  CHECK(space_msgpack_check(sb.data, sb.size, err, sizeof err) == 0, "all types: %s", err);
  for (size_t n = 0; n < sb.size; n++)
    CHECK(space_msgpack_check(sb.data, n, err, sizeof err) == -1, "prefix %zu accepted", n);
  msgpack_sbuffer_destroy(&sb);
}

static void launcher_env(void) {
  const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE", "PMIX_RANK",
                        "MPI_LOCALNRANKS", "PNAS_MPI"};
  for (int i = 0; i < 6; i++) unsetenv(vars[i]);
  CHECK(mpi_launched_size() == 0, "no launcher");
  setenv("OMPI_COMM_WORLD_SIZE", "4", 1);
  CHECK(mpi_launched_size() == 4, "Open MPI");
  setenv("PNAS_MPI", "0", 1);
  CHECK(mpi_launched_size() == 0, "PNAS_MPI=0");
  unsetenv("PNAS_MPI");
  unsetenv("OMPI_COMM_WORLD_SIZE");
  setenv("PMI_SIZE", "3", 1);
  CHECK(mpi_launched_size() == 3, "PMI");
  unsetenv("PMI_SIZE");
  setenv("PMIX_RANK", "0", 1);
  CHECK(mpi_launched_size() == -1, "PMIx without a size");
  unsetenv("PMIX_RANK");
}

int main(void) {
  mpi_msg m;
  sample_hello(&m);
  hammer(&m, 1);
  sample_job(&m);
  hammer(&m, 1);
  m.u.job.predicted = NAN; // level 1: no prediction
  hammer(&m, 0);
  sample_result(&m, 1);
  hammer(&m, 0);
  sample_result(&m, 0);
  hammer(&m, 0);
  memset(&m, 0, sizeof m);
  m.type = PNAS_MPI_ERROR;
  snprintf(m.u.error, sizeof m.u.error, "cannot load /usr/share/datasets/fashion-mnist: missing");
  hammer(&m, 1);
  memset(&m, 0, sizeof m);
  m.type = PNAS_MPI_STOP;
  hammer(&m, 1);
  reject_cases();
  precheck_accepts_all_types();
  CHECK(mpi_pick_gpu(0, 0) == -1 && mpi_pick_gpu(3, 0) == -1, "no GPU -> CPU");
  CHECK(mpi_pick_gpu(0, 2) == 0 && mpi_pick_gpu(3, 2) == 1 && mpi_pick_gpu(5, 4) == 1,
        "local rank mod GPUs");
  launcher_env();
  if (check_failures) {
    printf("test_mpi_msg: %d failures\n", check_failures);
    return 1;
  }
  printf("test_mpi_msg: ok\n");
  return 0;
}
