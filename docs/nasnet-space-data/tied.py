#!/usr/bin/env python3
"""The layout control of docs/nasnet-space.md s.3: each PNAS-space search's best 2-block cell
(records.tsv, space pnas) retrained twice with `pnas train --seed SEED` (the run's seed): as a
PNAS cell (3 cells at N=1) and as the tied pair (CELL, CELL) on NASNet's layout (3 + 2 cells),
same recipe. Writes tied.tsv; then prints the paired difference (tied minus single) with a 95%
bootstrap interval, and the NASNet-space searches' best pairs against the tied pairs.
usage: tied.py PNAS_BINARY [records.tsv] [tied.tsv]   (tied.py --summary [tied.tsv] skips training)"""
import collections, csv, json, os, random, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
summary_only = len(sys.argv) > 1 and sys.argv[1] == "--summary"
pnas = None if summary_only else sys.argv[1]
rec_path = os.path.join(here, "records.tsv") if summary_only or len(sys.argv) < 3 else sys.argv[2]
out_path = (sys.argv[2] if summary_only and len(sys.argv) > 2 else
            sys.argv[3] if len(sys.argv) > 3 else os.path.join(here, "tied.tsv"))
recs = collections.defaultdict(list)
for r in csv.DictReader(open(rec_path), delimiter="\t"):
    recs[(r["space"], r["strategy"], int(r["seed"]))].append(r)
if not summary_only:
    with open(out_path, "w") as out:
        out.write("strategy\tseed\tcell\tval_search\tval_single\tval_tied\tparams_single\t"
                  "params_tied\tmult_adds_single\tmult_adds_tied\n")
        for (space, st, seed), rs in sorted(recs.items()):
            if space != "pnas":
                continue
            b = max((r for r in rs if r["level"] == "2"),
                    key=lambda r: (float(r["val_acc"]), -int(r["mult_adds"])))
            js = []
            for sp in ("pnas", "nasnet"):
                res = subprocess.run([pnas, "train", "--space", sp, "--cell", b["cell"],
                                      "--train-subset", "2000", "--val-subset", "1000",
                                      "--threads", "2", "--backend", "cpu", "--seed", str(seed),
                                      "--json"], capture_output=True, text=True, check=True)
                js.append(json.loads(res.stdout))
            s1, t1 = js
            out.write("\t".join(map(str, [st, seed, b["cell"], b["val_acc"], s1["val_accuracy"],
                                          t1["val_accuracy"], s1["params"], t1["params"],
                                          s1["mult_adds"], t1["mult_adds"]])) + "\n")
    # The NASNet-space searches' best pairs, retrained the same way (a search's best is the
    # max of noisy evaluations, so only fresh retrainings compare fairly with the tied pairs).
    with open(out_path.replace(".tsv", "-nasnet.tsv"), "w") as out:
        out.write("strategy\tseed\tcell\tval_search\tval_retrained\tparams\tmult_adds\n")
        for (space, st, seed), rs in sorted(recs.items()):
            if space != "nasnet":
                continue
            b = max((r for r in rs if r["level"] == "2"),
                    key=lambda r: (float(r["val_acc"]), -int(r["mult_adds"])))
            res = subprocess.run([pnas, "train", "--cell", b["cell"], "--train-subset", "2000",
                                  "--val-subset", "1000", "--threads", "2", "--backend", "cpu",
                                  "--seed", str(seed), "--json"], capture_output=True, text=True,
                                 check=True)
            j = json.loads(res.stdout)
            out.write("\t".join(map(str, [st, seed, b["cell"], b["val_acc"], j["val_accuracy"],
                                          j["params"], j["mult_adds"]])) + "\n")


def boot(v, n=4000, seed=1):
    rng = random.Random(seed)
    m = sorted(sum(rng.choice(v) for _ in v) / len(v) for _ in range(n))
    return m[int(0.025 * n)], m[int(0.975 * n) - 1]


rows = list(csv.DictReader(open(out_path), delimiter="\t"))
d = [float(r["val_tied"]) - float(r["val_single"]) for r in rows]
print("%d cells: tied pair on NASNet's layout minus the same cell on PNAS's layout (paired): "
      "%+.4f [%+.4f, %+.4f]" % (len(d), sum(d) / len(d), *boot(d)))
tied = [float(r["val_tied"]) for r in rows]
single = [float(r["val_single"]) for r in rows]
print("  single %.4f [%.4f, %.4f], tied %.4f [%.4f, %.4f]; params %.0f -> %.0f, mult-adds %.0f -> %.0f"
      % (sum(single) / len(single), *boot(single), sum(tied) / len(tied), *boot(tied),
         sum(float(r["params_single"]) for r in rows) / len(rows),
         sum(float(r["params_tied"]) for r in rows) / len(rows),
         sum(float(r["mult_adds_single"]) for r in rows) / len(rows),
         sum(float(r["mult_adds_tied"]) for r in rows) / len(rows)))
nrows = list(csv.DictReader(open(out_path.replace(".tsv", "-nasnet.tsv")), delimiter="\t"))
nas = [float(r["val_retrained"]) for r in nrows]
print("NASNet-space best pairs retrained: %.4f [%.4f, %.4f] (at search time %.4f)" % (
    sum(nas) / len(nas), *boot(nas), sum(float(r["val_search"]) for r in nrows) / len(nrows)))
print("PNAS-space best cells at search time %.4f, retrained %.4f" % (
    sum(float(r["val_search"]) for r in rows) / len(rows), sum(single) / len(single)))
rng = random.Random(1)
m = sorted(sum(rng.choice(nas) for _ in nas) / len(nas) - sum(rng.choice(tied) for _ in tied) / len(tied)
           for _ in range(4000))
print("NASNet-space best pairs retrained (%d runs) minus the tied pairs: %+.4f [%+.4f, %+.4f]"
      % (len(nas), sum(nas) / len(nas) - sum(tied) / len(tied), m[100], m[3899]))
