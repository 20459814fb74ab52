#!/usr/bin/env bash
# One baseline strategy (random | evolution | rl) on a tiny real Fashion-MNIST configuration:
# the number of trained models and the run directory's contents, determinism (same seed -> same
# cells in the same order, another seed -> other cells), every msgpack file sealed by its crc32
# entry, and kill -9 + resume giving exactly the uninterrupted run (cells, accuracies, final answer; for rl also the saved controller, bytewise).
# Usage: run_baseline.sh PNAS_BINARY STRATEGY
set -u
PNAS=$1
STRAT=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/pnas-$STRAT.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL ($STRAT): $*"; exit 1; }
ARGS=(--strategy "$STRAT" --ops sep3x3,max3x3,identity --max-blocks 2 --budget-models 8 --N 1 --F 4
      --epochs 1 --batch 32 --train-subset 300 --val-subset 200 --threads 1 --population 6 --sample 3
      --rl-batch 3)
WANT=8
cells() { "$PNAS" inspect "$1" --json | sed -E 's/.*"cell": "([^"]*)".*"val_acc": ([^,]*),.*/\1 \2/'; }

"$PNAS" search "${ARGS[@]}" --seed 5 --run "$T/a" > "$T/a.out" 2> "$T/a.err" ||
  { cat "$T/a.err"; fail "search failed"; }
n=$("$PNAS" inspect "$T/a" --json | wc -l)
[ "$n" = $WANT ] || fail "run a holds $n records, want $WANT"
u=$("$PNAS" inspect "$T/a" --json | grep -o '"hash": "[0-9a-f]*"' | sort -u | wc -l)
[ "$u" = $WANT ] || fail "$u distinct cells in $n records"
l2=$("$PNAS" inspect "$T/a" --json | grep -c "\"level\": 2, \"strategy\": \"$STRAT\"")
[ "$l2" = $WANT ] || fail "$l2 of $n records are 2-block $STRAT children"
for c in $(cells "$T/a" | cut -d' ' -f1); do
  nb=$(echo "$c" | tr ';' '\n' | wc -l)
  [ "$nb" = 2 ] || fail "cell $c has $nb blocks"
  echo "$c" | grep -qE '(sep5x5|sep7x7|avg3x3|dil3x3|conv1x7_7x1)' && fail "cell $c uses an op outside --ops"
done
files="config.msgpack results.log state.msgpack"
[ "$STRAT" = rl ] && files="$files rl-controller.msgpack"
for f in $files; do [ -s "$T/a/$f" ] || fail "run a lacks $f"; done
# Every msgpack file of the run ends with its checksum entry (zlib's CRC-32 of the rest).
python3 "$(dirname "$0")/../check_sealed.py" $(for f in $files; do
  case $f in *.msgpack) echo "$T/a/$f" ;; esac; done) || fail "a run file without its checksum"
grep -q "best cell (level 2)" "$T/a.out" || fail "no result printed: $(cat "$T/a.out")"
grep -q "cost: $WANT models trained" "$T/a.out" || fail "summary: $(grep cost: "$T/a.out")"

# Determinism: same seed -> the same cells in the same order; another seed -> other cells.
"$PNAS" search "${ARGS[@]}" --seed 5 --run "$T/b" > "$T/b.out" 2> "$T/b.err" || fail "run b failed"
diff <(cells "$T/a") <(cells "$T/b") > "$T/d" || fail "same seed, different runs: $(cat "$T/d")"
"$PNAS" search "${ARGS[@]}" --seed 6 --run "$T/c" > /dev/null 2> "$T/c.err" || fail "run c failed"
diff -q <(cells "$T/a" | cut -d' ' -f1) <(cells "$T/c" | cut -d' ' -f1) > /dev/null &&
  fail "seeds 5 and 6 chose identical cells"

# kill -9 after 3 models, resume; then kill again after 6 and resume to the end.
"$PNAS" search "${ARGS[@]}" --seed 5 --run "$T/k" > /dev/null 2> "$T/k.err" &
pid=$!
for kill_at in 3 6; do
  while :; do
    c=$(("$PNAS" inspect "$T/k" --json 2>/dev/null || true) | wc -l)
    [ "$c" -ge $kill_at ] && break
    kill -0 $pid 2>/dev/null || fail "run k ended before the kill at $kill_at: $(cat "$T/k.err")"
    sleep 0.05
  done
  kill -9 $pid; wait $pid 2>/dev/null
  "$PNAS" search --resume "$T/k" > "$T/k.out" 2> "$T/k.err" &
  pid=$!
done
wait $pid || { cat "$T/k.err"; fail "resumed run failed"; }
diff <(cells "$T/a") <(cells "$T/k") > "$T/d" || fail "kill/resume differs: $(cat "$T/d")"
diff <(grep -A1 "best cell" "$T/a.out") <(grep -A1 "best cell" "$T/k.out") ||
  fail "different final result after kill/resume"
if [ "$STRAT" = rl ]; then
  cmp -s "$T/a/rl-controller.msgpack" "$T/k/rl-controller.msgpack" ||
    fail "controller after kill/resume differs from the uninterrupted one"
fi
echo "$STRAT: $WANT models, deterministic, kill/resume identical"
