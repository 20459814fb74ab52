// Save -> load -> bit-identical predictions for each predictor kind (file and memory), and
// clear errors (status + message, no crash) for missing, empty, truncated, garbage,
// wrong-magic, wrong-version, wrong-shape and trailing-garbage files. Checksums: a saved file
// ends with its "crc32" entry; a flipped byte anywhere in it is refused ("checksum mismatch"),
// a file without the entry (written before checksums) still loads; a NaN or inf weight is
// refused at load with a message naming the tensor.
#include <math.h>
#include <msgpack.h>
#include <string.h>
#include <unistd.h>

#include "predictor/ensemble.h"
#include "predictor/predictor.h"
#include "ptest.h"

static char *find_bytes(char *h, size_t hl, const char *n, size_t nl) {
  for (size_t i = 0; i + nl <= hl; i++)
    if (!memcmp(h + i, n, nl)) return h + i;
  return NULL;
}

static void write_file(const char *path, const void *buf, size_t len) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (!f) return;
  CHECK(fwrite(buf, 1, len, f) == len);
  fclose(f);
}

// Loads path and expects status want with msg containing needle.
static void expect_load_error(const char *path, int want, const char *needle) {
  pred_ensemble *e = (pred_ensemble *)1;
  char err[512] = "";
  int rc = pred_ensemble_load(&e, path, err, sizeof err);
  printf("load %-40s -> %d: %s\n", strrchr(path, '/') + 1, rc, err);
  CHECK(rc == want);
  CHECK(e == NULL);
  CHECK(strstr(err, needle) != NULL);
}

static void pack_header(msgpack_packer *pk, const char *magic, int version) {
  msgpack_pack_map(pk, 2);
  msgpack_pack_str(pk, 5);
  msgpack_pack_str_body(pk, "magic", 5);
  msgpack_pack_str(pk, strlen(magic));
  msgpack_pack_str_body(pk, magic, strlen(magic));
  msgpack_pack_str(pk, 7);
  msgpack_pack_str_body(pk, "version", 7);
  msgpack_pack_int(pk, version);
}

int main(void) {
  char dir[] = "/tmp/pnas_pred_io_XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[256], err[512];
  space_rng r;
  space_rng_seed(&r, 11);
  enum { N = 60, NT = 200 };
  space_cell cells[N], test[NT];
  float acc[N];
  ptest_random_cells(cells, N, 1, 3, &r);
  ptest_random_cells(test, NT, 1, 5, &r);
  for (int i = 0; i < N; i++) acc[i] = (float)(0.7 + 0.2 * space_rng_uniform(&r));

  char *saved_lstm = NULL;
  size_t saved_lstm_len = 0;
  for (int k = 0; k < 3; k++) {
    pred_fit_config cfg;
    pred_fit_config_default(&cfg, (pred_kind)k);
    cfg.members = 3;
    cfg.embed = 8;
    cfg.hidden = 12;
    cfg.epochs = 3;
    cfg.batch = 16;
    pred_ensemble *e = pred_ensemble_new();
    CHECK(pred_ensemble_fit(e, cells, acc, N, &cfg, err, sizeof err) == PRED_OK);
    snprintf(path, sizeof path, "%s/%s.msgpack", dir, pred_kind_name((pred_kind)k));
    CHECK(pred_ensemble_save(e, path, err, sizeof err) == PRED_OK);
    pred_ensemble *l = NULL;
    int rc = pred_ensemble_load(&l, path, err, sizeof err);
    CHECK(rc == PRED_OK);
    if (rc) {
      fprintf(stderr, "%s\n", err);
      continue;
    }
    CHECK(pred_ensemble_kind(l) == (pred_kind)k && pred_ensemble_members(l) == 3);
    float a[3 * NT], b[3 * NT], m1[NT], s1[NT], m2[NT], s2[NT];
    CHECK(pred_ensemble_predict_members(e, test, NT, a, 1, err, sizeof err) == PRED_OK);
    CHECK(pred_ensemble_predict_members(l, test, NT, b, 1, err, sizeof err) == PRED_OK);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(pred_ensemble_predict(e, test, NT, m1, s1, 2, err, sizeof err) == PRED_OK);
    CHECK(pred_ensemble_predict(l, test, NT, m2, s2, 2, err, sizeof err) == PRED_OK);
    CHECK(memcmp(m1, m2, sizeof m1) == 0 && memcmp(s1, s2, sizeof s1) == 0);
    CHECK(memcmp(pred_ensemble_train_loss(e), pred_ensemble_train_loss(l), 3 * sizeof(float)) == 0);
    // The members differ (different folds and seeds), so the spread is not zero.
    double ss = 0;
    for (int i = 0; i < NT; i++) ss += s1[i];
    CHECK(ss > 0);
    printf("%s: save/load bit-identical, mean spread %.4g\n", pred_kind_name((pred_kind)k), ss / NT);
    if (k == PRED_LSTM)
      CHECK(pred_ensemble_save_mem(e, &saved_lstm, &saved_lstm_len, err, sizeof err) == PRED_OK);
    pred_ensemble_free(e);
    pred_ensemble_free(l);
  }

  // Fit and predict do not depend on the thread count (parallel members, chunks of cells):
  // every model, 1, 2 and 3 threads, bit for bit (the determinism contract in README.md).
  for (int k = 0; k <= PRED_RIDGE; k++) {
    pred_fit_config cfg;
    pred_fit_config_default(&cfg, (pred_kind)k);
    cfg.members = 3, cfg.epochs = 3, cfg.batch = 16;
    if (k == PRED_LSTM) cfg.embed = 8, cfg.hidden = 12;
    float p[3][NT], q[3][NT];
    for (int t = 1; t <= 3; t++) {
      cfg.threads = t;
      pred_ensemble *e = pred_ensemble_new();
      CHECK(pred_ensemble_fit(e, cells, acc, N, &cfg, err, sizeof err) == PRED_OK);
      CHECK(pred_ensemble_predict(e, test, NT, p[t - 1], q[t - 1], t, err, sizeof err) == PRED_OK);
      pred_ensemble_free(e);
    }
    for (int t = 1; t < 3; t++)
      CHECK(memcmp(p[0], p[t], sizeof p[0]) == 0 && memcmp(q[0], q[t], sizeof q[0]) == 0);
    printf("%s: fit + predict identical with 1, 2 and 3 threads\n", pred_kind_name((pred_kind)k));
  }

  // Damaged files, from the saved LSTM.
  snprintf(path, sizeof path, "%s/missing.msgpack", dir);
  expect_load_error(path, PRED_EIO, "cannot open");
  snprintf(path, sizeof path, "%s/empty.msgpack", dir);
  write_file(path, "", 0);
  expect_load_error(path, PRED_EFORMAT, "truncated");
  snprintf(path, sizeof path, "%s/truncated.msgpack", dir);
  write_file(path, saved_lstm, saved_lstm_len / 2);
  expect_load_error(path, PRED_EFORMAT, "truncated");
  snprintf(path, sizeof path, "%s/truncated1.msgpack", dir);
  write_file(path, saved_lstm, saved_lstm_len - 1);
  expect_load_error(path, PRED_EFORMAT, "truncated");
  snprintf(path, sizeof path, "%s/trailing.msgpack", dir);
  {
    char *t = malloc(saved_lstm_len + 3);
    memcpy(t, saved_lstm, saved_lstm_len);
    memcpy(t + saved_lstm_len, "xyz", 3);
    write_file(path, t, saved_lstm_len + 3);
    free(t);
  }
  expect_load_error(path, PRED_EFORMAT, "trailing");
  snprintf(path, sizeof path, "%s/garbage.msgpack", dir);
  {
    unsigned char g[4096];
    for (size_t i = 0; i < sizeof g; i++) g[i] = (unsigned char)space_rng_below(&r, 256);
    g[0] = 0xc1; // never-used msgpack byte: a parse error whatever follows
    write_file(path, g, sizeof g);
  }
  expect_load_error(path, PRED_EFORMAT, "not a pnas predictor file");
  snprintf(path, sizeof path, "%s/text.msgpack", dir);
  write_file(path, "hello", 5); // a positive fixint and trailing bytes: not a map
  expect_load_error(path, PRED_EFORMAT, "not a pnas predictor file");
  msgpack_sbuffer sb;
  msgpack_packer pk;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  pack_header(&pk, "pnas-results", 1);
  snprintf(path, sizeof path, "%s/magic.msgpack", dir);
  write_file(path, sb.data, sb.size);
  expect_load_error(path, PRED_EFORMAT, "magic");
  msgpack_sbuffer_clear(&sb);
  pack_header(&pk, PRED_FILE_MAGIC, 99);
  snprintf(path, sizeof path, "%s/version.msgpack", dir);
  write_file(path, sb.data, sb.size);
  expect_load_error(path, PRED_EFORMAT, "version 99");
  msgpack_sbuffer_destroy(&sb);
  // The checksum entry closes the file: a5 "crc32" ce + 4 bytes, after a map of 9 entries (the
  // eighth is "domain", what the ensemble was fitted on).
  CHECK(saved_lstm_len > 11 && (unsigned char)saved_lstm[0] == 0x89 &&
        !memcmp(saved_lstm + saved_lstm_len - 11, "\xa5" "crc32" "\xce", 7));
  // The same file as written before checksums and domains: 7 entries, no crc32, no domain.
  char *dom = find_bytes(saved_lstm, saved_lstm_len, "\xa6" "domain", 7);
  char *mem = find_bytes(saved_lstm, saved_lstm_len, "\xa7" "members", 8);
  CHECK(dom && mem && dom < mem);
  size_t da = dom ? (size_t)(dom - saved_lstm) : 0, db = mem ? (size_t)(mem - saved_lstm) : 0;
  size_t old_len = saved_lstm_len - 11 - (db - da);
  char *old_fmt = malloc(saved_lstm_len);
  memcpy(old_fmt, saved_lstm, da);
  memcpy(old_fmt + da, saved_lstm + db, saved_lstm_len - 11 - db);
  old_fmt[0] = (char)0x87;
  {
    pred_ensemble *a = NULL, *b = NULL;
    CHECK(pred_ensemble_load_mem(&a, saved_lstm, saved_lstm_len, err, sizeof err) == PRED_OK);
    CHECK(pred_ensemble_load_mem(&b, old_fmt, old_len, err, sizeof err) == PRED_OK);
    float m1[NT], m2[NT];
    CHECK(a && b && pred_ensemble_predict(a, test, NT, m1, NULL, 1, err, sizeof err) == PRED_OK &&
          pred_ensemble_predict(b, test, NT, m2, NULL, 1, err, sizeof err) == PRED_OK &&
          !memcmp(m1, m2, sizeof m1));
    printf("a file without a checksum (written before them) loads, predicts the same\n");
    // The domain survives the round trip; the old file has none.
    uint32_t ops = 0;
    int mb = 0, nc = 0;
    CHECK(a && pred_ensemble_domain(a, &ops, &mb, &nc) == 0 && nc > 0 && mb >= 1 && ops != 0);
    CHECK(b && pred_ensemble_domain(b, NULL, NULL, NULL) == -1);
    CHECK(a && pred_ensemble_covers(a, &test[0], NULL, 0) >= 0 &&
          pred_ensemble_covers(b, &test[0], NULL, 0) == -1);
    pred_ensemble_free(a);
    pred_ensemble_free(b);
  }
  { // a flipped byte in a weight, in the middle, in the checksum itself: refused
    size_t at[] = {saved_lstm_len / 2, saved_lstm_len - 200, saved_lstm_len - 1};
    for (int i = 0; i < 3; i++) {
      char *t = malloc(saved_lstm_len);
      memcpy(t, saved_lstm, saved_lstm_len);
      t[at[i]] ^= 0x10;
      snprintf(path, sizeof path, "%s/flip%d.msgpack", dir, i);
      write_file(path, t, saved_lstm_len);
      free(t);
      expect_load_error(path, PRED_EFORMAT, "checksum mismatch");
    }
    // The eighth entry renamed: the checksum cannot be found, the file is refused.
    char *t = malloc(saved_lstm_len);
    memcpy(t, saved_lstm, saved_lstm_len);
    t[saved_lstm_len - 10] = 'C';
    snprintf(path, sizeof path, "%s/nocrc.msgpack", dir);
    write_file(path, t, saved_lstm_len);
    free(t);
    expect_load_error(path, PRED_EFORMAT, "crc32");
  }
  { // shapes that disagree with "embed": patch its value 8 -> 9 (checked: the checksum; without
    // a checksum: the shapes)
    char *t = malloc(saved_lstm_len);
    for (int v = 0; v < 2; v++) {
      size_t len = v ? old_len : saved_lstm_len;
      memcpy(t, v ? old_fmt : saved_lstm, len);
      char *p = find_bytes(t, len, "\xa5" "embed", 6);
      CHECK(p != NULL && (unsigned char)p[6] == 8);
      if (p) p[6] = 9;
      snprintf(path, sizeof path, "%s/shape%d.msgpack", dir, v);
      write_file(path, t, len);
      expect_load_error(path, PRED_EFORMAT, v ? "must be \"emb_in\" (11, 9)" : "checksum mismatch");
    }
    free(t);
  }
  { // non-finite weights, saved with a valid checksum: refused at load, naming the tensor
    pred_ensemble *e = NULL;
    CHECK(pred_ensemble_load_mem(&e, saved_lstm, saved_lstm_len, err, sizeof err) == PRED_OK);
    for (int v = 0; e && v < 2; v++) {
      e->lstm[1].v.w_hh[5] = v ? INFINITY : NAN;
      char *b;
      size_t bl;
      CHECK(pred_ensemble_save_mem(e, &b, &bl, err, sizeof err) == PRED_OK);
      snprintf(path, sizeof path, "%s/nonfinite%d.msgpack", dir, v);
      write_file(path, b, bl);
      free(b);
      expect_load_error(path, PRED_EFORMAT, "member 1 tensor \"w_hh\" holds a non-finite weight");
      char err2[512];
      pred_ensemble *x = (pred_ensemble *)1;
      CHECK(pred_ensemble_load(&x, path, err2, sizeof err2) == PRED_EFORMAT && x == NULL &&
            strstr(err2, path) == err2);
    }
    pred_ensemble_free(e);
  }
  { // no write through a link planted at the tmp name
    char victim[300], link[300];
    snprintf(victim, sizeof victim, "%s/victim", dir);
    write_file(victim, "victim", 6);
    snprintf(path, sizeof path, "%s/linked.msgpack", dir);
    snprintf(link, sizeof link, "%s.tmp", path);
    CHECK(symlink(victim, link) == 0);
    pred_ensemble *e = NULL;
    CHECK(pred_ensemble_load_mem(&e, saved_lstm, saved_lstm_len, err, sizeof err) == PRED_OK);
    CHECK(e && pred_ensemble_save(e, path, err, sizeof err) == PRED_EIO && strstr(err, "symbolic link"));
    pred_ensemble_free(e);
    FILE *f = fopen(victim, "rb");
    char vb[16] = "";
    CHECK(f && fread(vb, 1, sizeof vb, f) == 6 && !memcmp(vb, "victim", 6));
    if (f) fclose(f);
  }
  free(old_fmt);
  { // an unfitted ensemble cannot be saved or used
    pred_ensemble *e = pred_ensemble_new();
    char *b;
    size_t bl;
    float m;
    CHECK(pred_ensemble_save_mem(e, &b, &bl, err, sizeof err) == PRED_EARG);
    CHECK(pred_ensemble_predict(e, cells, 1, &m, NULL, 1, err, sizeof err) == PRED_EARG);
    pred_ensemble_free(e);
  }
  free(saved_lstm);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
  PTEST_END();
}
