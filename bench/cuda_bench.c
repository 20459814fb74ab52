// Training throughput of one child network on a backend (not a test): train_bench() on
// synthetic uint8 images (no dataset needed, so it runs on a bare GPU machine), median images/s
// over STEPS steps after WARMUP untimed ones (the warm-up also makes every cuDNN plan: shapes
// are found once; on a GPU the step is then captured as a CUDA graph unless PNAS_CUDA_GRAPHS=0).
// A step is what the trainer does: batch gathered and normalised from the uint8 data in backend
// memory, forward, backward, SGD; the timing waits for the step (a 24-byte read-back). Prints one
// JSON line, with the estimated compulsory memory traffic per step (net_step_bytes) and the
// bandwidth that implies; bench/cuda_check.sh
// runs it next to bench/cuda_bench_torch.py on the same network.
// Usage: cuda_bench [--backend cuda|cpu|ref] [--cell pnasnet-5] [--N 2] [--F 24] [--batch 128]
//                   [--steps 30] [--warmup 5] [--image 28x28x1|32x32x3] [--threads 2]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/backend.h"
#include "pnas/child/trainer.h"
#include "searchspace/cell.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  const char *backend = "cuda", *cell_text = "pnasnet-5", *image = "28x28x1";
  int N = 2, F = 24, batch = 128, steps = 30, warmup = 5, threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--backend")) backend = v;
    else if (!strcmp(k, "--cell")) cell_text = v;
    else if (!strcmp(k, "--image")) image = v;
    else if (!strcmp(k, "--N")) N = atoi(v);
    else if (!strcmp(k, "--F")) F = atoi(v);
    else if (!strcmp(k, "--batch")) batch = atoi(v);
    else if (!strcmp(k, "--steps")) steps = atoi(v);
    else if (!strcmp(k, "--warmup")) warmup = atoi(v);
    else if (!strcmp(k, "--threads")) threads = atoi(v);
    else {
      fprintf(stderr, "cuda_bench: unknown flag %s\n", k);
      return 2;
    }
  }
  int h = 0, w = 0, c = 0;
  if (sscanf(image, "%dx%dx%d", &h, &w, &c) != 3 || h < 4 || w < 4 || c < 1 || c > 3 ||
      batch < 1 || steps < 1 || warmup < 0) {
    fprintf(stderr, "cuda_bench: bad --image/--batch/--steps\n");
    return 2;
  }
  space_cell cell;
  char err[512];
  if (space_parse(cell_text, &cell, err, sizeof err)) {
    fprintf(stderr, "cuda_bench: %s\n", err);
    return 2;
  }
  train_config tc;
  train_config_default(&tc);
  tc.N = N, tc.F = F, tc.batch = batch, tc.threads = threads, tc.backend = backend;
  tc.kind = c == 3 ? DATA_CIFAR10 : DATA_FASHION_MNIST;
  const kn_backend *be = kn_backend_by_name(backend);
  if (!be) {
    fprintf(stderr, "cuda_bench: backend '%s' not in this build\n", backend);
    return 1;
  }
  char desc[512] = "cpu";
  if (be->dev_open && be->dev_open(&tc.device, desc, sizeof desc)) {
    fprintf(stderr, "cuda_bench: %s\n", desc);
    return 1;
  }
  // synthetic data: a few batches of random pixels and labels
  data_set d = {4 * batch, c, h, w, 10, NULL, NULL, 1};
  d.images = malloc((size_t)d.n * c * h * w);
  d.labels = malloc((size_t)d.n);
  double *t = malloc((size_t)steps * sizeof *t);
  if (!d.images || !d.labels || !t) {
    fprintf(stderr, "cuda_bench: out of memory\n");
    return 1;
  }
  uint64_t s = 12345;
  for (size_t i = 0; i < (size_t)d.n * c * h * w; i++) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    d.images[i] = (uint8_t)(s >> 56);
  }
  for (int i = 0; i < d.n; i++) d.labels[i] = (uint8_t)(i % 10);
  double bytes = 0;
  int rc = train_bench(&tc, &cell, &d, warmup, steps, t, &bytes, err, sizeof err);
  if (be->dev_close && tc.device) be->dev_close(tc.device);
  if (rc) {
    fprintf(stderr, "cuda_bench: %s\n", err);
    return 1;
  }
  qsort(t, (size_t)steps, sizeof *t, cmp_double);
  double med = t[steps / 2];
  const char *graphs = getenv("PNAS_CUDA_GRAPHS");
  printf("{\"img_per_s\": %.1f, \"median_step_s\": %.6f, \"min_step_s\": %.6f, \"steps\": %d, "
         "\"batch\": %d, \"N\": %d, \"F\": %d, \"image\": \"%s\", \"cell\": \"%s\", "
         "\"backend\": \"%s\", \"graphs\": %s, \"step_bytes\": %.0f, \"bytes_per_image\": %.0f, "
         "\"achieved_gb_per_s\": %.1f, \"device\": \"%s\"}\n",
         batch / med, med, t[0], steps, batch, N, F, image, cell_text, backend,
         be->graph_begin && !(graphs && !strcmp(graphs, "0")) ? "true" : "false", bytes,
         bytes / batch, bytes / med / 1e9, desc);
  free(d.images);
  free(d.labels);
  free(t);
  return 0;
}
