// Fuzz target: the dataset readers, through real files. Byte 0 picks the reader and the file
// names: bit 0 = CIFAR-10 (else IDX), bits 1-2 = IDX images / labels named *.gz (then they must
// be gzip), bits 2-3 = number of CIFAR files - 1 (capped to 3). Bytes 1-2 (little-endian) split
// the rest between the files. Properties: a rejected set of files has a message naming a file;
// an accepted one has sizes that match the bytes given and labels in range.
#include "data/dataset.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3 || size > (1u << 22)) return 0;
  int mode = data[0];
  size_t split = (size_t)data[1] | (size_t)data[2] << 8;
  data += 3;
  size -= 3;
  if (split > size) split = size;
  data_set d;
  memset(&d, 0, sizeof d);
  char err[1024] = "";
  int rc;
  if (!(mode & 1)) {
    const char *img = fuzz_write_file(0, mode & 2 ? "img.gz" : "img", data, split);
    const char *lab = fuzz_write_file(1, mode & 4 ? "lab.gz" : "lab", data + split, size - split);
    rc = data_load_idx_files(img, lab, &d, err, sizeof err);
    if (rc) {
      FUZZ_CHECK(strstr(err, img) || strstr(err, lab), "error names no file: %s", err);
    } else {
      FUZZ_CHECK(d.n >= 1 && d.c == 1 && d.h == 28 && d.w == 28, "shape %d %d %d %d", d.n, d.c,
                 d.h, d.w);
      // zlib also reads gzip content from a file not named .gz: sizes only hold for raw bytes.
      const uint8_t *lb = data + split;
      int img_gz = split >= 2 && data[0] == 0x1f && data[1] == 0x8b;
      int lab_gz = size - split >= 2 && lb[0] == 0x1f && lb[1] == 0x8b;
      if (!(mode & 2) && !img_gz)
        FUZZ_CHECK(split == 16 + (size_t)d.n * 784, "%d images in %zu bytes", d.n, split);
      if (!(mode & 4) && !lab_gz)
        FUZZ_CHECK(size - split == 8 + (size_t)d.n, "%d labels in %zu bytes", d.n, size - split);
    }
  } else {
    int nf = 1 + ((mode >> 2) & 3);
    if (nf > 3) nf = 3;
    // Files: [0, split), then the rest halved.
    size_t cut[4] = {0, split, split + (size - split) / 2, size};
    if (nf == 1) cut[1] = size;
    if (nf == 2) cut[2] = size;
    const char *paths[3];
    char name[16];
    for (int i = 0; i < nf; i++) {
      snprintf(name, sizeof name, "batch%d.bin", i);
      paths[i] = fuzz_write_file(i, name, data + cut[i], cut[i + 1] - cut[i]);
    }
    rc = data_load_cifar_files(paths, nf, &d, err, sizeof err);
    if (rc) {
      int named = 0;
      for (int i = 0; i < nf; i++) named |= strstr(err, paths[i]) != NULL;
      FUZZ_CHECK(named, "error names no file: %s", err);
    } else {
      FUZZ_CHECK(d.c == 3 && d.h == 32 && d.w == 32 && size == (size_t)d.n * 3073,
                 "%d images from %zu bytes", d.n, size);
    }
  }
  if (rc == 0) {
    FUZZ_CHECK(d.classes == 10, "%d classes", d.classes);
    for (int i = 0; i < d.n; i++) FUZZ_CHECK(d.labels[i] < d.classes, "label %d", d.labels[i]);
    data_release(&d);
  } else {
    FUZZ_CHECK(err[0], "rejected without a message");
  }
  return 0;
}
