#!/usr/bin/python3
"""Numerics of the C child network against PyTorch, for the same weights and inputs.

Runs `pnas train --dump-step` (parameters in construction order, one normalised batch, logits,
loss and parameter gradients of a training-mode step) and `pnas export --format pytorch` (an
nn.Module of the same network whose parameters() come in the same order), loads the C weights
into the module by position, runs the step in float64 and compares logits, loss and every
parameter gradient: relative error max|c - torch| / max|torch| per tensor must be <= --tol
(default 1e-4). Exit 0 when all match, 1 otherwise.
Usage: /usr/bin/python3 bench/reference/check_net.py [--pnas build/pnas] [--cell pnasnet-5]
       [--N 1] [--F 8] [--batch 16] [--backend cpu|ref] [--arch PRUNED]"""
import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch


def read_dump(path):
    with open(path, "rb") as f:
        buf = f.read()
    if buf[:8] != b"PNASDUMP":
        sys.exit(f"{path}: not a pnas dump (regenerate with pnas train --dump-step)")
    ver = np.frombuffer(buf, "<u4", 1, 8)[0]
    if ver != 1:
        sys.exit(f"{path}: dump version {ver}, expected 1 (regenerate with this pnas)")
    off = 12
    P = int(np.frombuffer(buf, "<i8", 1, off)[0]); off += 8
    n, c, h, w, k = (int(v) for v in np.frombuffer(buf, "<i4", 5, off)); off += 20

    def take(dtype, count):
        nonlocal off
        a = np.frombuffer(buf, dtype, count, off)
        off += 4 * count
        return a

    d = {"params": take("<f4", P), "x": take("<f4", n * c * h * w).reshape(n, c, h, w),
         "labels": take("<i4", n), "logits": take("<f4", n * k).reshape(n, k),
         "loss": take("<f4", 1)[0], "grads": take("<f4", P), "classes": k}
    return d


def rel(a, b):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--pnas", default=os.path.join(here, "..", "..", "build", "pnas"))
    ap.add_argument("--cell", default="pnasnet-5")
    ap.add_argument("--N", type=int, default=1)
    ap.add_argument("--F", type=int, default=8)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--arch", help="a pruned network (pruned-arch.txt or its run directory)")
    ap.add_argument("--backend", default="cpu")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tol", type=float, default=1e-4)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "step.bin")
        model_py = os.path.join(tmp, "model.py")
        common = (["--arch", a.arch] if a.arch else
                  ["--cell", a.cell, "--N", str(a.N), "--F", str(a.F)])
        subprocess.run([a.pnas, "train", *common, "--batch", str(a.batch), "--backend", a.backend,
                        "--seed", str(a.seed), "--dump-step", dump], check=True)
        with open(model_py, "w") as f:
            subprocess.run([a.pnas, "export", *common, "--format", "pytorch"] +
                           ([] if a.arch else ["--dataset", "fashion-mnist"]), check=True, stdout=f)
        d = read_dump(dump)
        spec = importlib.util.spec_from_file_location("pnas_model", model_py)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    torch.set_default_dtype(torch.float64)
    model = mod.build().double()
    model.train()
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    if total != d["params"].size:
        sys.exit(f"parameter count differs: torch {total}, C {d['params'].size}")
    off = 0
    with torch.no_grad():
        for p in params:
            p.copy_(torch.from_numpy(d["params"][off:off + p.numel()].astype(np.float64)).view_as(p))
            off += p.numel()
    x = torch.from_numpy(d["x"].astype(np.float64))
    y = torch.from_numpy(d["labels"].astype(np.int64))
    logits = model(x)
    loss = torch.nn.functional.cross_entropy(logits, y)
    loss.backward()
    worst = []
    ok = True
    e = rel(d["logits"], logits.detach().numpy())
    print(f"logits  rel err {e:.2e}")
    ok &= e <= a.tol
    e = rel([d["loss"]], [loss.item()])
    print(f"loss    rel err {e:.2e}  (C {d['loss']:.7f}, torch {loss.item():.7f})")
    ok &= e <= a.tol
    off = 0
    names = [n for n, _ in model.named_parameters()]
    for name, p in zip(names, params):
        g = d["grads"][off:off + p.numel()]
        off += p.numel()
        e = rel(g, p.grad.numpy().ravel())
        worst.append((e, name, float(np.max(np.abs(p.grad.numpy())))))
        ok &= e <= a.tol
    worst.sort(reverse=True)
    print(f"grads   {len(worst)} tensors, worst rel err {worst[0][0]:.2e} ({worst[0][1]})")
    for e, name, mag in worst[:5]:
        print(f"        {e:.2e}  {name}  (max |grad| {mag:.2e})")
    print("MATCH" if ok else f"MISMATCH (tolerance {a.tol})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
