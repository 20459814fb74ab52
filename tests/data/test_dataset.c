// Tests for data/dataset.c. "real": the installed Fashion-MNIST (counts, shapes, label histograms,
// known first labels, pixel mean/std against data_mean_std) and views. "bad": fixture files built
// in a temp dir (valid small sets of both formats, then each kind of damage) must load or fail
// with a message that names the file and the problem. Exit 77 = skipped (no dataset installed).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "data/dataset.h"
#include "tests/check.h"



// ------------------------------------------------------------------ real Fashion-MNIST

static int test_real(void) {
  struct stat st;
  if (stat(DATA_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", &st) != 0) {
    printf("SKIP: Fashion-MNIST not installed under %s\n", DATA_FASHION_MNIST_DIR);
    return 77;
  }
  char err[512];
  data_set tr, te;
  int rc = data_load(DATA_FASHION_MNIST, NULL, 1, &tr, err, sizeof err);
  CHECK(rc == 0, "train load: %s", err);
  if (rc) return 1;
  rc = data_load(DATA_FASHION_MNIST, DATA_FASHION_MNIST_DIR, 0, &te, err, sizeof err);
  CHECK(rc == 0, "test load: %s", err);
  if (rc) return 1;

  CHECK(tr.n == 60000 && tr.c == 1 && tr.h == 28 && tr.w == 28 && tr.classes == 10 && tr.owns,
        "train shape n=%d c=%d h=%d w=%d classes=%d", tr.n, tr.c, tr.h, tr.w, tr.classes);
  CHECK(te.n == 10000 && te.c == 1 && te.h == 28 && te.w == 28 && te.classes == 10,
        "test shape n=%d c=%d h=%d w=%d", te.n, te.c, te.h, te.w);
  // Fashion-MNIST is balanced: 6,000 per class in train, 1,000 in test.
  int htr[10] = {0}, hte[10] = {0}, sum = 0;
  for (int i = 0; i < tr.n; i++) htr[tr.labels[i]]++;
  for (int i = 0; i < te.n; i++) hte[te.labels[i]]++;
  for (int k = 0; k < 10; k++) {
    CHECK(htr[k] == 6000, "train class %d has %d images", k, htr[k]);
    CHECK(hte[k] == 1000, "test class %d has %d images", k, hte[k]);
    sum += htr[k] + hte[k];
  }
  CHECK(sum == 70000, "histograms sum to %d", sum);
  // Known first labels: train[0] ankle boot (9), train[1] T-shirt (0); test[0] ankle boot (9),
  // test[1] pullover (2).
  CHECK(tr.labels[0] == 9 && tr.labels[1] == 0, "train first labels %d %d", tr.labels[0],
        tr.labels[1]);
  CHECK(te.labels[0] == 9 && te.labels[1] == 2, "test first labels %d %d", te.labels[0],
        te.labels[1]);
  // The constants of data_mean_std must match the real training pixels to their 4 digits.
  double s = 0, s2 = 0;
  size_t np = (size_t)tr.n * 784;
  for (size_t i = 0; i < np; i++) {
    double x = tr.images[i] / 255.0;
    s += x;
    s2 += x * x;
  }
  double mean = s / (double)np, sd = sqrt(s2 / (double)np - mean * mean);
  float m[3], sdv[3];
  data_mean_std(DATA_FASHION_MNIST, m, sdv);
  printf("train pixel mean %.5f std %.5f (constants %.4f %.4f)\n", mean, sd, m[0], sdv[0]);
  CHECK(fabs(mean - m[0]) < 6e-4 && fabs(sd - sdv[0]) < 6e-4, "mean %.5f std %.5f", mean, sd);

  // Views: the search split (first 55,000 train, last 5,000 validation) shares memory.
  data_set trn = data_view(&tr, 0, tr.n - DATA_VAL_SIZE);
  data_set val = data_view(&tr, tr.n - DATA_VAL_SIZE, DATA_VAL_SIZE);
  CHECK(trn.n == 55000 && val.n == 5000 && !trn.owns && !val.owns, "view sizes %d %d", trn.n,
        val.n);
  CHECK(val.images == tr.images + (size_t)55000 * 784 && val.labels == tr.labels + 55000,
        "view pointers");
  CHECK(val.c == 1 && val.h == 28 && val.w == 28 && val.classes == 10, "view shape");
  data_set empty = data_view(&tr, tr.n, 0);
  CHECK(empty.n == 0, "empty view n=%d", empty.n);
  data_release(&val); // a view: must not free the parent's memory
  CHECK(val.images == NULL && val.n == 0, "freed view cleared");
  CHECK(tr.labels[59999] < 10 && tr.images != NULL, "parent intact after freeing a view");

  // Normalised batch: rows 0 and 55000 through data_batch_float.
  int idx[2] = {0, 55000};
  float *fb = malloc(sizeof(float) * 2 * 784);
  data_batch_float(&tr, idx, 2, m, sdv, fb);
  double worst = 0;
  for (int i = 0; i < 2; i++)
    for (int p = 0; p < 784; p++) {
      double want = (tr.images[(size_t)idx[i] * 784 + p] / 255.0 - m[0]) / sdv[0];
      double d = fabs(fb[i * 784 + p] - want);
      if (d > worst) worst = d;
    }
  CHECK(worst < 1e-5, "data_batch_float max error %g", worst);
  free(fb);

  // CIFAR-10 stats are the published ones.
  data_mean_std(DATA_CIFAR10, m, sdv);
  CHECK(m[0] == 0.4914f && m[1] == 0.4822f && m[2] == 0.4465f && sdv[0] == 0.2470f &&
            sdv[1] == 0.2435f && sdv[2] == 0.2616f,
        "cifar constants");
  data_kind k;
  CHECK(data_kind_from_name("fashion-mnist", &k) == 0 && k == DATA_FASHION_MNIST, "name");
  CHECK(data_kind_from_name("cifar10", &k) == 0 && k == DATA_CIFAR10, "name");
  CHECK(data_kind_from_name("imagenet", &k) == -1, "unknown name");
  CHECK(!strcmp(data_kind_name(DATA_CIFAR10), "cifar10") &&
            !strcmp(data_kind_name(DATA_FASHION_MNIST), "fashion-mnist"),
        "kind names");

  data_release(&tr);
  data_release(&te);
  return check_failures ? 1 : 0;
}

// ------------------------------------------------------------------ fixtures

static char tmpdir[256];

static void path_of(char *buf, size_t n, const char *name) {
  snprintf(buf, n, "%s/%s", tmpdir, name);
}

static void put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

// Writes bytes to tmpdir/name, gzip-compressed when the name ends in .gz.
static void write_file(const char *name, const uint8_t *data, size_t n) {
  char p[512];
  path_of(p, sizeof p, name);
  size_t len = strlen(name);
  if (len > 3 && !strcmp(name + len - 3, ".gz")) {
    gzFile f = gzopen(p, "wb");
    if (!f || (n && gzwrite(f, data, (unsigned)n) != (int)n) || gzclose(f) != Z_OK) {
      fprintf(stderr, "cannot write fixture %s\n", p);
      exit(1);
    }
    return;
  }
  FILE *f = fopen(p, "wb");
  if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
    fprintf(stderr, "cannot write fixture %s\n", p);
    exit(1);
  }
}

static void truncate_file(const char *name, long keep) {
  char p[512];
  path_of(p, sizeof p, name);
  if (truncate(p, keep) != 0) {
    fprintf(stderr, "cannot truncate %s\n", p);
    exit(1);
  }
}

// IDX image file: magic, n, rows, cols, then `body` pixel bytes (may differ from n*rows*cols).
static void write_idx_images(const char *name, uint32_t magic, uint32_t n, uint32_t rows,
                             uint32_t cols, size_t body) {
  size_t total = 16 + body;
  uint8_t *b = malloc(total);
  put_be32(b, magic), put_be32(b + 4, n), put_be32(b + 8, rows), put_be32(b + 12, cols);
  for (size_t i = 0; i < body; i++) b[16 + i] = (uint8_t)(i * 7 + 3);
  write_file(name, b, total);
  free(b);
}

static void write_idx_labels(const char *name, uint32_t magic, uint32_t n, const uint8_t *lab,
                             size_t body) {
  uint8_t b[8 + 64];
  put_be32(b, magic), put_be32(b + 4, n);
  memcpy(b + 8, lab, body);
  write_file(name, b, 8 + body);
}

static const uint8_t LAB5[5] = {3, 0, 9, 1, 7};

// A valid 5-image Fashion-MNIST-shaped set in both train (.gz) and test (raw) names.
static void write_valid_fmnist(void) {
  write_idx_images("train-images-idx3-ubyte.gz", 0x803, 5, 28, 28, 5 * 784);
  write_idx_labels("train-labels-idx1-ubyte.gz", 0x801, 5, LAB5, 5);
  write_idx_images("t10k-images-idx3-ubyte", 0x803, 5, 28, 28, 5 * 784);
  write_idx_labels("t10k-labels-idx1-ubyte", 0x801, 5, LAB5, 5);
}

// Expects data_load to fail with a message containing `file` and `what`.
static void expect_fail(data_kind kind, int train, const char *file, const char *what,
                        const char *label) {
  char err[512] = "";
  data_set d;
  int rc = data_load(kind, tmpdir, train, &d, err, sizeof err);
  CHECK(rc == -1, "%s: expected failure, got rc=%d n=%d", label, rc, d.n);
  if (rc == 0) data_release(&d);
  CHECK(strstr(err, file) != NULL, "%s: message does not name %s: '%s'", label, file, err);
  CHECK(strstr(err, what) != NULL, "%s: message lacks '%s': '%s'", label, what, err);
  CHECK(d.images == NULL && d.labels == NULL && d.n == 0, "%s: output not cleared", label);
  printf("  %-28s -> %s\n", label, err);
}

static void test_bad_fmnist(void) {
  char err[512];
  data_set d;
  printf("fashion-mnist fixtures in %s\n", tmpdir);

  expect_fail(DATA_FASHION_MNIST, 1, "train-images-idx3-ubyte", "missing", "missing file");

  write_valid_fmnist();
  int rc = data_load(DATA_FASHION_MNIST, tmpdir, 1, &d, err, sizeof err);
  CHECK(rc == 0, "valid gz fixture: %s", err);
  if (rc == 0) {
    CHECK(d.n == 5 && d.c == 1 && d.h == 28 && d.w == 28 && d.classes == 10, "fixture shape");
    CHECK(!memcmp(d.labels, LAB5, 5), "fixture labels");
    CHECK(d.images[0] == 3 && d.images[784 * 4 + 783] == (uint8_t)((784 * 4 + 783) * 7 + 3),
          "fixture pixels");
    data_release(&d);
  }
  rc = data_load(DATA_FASHION_MNIST, tmpdir, 0, &d, err, sizeof err);
  CHECK(rc == 0, "valid uncompressed fixture: %s", err);
  if (rc == 0) {
    CHECK(d.n == 5 && !memcmp(d.labels, LAB5, 5), "uncompressed fixture content");
    data_release(&d);
  }

  const char *IMG = "train-images-idx3-ubyte.gz", *LBL = "train-labels-idx1-ubyte.gz";
  // Truncated gzip stream: cut the compressed file in half.
  write_idx_images(IMG, 0x803, 5, 28, 28, 5 * 784);
  {
    char p[512];
    struct stat st;
    path_of(p, sizeof p, IMG);
    stat(p, &st);
    truncate_file(IMG, (long)st.st_size / 2);
  }
  expect_fail(DATA_FASHION_MNIST, 1, IMG, "truncated", "truncated gzip");
  // Gzip cut only in its 8-byte trailer: the payload is all there but the stream is broken.
  write_idx_images(IMG, 0x803, 5, 28, 28, 5 * 784);
  {
    char p[512];
    struct stat st;
    path_of(p, sizeof p, IMG);
    stat(p, &st);
    truncate_file(IMG, (long)st.st_size - 4);
  }
  expect_fail(DATA_FASHION_MNIST, 1, IMG, "gzip", "gzip trailer cut");
  // Valid gzip, payload shorter than the header says.
  write_idx_images(IMG, 0x803, 5, 28, 28, 3 * 784 + 100);
  expect_fail(DATA_FASHION_MNIST, 1, IMG, "truncated", "truncated payload");
  // Header itself cut.
  write_idx_images(IMG, 0x803, 5, 28, 28, 0);
  truncate_file(IMG, 0);
  write_file(IMG, (const uint8_t *)"\0\0\x08\x03\0\0", 6);
  expect_fail(DATA_FASHION_MNIST, 1, IMG, "truncated", "truncated header");
  // Wrong magic (a label file's magic, and a 4-dim one).
  write_idx_images(IMG, 0x801, 5, 28, 28, 5 * 784);
  expect_fail(DATA_FASHION_MNIST, 1, IMG, "wrong magic", "labels magic in image file");
  write_idx_images(IMG, 0x804, 5, 28, 28, 5 * 784);
  expect_fail(DATA_FASHION_MNIST, 1, IMG, "wrong magic", "wrong magic 0x804");
  // Dimensions.
  write_idx_images(IMG, 0x803, 5, 32, 28, 5 * 32 * 28);
  expect_fail(DATA_FASHION_MNIST, 1, IMG, "32x28", "wrong dimensions");
  // Absurd count: must be refused before allocating 4 GB.
  write_idx_images(IMG, 0x803, 0xFFFFFFFFu, 28, 28, 784);
  expect_fail(DATA_FASHION_MNIST, 1, IMG, "4294967295 images", "huge image count");
  write_idx_images(IMG, 0x803, 0, 28, 28, 0);
  expect_fail(DATA_FASHION_MNIST, 1, IMG, "0 images", "zero images");
  // Extra bytes after the payload.
  write_idx_images(IMG, 0x803, 5, 28, 28, 5 * 784 + 1);
  expect_fail(DATA_FASHION_MNIST, 1, IMG, "extra bytes", "trailing bytes");
  // Garbage in a .gz file (not gzip at all), and garbage raw data under the raw name.
  {
    uint8_t g[4096];
    for (size_t i = 0; i < sizeof g; i++) g[i] = (uint8_t)(i * 2654435761u >> 13);
    char p[512];
    path_of(p, sizeof p, IMG);
    FILE *f = fopen(p, "wb");
    fwrite(g, 1, sizeof g, f);
    fclose(f);
    expect_fail(DATA_FASHION_MNIST, 1, IMG, "not a gzip file", "garbage .gz");
    // Gzip magic followed by garbage: a corrupt deflate stream.
    g[0] = 0x1f, g[1] = 0x8b, g[2] = 8, g[3] = 0;
    memset(g + 4, 0, 6);
    f = fopen(p, "wb");
    fwrite(g, 1, sizeof g, f);
    fclose(f);
    expect_fail(DATA_FASHION_MNIST, 1, IMG, IMG, "gzip header + garbage");
    write_file("t10k-images-idx3-ubyte", g + 100, 1000);
    expect_fail(DATA_FASHION_MNIST, 0, "t10k-images-idx3-ubyte", "wrong magic", "garbage raw");
    write_file("t10k-images-idx3-ubyte", (const uint8_t *)"", 0);
    expect_fail(DATA_FASHION_MNIST, 0, "t10k-images-idx3-ubyte", "truncated", "empty raw file");
  }
  write_idx_images(IMG, 0x803, 5, 28, 28, 5 * 784); // images fine again

  // Labels: count mismatch, out of range, wrong magic, truncated.
  write_idx_labels(LBL, 0x801, 4, LAB5, 4);
  expect_fail(DATA_FASHION_MNIST, 1, LBL, "4 labels but", "label count mismatch");
  const uint8_t bad[5] = {3, 0, 10, 1, 7};
  write_idx_labels(LBL, 0x801, 5, bad, 5);
  expect_fail(DATA_FASHION_MNIST, 1, LBL, "label 10 at index 2 is out of range", "label 10");
  write_idx_labels(LBL, 0x803, 5, LAB5, 5);
  expect_fail(DATA_FASHION_MNIST, 1, LBL, "wrong magic", "image magic in label file");
  write_idx_labels(LBL, 0x801, 5, LAB5, 3);
  expect_fail(DATA_FASHION_MNIST, 1, LBL, "truncated", "truncated labels");
  char p[512];
  path_of(p, sizeof p, LBL);
  unlink(p);
  expect_fail(DATA_FASHION_MNIST, 1, "train-labels-idx1-ubyte", "missing", "missing labels");
  write_idx_labels("train-labels-idx1-ubyte", 0x801, 5, LAB5, 5); // raw fallback for labels
  rc = data_load(DATA_FASHION_MNIST, tmpdir, 1, &d, err, sizeof err);
  CHECK(rc == 0, "gz images + raw labels: %s", err);
  if (rc == 0) data_release(&d);
}

static void write_cifar(const char *name, int records, int bad_label_at, long cut) {
  size_t n = (size_t)records * 3073;
  uint8_t *b = malloc(n ? n : 1);
  for (int r = 0; r < records; r++) {
    b[(size_t)r * 3073] = (uint8_t)((r * 3) % 10);
    for (int i = 0; i < 3072; i++) b[(size_t)r * 3073 + 1 + i] = (uint8_t)(r + i);
  }
  if (bad_label_at >= 0) b[(size_t)bad_label_at * 3073] = 200;
  write_file(name, b, n - (size_t)cut);
  free(b);
}

static void test_bad_cifar(void) {
  char err[512];
  data_set d;
  printf("cifar10 fixtures in %s\n", tmpdir);
  int rc = data_load(DATA_CIFAR10, NULL, 1, &d, err, sizeof err);
  CHECK(rc == -1 && strstr(err, "cifar10") && strstr(err, "data_batch_1.bin"),
        "no dir: rc=%d '%s'", rc, err);
  expect_fail(DATA_CIFAR10, 1, "data_batch_1.bin", "missing", "missing batch 1");
  expect_fail(DATA_CIFAR10, 0, "test_batch.bin", "missing", "missing test batch");

  char name[64];
  for (int i = 1; i <= 5; i++) {
    snprintf(name, sizeof name, "data_batch_%d.bin", i);
    write_cifar(name, 2 + (i == 5), -1, 0);
  }
  write_cifar("test_batch.bin", 3, -1, 0);
  rc = data_load(DATA_CIFAR10, tmpdir, 1, &d, err, sizeof err);
  CHECK(rc == 0, "valid cifar train: %s", err);
  if (rc == 0) {
    CHECK(d.n == 11 && d.c == 3 && d.h == 32 && d.w == 32 && d.classes == 10, "cifar shape n=%d",
          d.n);
    // Record 0 of batch 2 is row 2; its label is 0 and its first pixel 0; row 3 has label 3.
    CHECK(d.labels[2] == 0 && d.labels[3] == 3 && d.images[(size_t)3 * 3072 + 5] == 6,
          "cifar content");
    // Last row = record 2 of batch 5: label 6, pixel i = (2 + i) & 255.
    CHECK(d.labels[10] == 6 && d.images[(size_t)10 * 3072 + 3071] == (uint8_t)(2 + 3071),
          "cifar last row");
    data_release(&d);
  }
  rc = data_load(DATA_CIFAR10, tmpdir, 0, &d, err, sizeof err);
  CHECK(rc == 0 && d.n == 3, "valid cifar test: %s", err);
  if (rc == 0) data_release(&d);
  // The folder the official tarball unpacks into is found below the given directory.
  {
    char sub[512], tb[600];
    path_of(sub, sizeof sub, "cifar-10-batches-bin");
    snprintf(tb, sizeof tb, "%s/test_batch.bin", sub);
    mkdir(sub, 0700);
    write_cifar("cifar-10-batches-bin/test_batch.bin", 4, -1, 0);
    path_of(tb, sizeof tb, "test_batch.bin");
    unlink(tb);
    rc = data_load(DATA_CIFAR10, tmpdir, 0, &d, err, sizeof err);
    CHECK(rc == 0 && d.n == 4, "cifar-10-batches-bin subfolder: %s", err);
    if (rc == 0) data_release(&d);
    snprintf(tb, sizeof tb, "%s/test_batch.bin", sub);
    unlink(tb);
    rmdir(sub);
  }

  write_cifar("data_batch_3.bin", 2, -1, 100);
  expect_fail(DATA_CIFAR10, 1, "data_batch_3.bin", "truncated", "truncated batch");
  write_cifar("data_batch_3.bin", 0, -1, 0);
  expect_fail(DATA_CIFAR10, 1, "data_batch_3.bin", "empty", "empty batch");
  write_cifar("data_batch_3.bin", 2, 1, 0);
  expect_fail(DATA_CIFAR10, 1, "data_batch_3.bin", "label 200 in record 1", "cifar bad label");
  {
    uint8_t g[3073 * 2 + 17];
    for (size_t i = 0; i < sizeof g; i++) g[i] = (uint8_t)(i * 2654435761u >> 11);
    write_file("data_batch_3.bin", g, sizeof g);
    expect_fail(DATA_CIFAR10, 1, "data_batch_3.bin", "not a multiple", "cifar garbage size");
    write_file("data_batch_3.bin", g, 3073 * 2);
    g[0] = 77; // garbage with the right size: caught by the label check
    write_file("data_batch_3.bin", g, 3073 * 2);
    expect_fail(DATA_CIFAR10, 1, "data_batch_3.bin", "out of range", "cifar garbage records");
  }
  char p[512];
  path_of(p, sizeof p, "data_batch_3.bin");
  unlink(p);
  expect_fail(DATA_CIFAR10, 1, "data_batch_3.bin", "missing", "missing batch 3");
  // A directory in place of a batch file.
  mkdir(p, 0700);
  expect_fail(DATA_CIFAR10, 1, "data_batch_3.bin", "not a regular file", "directory as batch");
  rmdir(p);
}

static void cleanup(void) {
  static const char *names[] = {
      "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte",
      "t10k-images-idx3-ubyte",     "t10k-labels-idx1-ubyte",     "data_batch_1.bin",
      "data_batch_2.bin",           "data_batch_3.bin",           "data_batch_4.bin",
      "data_batch_5.bin",           "test_batch.bin"};
  char p[512];
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    path_of(p, sizeof p, names[i]);
    unlink(p);
  }
  rmdir(tmpdir);
}

static int make_tmpdir(void) {
  const char *t = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/pnas-data-XXXXXX", t && *t ? t : "/tmp");
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return -1;
  }
  return 0;
}

static int test_bad(void) {
  if (make_tmpdir()) return 1;
  test_bad_fmnist();
  cleanup();
  if (make_tmpdir()) return 1;
  test_bad_cifar();
  cleanup();
  return check_failures ? 1 : 0;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "all";
  int rc = 0;
  if (!strcmp(mode, "real") || !strcmp(mode, "all")) rc = test_real();
  if (rc == 1) return 1;
  if (!strcmp(mode, "bad") || !strcmp(mode, "all")) rc = test_bad() ? 1 : rc;
  if (check_failures) fprintf(stderr, "%d check(s) failed\n", check_failures);
  else if (rc == 0) printf("ok\n");
  return check_failures ? 1 : rc;
}
