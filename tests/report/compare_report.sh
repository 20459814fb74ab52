#!/usr/bin/env bash
# `pnas compare` on a tiny real configuration (pnas + random, 2 seeds each), then: the run
# folders and their model counts, children shared through the cache (no cell trained twice in
# the comparison), a valid self-contained report (check_report.py), rerunning the same command
# trains nothing and gives the same report, other flags are refused, `pnas report` on the folder
# reproduces the report, and usage errors.
# Usage: compare_report.sh PNAS_BINARY CHECK_REPORT_PY
set -u
PNAS=$1
CHECK=$2
PY=$(command -v python3 || echo /usr/bin/python3)
T=$(mktemp -d "${TMPDIR:-/tmp}/pnas-compare.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v gnuplot > /dev/null || { echo "gnuplot not on PATH: skipped"; exit 77; }
command -v dot > /dev/null || { echo "Graphviz dot not on PATH: skipped"; exit 77; }
# ops identity,max3x3: 10 one-block cells; B=2, beam 2 -> PNAS trains 12, random 12 (budget 0).
ARGS=(--strategies pnas,random --seeds 2 --ops identity,max3x3 --max-blocks 2 --beam 2
      --N 1 --F 4 --epochs 1 --batch 32 --train-subset 300 --val-subset 200 --members 2
      --predictor-epochs 30 --threads 1 --out "$T/c")
"$PNAS" compare "${ARGS[@]}" > "$T/1.out" 2> "$T/1.err" || { tail -20 "$T/1.err"; fail "compare failed"; }
for r in pnas-seed1 pnas-seed2 random-seed1 random-seed2; do
  n=$("$PNAS" inspect "$T/c/$r" --json | wc -l)
  [ "$n" = 12 ] || fail "$r holds $n models, want 12"
done
# Trained once across the comparison: every training (non-cached child line) is a distinct cell.
trained=$(grep -E '^(level [0-9]+/[0-9]+ child|[a-z]+ model) .* acc ' "$T/1.err" | grep -vc '(cached)')
distinct=$("$PNAS" inspect "$T/c/cache" --json | grep -o '"hash": "[0-9a-f]*"' | sort -u | wc -l)
inc=$("$PNAS" inspect "$T/c/cache" --json | wc -l)
[ "$trained" = "$inc" ] && [ "$inc" = "$distinct" ] ||
  fail "trained $trained children, cache holds $inc records of $distinct cells"
# The second PNAS seed's level 1 came from the cache, at its original cost.
c1=$(grep -c '(cached)' "$T/1.err")
[ "$c1" -ge 10 ] || fail "only $c1 cached children (pnas seed 2 should reuse level 1)"
ex1=$("$PNAS" inspect "$T/c/pnas-seed1" --json | grep '"level": 1' | grep -o '"examples": [0-9]*' | sort | md5sum)
ex2=$("$PNAS" inspect "$T/c/pnas-seed2" --json | grep '"level": 1' | grep -o '"examples": [0-9]*' | sort | md5sum)
[ "$ex1" = "$ex2" ] || fail "cached level-1 children lost their cost"
# Cache hits are marked in the records and counted in the report, per run and per strategy.
for r in pnas-seed1 pnas-seed2 random-seed1 random-seed2; do
  h=$("$PNAS" inspect "$T/c/$r" --json | grep -c '"from_cache": true')
  grep -qE "^\| $r \| [a-z]+ \| [0-9] \| 12 \| [0-9]+ \| $h \| " "$T/c/report.md" ||
    fail "$r: $h records from the cache, not in its report row: $(grep "^| $r " "$T/c/report.md")"
  # Wall seconds: each record's 'elapsed' never decreases along the log, the run's row shows
  # the last one, and a run that trained all its models took at least their training time.
  "$PNAS" inspect "$T/c/$r" --json | "$PY" -c '
import json, sys
recs = [json.loads(l) for l in sys.stdin]
el = [x["elapsed"] for x in recs]
row = [l for l in open(sys.argv[1]).read().splitlines() if l.startswith("| %s |" % sys.argv[2])][0].split(" | ")
train, wall = float(row[7]), float(row[8])
ok = all(a is not None and a <= b for a, b in zip(el, el[1:])) and abs(wall - el[-1]) <= 0.5
ok = ok and (any(x["from_cache"] for x in recs) or wall >= train - 0.5)
sys.exit(0 if ok else "elapsed %s, row %s" % (el, row))' "$T/c/report.md" "$r" || fail "$r: wall seconds"
  eval "hits_${r%-seed*}=\$(( \${hits_${r%-seed*}:-0} + h ))"
done
[ $((hits_pnas + hits_random)) = "$c1" ] ||
  fail "$((hits_pnas + hits_random)) records marked from the cache, $c1 '(cached)' lines"
grep -qE "^\| pnas \| 2 \| .* \| $hits_pnas of 24 \|\$" "$T/c/report.md" ||
  fail "no 'from cache' total for pnas ($hits_pnas of 24)"
"$PY" "$CHECK" "$T/c" pnas random || fail "report check"
grep -q "^| pnas | top-1 " "$T/c/report.md" || fail "no reach-PNAS row for pnas"
grep -q "^| random | top-1 " "$T/c/report.md" || fail "no reach-PNAS row for random"
grep -qE "^\| pnas-seed1 \| 2 \| 2 \| " "$T/c/report.md" || fail "no level-2 rank correlation row"
grep -qE "^\| pnas-seed1 \| pnas \| 1 \| 12 \| " "$T/c/report.md" || fail "runs table row"
# Ratios are words, never a bare number below 1 ("0.17x" read as a speed-up).
grep -qE '\| [0-9.]+x \|' "$T/c/report.md" && fail "a bare ratio: $(grep -E '\| [0-9.]+x \|' "$T/c/report.md")"
grep -qE '^\| random \| top-1 .*x (fewer|more) \|' "$T/c/report.md" || fail "no worded ratio for random"
# The mean of the 5 best exists from the 5th B-block model on (random: 12 two-block models per
# seed); PNAS (2 per seed) has none and the report says so instead of drawing a falling curve.
awk -F'\t' 'NR > 1 { if (($1 < 5) != ($5 == "nan")) bad = 1 } END { exit bad }' "$T/c/curve-random-models.tsv" ||
  fail "mean top-5 defined before 5 models: $(head -7 "$T/c/curve-random-models.tsv")"
grep -q "^pnas: fewer than 5 cells of B blocks" "$T/c/report.md" && [ -s "$T/c/fig-top5-models.svg" ] ||
  fail "no word on PNAS's missing mean of 5, or no top-5 figure for random"
# Best cells: each strategy's best 2-block cell, and its best of any size when that is better,
# both found here from the records.
for s in pnas random; do
  for k in 1 2; do "$PNAS" inspect "$T/c/$s-seed$k" --json; done > "$T/$s.jsonl"
  "$PY" - "$T/$s.jsonl" "$T/c/report.md" "$s" <<'PYEOF' || fail "best cells of $s"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["ok"]]
md = open(sys.argv[2]).read().splitlines()
def best(rs): return max(rs, key=lambda r: (r["val_acc"], -int(r["hash"], 16)))
b2, anyb = best([r for r in recs if r["cell"].count(";") == 1]), best(recs)
rows = [l for l in md if l.startswith("| %s | best " % sys.argv[3])]
want = ["| %s | best of B blocks | " % sys.argv[3]] + (["| %s | best overall | " % sys.argv[3]] if anyb["val_acc"] > b2["val_acc"] else [])
ok = [r.split(" | ")[1] for r in rows] == [w.split(" | ")[1] for w in want]
ok = ok and b2["cell"] in rows[0] and (len(want) == 1 or anyb["cell"] in rows[1])
print("best cells of %s: %s" % (sys.argv[3], "ok" if ok else "FAIL %s vs %s / %s" % (rows, b2["cell"], anyb["cell"])))
sys.exit(0 if ok else 1)
PYEOF
done

# Same command again: everything replays from the logs, no training, the same report.
cp "$T/c/report.md" "$T/report1.md"
"$PNAS" compare "${ARGS[@]}" > "$T/2.out" 2> "$T/2.err" || { tail "$T/2.err"; fail "rerun failed"; }
new=$(grep -E '^(level [0-9]+/[0-9]+ child|[a-z]+ model) .* acc ' "$T/2.err" | grep -vc '(cached)')
[ "$new" = 0 ] || fail "the rerun trained $new children"
grep -q "(continued)" "$T/2.err" || fail "rerun did not continue the runs"
cmp -s "$T/report1.md" "$T/c/report.md" || fail "rerun changed report.md"
n=$("$PNAS" inspect "$T/c/random-seed1" --json | wc -l)
[ "$n" = 12 ] || fail "rerun appended to random-seed1 ($n records)"
# Other flags: refused, the runs untouched.
"$PNAS" compare "${ARGS[@]}" --epochs 2 > /dev/null 2> "$T/3.err"
rc=$?
[ $rc = 2 ] && grep -q "started with other flags" "$T/3.err" || fail "changed flags: rc $rc $(cat "$T/3.err")"
# pnas report on the folder gives the same report.md.
"$PNAS" report "$T/c" --out "$T/r" > /dev/null 2> "$T/r.err" || { cat "$T/r.err"; fail "pnas report failed"; }
cmp -s "$T/report1.md" "$T/r/report.md" || fail "pnas report differs from compare's report"
# Runs of one strategy under other settings are two groups (pnas, pnas.2), never two seeds of one.
"$PNAS" search --ops identity,max3x3 --max-blocks 2 --beam 2 --N 1 --F 3 --epochs 1 --batch 32 \
  --train-subset 300 --val-subset 200 --members 2 --predictor-epochs 30 --threads 1 \
  --run "$T/other" > /dev/null 2>&1 || fail "the F=3 run"
"$PNAS" report "$T/c/pnas-seed1" "$T/other" --out "$T/mix" > /dev/null 2> "$T/mix.err" ||
  fail "report of runs with other settings: $(cat "$T/mix.err")"
grep -qE '^\| pnas \| 1 \| 12 \| ' "$T/mix/report.md" && grep -qE '^\| pnas\.2 \| 1 \| 12 \| ' "$T/mix/report.md" &&
  grep -q '^- `pnas.2` (1 run): .*F=3' "$T/mix/report.md" && grep -q 'not like-for-like' "$T/mix/report.md" ||
  fail "mixed settings pooled: $(grep -E '^\| pnas' "$T/mix/report.md")"
# 5 seeds: the final accuracy gets a bootstrap interval over seeds and the verdict an interval
# of the difference (with 2 seeds they say there are too few); both bracket the mean.
grep -q "too few seeds to judge" "$T/c/report.md" || fail "2 seeds judged"
ARGS5=("${ARGS[@]}")
ARGS5[3]=5
"$PNAS" compare "${ARGS5[@]}" > /dev/null 2> "$T/5.err" || { tail "$T/5.err"; fail "5 seeds"; }
"$PY" - "$T/c/report.md" <<'PYEOF' || fail "intervals over 5 seeds"
import re, sys
md = open(sys.argv[1]).read()
rows = {l.split(" | ")[0][2:]: l.split(" | ") for l in md.splitlines() if re.match(r"^\| (pnas|random) \| 5 \|", l)}
ok = len(rows) == 2
for name, r in rows.items():
    mean, (lo, hi), mn, mx = float(r[3]), map(float, r[4].strip("[]").split(", ")), float(r[5]), float(r[6])
    ok = ok and mn <= lo <= mean <= hi <= mx
v = re.search(r"\*\*Verdict\.\*\* After (\d+) models: PNAS ([0-9.]+) \(5 seeds\) vs random ([0-9.]+) \(5 seeds\): "
              r"difference ([-+][0-9.]+) \[([-+][0-9.]+), ([-+][0-9.]+)\]: (PNAS better|PNAS worse|no difference shown)", md)
ok = ok and v is not None and float(v[5]) <= float(v[4]) <= float(v[6])
ok = ok and abs(float(v[2]) - float(v[3]) - float(v[4])) < 2e-4
print("5 seeds:", "ok" if ok else "FAIL", rows, v and v.group(0))
sys.exit(0 if ok else 1)
PYEOF
# Usage errors exit 2; failures 1.
"$PNAS" report --out "$T/x" > /dev/null 2>&1; [ $? = 2 ] || fail "report without runs: not 2"
"$PNAS" report "$T/c/pnas-seed1" > /dev/null 2>&1; [ $? = 2 ] || fail "report without --out: not 2"
"$PNAS" report "$T/nonexistent" --out "$T/x" > /dev/null 2>&1; [ $? = 1 ] || fail "missing run: not 1"
"$PNAS" compare --strategies pnas,magic --out "$T/y" > /dev/null 2>&1; [ $? = 2 ] || fail "bad strategy: not 2"
"$PNAS" compare --strategies pnas --seed 3 --out "$T/y" > /dev/null 2>&1; [ $? = 2 ] || fail "--seed: not 2"
echo "compare + report ok"
