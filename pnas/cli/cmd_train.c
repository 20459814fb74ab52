// `pnas train`: train one cell's network on Fashion-MNIST or CIFAR-10 (training set minus its
// last 5,000 images; those are the validation set) and report validation and test accuracy.
// Progress goes to stderr; the result to stdout (text, or one JSON object with --json).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset.h"
#include "kernels/backend.h"
#include "common/args.h"
#include "pnas/cli/cli.h"
#include "pnas/child/trainer.h"
#include "pnas/search/prune_arch.h"
#include "pnas/search/search.h"

static const char USAGE[] =
    "usage: pnas train (--cell CELL [--space pnas|nasnet] | --arch FILE|DIR) [--dataset fashion-mnist|cifar10] [--data DIR] [--N n] [--F f]\n"
    "                  [--epochs e] [--batch b] [--lr x] [--momentum m] [--weight-decay w]\n"
    "                  [--train-subset n] [--val-subset n] [--seed s] [--threads t]\n"
    "                  [--aug-pad p] [--aug-flip 0|1]\n"
    "                  [--backend auto|cpu|ref|cuda] [--json] [--bench STEPS] [--dump-step FILE]\n"
    "Trains the network of CELL (DESIGN.md s.2) with SGD + momentum and cosine learning-rate decay\n"
    "on the training set minus its last 5,000 images (the validation set), then reports\n"
    "validation and test accuracy.\n"
    "Defaults (sized for 2 CPU cores): dataset fashion-mnist, N 1, F 8, epochs 1, batch 16,\n"
    "lr 0.05, momentum 0.9, weight-decay 5e-4 (conv/fc weights only), all training images,\n"
    "all 5,000 validation images, seed 1, threads 2, backend auto (the GPU when one works,\n"
    "else the CPU, said once), no augmentation.\n"
    "--aug-pad P crops each training image at random from the image zero-padded by P pixels\n"
    "(0..8; CIFAR-10 practice: 4); --aug-flip 1 mirrors half of them. Made where the data is\n"
    "(on the GPU with --backend cuda), reproducible from the seed.\n"
    "--bench STEPS times STEPS training steps (after 3 warm-up steps) on training batches and\n"
    "prints the median images/second instead of training to completion.\n"
    "--dump-step FILE writes parameters, one batch, logits, loss and gradients of the first\n"
    "training step (bench/reference/check_net.py compares them with PyTorch).\n"
    "--arch FILE|DIR trains a pruned network (--strategy prune's pruned-arch.txt, or a run\n"
    "directory holding one): its cell, N, F, dataset and channel counts.\n"
    "examples:\n"
    "  pnas train --cell pnasnet-5 --N 3 --F 48 --epochs 20\n"
    "  pnas train --arch runs/prune --epochs 20\n"
    "  pnas train --cell '0:sep3x3,1:max3x3' --train-subset 4000 --json\n";

typedef struct {
  int tty;
} progress_state;

static void on_progress(void *user, const train_progress *p) {
  progress_state *st = user;
  int last = p->step == p->steps || p->step % (p->steps / p->epochs ? p->steps / p->epochs : 1) == 0;
  fprintf(stderr, "%sepoch %d/%d  step %lld/%lld  loss %.4f  lr %.4g  %.1f s  %.0f img/s%s",
          st->tty ? "\r" : "", p->epoch, p->epochs, (long long)p->step, (long long)p->steps,
          p->loss, p->lr, p->seconds, p->img_per_s, st->tty && !last ? "" : "\n");
  fflush(stderr);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int run_bench(const train_config *tc, const space_cell *cell, const data_set *train,
                     int steps, int json) {
  double *t = malloc((size_t)steps * sizeof *t);
  char err[256];
  if (!t) {
    fprintf(stderr, "pnas train: out of memory\n");
    return 1;
  }
  if (train_bench(tc, cell, train, 3, steps, t, NULL, err, sizeof err)) {
    fprintf(stderr, "pnas train: %s\n", err);
    free(t);
    return 1;
  }
  qsort(t, (size_t)steps, sizeof *t, cmp_double);
  double med = steps % 2 ? t[steps / 2] : 0.5 * (t[steps / 2 - 1] + t[steps / 2]);
  if (json)
    printf("{\"img_per_s\": %.2f, \"median_step_s\": %.6f, \"min_step_s\": %.6f, \"steps\": %d, "
           "\"batch\": %d, \"N\": %d, \"F\": %d, \"threads\": %d, \"backend\": \"%s\"}\n",
           tc->batch / med, med, t[0], steps, tc->batch, tc->N, tc->F, tc->threads, tc->backend);
  else
    printf("%.1f img/s (median step %.2f ms, best %.2f ms, %d steps, batch %d, %d threads)\n",
           tc->batch / med, 1e3 * med, 1e3 * t[0], steps, tc->batch, tc->threads);
  free(t);
  return 0;
}

int cmd_train(int argc, char **argv) {
  const char *cell_text = NULL, *space = NULL, *dataset = NULL, *dir = NULL, *backend = "auto";
  const char *arch_path = NULL;
  train_config tc;
  train_config_default(&tc);
  int json = 0, bench = 0;
  const char *dump = NULL;
  int64_t seed = (int64_t)tc.seed;
  arg_spec specs[] = {
      {"cell", ARG_STR, &cell_text, 0, -1, NULL},
      {"space", ARG_STR, &space, 0, -1, NULL},
      {"arch", ARG_STR, &arch_path, 0, -1, NULL},
      {"dataset", ARG_STR, &dataset, 0, -1, NULL},
      {"data", ARG_STR, &dir, 0, -1, NULL},
      {"N", ARG_INT, &tc.N, 1, 16, NULL},
      {"F", ARG_INT, &tc.F, 2, 4096, NULL},
      {"epochs", ARG_INT, &tc.epochs, 1, 100000, NULL},
      {"batch", ARG_INT, &tc.batch, 1, 65536, NULL},
      {"lr", ARG_DOUBLE, &tc.lr, 1e-9, 100, NULL},
      {"momentum", ARG_DOUBLE, &tc.momentum, 0, 0.9999, NULL},
      {"weight-decay", ARG_DOUBLE, &tc.weight_decay, 0, 1, NULL},
      {"train-subset", ARG_INT, &tc.train_subset, 0, 100000000, NULL},
      {"val-subset", ARG_INT, &tc.val_subset, 0, 100000000, NULL},
      {"seed", ARG_I64, &seed, 0, 9.0e18, NULL},
      {"threads", ARG_INT, &tc.threads, 1, 256, NULL},
      {"aug-pad", ARG_INT, &tc.aug_pad, 0, 8, NULL},
      {"aug-flip", ARG_INT, &tc.aug_flip, 0, 1, NULL},
      {"backend", ARG_STR, &backend, 0, -1, NULL},
      {"json", ARG_FLAG, &json, 0, -1, NULL},
      {"bench", ARG_INT, &bench, 1, 100000, NULL},
      {"dump-step", ARG_STR, &dump, 0, -1, NULL},
  };
  int rc = args_parse("pnas train", USAGE, argc, argv, 1, specs, sizeof specs / sizeof specs[0],
                      NULL, 0, NULL);
  if (rc == 3) return 0;
  if (rc) return rc;
  space_cell cell;
  char err[1400];
  static prune_arch arch; // --arch: a pruned network (--strategy prune)
  if (arch_path) {
    if (cell_text) {
      fprintf(stderr, "pnas train: give --cell or --arch, not both (a pruned architecture "
                      "names its cell)\n");
      return 2;
    }
    if (prune_arch_read(arch_path, &arch, err, sizeof err)) {
      fprintf(stderr, "pnas train: --arch: %s\n", err);
      return 2;
    }
    if (search_argv_has(argc, argv, "N") || search_argv_has(argc, argv, "F")) {
      fprintf(stderr, "pnas train: --arch fixes N and F (its channel counts are for N=%d F=%d)\n",
              arch.N, arch.F);
      return 2;
    }
    if (dataset && strcmp(dataset, arch.dataset)) {
      fprintf(stderr, "pnas train: --arch was pruned on %s, not %s\n", arch.dataset, dataset);
      return 2;
    }
    cell = arch.cell;
    dataset = arch.dataset;
    tc.N = arch.N, tc.F = arch.F, tc.stem_mult = arch.stem_mult;
    tc.widths = &arch.w;
  } else {
    if (!cell_text) {
      fprintf(stderr, "pnas train: --cell is required (e.g. --cell pnasnet-5), or --arch FILE\n");
      return 2;
    }
    if (space_parse_in(cell_text, space, &cell, err, sizeof err)) {
      fprintf(stderr, "pnas train: bad --cell: %s\n", err);
      return 2;
    }
  }
  if (!dataset) dataset = "fashion-mnist";
  if (data_kind_from_name(dataset, &tc.kind)) {
    fprintf(stderr, "pnas train: unknown --dataset '%s' (fashion-mnist, cifar10)\n", dataset);
    return 2;
  }
  if (strcmp(backend, "cpu") && strcmp(backend, "ref") && strcmp(backend, "cuda") &&
      strcmp(backend, "auto")) {
    fprintf(stderr, "pnas train: unknown --backend '%s' (auto, cpu, ref, cuda)\n", backend);
    return 2;
  }
  tc.seed = (uint64_t)seed;

  data_set full, test;
  if (data_load(tc.kind, dir, 1, &full, err, sizeof err)) {
    fprintf(stderr, "pnas train: %s\n", err);
    return 1;
  }
  if (data_load(tc.kind, dir, 0, &test, err, sizeof err)) {
    fprintf(stderr, "pnas train: %s\n", err);
    data_release(&full);
    return 1;
  }
  if (full.n <= DATA_VAL_SIZE) {
    fprintf(stderr, "pnas train: the training set has %d images; need more than %d\n", full.n,
            DATA_VAL_SIZE);
    data_release(&full);
    data_release(&test);
    return 1;
  }
  data_set train = data_view(&full, 0, full.n - DATA_VAL_SIZE);
  // cuda / auto: open the GPU once here (its cuDNN plans then serve training and evaluation);
  // auto falls back to the CPU with one line saying why.
  kn_device *dev = NULL;
  const kn_backend *cuda = kn_backend_by_name("cuda");
  if (!strcmp(backend, "cuda") || !strcmp(backend, "auto")) {
    char msg[512] = "this build has no CUDA backend (no CUDA toolkit with cuDNN at configure "
                    "time, or -DPNAS_WITH_CUDA=OFF)";
    if (cuda && cuda->dev_open(&dev, msg, sizeof msg) == 0) {
      backend = "cuda";
      fprintf(stderr, "pnas train: on %s\n", msg);
    } else if (!strcmp(backend, "cuda")) {
      fprintf(stderr, "pnas train: --backend cuda: %s\n", msg);
      data_release(&full);
      data_release(&test);
      return 1;
    } else {
      backend = "cpu";
      fprintf(stderr, "pnas train: on the CPU (%s)\n", msg);
    }
  }
  tc.backend = backend;
  tc.device = dev;
  if (dump) {
    rc = train_dump_step(&tc, &cell, &train, dump, err, sizeof err);
    if (rc) fprintf(stderr, "pnas train: %s\n", err);
    if (dev) cuda->dev_close(dev);
    data_release(&full);
    data_release(&test);
    return rc ? 1 : 0;
  }
  if (bench) {
    rc = run_bench(&tc, &cell, &train, bench, json);
    if (dev) cuda->dev_close(dev);
    data_release(&full);
    data_release(&test);
    return rc;
  }
  data_set val = data_view(&full, full.n - DATA_VAL_SIZE, DATA_VAL_SIZE);
  progress_state ps = {isatty(2)};
  tc.progress = on_progress;
  tc.progress_user = &ps;
  tc.verbose = 1;
  char txt[SPACE_TEXT_MAX];
  space_format(&cell, txt, sizeof txt);
  int ntr = tc.train_subset > 0 && tc.train_subset < train.n ? tc.train_subset : train.n;
  fprintf(stderr,
          "pnas train: %s on %s (%d train / %d val / %d test), N=%d F=%d, %d epoch(s), batch %d, "
          "lr %g, %s backend, %d thread(s)\n",
          txt, data_kind_name(tc.kind), ntr,
          tc.val_subset > 0 && tc.val_subset < val.n ? tc.val_subset : val.n, test.n, tc.N, tc.F,
          tc.epochs, tc.batch, tc.lr, tc.backend, tc.threads);
  train_result r;
  rc = train_child(&tc, &cell, &train, &val, &test, &r);
  if (dev) cuda->dev_close(dev);
  data_release(&full);
  data_release(&test);
  if (rc) {
    fprintf(stderr, "pnas train: failed: %s\n", r.reason);
    if (json)
      printf("{\"ok\": false, \"reason\": \"%s\", \"examples\": %lld, \"seconds\": %.3f}\n",
             r.reason, (long long)r.examples, r.seconds);
    return 1;
  }
  if (json) {
    printf("{\"ok\": true, \"cell\": \"%s\", \"dataset\": \"%s\", \"N\": %d, \"F\": %d, "
           "\"epochs\": %d, \"batch\": %d, \"lr\": %g, \"seed\": %llu, \"threads\": %d, "
           "\"backend\": \"%s\", \"val_accuracy\": %.6f, \"val_top5\": %.6f, "
           "\"test_accuracy\": %.6f, \"test_top5\": %.6f, \"examples\": %lld, \"steps\": %lld, "
           "\"seconds\": %.3f, \"train_seconds\": %.3f, \"img_per_s\": %.1f, \"params\": %lld, "
           "\"mult_adds\": %lld, \"final_loss\": %.6f, \"memory_bytes\": %zu}\n",
           txt, data_kind_name(tc.kind), tc.N, tc.F, tc.epochs, tc.batch, tc.lr,
           (unsigned long long)tc.seed, tc.threads, tc.backend, r.val_acc, r.val_top5, r.test_acc,
           r.test_top5, (long long)r.examples, (long long)r.steps, r.seconds, r.train_seconds,
           r.train_seconds > 0 ? (double)r.examples / r.train_seconds : 0.0, (long long)r.params,
           (long long)r.mult_adds, r.final_loss, r.memory_bytes);
  } else {
    printf("val accuracy   %.4f (top-5 %.4f)\n", r.val_acc, r.val_top5);
    printf("test accuracy  %.4f (top-5 %.4f)\n", r.test_acc, r.test_top5);
    printf("examples       %lld (%lld steps x batch %d)\n", (long long)r.examples,
           (long long)r.steps, tc.batch);
    printf("seconds        %.1f (training %.1f, %.0f img/s)\n", r.seconds, r.train_seconds,
           r.train_seconds > 0 ? (double)r.examples / r.train_seconds : 0.0);
    printf("params         %lld\nmult-adds      %lld per image\nfinal loss     %.4f\n",
           (long long)r.params, (long long)r.mult_adds, r.final_loss);
  }
  return 0;
}
