# Checks modules written by `pnas export --format pytorch` (run with a Python that has torch):
# forward pass on a random batch, trainable parameter count against `pnas cost --json`, parameter
# names/shapes/order against the tensor list of `pnas export --format json`, every cell's output
# shape against the exported layout, and conv+FC mult-adds (counted with hooks) against the cost
# model. Arguments: triples MODULE.py GENOTYPE.json COST.json. Exit 0 ok, 1 failure.
import importlib.util
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

failures = 0


def check(cond, msg):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", msg)


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def check_one(k, py, gjson, cjson):
    before = failures
    geno = json.load(open(gjson))
    cost = json.load(open(cjson))
    mod = load(py, "exported_%d" % k)
    torch.manual_seed(k)
    model = mod.build()
    check(isinstance(model, mod.PNASNet) and isinstance(model, nn.Module), py + ": build()")
    tag = "%s [%s N=%d F=%d %s]" % (py, geno["cell"], geno["N"], geno["F"], geno["dataset"])

    n = sum(p.numel() for p in model.parameters() if p.requires_grad)
    check(n == cost["params"], "%s: %d trainable params, pnas cost says %d" % (tag, n, cost["params"]))
    check(geno["params"] == cost["params"], "%s: json params %d != cost %d" % (tag, geno["params"], cost["params"]))

    got = [(name, list(p.shape)) for name, p in model.named_parameters()]
    want = [(t["name"], t["shape"]) for t in geno["tensors"]]
    check(len(got) == len(want), "%s: %d tensors, layout lists %d" % (tag, len(got), len(want)))
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            check(False, "%s: tensor %d is %s, layout says %s" % (tag, i, g, w))
            break

    # Hooks: per-cell output shapes and conv/linear mult-adds.
    madds = [0]
    cell_out = []

    def conv_hook(m, inp, out):
        kh, kw = m.kernel_size
        madds[0] += out.shape[1] * (m.in_channels // m.groups) * kh * kw * out.shape[2] * out.shape[3]

    def fc_hook(m, inp, out):
        madds[0] += m.in_features * m.out_features

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_hook(conv_hook)
        elif isinstance(m, nn.Linear):
            m.register_forward_hook(fc_hook)
    for c in model.cells:
        c.register_forward_hook(lambda m, i, o: cell_out.append(list(o.shape[1:])))

    c, h, w = geno["input"]
    x = torch.randn(2, c, h, w)
    with torch.no_grad():
        y = model(x)
    check(list(y.shape) == [2, geno["classes"]], "%s: output shape %s" % (tag, list(y.shape)))
    check(bool(torch.isfinite(y).all()), "%s: non-finite output" % tag)
    want_cells = [cl["out"] for cl in geno["cells"]]
    check(cell_out == want_cells, "%s: cell outputs %s, layout says %s" % (tag, cell_out, want_cells))
    # Mult-adds per image: the hook formulas do not include the batch dimension.
    n_madds = madds[0]
    check(n_madds == cost["mult_adds"], "%s: %d mult-adds by hooks, pnas cost says %d" % (tag, n_madds, cost["mult_adds"]))

    # Backward works and reaches every parameter.
    model.train()
    loss = F.cross_entropy(model(x), torch.tensor([0, 1]) % geno["classes"])
    loss.backward()
    nograd = [name for name, p in model.named_parameters() if p.grad is None]
    check(not nograd, "%s: parameters without gradient: %s" % (tag, nograd[:5]))

    # Factorized reduction: the second path sees the input shifted by one pixel, i.e. for an even
    # size it equals a stride-2 1x1 conv of x[:, :, 1::2, 1::2]; for an odd size the last
    # row/column reads the zero padding.
    fr = mod.FactorizedReduction(4, 6).eval()
    for size in (6, 7):
        xi = torch.randn(1, 4, size, size)
        with torch.no_grad():
            r = F.relu(xi)
            b = F.conv2d(F.pad(r, (0, 1, 0, 1))[:, :, 1::2, 1::2], fr.conv_b.weight)
            a = F.conv2d(r[:, :, ::2, ::2], fr.conv_a.weight)
            ref = fr.bn(torch.cat([a, b], 1))
            check(torch.allclose(fr(xi), ref, atol=1e-6), "FactorizedReduction shift (size %d)" % size)
    if failures == before:
        print("ok %s: %d params, %d mult-adds, %d tensors, output %s" % (tag, n, n_madds, len(got), tuple(y.shape)))


def main():
    args = sys.argv[1:]
    if not args or len(args) % 3:
        print("usage: check_pytorch.py (MODULE.py GENOTYPE.json COST.json)...")
        return 2
    for k in range(0, len(args), 3):
        check_one(k // 3, *args[k:k + 3])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
