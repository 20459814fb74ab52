#!/usr/bin/env python3
"""PyTorch-on-GPU reference for bench/cuda_check.sh: trains the network written by
`pnas export --format pytorch` (same layout and parameter order as the C network) with the same
SGD recipe as bench/cuda_bench.c, on random uint8 batches kept on the GPU and normalised there
inside the timed step (as pnas does), and prints the median images/s as JSON.
cudnn.benchmark is on (PyTorch finds algorithms per shape, as pnas does once per shape); TF32 is
off unless --tf32 (pnas: PNAS_CUDA_TF32=1), so both run plain fp32. --device cpu only smoke-tests
the script where there is no GPU."""
import argparse
import importlib.util
import json
import statistics
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", help="file written by pnas export --format pytorch")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--tf32", action="store_true")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    a = ap.parse_args()
    if a.device == "cuda" and not torch.cuda.is_available():
        print(json.dumps({"error": "torch sees no GPU"}))
        return
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = a.tf32
    torch.backends.cudnn.allow_tf32 = a.tf32
    torch.manual_seed(1)
    spec = importlib.util.spec_from_file_location("pnas_model", a.model)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    dev = torch.device(a.device)
    sync = torch.cuda.synchronize if a.device == "cuda" else (lambda: None)
    model = mod.build().to(dev)
    model.train()
    decay = [p for p in model.parameters() if p.dim() > 1]
    no_decay = [p for p in model.parameters() if p.dim() <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4},
                           {"params": no_decay, "weight_decay": 0.0}], lr=a.lr, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    # The data stays on the GPU, as pnas keeps it: four batches of uint8 pixels; each step takes
    # a random batch and normalises it there (what pnas's gather_u8 does), so neither side pays
    # for host-to-device copies.
    pool = torch.randint(0, 256, (4 * a.batch, mod.IN_CHANNELS, *mod.IMAGE_SIZE), device=dev,
                         dtype=torch.uint8)
    labels = torch.randint(0, mod.NUM_CLASSES, (4 * a.batch,), device=dev)
    times = []
    for s in range(a.warmup + a.steps):
        sync()
        t0 = time.perf_counter()
        idx = torch.randint(0, 4 * a.batch, (a.batch,), device=dev)
        xd = (pool[idx].float() / 255.0 - 0.286) / 0.353
        yd = labels[idx]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xd), yd)
        loss.backward()
        opt.step()
        sync()
        if s >= a.warmup:
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(json.dumps({"img_per_s": a.batch / med, "median_step_s": med, "min_step_s": min(times),
                      "steps": a.steps, "batch": a.batch, "tf32": a.tf32,
                      "device": torch.cuda.get_device_name(0) if a.device == "cuda" else "cpu", "torch": torch.__version__}))


if __name__ == "__main__":
    main()
