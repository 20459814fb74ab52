#!/usr/bin/python3
"""PyTorch reference for bench/train_bench.sh: trains the network exported by
`pnas export --format pytorch` (same layout and parameter order as the C network) for a number
of SGD steps on random Fashion-MNIST-shaped batches and prints the median images/second as JSON.
Run with Debian's /usr/bin/python3 (it has torch); the pyenv `python3` does not."""
import argparse
import importlib.util
import json
import statistics
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", help="file written by pnas export --format pytorch")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lr", type=float, default=0.1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    spec = importlib.util.spec_from_file_location("pnas_model", a.model)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = mod.build()
    model.train()
    decay = [p for p in model.parameters() if p.dim() > 1]
    no_decay = [p for p in model.parameters() if p.dim() <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4},
                           {"params": no_decay, "weight_decay": 0.0}], lr=a.lr, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    times = []
    for s in range(a.warmup + a.steps):
        x = torch.randn(a.batch, mod.IN_CHANNELS, *mod.IMAGE_SIZE)
        y = torch.randint(0, mod.NUM_CLASSES, (a.batch,))
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if s >= a.warmup:
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(json.dumps({"img_per_s": a.batch / med, "median_step_s": med, "min_step_s": min(times),
                      "steps": a.steps, "batch": a.batch, "threads": a.threads,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
