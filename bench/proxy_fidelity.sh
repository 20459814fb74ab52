#!/usr/bin/env bash
# Proxy fidelity: how well a short child-training recipe (the search's proxy) ranks cells,
# measured against a recipe at least 10x longer on the same cells.
#   usage: bench/proxy_fidelity.sh PNAS TABLE OUT [PER_LEVEL=20] [JOBS=2]
# Draws PER_LEVEL level-1 and PER_LEVEL level-2 cells at random (Python's random, seed 7) from
# the table's space, trains each with `pnas train` under the long recipe (LONG, default 4 epochs on
# 10,000 images = 10x the default 1 epoch on 4,000) and under each proxy recipe of PROXIES
# (one per line: a name and pnas train flags; the first is the table's own recipe), then
# reports the Spearman correlation of every proxy with the long recipe's test accuracy (10,000
# test images) over all cells and per level, with a 95% bootstrap interval over cells.
# Every child uses --seed 11 (not the table's seeds).
set -euo pipefail
PNAS=$1 TABLE=$2 OUT=$3 PER=${4:-20} JOBS=${5:-2}
LONG=${LONG:---epochs 4 --train-subset 10000 --val-subset 5000}
PROXIES=${PROXIES:-"default --epochs 1 --train-subset 4000 --val-subset 2000
b32lr01 --epochs 1 --batch 32 --lr 0.1 --train-subset 4000 --val-subset 2000
e2half --epochs 2 --train-subset 2000 --val-subset 2000
f4x2 --F 4 --epochs 1 --train-subset 8000 --val-subset 2000"}
mkdir -p "$OUT"
"$PNAS" table export "$TABLE" --format tsv > "$OUT/table.tsv"
# Level-2 cells are drawn from the whole space (every child of every level-1 cell), so the
# draw does not depend on how far the table's build has come.
if [ ! -s "$OUT/cells.txt" ]; then
  OPS=$("$PNAS" table info "$TABLE" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["ops"])')
  cut -f1,2,7 "$OUT/table.tsv" | awk -F'\t' '$2 == 1 && $3 == 1 {print $1}' | sort > "$OUT/level1.txt"
  while read -r c; do "$PNAS" space expand --cell "$c" --ops "$OPS"; done < "$OUT/level1.txt" |
    sort -u > "$OUT/level2.txt"
  python3 - "$OUT/level1.txt" "$OUT/level2.txt" "$PER" > "$OUT/cells.txt" <<'PY'
import random, sys
per = int(sys.argv[3]); r = random.Random(7)
for f in sys.argv[1:3]:
    cells = [l.strip() for l in open(f) if l.strip()]
    for c in r.sample(cells, min(per, len(cells))): print(c)
PY
fi
train() { # NAME FLAGS... : trains every cell into OUT/NAME.jsonl (resumable: skips done cells)
  local name=$1; shift
  local f="$OUT/$name.jsonl"
  touch "$f"
  grep -vxFf <(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    print(json.loads(l)["cell"])' "$f") "$OUT/cells.txt" |
    xargs -P "$JOBS" -I{} sh -c 'p=$0 c=$1; shift; "$p" train --cell "$c" --seed 11 --threads 1 \
      --backend cpu --json "$@" 2>/dev/null' "$PNAS" {} "$@" >> "$f" || true
}
s=$(date +%s)
train long $LONG
echo "long recipe: $(( $(date +%s) - s )) s for $(wc -l < "$OUT/long.jsonl") cells" >&2
while read -r name flags; do
  [ -n "$name" ] || continue
  s=$(date +%s)
  train "$name" $flags
  echo "$name: $(( $(date +%s) - s )) s" >&2
done <<< "$PROXIES"
python3 - "$OUT" "$TABLE" <<'PY' | tee "$OUT/summary.md"
import json, math, os, random, sys
out, table = sys.argv[1:]
def load(p):
    d = {}
    for l in open(p):
        j = json.loads(l)
        if j.get("ok"): d[j["cell"]] = j
    return d
long = load(os.path.join(out, "long.jsonl"))
cells = [l.strip() for l in open(os.path.join(out, "cells.txt"))]
tab = {r[0]: float(r[2]) for r in (l.rstrip("\n").split("\t") for l in list(open(os.path.join(out, "table.tsv")))[1:]) if r[6] == "1"}
def ranks(x):
    o = sorted(range(len(x)), key=lambda i: x[i]); r = [0.0] * len(x); i = 0
    while i < len(o):
        k = i
        while k + 1 < len(o) and x[o[k + 1]] == x[o[i]]: k += 1
        for t in range(i, k + 1): r[o[t]] = (i + k) / 2 + 1
        i = k + 1
    return r
def spear(a, b):
    ra, rb = ranks(a), ranks(b); n = len(a); ma = sum(ra) / n; mb = sum(rb) / n
    c = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    d = math.sqrt(sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb))
    return c / d if d else float("nan")
def boot(a, b, reps=2000):
    r = random.Random(3); n = len(a); v = []
    for _ in range(reps):
        idx = [r.randrange(n) for _ in range(n)]
        s = spear([a[i] for i in idx], [b[i] for i in idx])
        if s == s: v.append(s)
    v.sort(); return v[int(0.025 * len(v))], v[int(0.975 * len(v)) - 1]
proxies = [("table", {c: {"val_accuracy": tab[c], "seconds": 0} for c in cells if c in tab})]
for name in [l.split()[0] for l in os.environ.get("PROXIES_NAMES", "").split(",") if l] or \
        sorted(f[:-6] for f in os.listdir(out) if f.endswith(".jsonl") and f != "long.jsonl"):
    proxies.append((name, load(os.path.join(out, name + ".jsonl"))))
truth = {c: long[c]["test_accuracy"] for c in cells if c in long}
print("| proxy | cells | Spearman vs long (all) [95% CI] | level 1 | level 2 | median s/child |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for name, d in proxies:
    cs = [c for c in cells if c in d and c in truth]
    a = [d[c]["val_accuracy"] for c in cs]; b = [truth[c] for c in cs]
    lo, hi = boot(a, b)
    per = []
    for lvl in (1, 2):
        cl = [c for c in cs if c.count(";") + 1 == lvl]
        per.append(spear([d[c]["val_accuracy"] for c in cl], [truth[c] for c in cl]) if len(cl) > 2 else float("nan"))
    secs = sorted(d[c]["seconds"] for c in cs)
    print("| %s | %d | %.3f [%.3f, %.3f] | %.3f | %.3f | %.1f |" % (name, len(cs), spear(a, b), lo, hi, per[0], per[1], secs[len(secs) // 2] if secs else 0))
ls = sorted(long[c]["seconds"] for c in truth)
print("\nlong recipe (%s): %d cells, median %.1f s/child, test accuracy %.4f..%.4f" % (os.environ.get("LONG", "--epochs 4 --train-subset 10000 --val-subset 5000"), len(truth), ls[len(ls) // 2], min(truth.values()), max(truth.values())))
PY
