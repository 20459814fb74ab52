// Image datasets for training children: Fashion-MNIST (IDX, gzip) and CIFAR-10 (binary batches).
// Images stay uint8 in memory, (N, C, H, W); normalisation happens in the trainer.
// Readers never crash on bad files: every failure returns -1 with a message naming the file.
#ifndef PNAS_DATA_DATASET_H
#define PNAS_DATA_DATASET_H

#include <stddef.h>
#include <stdint.h>

typedef enum { DATA_FASHION_MNIST = 0, DATA_CIFAR10 = 1 } data_kind;

typedef struct {
  int n, c, h, w, classes;
  uint8_t *images; // (n, c, h, w)
  uint8_t *labels; // (n), values in [0, classes)
  int owns;        // 1 when images/labels are owned (data_release releases them), 0 for views
} data_set;

#define DATA_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"
#define DATA_VAL_SIZE 5000 // during search: the last 5,000 training images are validation

// "fashion-mnist" or "cifar10"; 0 ok, -1 unknown.
int data_kind_from_name(const char *name, data_kind *out);
const char *data_kind_name(data_kind k);
// Load the training (train=1) or test (train=0) split. dir NULL = the default location
// (DATA_FASHION_MNIST_DIR for Fashion-MNIST; CIFAR-10 has no default and needs a dir).
// 0 ok, -1 with err naming the file and the problem (missing, truncated, wrong magic...).
int data_load(data_kind kind, const char *dir, int train, data_set *out, char *err, size_t errlen);
// A view of rows [start, start+count) of src (no copy; src must outlive it).
data_set data_view(const data_set *src, int start, int count);
void data_release(data_set *d);
// Per-channel mean and std of the dataset (in [0,1] pixel units), for normalisation.
void data_mean_std(data_kind kind, float mean[3], float std[3]);

// Lower-level loaders (used by data_load; handy for fixtures and odd layouts).
// A pair of IDX files (28x28 ubyte images + ubyte labels), each gzip (name ends in .gz) or raw.
int data_load_idx_files(const char *images_path, const char *labels_path, data_set *out,
                        char *err, size_t errlen);
// CIFAR-10 binary batches, concatenated in the given order (1..16 files).
int data_load_cifar_files(const char *const *paths, int npaths, data_set *out, char *err,
                          size_t errlen);
// Normalised float batch: out[i] = (pixel/255 - mean[c]) / std[c] for rows idx[0..count) of d
// (idx NULL = rows 0..count). out is (count, c, h, w).
void data_batch_float(const data_set *d, const int *idx, int count, const float mean[3],
                      const float std[3], float *out);

#endif
