#!/usr/bin/env python3
"""Figures of docs/search-quality.md section 6 from records.tsv (the B = 3 real-training runs):
per variant, the mean over seeds of the best 3-block cell after its models (37; 53 for the
K = 16 variant and its random search) with a 95% percentile
bootstrap interval (4,000 resamples, fixed seed), the mean of its 3-block cells, the best cell of
any size, and the distinct level-2 parents of the level-3 picks; then paired differences.
usage: summary.py [records.tsv]"""
import collections, csv, os, random, sys

path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "records.tsv")
runs = collections.defaultdict(list)
for r in csv.DictReader(open(path), delimiter="\t"):
    runs[(r["variant"], int(r["seed"]))].append(r)


def boot(v, n=4000, seed=1):
    rng = random.Random(seed)
    m = sorted(sum(rng.choice(v) for _ in v) / len(v) for _ in range(n))
    return m[int(0.025 * n)], m[int(0.975 * n) - 1]


def stats(recs):
    l3 = [float(r["val_acc"]) for r in recs if r["level"] == "3"]
    parents = {r["cell"].rsplit(";", 1)[0] for r in recs if r["level"] == "3"}
    return max(l3), sum(l3) / len(l3), max(float(r["val_acc"]) for r in recs), len(parents)


per = collections.defaultdict(dict)
for (var, seed), recs in sorted(runs.items()):
    per[var][seed] = stats(recs)
for var, seeds in per.items():
    b = [s[0] for s in seeds.values()]
    lo, hi = boot(b)
    print("%-22s %2d seeds  best 3-block %.4f [%.4f, %.4f]  mean of its 3-block cells %.4f  "
          "best any size %.4f  level-2 parents of the picks %s" % (
              var, len(b), sum(b) / len(b), lo, hi, sum(s[1] for s in seeds.values()) / len(b),
              sum(s[2] for s in seeds.values()) / len(b), " ".join(str(s[3]) for s in seeds.values())))
base = per["pnas-mlp"]
for var in per:
    if var in ("pnas-mlp", "pnas-mlp-k16") or var.startswith("random"):
        continue
    d = [per[var][k][0] - base[k][0] for k in sorted(base) if k in per[var]]
    print("paired, %s minus pnas-mlp (same seeds): %+.4f [%+.4f, %+.4f]" % (var, sum(d) / len(d), *boot(d)))
size = {var: len(runs[(var, min(seeds))]) for var, seeds in per.items()}  # models per run
for var in per:
    if var.startswith("random"):
        continue
    ran = [r for r in per if r.startswith("random") and size[r] == size[var]]
    if not ran:
        continue
    rd = [s[0] for s in per[ran[0]].values()]
    b = [s[0] for s in per[var].values()]
    rng = random.Random(1)
    m = sorted(sum(rng.choice(b) for _ in b) / len(b) - sum(rng.choice(rd) for _ in rd) / len(rd)
               for _ in range(4000))
    print("%s minus %s, %d models (unpaired): %+.4f [%+.4f, %+.4f]" % (
        var, ran[0], size[var], sum(b) / len(b) - sum(rd) / len(rd), m[100], m[3899]))
