#!/usr/bin/env python3
"""Figures of docs/nasnet-space.md from records.tsv (collect.sh): per space and strategy, the mean
over seeds of the best B-block cell (2 blocks; for a NASNet pair 2 + 2) after all the run's models,
with a 95% percentile bootstrap interval (4,000 resamples, fixed seed), the mean multiply-adds
and parameters of those best cells, and the best cell of any size; then, unpaired bootstrap
intervals of the differences: PNAS minus each baseline within a space, and NASNet's space minus
PNAS's space for each strategy (accuracy and mult-adds of the best cell).
usage: summary.py [records.tsv]"""
import collections, csv, os, random, sys

path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "records.tsv")
runs = collections.defaultdict(list)
for r in csv.DictReader(open(path), delimiter="\t"):
    runs[(r["space"], r["strategy"], int(r["seed"]))].append(r)
B = max(int(r["level"]) for recs in runs.values() for r in recs if r["strategy"] != "prune")


def boot(v, n=4000, seed=1):
    rng = random.Random(seed)
    m = sorted(sum(rng.choice(v) for _ in v) / len(v) for _ in range(n))
    return m[int(0.025 * n)], m[int(0.975 * n) - 1]


def boot_diff(a, b, n=4000, seed=1):
    rng = random.Random(seed)
    m = sorted(sum(rng.choice(a) for _ in a) / len(a) - sum(rng.choice(b) for _ in b) / len(b)
               for _ in range(n))
    return m[int(0.025 * n)], m[int(0.975 * n) - 1]


def best(recs):
    if recs[0]["strategy"] == "prune":  # the answer is the pruned network (the base is larger)
        r = min(recs, key=lambda r: int(r["params"]))
        return float(r["val_acc"]), int(r["mult_adds"]), int(r["params"]), float(r["val_acc"])
    top = [r for r in recs if int(r["level"]) == B]
    r = max(top, key=lambda r: (float(r["val_acc"]), -int(r["mult_adds"])))
    return float(r["val_acc"]), int(r["mult_adds"]), int(r["params"]), max(float(x["val_acc"]) for x in recs)


per = collections.defaultdict(dict)
for (space, strat, seed), recs in sorted(runs.items()):
    per[(space, strat)][seed] = best(recs) + (len(recs),)
print("%-8s %-10s %5s %6s  %-26s %12s %10s %9s" % ("space", "strategy", "seeds", "models",
      "best B-block cell [95% CI]", "mult-adds", "params", "any size"))
for (space, strat), seeds in per.items():
    v = [s[0] for s in seeds.values()]
    lo, hi = boot(v)
    k = len(v)
    print("%-8s %-10s %5d %6d  %.4f [%.4f, %.4f]  %12.0f %10.0f %9.4f" % (
        space, strat, k, max(s[4] for s in seeds.values()), sum(v) / k, lo, hi,
        sum(s[1] for s in seeds.values()) / k, sum(s[2] for s in seeds.values()) / k,
        sum(s[3] for s in seeds.values()) / k))
print()
for space in sorted({s for s, _ in per}):
    if (space, "pnas") not in per:
        continue
    a = [s[0] for s in per[(space, "pnas")].values()]
    for (sp, strat), seeds in per.items():
        if sp != space or strat == "pnas":
            continue
        b = [s[0] for s in seeds.values()]
        print("%s space: pnas minus %-9s %+.4f [%+.4f, %+.4f]" % (
            space, strat, sum(a) / len(a) - sum(b) / len(b), *boot_diff(a, b)))
print()
for strat in sorted({t for _, t in per}):
    if ("nasnet", strat) not in per or ("pnas", strat) not in per:
        continue
    n = per[("nasnet", strat)]
    p = per[("pnas", strat)]
    a, b = [s[0] for s in n.values()], [s[0] for s in p.values()]
    ma, mb = [s[1] for s in n.values()], [s[1] for s in p.values()]
    print("%-10s nasnet minus pnas space: accuracy %+.4f [%+.4f, %+.4f], mult-adds of the best "
          "cell %+.0f [%+.0f, %+.0f]" % (strat, sum(a) / len(a) - sum(b) / len(b), *boot_diff(a, b),
                                          sum(ma) / len(ma) - sum(mb) / len(mb), *boot_diff(ma, mb)))

# The pruning runs' wide base networks (over the budget: a cost, never the answer).
for space in sorted({k[0] for k in runs if k[1] == "prune"}):
    base = [max(runs[k], key=lambda r: int(r["params"])) for k in sorted(runs) if k[0] == space and k[1] == "prune"]
    v = [float(r["val_acc"]) for r in base]
    print("%s: base network %s params, %s mult-adds, accuracy %.4f [%.4f, %.4f] over %d seeds" % (
        space, base[0]["params"], base[0]["mult_adds"], sum(v) / len(v), *boot(v), len(v)))
print()
# Pruning against the searches at equal size: each search run's best B-block cell among its
# cells with at most the pruned networks' mean mult-adds.
for (space, strat), seeds in per.items():
    if strat != "prune":
        continue
    cap = sum(s[1] for s in seeds.values()) / len(seeds)
    pv = [s[0] for s in seeds.values()]
    for (sp2, st2), _ in per.items():
        if st2 == "prune":
            continue
        v = []
        for seed in sorted({k[2] for k in runs if k[0] == sp2 and k[1] == st2}):
            ok = [float(r["val_acc"]) for r in runs[(sp2, st2, seed)]
                  if int(r["level"]) == B and int(r["mult_adds"]) <= cap]
            if ok:
                v.append(max(ok))
        if v:
            print("%s (%.2fM mult-adds) minus %s/%s best cell <= that size: %+.4f [%+.4f, %+.4f]"
                  % (space, cap / 1e6, sp2, st2, sum(pv) / len(pv) - sum(v) / len(v),
                     *boot_diff(pv, v)))
