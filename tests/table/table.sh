#!/usr/bin/env bash
# Benchmark-table tests. usage: table.sh MODE PNAS WORKDIR SOURCE_DIR
#   build      tiny table (2 ops, B = 2: 10 + 210 cells) built whole, and built again with a
#              kill -9 part-way and --resume: the same cells with the same accuracies, none
#              twice; info / export agree with the log; repeats give the noise ceiling
#   compare    compare --table on the tiny table: nothing trains, the report is bit-identical
#              across two runs and --jobs 1 / 2; a strategy asking for a cell outside the table
#              fails naming it; training flags with --table are refused
#   predictor  predictor eval --table on the committed table: Spearman, Kendall, precision@K and
#              the top-K mean recomputed in Python from the predictions it dumps
#   bad        tables that are not what they seem: a missing dir, a run of other settings, a
#              damaged log, garbage config - clear errors, no crash
set -u
MODE=$1 PNAS=$2 WORK=$3 SRC=$4
fail() { echo "FAIL ($MODE): $*"; exit 1; }
crashed() { [ "$1" -ge 128 ] || grep -qE "Sanitizer|runtime error|Segmentation|Aborted|core dumped" "$2"; }
TINY=(--ops identity,max3x3 --max-blocks 2 --N 1 --F 2 --batch 32 --train-subset 200
      --val-subset 100 --threads 1 --device cpu)
REF=$WORK/ref
# cell accuracy, sorted (what a table says, independent of log order)
cells() { "$PNAS" table export "$1" --format tsv | tail -n +2 | cut -f1,3 | sort; }
mkdir -p "$WORK"

case $MODE in
build)
  rm -rf "$REF" "$WORK"/killed*
  "$PNAS" table build "${TINY[@]}" --out "$REF" --repeat-seeds 1 --repeat-sample 12 \
    > "$WORK/ref.out" 2> "$WORK/ref.err" || { tail "$WORK/ref.err"; fail "build failed"; }
  grep -q "levels 1..2: 10 210 cells (220 in all)" "$WORK/ref.err" ||
    fail "wrong cell counts: $(grep cells "$WORK/ref.err")"
  n=$(cells "$REF" | wc -l)
  [ "$n" = 220 ] || fail "table holds $n cells, want 220"
  u=$(cells "$REF" | cut -f1 | sort -u | wc -l)
  [ "$u" = 220 ] || fail "a cell is in the table twice"
  recs=$("$PNAS" inspect "$REF" --json | wc -l)
  [ "$recs" = 220 ] || fail "results.log holds $recs records, want 220"
  # Independent count of the 2-block cells: 10 unique 1-block cells of 2 ops; a second block
  # chooses 2 unordered (input, op) pairs from 3 inputs x 2 ops = 6 pairs: 21 ways; 10 x 21 = 210.
  "$PNAS" table info "$REF" > "$WORK/info.txt" || fail "info failed"
  grep -qE "^1 +10 +0 " "$WORK/info.txt" && grep -qE "^2 +210 +0 " "$WORK/info.txt" ||
    fail "info's level counts: $(cat "$WORK/info.txt")"
  grep -q "noise ceiling (train seed 1 vs 2), all levels: 12 cells, Spearman" "$WORK/info.txt" ||
    fail "no noise ceiling over the 12 repeats: $(cat "$WORK/info.txt")"
  "$PNAS" table info "$REF" --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["cells"] == 220 and [l["cells"] for l in j["levels"]] == [10, 210], j
assert j["repeats"][0]["train_seed"] == 2 and j["repeats"][0]["cells"] == 12, j["repeats"]
' || fail "info --json"
  # The best cell of info is the maximum of the export.
  best=$("$PNAS" table export "$REF" --format tsv | tail -n +2 | sort -t$'\t' -k3,3gr | head -1 | cut -f3)
  grep -q "best cell: .* $(printf %.4f "$best")," "$WORK/info.txt" || fail "best cell $best not in info"
  # Kill -9 part-way, resume: the same table.
  K=$WORK/killed
  "$PNAS" table build "${TINY[@]}" --out "$K" --repeat-seeds 1 --repeat-sample 12 \
    > "$K.out" 2> "$K.err" &
  job=$!
  for _ in $(seq 1 600); do
    c=$("$PNAS" inspect "$K" --json 2>/dev/null | wc -l)
    [ "$c" -ge 60 ] && break
    sleep 0.05
  done
  kill -9 $job 2>/dev/null
  wait $job 2>/dev/null
  before=$("$PNAS" inspect "$K" --json 2>/dev/null | wc -l)
  [ "$before" -lt 220 ] || fail "the build finished before the kill ($before records)"
  "$PNAS" table build --resume "$K" > "$K.out2" 2> "$K.err2" ||
    { tail "$K.err2"; fail "resume failed"; }
  [ "$(grep -c '(cached)' "$K.err2")" -ge "$before" ] || fail "resume retrained finished cells"
  diff <(cells "$REF") <(cells "$K") > "$WORK/kill.diff" ||
    fail "the resumed table differs: $(head "$WORK/kill.diff")"
  recs=$("$PNAS" inspect "$K" --json | wc -l)
  [ "$recs" = 220 ] || fail "resumed log holds $recs records, want 220"
  cmp <("$PNAS" table export "$REF" --format tsv | cut -f1-5,7- | sort) \
      <("$PNAS" table export "$K" --format tsv | cut -f1-5,7- | sort) ||
    fail "export differs after kill/resume (seconds aside)"
  echo "build: 220 cells, kill -9 after $before, resumed to the same table; info/export agree"
  ;;
compare)
  [ -s "$REF/results.log" ] || fail "no tiny table (run table_build first)"
  for j in 1 2; do
    rm -rf "$WORK/cmp$j"
    s=$(date +%s.%N)
    "$PNAS" compare --table "$REF" --seeds 6 --beam 4 --out "$WORK/cmp$j" --jobs $j --threads 1 \
      > "$WORK/cmp$j.out" 2> "$WORK/cmp$j.err" || { tail "$WORK/cmp$j.err"; fail "compare --jobs $j failed"; }
    echo "compare --table, 4 strategies x 6 seeds, --jobs $j: $(echo "$(date +%s.%N) - $s" | bc) s"
  done
  cmp "$WORK/cmp1/table-report.json" "$WORK/cmp2/table-report.json" ||
    fail "report differs between --jobs 1 and 2"
  # A shared fit cache changes nothing: filled, then used.
  rm -rf "$WORK/fits" "$WORK"/cmpf*
  for f in 1 2; do
    "$PNAS" compare --table "$REF" --seeds 6 --beam 4 --out "$WORK/cmpf$f" --jobs 2 --threads 1 \
      --fit-cache "$WORK/fits" > /dev/null 2>&1 || fail "compare --fit-cache failed"
    cmp "$WORK/cmp1/table-report.json" "$WORK/cmpf$f/table-report.json" ||
      fail "report differs with a fit cache (pass $f)"
  done
  [ "$(ls "$WORK/fits" | wc -l)" = 6 ] || fail "fit cache holds $(ls "$WORK/fits" | wc -l) fits, want 6"
  cmp "$WORK/cmp1/table-report.md" "$WORK/cmp2/table-report.md" || fail "markdown differs"
  for d in "$WORK"/cmp1/*-seed*; do
    b=$(basename "$d")
    cmp <("$PNAS" inspect "$d" --json | sed -E 's/"(time|elapsed)": [0-9.e+-]*//g') \
        <("$PNAS" inspect "$WORK/cmp2/$b" --json | sed -E 's/"(time|elapsed)": [0-9.e+-]*//g') ||
      fail "$b: records differ between --jobs 1 and 2"
  done
  # --per-parent 1: each level-2 pick extends another level-1 cell; without the cap some seed
  # picks two children of one parent (else this check could not tell the cap did anything).
  rm -rf "$WORK/cmpp"
  "$PNAS" compare --table "$REF" --seeds 6 --beam 4 --strategies pnas --per-parent 1 \
    --out "$WORK/cmpp" --threads 1 > /dev/null 2>&1 || fail "compare --per-parent 1 failed"
  parents() { # RUN: the most level-2 picks sharing one parent (the cell before the last ';')
    "$PNAS" inspect "$1" --json | grep '"level": 2' | sed -E 's/.*"cell": "([^;"]*);.*/\1/' |
      sort | uniq -c | sort -rn | awk 'NR == 1 { print $1 }'
  }
  top=0
  for k in 1 2 3 4 5 6; do
    [ "$(parents "$WORK/cmpp/pnas-seed$k")" = 1 ] || fail "--per-parent 1, seed $k: two picks share a parent"
    [ "$("$PNAS" inspect "$WORK/cmpp/pnas-seed$k" --json | grep -c '"level": 2')" = 4 ] ||
      fail "--per-parent 1, seed $k: not 4 level-2 picks"
    p=$(parents "$WORK/cmp1/pnas-seed$k")
    [ "$p" -gt "$top" ] && top=$p
  done
  [ "$top" -gt 1 ] || fail "no seed picks two children of one parent without the cap"
  # Nothing trained: every record of every run is a table record (same accuracy and seconds).
  python3 - "$WORK/cmp1" "$PNAS" "$REF" <<'PY' || fail "a replayed record is not the table's"
import json, subprocess, sys, glob
out, pnas, ref = sys.argv[1:]
tab = {}
for l in subprocess.run([pnas, "inspect", ref, "--json"], capture_output=True, text=True).stdout.splitlines():
    r = json.loads(l); tab[r["hash"]] = (r["val_acc"], r["seconds"])
n = 0
for d in glob.glob(out + "/*-seed*"):
    for l in subprocess.run([pnas, "inspect", d, "--json"], capture_output=True, text=True).stdout.splitlines():
        r = json.loads(l); n += 1
        assert tab[r["hash"]] == (r["val_acc"], r["seconds"]), r
assert n > 0
PY
  python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
names = [s["name"] for s in j["strategies"]]
assert names == ["pnas", "rl", "random", "evolution"], names
assert j["pnas_budget"] == 10 + 4, j["pnas_budget"]
for s in j["strategies"]:
    lo, m, hi = s["best"][1], s["best"][0], s["best"][2]
    assert lo <= m <= hi and m <= j["optimum"] + 1e-9, s
    assert abs(j["optimum"] - s["best"][0] - s["regret"][0]) < 1e-6, s
' "$WORK/cmp1/table-report.json" || fail "report figures inconsistent"
  grep -q "^Verdict" "$WORK/cmp1/table-report.md" || fail "no verdict"
  # inspect names the best cell overall whenever it beats the deepest level's best.
  for d in "$WORK"/cmp1/pnas-seed*; do
    python3 - "$PNAS" "$d" <<'PY' || fail "inspect's best cells in $d"
import json, subprocess, sys
pnas, d = sys.argv[1:]
recs = [json.loads(l) for l in subprocess.run([pnas, "inspect", d, "--json"], capture_output=True, text=True).stdout.splitlines()]
out = subprocess.run([pnas, "inspect", d], capture_output=True, text=True).stdout
ok = [r for r in recs if r["ok"]]
deep = max(r["level"] for r in ok)
bd = max(r["val_acc"] for r in ok if r["level"] == deep)
bo = max(r["val_acc"] for r in ok)
assert ("best cell of the deepest level:" in out and "acc %.4f" % bd in out), out
assert (bo > bd) == ("best cell overall" in out), (bo, bd, out)
if bo > bd: assert "acc %.4f" % bo in out.split("best cell overall")[1], out
PY
  done
  grep -qE "[0-9]x (fewer|more)|as many" "$WORK/cmp1/table-report.md" || fail "no fewer/more sentence"
  if grep -qE "needs 0\.[0-9]+x" "$WORK/cmp1/table-report.md"; then fail "a bare ratio below 1"; fi
  # A cell outside the table: a 3-block search on a 2-level table.
  rm -rf "$WORK/cmp3"
  "$PNAS" compare --table "$REF" --seeds 1 --strategies random --max-blocks 3 --out "$WORK/cmp3" \
    > "$WORK/cmp3.out" 2> "$WORK/cmp3.err"
  rc=$?
  ! crashed $rc "$WORK/cmp3.err" || fail "crash on a cell outside the table"
  [ $rc = 1 ] || fail "outside the table: exit $rc"
  grep -qE "cell [0-9]:[a-z0-9]+,.* \(level 3\) is not in the table $REF" "$WORK/cmp3.err" ||
    fail "no message naming the cell: $(cat "$WORK/cmp3.err")"
  "$PNAS" compare --table "$REF" --seeds 1 --epochs 3 --out "$WORK/cmp4" 2> "$WORK/cmp4.err"
  [ $? = 2 ] && grep -q "come from the table" "$WORK/cmp4.err" || fail "--epochs with --table accepted"
  echo "compare: bit-identical across runs and --jobs; outside cells named; training flags refused"
  ;;
predictor)
  T=$SRC/data/tables/fm-3ops-b2
  [ -s "$T/results.log" ] || fail "no committed table at $T"
  "$PNAS" predictor eval --table "$T" --seeds 1 --threads 2 --json --dump "$WORK/dump.tsv" \
    > "$WORK/eval.json" 2> "$WORK/eval.err" || { cat "$WORK/eval.err"; fail "eval failed"; }
  python3 - "$WORK/eval.json" "$WORK/dump.tsv" <<'PY' || fail "figures disagree with Python"
import json, math, sys
j = json.load(open(sys.argv[1]))
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[2])][1:]
import struct
f32 = lambda x: struct.unpack("f", struct.pack("f", float(x)))[0]
truth = [f32(r[2]) for r in rows]; pred = [f32(r[3]) for r in rows]
n = len(rows)
lv = j["levels"][0]
assert lv["ntest"] == n and lv["test_level"] == 2, (lv, n)
def ranks(x):
    o = sorted(range(len(x)), key=lambda i: x[i]); r = [0.0] * len(x); i = 0
    while i < len(o):
        k = i
        while k + 1 < len(o) and x[o[k + 1]] == x[o[i]]: k += 1
        for t in range(i, k + 1): r[o[t]] = (i + k) / 2 + 1
        i = k + 1
    return r
def pearson(a, b):
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    return cov / math.sqrt(sum((x - ma) ** 2 for x in a) * sum((y - mb) ** 2 for y in b))
sp = pearson(ranks(pred), ranks(truth))
conc = disc = ta = tb = 0
for i in range(n):
    for k in range(i + 1, n):
        a = (pred[i] > pred[k]) - (pred[i] < pred[k]); b = (truth[i] > truth[k]) - (truth[i] < truth[k])
        if a == 0 and b == 0: continue
        if a == 0: ta += 1
        elif b == 0: tb += 1
        elif a == b: conc += 1
        else: disc += 1
kt = (conc - disc) / math.sqrt((conc + disc + ta) * (conc + disc + tb))
def top(x, k): return sorted(range(n), key=lambda i: (-x[i], i))[:k]
for name, want in [("spearman", sp), ("kendall", kt)]:
    got = lv[name]["mean"]
    assert abs(got - want) < 1e-5, (name, got, want)
for K in (8, 32):
    p = len(set(top(truth, K)) & set(top(pred, K))) / K
    m = sum(truth[i] for i in top(pred, K)) / K
    assert abs(lv["precision_at_%d" % K]["mean"] - p) < 1e-9, (K, lv, p)
    assert abs(lv["top%d_mean_acc" % K]["mean"] - m) < 1e-5, (K, lv, m)
assert abs(lv["level_mean"] - sum(truth) / n) < 1e-5
print("predictor eval --table: Spearman %.4f Kendall %.4f on %d level-2 cells, checked" % (sp, kt, n))
PY
  ;;
bad)
  out=$WORK/bad.err
  check() { # expected-exit message-regex command...
    local want=$1 re=$2; shift 2
    "$@" > /dev/null 2> "$out"
    local rc=$?
    ! crashed $rc "$out" || fail "crash: $*: $(cat "$out")"
    [ "$rc" = "$want" ] || fail "exit $rc (want $want): $*: $(cat "$out")"
    grep -qE -- "$re" "$out" || fail "message for $*: $(cat "$out")"
  }
  check 1 "not a table" "$PNAS" table info "$WORK/nonexistent"
  check 2 "give the table directory with --out" "$PNAS" table build --ops identity
  check 2 "unknown subcommand" "$PNAS" table frobnicate
  check 2 "--format tsv" "$PNAS" table export "$REF" --format csv
  B=$WORK/badtab
  rm -rf "$B"; cp -r "$REF" "$B"
  printf 'garbage' > "$B/config.msgpack"
  check 1 "is not a table: .*config" "$PNAS" table info "$B"
  rm -rf "$B"; cp -r "$REF" "$B"
  printf 'XXXXXXXX' | dd of="$B/results.log" bs=1 seek=0 conv=notrunc 2>/dev/null
  check 1 "results.log" "$PNAS" table info "$B"
  check 1 "results.log" "$PNAS" compare --table "$B" --seeds 1 --out "$WORK/badcmp"
  check 1 "results.log" "$PNAS" predictor eval --table "$B"
  echo "bad tables: clear errors, no crash"
  ;;
*) fail "unknown mode" ;;
esac
