// Writes the small valid inputs of the fuzz seed corpus (tests/fuzz/corpus/<harness>/) through
// the real writers: tiny predictor files of each kind, one MPI message of each type, one record
// payload, tiny IDX (raw and gzip) and CIFAR-10 inputs in the harness's framing (fuzz_data.c).
// The real 2-record results log comes from a real search (make_seeds.sh). Usage: DIR.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pnas/dispatch/mpi_msg.h"
#include "pnas/store/store.h"
#include "predictor/predictor.h"

static const char *dir;

static void put(const char *sub, const char *name, const void *data, size_t len) {
  char p[1024];
  snprintf(p, sizeof p, "%s/%s/%s", dir, sub, name);
  FILE *f = fopen(p, "wb");
  if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
    perror(p);
    exit(1);
  }
}

static space_cell cell(const char *text) {
  space_cell c;
  char e[256];
  if (space_parse(text, &c, e, sizeof e)) {
    fprintf(stderr, "%s\n", e);
    exit(1);
  }
  space_canon(&c);
  return c;
}

static store_record record(void) {
  store_record r;
  memset(&r, 0, sizeof r);
  r.cell = cell("0:identity,1:sep3x3;2:max3x3,0:sep3x3");
  r.hash = space_hash(&r.cell);
  r.settings = 0x01a202823cee305fULL;
  r.level = 2;
  snprintf(r.strategy, sizeof r.strategy, "pnas");
  r.ok = 1;
  r.val_acc = 0.19333333333333333;
  r.val_top5 = 0.6;
  r.examples = 576;
  r.seconds = 1.25;
  snprintf(r.device, sizeof r.device, "cpu");
  r.seed = 8902702769531678307ULL;
  r.params = 1582;
  r.mult_adds = 386048;
  r.predicted = 0.25;
  return r;
}

static void predictors(void) {
  space_rng rng;
  space_rng_seed(&rng, 1);
  enum { N = 12 };
  space_cell cells[N];
  float acc[N];
  for (int i = 0; i < N; i++) {
    space_sample(&cells[i], 1 + i % 2, SPACE_PNAS_MASK, &rng);
    acc[i] = 0.5f + 0.02f * (float)i;
  }
  for (int k = 0; k < 3; k++) {
    pred_fit_config cfg;
    pred_fit_config_default(&cfg, (pred_kind)k);
    cfg.members = 2;
    cfg.epochs = 1;
    cfg.min_steps = 1;
    cfg.embed = 2;
    cfg.hidden = 3;
    cfg.threads = 1;
    char err[256], *buf;
    size_t len;
    pred_ensemble *e = pred_ensemble_new();
    if (!e || pred_ensemble_fit(e, cells, acc, N, &cfg, err, sizeof err) ||
        pred_ensemble_save_mem(e, &buf, &len, err, sizeof err)) {
      fprintf(stderr, "predictor: %s\n", err);
      exit(1);
    }
    char name[32];
    snprintf(name, sizeof name, "%s-2x3.msgpack", pred_kind_name((pred_kind)k));
    put("predictor", name, buf, len);
    free(buf);
    pred_ensemble_free(e);
  }
}

static void messages(void) {
  mpi_msg m;
  char err[256];
  void *buf;
  size_t len;
  for (int t = PNAS_MPI_HELLO; t <= PNAS_MPI_STOP; t++) {
    memset(&m, 0, sizeof m);
    m.type = (mpi_msg_type)t;
    if (t == PNAS_MPI_HELLO) {
      m.u.hello = (mpi_hello){.rank = 2, .pid = 123456, .local_rank = 1, .local_workers = 2,
                              .gpu = -1};
      snprintf(m.u.hello.host, sizeof m.u.hello.host, "node-7");
      snprintf(m.u.hello.device, sizeof m.u.hello.device, "cpu");
    } else if (t == PNAS_MPI_JOB) {
      mpi_job *j = &m.u.job;
      j->id = 7;
      j->cell = cell("1:sep5x5,1:max3x3;0:sep7x7,0:max3x3");
      j->level = 2;
      j->predicted = 0.8125;
      snprintf(j->settings_text, sizeof j->settings_text,
               "dataset=fashion-mnist;data=;N=1;F=4;epochs=1;batch=32;train-seed=1");
      j->settings = store_settings_hash(j->settings_text);
      snprintf(j->strategy, sizeof j->strategy, "pnas");
      snprintf(j->device, sizeof j->device, "auto");
      j->threads = 1;
    } else if (t == PNAS_MPI_RESULT) {
      m.u.result.id = 7;
      m.u.result.rec = record();
    } else if (t == PNAS_MPI_ERROR) {
      snprintf(m.u.error, sizeof m.u.error, "worker 2: cannot load the dataset");
    }
    if (mpi_encode_msg(&m, &buf, &len, err, sizeof err)) {
      fprintf(stderr, "mpi: %s\n", err);
      exit(1);
    }
    put("mpi", mpi_msg_type_name(t), buf, len);
    free(buf);
  }
}

// Harness framing (fuzz_data.c): mode byte, 2-byte split, then the file bytes.
static void data_input(const char *name, int mode, const uint8_t *a, size_t na, const uint8_t *b,
                       size_t nb) {
  uint8_t *buf = malloc(3 + na + nb);
  buf[0] = (uint8_t)mode, buf[1] = (uint8_t)na, buf[2] = (uint8_t)(na >> 8);
  memcpy(buf + 3, a, na);
  memcpy(buf + 3 + na, b, nb);
  put("data", name, buf, 3 + na + nb);
  free(buf);
}

static size_t gzip_bytes(const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) exit(1);
  z.next_in = (uint8_t *)in, z.avail_in = (uInt)n, z.next_out = out, z.avail_out = (uInt)cap;
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) exit(1);
  size_t len = z.total_out;
  deflateEnd(&z);
  return len;
}

static void datasets(void) {
  enum { NI = 2 };
  uint8_t img[16 + NI * 784], lab[8 + NI];
  const uint8_t ih[16] = {0, 0, 8, 3, 0, 0, 0, NI, 0, 0, 0, 28, 0, 0, 0, 28};
  const uint8_t lh[8] = {0, 0, 8, 1, 0, 0, 0, NI};
  memcpy(img, ih, 16);
  memcpy(lab, lh, 8);
  for (int i = 0; i < NI * 784; i++) img[16 + i] = (uint8_t)(i * 7);
  lab[8] = 3, lab[9] = 9;
  data_input("idx-raw", 0, img, sizeof img, lab, sizeof lab);
  uint8_t gi[4096], gl[256];
  size_t ngi = gzip_bytes(img, sizeof img, gi, sizeof gi), ngl = gzip_bytes(lab, sizeof lab, gl, sizeof gl);
  data_input("idx-gz", 6, gi, ngi, gl, ngl);
  uint8_t cif[2 * 3073];
  for (int i = 0; i < 2 * 3073; i++) cif[i] = (uint8_t)(i * 13);
  cif[0] = 4, cif[3073] = 0;
  data_input("cifar-1file", 1, cif, sizeof cif, NULL, 0);
  data_input("cifar-2files", 1 | 4, cif, 3073, cif + 3073, 3073);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: fuzz_make_seeds CORPUS_DIR (with subdirectories per harness)\n");
    return 2;
  }
  dir = argv[1];
  predictors();
  messages();
  datasets();
  store_record r = record();
  void *p;
  size_t len;
  store_encode_record(&r, &p, &len);
  put("store", "record-payload", p, len);
  free(p);
  const char *cells[] = {
      "pnasnet-5", "0:sep3x3,1:max3x3", "1:sep5x5,1:max3x3;0:sep7x7,0:max3x3",
      "sep3x3,max3x3,identity", "all",
      "1:conv1x7_7x1,0:dil3x3;2:avg3x3,1:identity;3:sep7x7,2:sep5x5;4:max3x3,3:sep3x3;"
      "5:dil3x3,4:conv1x7_7x1;6:identity,5:avg3x3;7:sep3x3,6:sep5x5;8:sep7x7,7:max3x3;"
      "9:dil3x3,8:identity;10:conv1x7_7x1,9:sep3x3"};
  for (size_t i = 0; i < sizeof cells / sizeof *cells; i++) {
    char name[16];
    snprintf(name, sizeof name, "cell-%zu", i);
    put("cell", name, cells[i], strlen(cells[i]));
  }
  return 0;
}
