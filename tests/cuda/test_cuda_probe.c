// The device probe and the backend's device opening, on any machine: without a GPU or a driver
// they must report 0 devices with a reason and refuse to open, cleanly (no abort, no CUDA error
// printed); with a GPU the backend must open it, name it "cuda:0" and round-trip memory.
// Library versions are known either way. Prints what it found (bench/cuda_check.sh shows it).
#include <stdio.h>
#include <string.h>

#include "kernels/cuda/cuda_backend.h"

int main(void) {
  int bad = 0;
  kn_cuda_info info;
  int n = kn_cuda_probe(&info);
  printf("CUDA devices: %d%s%s\n", n, n ? "" : " - ", n ? "" : info.why);
  printf("runtime %d, driver %d, cuDNN %zu, cuBLAS %d\n", info.runtime_version,
         info.driver_version, info.cudnn_version, info.cublas_version);
  if (info.cudnn_version < 90000 || info.cublas_version < 10000 || info.runtime_version < 12000) {
    fprintf(stderr, "FAIL library versions not reported (cuDNN %zu, cuBLAS %d, runtime %d)\n",
            info.cudnn_version, info.cublas_version, info.runtime_version);
    bad++;
  }
  const kn_backend *be = kn_backend_by_name("cuda");
  if (!be || !be->dev_open || !be->dev_close || !be->dev_name || strcmp(be->name, "cuda")) {
    fprintf(stderr, "FAIL backend \"cuda\" not registered in a CUDA build\n");
    return 1;
  }
  kn_device *dev = NULL;
  char msg[512] = "";
  int rc = be->dev_open(&dev, msg, sizeof msg);
  printf("dev_open: %d: %s\n", rc, msg);
  if (n == 0) {
    if (!info.why[0]) fprintf(stderr, "FAIL no devices but no reason\n"), bad++;
    if (rc == 0 || dev) fprintf(stderr, "FAIL opened a device that the probe did not find\n"), bad++;
    if (!strstr(msg, "no usable GPU")) fprintf(stderr, "FAIL unclear refusal: %s\n", msg), bad++;
  } else {
    printf("device 0: %s, sm_%d%d, %d SMs, %zu MiB (%zu free)\n", info.name, info.cc_major,
           info.cc_minor, info.sm_count, info.mem_total >> 20, info.mem_free >> 20);
    if (rc || !dev) {
      fprintf(stderr, "FAIL a GPU is present but cannot be opened: %s\n", msg);
      return 1;
    }
    if (strcmp(be->dev_name(dev), "cuda:0")) fprintf(stderr, "FAIL name %s\n", be->dev_name(dev)), bad++;
    kn_ctx ctx;
    kn_ctx_init(&ctx, be, 1);
    ctx.dev = dev;
    float h[5] = {1, -2, 3, -4, 5}, back[5] = {0};
    float *d = be->alloc(&ctx, sizeof h);
    if (!d) {
      fprintf(stderr, "FAIL alloc: %s\n", ctx.reason);
      return 1;
    }
    be->upload(&ctx, d, h, sizeof h);
    be->relu_fwd(&ctx, 5, d, d);
    be->download(&ctx, back, d, sizeof back);
    be->free(&ctx, d);
    if (ctx.failed || back[0] != 1 || back[1] != 0 || back[4] != 5)
      fprintf(stderr, "FAIL memory round trip (%s)\n", ctx.reason), bad++;
    kn_ctx_release(&ctx);
    be->dev_close(dev);
  }
  if (bad) return 1;
  printf("probe ok (%s)\n", n ? "GPU present" : "no GPU: the CPU fallback path");
  return 0;
}
