// Dataset readers (see dataset.h): Fashion-MNIST IDX files (gzip, or uncompressed of the same name
// without .gz) and CIFAR-10 binary batches. Every header field is checked before anything is
// allocated, sizes are capped, and every failure returns -1 with a message naming the file.
// Does not normalise or augment: images stay uint8 (N, C, H, W); the trainer converts batches.
#include "data/dataset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "common/common.h"

#define IDX_MAGIC_IMAGES 0x00000803u // unsigned byte, 3 dimensions
#define IDX_MAGIC_LABELS 0x00000801u // unsigned byte, 1 dimension
#define FMNIST_SIDE 28
#define DATA_CLASSES 10
#define CIFAR_SIDE 32
#define CIFAR_RECORD (1 + 3 * CIFAR_SIDE * CIFAR_SIDE) // label byte + CHW pixels = 3073
#define CIFAR_TRAIN_BATCHES 5
// Sanity caps: far above the real datasets (60,000 / 50,000 images), far below anything that
// could overflow or exhaust memory because of a corrupt header.
#define DATA_MAX_IMAGES 1000000
#define DATA_MAX_PATH 4096

int data_kind_from_name(const char *name, data_kind *out) {
  if (!name) return -1;
  if (!strcmp(name, "fashion-mnist") || !strcmp(name, "fashion_mnist") ||
      !strcmp(name, "fmnist")) {
    *out = DATA_FASHION_MNIST;
    return 0;
  }
  if (!strcmp(name, "cifar10") || !strcmp(name, "cifar-10")) {
    *out = DATA_CIFAR10;
    return 0;
  }
  return -1;
}

const char *data_kind_name(data_kind k) {
  switch (k) {
  case DATA_FASHION_MNIST:
    return "fashion-mnist";
  case DATA_CIFAR10:
    return "cifar10";
  }
  return "unknown";
}

void data_mean_std(data_kind kind, float mean[3], float std[3]) {
  if (kind == DATA_CIFAR10) {
    const float m[3] = {0.4914f, 0.4822f, 0.4465f}, s[3] = {0.2470f, 0.2435f, 0.2616f};
    for (int i = 0; i < 3; i++) mean[i] = m[i], std[i] = s[i];
    return;
  }
  // Fashion-MNIST has one channel; all three entries get the same value so a caller indexing
  // by channel never reads garbage.
  for (int i = 0; i < 3; i++) mean[i] = 0.2860f, std[i] = 0.3530f;
}

data_set data_view(const data_set *src, int start, int count) {
  if (!src || start < 0 || count < 0 || start > src->n || count > src->n - start) {
    // A bad view is a programming error, not a user error: always-on check.
    fprintf(stderr, "%s:%d: data_view(start=%d, count=%d) out of range for n=%d\n", __FILE__,
            __LINE__, start, count, src ? src->n : -1);
    abort();
  }
  data_set v = *src;
  size_t img = (size_t)src->c * (size_t)src->h * (size_t)src->w;
  v.n = count;
  v.images = src->images ? src->images + (size_t)start * img : NULL;
  v.labels = src->labels ? src->labels + start : NULL;
  v.owns = 0;
  return v;
}

void data_release(data_set *d) {
  if (!d) return;
  if (d->owns) {
    free(d->images);
    free(d->labels);
  }
  memset(d, 0, sizeof *d);
}

void data_batch_float(const data_set *d, const int *idx, int count, const float mean[3],
                      const float std[3], float *out) {
  size_t hw = (size_t)d->h * (size_t)d->w, img = (size_t)d->c * hw;
  for (int i = 0; i < count; i++) {
    int r = idx ? idx[i] : i;
    const uint8_t *src = d->images + (size_t)r * img;
    float *dst = out + (size_t)i * img;
    for (int ch = 0; ch < d->c; ch++) {
      int k = ch < 3 ? ch : 2;
      float scale = 1.0f / (255.0f * std[k]), shift = mean[k] / std[k];
      for (size_t p = 0; p < hw; p++) dst[ch * hw + p] = (float)src[ch * hw + p] * scale - shift;
    }
  }
}

// ---------------------------------------------------------------- IDX (Fashion-MNIST)

static uint32_t be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

// Picks dir/base.gz, else dir/base. Returns 0 with path filled, -1 when neither exists.
static int find_idx(const char *dir, const char *base, char *path, size_t n, char *err,
                    size_t errlen) {
  int k = snprintf(path, n, "%s/%s.gz", dir, base);
  if (k < 0 || (size_t)k >= n) {
    pnas_seterr(err, errlen, "%s/%s.gz: path too long", dir, base);
    return -1;
  }
  if (file_exists(path)) return 0;
  snprintf(path, n, "%s/%s", dir, base);
  if (file_exists(path)) return 0;
  pnas_seterr(err, errlen, "%s/%s.gz: missing file (also tried %s/%s without .gz)", dir, base, dir,
          base);
  return -1;
}

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && !strcmp(s + a - b, suffix);
}

// zlib's reason for the last failure on f, without the "path: " prefix zlib adds; NULL if none.
static const char *gz_reason(gzFile f, const char *path) {
  int errnum = Z_OK;
  const char *msg = gzerror(f, &errnum);
  if (errnum == Z_ERRNO) return strerror(errno);
  if (errnum == Z_OK || !msg || !*msg) return NULL;
  size_t n = strlen(path);
  if (!strncmp(msg, path, n) && msg[n] == ':' && msg[n + 1] == ' ') msg += n + 2;
  return msg;
}

// Reads exactly n bytes. Returns 0, or -1 with err: "<path>: truncated <what> ...".
static int gz_read_exact(gzFile f, const char *path, const char *what, uint8_t *dst, size_t n,
                         char *err, size_t errlen) {
  size_t got = 0;
  while (got < n) {
    size_t want = n - got;
    if (want > (1u << 30)) want = 1u << 30;
    int r = gzread(f, dst + got, (unsigned)want);
    if (r < 0) {
      const char *why = gz_reason(f, path);
      pnas_seterr(err, errlen, "%s: corrupt data while reading %s (%s)", path, what,
              why ? why : "read error");
      return -1;
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  if (got < n) {
    const char *why = gz_reason(f, path);
    pnas_seterr(err, errlen, "%s: truncated: expected %zu bytes of %s, got %zu%s%s%s", path, n, what,
            got, why ? " (" : "", why ? why : "", why ? ")" : "");
    return -1;
  }
  return 0;
}

// After the payload there must be nothing left. Reading past the end also makes zlib verify the
// gzip trailer (CRC and length), so a corrupt member is caught here.
static int gz_expect_end(gzFile f, const char *path, char *err, size_t errlen) {
  uint8_t extra;
  int r = gzread(f, &extra, 1);
  if (r > 0) {
    pnas_seterr(err, errlen, "%s: unexpected extra bytes after the data the header announces", path);
    return -1;
  }
  const char *why = gz_reason(f, path);
  if (r < 0 || why) {
    pnas_seterr(err, errlen, "%s: corrupt gzip stream (%s)", path, why ? why : "read error");
    return -1;
  }
  return 0;
}

static gzFile gz_open_checked(const char *path, char *err, size_t errlen) {
  gzFile f = gzopen(path, "rb");
  if (!f) {
    pnas_seterr(err, errlen, "%s: cannot open (%s)", path, errno ? strerror(errno) : "out of memory");
    return NULL;
  }
  return f;
}

// A file named *.gz must really be gzip; zlib would otherwise pass raw bytes through silently.
static int gz_check_compressed(gzFile f, const char *path, char *err, size_t errlen) {
  if (ends_with(path, ".gz") && gzdirect(f)) {
    pnas_seterr(err, errlen, "%s: not a gzip file (bad gzip header)", path);
    return -1;
  }
  return 0;
}

static int idx_read_images(const char *path, data_set *out, char *err, size_t errlen) {
  gzFile f = gz_open_checked(path, err, errlen);
  if (!f) return -1;
  uint8_t hdr[16];
  uint8_t *images = NULL;
  if (gz_read_exact(f, path, "IDX image header", hdr, 4, err, errlen)) goto fail;
  if (gz_check_compressed(f, path, err, errlen)) goto fail;
  uint32_t magic = be32(hdr);
  if (magic != IDX_MAGIC_IMAGES) {
    pnas_seterr(err, errlen, "%s: wrong magic 0x%08x (expected 0x%08x for IDX images)", path, magic,
            IDX_MAGIC_IMAGES);
    goto fail;
  }
  if (gz_read_exact(f, path, "IDX image header", hdr + 4, 12, err, errlen)) goto fail;
  uint32_t n = be32(hdr + 4), rows = be32(hdr + 8), cols = be32(hdr + 12);
  if (rows != FMNIST_SIDE || cols != FMNIST_SIDE) {
    pnas_seterr(err, errlen, "%s: images are %ux%u, expected %dx%d", path, rows, cols, FMNIST_SIDE,
            FMNIST_SIDE);
    goto fail;
  }
  if (n == 0 || n > DATA_MAX_IMAGES) {
    pnas_seterr(err, errlen, "%s: header says %u images (must be 1..%d)", path, n, DATA_MAX_IMAGES);
    goto fail;
  }
  size_t bytes = (size_t)n * rows * cols;
  images = malloc(bytes);
  if (!images) {
    pnas_seterr(err, errlen, "%s: out of memory for %zu bytes of images", path, bytes);
    goto fail;
  }
  if (gz_read_exact(f, path, "pixel data", images, bytes, err, errlen)) goto fail;
  if (gz_expect_end(f, path, err, errlen)) goto fail;
  gzclose(f);
  out->n = (int)n;
  out->c = 1;
  out->h = (int)rows;
  out->w = (int)cols;
  out->images = images;
  return 0;
fail:
  free(images);
  gzclose(f);
  return -1;
}

static int idx_read_labels(const char *path, int *n_out, uint8_t **labels_out, char *err,
                           size_t errlen) {
  gzFile f = gz_open_checked(path, err, errlen);
  if (!f) return -1;
  uint8_t hdr[8];
  uint8_t *labels = NULL;
  if (gz_read_exact(f, path, "IDX label header", hdr, 4, err, errlen)) goto fail;
  if (gz_check_compressed(f, path, err, errlen)) goto fail;
  uint32_t magic = be32(hdr);
  if (magic != IDX_MAGIC_LABELS) {
    pnas_seterr(err, errlen, "%s: wrong magic 0x%08x (expected 0x%08x for IDX labels)", path, magic,
            IDX_MAGIC_LABELS);
    goto fail;
  }
  if (gz_read_exact(f, path, "IDX label header", hdr + 4, 4, err, errlen)) goto fail;
  uint32_t n = be32(hdr + 4);
  if (n == 0 || n > DATA_MAX_IMAGES) {
    pnas_seterr(err, errlen, "%s: header says %u labels (must be 1..%d)", path, n, DATA_MAX_IMAGES);
    goto fail;
  }
  labels = malloc(n);
  if (!labels) {
    pnas_seterr(err, errlen, "%s: out of memory for %u labels", path, n);
    goto fail;
  }
  if (gz_read_exact(f, path, "labels", labels, n, err, errlen)) goto fail;
  if (gz_expect_end(f, path, err, errlen)) goto fail;
  for (uint32_t i = 0; i < n; i++)
    if (labels[i] >= DATA_CLASSES) {
      pnas_seterr(err, errlen, "%s: label %u at index %u is out of range 0..%d", path, labels[i], i,
              DATA_CLASSES - 1);
      goto fail;
    }
  gzclose(f);
  *n_out = (int)n;
  *labels_out = labels;
  return 0;
fail:
  free(labels);
  gzclose(f);
  return -1;
}

int data_load_idx_files(const char *images_path, const char *labels_path, data_set *out,
                        char *err, size_t errlen) {
  data_set d = {0};
  uint8_t *labels = NULL;
  int nl = 0;
  if (idx_read_images(images_path, &d, err, errlen)) return -1;
  if (idx_read_labels(labels_path, &nl, &labels, err, errlen)) {
    free(d.images);
    return -1;
  }
  if (nl != d.n) {
    pnas_seterr(err, errlen, "%s: has %d labels but %s has %d images", labels_path, nl, images_path,
            d.n);
    free(d.images);
    free(labels);
    return -1;
  }
  d.labels = labels;
  d.classes = DATA_CLASSES;
  d.owns = 1;
  *out = d;
  return 0;
}

static int load_fashion_mnist(const char *dir, int train, data_set *out, char *err,
                              size_t errlen) {
  const char *pre = train ? "train" : "t10k";
  char base[64], ipath[DATA_MAX_PATH], lpath[DATA_MAX_PATH];
  snprintf(base, sizeof base, "%s-images-idx3-ubyte", pre);
  if (find_idx(dir, base, ipath, sizeof ipath, err, errlen)) return -1;
  snprintf(base, sizeof base, "%s-labels-idx1-ubyte", pre);
  if (find_idx(dir, base, lpath, sizeof lpath, err, errlen)) return -1;
  return data_load_idx_files(ipath, lpath, out, err, errlen);
}

// ---------------------------------------------------------------- CIFAR-10 binary

// Size of a CIFAR batch file in records; -1 with err when missing or not a whole number of
// records.
static long cifar_records(const char *path, char *err, size_t errlen) {
  struct stat st;
  if (stat(path, &st) != 0) {
    pnas_seterr(err, errlen, "%s: missing file (%s)", path, strerror(errno));
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    pnas_seterr(err, errlen, "%s: not a regular file", path);
    return -1;
  }
  if (st.st_size == 0) {
    pnas_seterr(err, errlen, "%s: empty file", path);
    return -1;
  }
  if (st.st_size % CIFAR_RECORD != 0) {
    pnas_seterr(err, errlen,
            "%s: truncated or not a CIFAR-10 batch: %lld bytes is not a multiple of the "
            "%d-byte record",
            path, (long long)st.st_size, CIFAR_RECORD);
    return -1;
  }
  long long n = (long long)st.st_size / CIFAR_RECORD;
  if (n > DATA_MAX_IMAGES) {
    pnas_seterr(err, errlen, "%s: %lld records is more than the limit %d", path, n, DATA_MAX_IMAGES);
    return -1;
  }
  return (long)n;
}

// Reads `n` records of path into images/labels (already sized). 0 or -1 with err.
static int cifar_read(const char *path, long n, uint8_t *images, uint8_t *labels, char *err,
                      size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    pnas_seterr(err, errlen, "%s: cannot open (%s)", path, strerror(errno));
    return -1;
  }
  uint8_t rec[CIFAR_RECORD];
  for (long i = 0; i < n; i++) {
    if (fread(rec, 1, CIFAR_RECORD, f) != CIFAR_RECORD) {
      pnas_seterr(err, errlen, "%s: truncated at record %ld of %ld (file changed while reading?)",
              path, i, n);
      fclose(f);
      return -1;
    }
    if (rec[0] >= DATA_CLASSES) {
      pnas_seterr(err, errlen, "%s: label %u in record %ld is out of range 0..%d", path, rec[0], i,
              DATA_CLASSES - 1);
      fclose(f);
      return -1;
    }
    labels[i] = rec[0];
    memcpy(images + (size_t)i * (CIFAR_RECORD - 1), rec + 1, CIFAR_RECORD - 1);
  }
  fclose(f);
  return 0;
}

int data_load_cifar_files(const char *const *paths, int npaths, data_set *out, char *err,
                          size_t errlen) {
  long counts[16];
  long total = 0;
  if (npaths < 1 || npaths > 16) {
    pnas_seterr(err, errlen, "cifar10: %d batch files given (must be 1..16)", npaths);
    return -1;
  }
  // Size every file first so that one allocation fits them all and a missing or truncated
  // batch is reported before any large read.
  for (int i = 0; i < npaths; i++) {
    counts[i] = cifar_records(paths[i], err, errlen);
    if (counts[i] < 0) return -1;
    total += counts[i];
    if (total > DATA_MAX_IMAGES) {
      pnas_seterr(err, errlen, "%s: more than %d images in total", paths[i], DATA_MAX_IMAGES);
      return -1;
    }
  }
  uint8_t *images = malloc((size_t)total * (CIFAR_RECORD - 1));
  uint8_t *labels = malloc((size_t)total);
  if (!images || !labels) {
    pnas_seterr(err, errlen, "%s: out of memory for %ld images", paths[0], total);
    free(images);
    free(labels);
    return -1;
  }
  long at = 0;
  for (int i = 0; i < npaths; i++) {
    if (cifar_read(paths[i], counts[i], images + (size_t)at * (CIFAR_RECORD - 1), labels + at,
                   err, errlen)) {
      free(images);
      free(labels);
      return -1;
    }
    at += counts[i];
  }
  out->n = (int)total;
  out->c = 3;
  out->h = CIFAR_SIDE;
  out->w = CIFAR_SIDE;
  out->classes = DATA_CLASSES;
  out->images = images;
  out->labels = labels;
  out->owns = 1;
  return 0;
}

static int load_cifar10(const char *dir, int train, data_set *out, char *err, size_t errlen) {
  if (!dir) {
    pnas_seterr(err, errlen, "cifar10: no default location; give the directory that holds "
                         "data_batch_1.bin .. data_batch_5.bin and test_batch.bin");
    return -1;
  }
  // Accept both the batch directory itself and the folder the official tarball unpacks into.
  char root[DATA_MAX_PATH], probe[DATA_MAX_PATH + 32];
  snprintf(root, sizeof root, "%s", dir);
  snprintf(probe, sizeof probe, "%s/%s", dir, train ? "data_batch_1.bin" : "test_batch.bin");
  if (!file_exists(probe)) {
    char sub[DATA_MAX_PATH + 32];
    snprintf(sub, sizeof sub, "%s/cifar-10-batches-bin", dir);
    struct stat st;
    size_t n = strlen(sub);
    if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode) && n < sizeof root) memcpy(root, sub, n + 1);
  }
  char paths[CIFAR_TRAIN_BATCHES][DATA_MAX_PATH + 32];
  const char *ptrs[CIFAR_TRAIN_BATCHES];
  int np = train ? CIFAR_TRAIN_BATCHES : 1;
  for (int i = 0; i < np; i++) {
    if (train)
      snprintf(paths[i], sizeof paths[i], "%s/data_batch_%d.bin", root, i + 1);
    else
      snprintf(paths[i], sizeof paths[i], "%s/test_batch.bin", root);
    ptrs[i] = paths[i];
  }
  return data_load_cifar_files(ptrs, np, out, err, errlen);
}

// ---------------------------------------------------------------- entry point

int data_load(data_kind kind, const char *dir, int train, data_set *out, char *err,
              size_t errlen) {
  if (!out) {
    pnas_seterr(err, errlen, "data_load: no output");
    return -1;
  }
  memset(out, 0, sizeof *out);
  if (dir && strlen(dir) > DATA_MAX_PATH - 64) {
    pnas_seterr(err, errlen, "%.64s...: data directory path too long", dir);
    return -1;
  }
  switch (kind) {
  case DATA_FASHION_MNIST:
    return load_fashion_mnist(dir ? dir : DATA_FASHION_MNIST_DIR, train, out, err, errlen);
  case DATA_CIFAR10:
    return load_cifar10(dir, train, out, err, errlen);
  }
  pnas_seterr(err, errlen, "data_load: unknown dataset kind %d", (int)kind);
  return -1;
}
