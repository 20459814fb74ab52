#!/usr/bin/env bash
# --budget-models 0 = what PNAS would train: unique 1-block cells within budget + (B-1) x beam.
# ops identity,max3x3 with 2 inputs: m = 4 branches -> 10 one-block cells; B=2, beam 2 -> 12.
# With --max-params the over-budget 1-block cells drop out of that count too. Also checks the
# evolution population cap (P = budget/2, S scaled by the paper ratio S/P of the flags).
set -u
PNAS=$1
T=$(mktemp -d "${TMPDIR:-/tmp}/pnas-budget0.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ARGS=(--ops identity,max3x3 --max-blocks 2 --beam 2 --budget-models 0 --N 1 --F 4 --epochs 1
      --batch 32 --train-subset 200 --val-subset 100 --threads 1)
"$PNAS" search --strategy evolution "${ARGS[@]}" --run "$T/e" > /dev/null 2> "$T/e.err" ||
  { cat "$T/e.err"; fail "evolution failed"; }
n=$("$PNAS" inspect "$T/e" --json | wc -l)
[ "$n" = 12 ] || fail "budget 0: $n models, want 12"
grep -q "population 6, sample 2, budget 12 models" "$T/e.err" || fail "population cap: $(grep population "$T/e.err")"
# Baselines have no levels: their progress counts models ("evolution model 12/12"), not "level 2/2".
grep -q "^evolution model 12/12 " "$T/e.err" && ! grep -q "^level " "$T/e.err" ||
  fail "evolution progress lines: $(grep -E '^(level|evolution)' "$T/e.err" | tail -2)"
# Parameter limit: 1-block cells whose network has more parameters than the limit do not count,
# and no trained cell may exceed it.
# ops sep3x3,identity: the limit is the parameter count of a cell with one sep3x3, so the three
# 1-block cells with two sep3x3 branches are over it.
lim=$("$PNAS" cost --cell '0:sep3x3,0:identity' --N 1 --F 4 2>/dev/null |
      grep -oiE 'param[a-z]* *[:=]? *[0-9]+' | grep -oE '[0-9]+' | head -1)
[ -n "$lim" ] || fail "cannot read params from pnas cost"
w=0
for c in 0:identity,0:identity 0:identity,0:sep3x3 0:identity,1:identity 0:identity,1:sep3x3 \
         0:sep3x3,0:sep3x3 0:sep3x3,1:identity 0:sep3x3,1:sep3x3 1:identity,1:identity \
         1:identity,1:sep3x3 1:sep3x3,1:sep3x3; do
  p=$("$PNAS" cost --cell "$c" --N 1 --F 4 | grep -oiE 'param[a-z]* *[:=]? *[0-9]+' | grep -oE '[0-9]+' | head -1)
  [ "$p" -le "$lim" ] && w=$((w + 1))
done
[ "$w" -lt 10 ] && [ "$w" -gt 0 ] || fail "limit $lim keeps $w of 10 one-block cells (test needs a real cut)"
"$PNAS" search --strategy random "${ARGS[@]}" --ops sep3x3,identity --max-params "$lim" --run "$T/r" > /dev/null 2> "$T/r.err" ||
  { cat "$T/r.err"; fail "random with --max-params failed"; }
n=$("$PNAS" inspect "$T/r" --json | wc -l)
[ "$n" = $((w + 2)) ] || fail "budget 0 with --max-params $lim: $n models, want $w + 2"
over=$("$PNAS" inspect "$T/r" --json | grep -oE '"params": [0-9]+' | grep -oE '[0-9]+' |
       awk -v l="$lim" '$1 > l' | wc -l)
[ "$over" = 0 ] || fail "$over trained cells exceed --max-params $lim"
echo "budget 0: 12 models; with --max-params $lim: $n models, none over the limit"
