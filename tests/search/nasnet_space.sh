#!/usr/bin/env bash
# NASNet's space (--space nasnet) through the command line: counts derived in the test
# (3 ops: 6 branches -> 21 one-block cells; block 2: 9 branches -> 45 blocks per cell, 45^2
# children per pair), `pnas cost` of NASNet-A, `show`/`export` of a pair, the PyTorch export's
# parameter count against `pnas cost` (when torch is installed), real tiny searches with each
# strategy whose records are all pairs, a resumed PNAS search, and bad --space input.
set -u
PNAS=$1
T=$(mktemp -d "${TMPDIR:-/tmp}/pnas-nasnet-space.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
OPS=identity,sep3x3,max3x3
# Counts: m = 3 ops * 2 inputs = 6 branches -> 6*7/2 = 21; m = 9 at block 2 -> 45; 45^2 = 2025.
"$PNAS" space count --blocks 1 --ops $OPS --space nasnet | grep -q "21 unique 1-block cells = 21 tied pairs" ||
  fail "level-1 count: $("$PNAS" space count --blocks 1 --ops $OPS --space nasnet)"
"$PNAS" space count --blocks 2 --ops $OPS --space nasnet | grep -q "45 unique new blocks per cell, 2025 children" ||
  fail "level-2 count"
n=$("$PNAS" space expand --space nasnet --cell '0:sep3x3,1:max3x3' --ops $OPS --count) || fail "expand"
[ "$n" = 2025 ] || fail "a tied 1-block pair has $n children, not 2025"
"$PNAS" space expand --space nasnet --cell '0:sep3x3,1:max3x3' --ops $OPS > "$T/kids" || fail "expand list"
[ "$(sort -u "$T/kids" | wc -l)" = 2025 ] || fail "children not distinct"
grep -qv '|' "$T/kids" && fail "a child is not a pair"
# NASNet-A on CIFAR-10 at N=6, F=32: 3.3M in the paper, 3,328,234 here (+0.86%).
p=$("$PNAS" cost --space nasnet --dataset cifar10 --N 6 --F 32 --json) || fail "cost"
echo "$p" | grep -q '"params": 3328234' || fail "NASNet-A cost: $p"
# A single cell under --space nasnet is the tied pair; --space pnas refuses a pair.
a=$("$PNAS" cost --space nasnet --cell pnasnet-5 --json | sed 's/.*"params": \([0-9]*\).*/\1/')
b=$("$PNAS" cost --cell 'pnasnet-5' --json | sed 's/.*"params": \([0-9]*\).*/\1/')
[ "$a" -gt "$b" ] || fail "tied PNASNet-5 pair ($a) not larger than PNASNet-5 ($b): 3N+2 cells"
"$PNAS" cost --space pnas --cell nasnet-a > /dev/null 2> "$T/e1" && fail "--space pnas took a pair"
grep -q "NASNet's space" "$T/e1" || fail "message: $(cat "$T/e1")"
"$PNAS" cost --space nasnat --cell nasnet-a > /dev/null 2> "$T/e2" && fail "--space nasnat accepted"
grep -q "unknown --space 'nasnat'" "$T/e2" || fail "message: $(cat "$T/e2")"
"$PNAS" cost --cell '0:sep3x3,1:max3x3|0:sep3x3,1:max3x3|0:sep3x3,1:max3x3' > /dev/null 2> "$T/e3" &&
  fail "three cells accepted"
grep -q "second '|'" "$T/e3" || fail "message: $(cat "$T/e3")"
"$PNAS" show --cell nasnet-a > "$T/show" || fail "show"
grep -q "reduction cell: 5 blocks (output: concat of 4 states" "$T/show" || fail "show: $(head -20 "$T/show")"
grep -q "out = concat(H\[c-2\], b1, b2, b3, b4, b5)" "$T/show" || fail "normal concat not shown"
"$PNAS" show --cell nasnet-a --format dot | grep -q "cluster_reduction" || fail "dot has no reduction cluster"
"$PNAS" export --space nasnet --dataset cifar10 --N 6 --F 32 --out "$T/g.json" || fail "export json"
grep -q '"reduction_concat": \[3, 4, 5, 6\]' "$T/g.json" || fail "json concat"
grep -q '"params": 3328234' "$T/g.json" || fail "json params"
if /usr/bin/python3 -c "import torch" 2> /dev/null; then
  "$PNAS" export --format pytorch --cell nasnet-a --dataset cifar10 --N 6 --F 32 --out "$T/m.py" || fail "export pytorch"
  /usr/bin/python3 "$T/m.py" | grep -q "params 3328234 expected 3328234" || fail "torch: $(/usr/bin/python3 "$T/m.py")"
fi

# Real tiny searches: every record a pair of two equal-depth cells.
A=(--space nasnet --ops sep3x3,max3x3 --max-blocks 2 --N 1 --F 4 --batch 32 --train-subset 200
   --val-subset 100 --threads 1 --device cpu --members 2 --predictor-epochs 5)
"$PNAS" search --beam 3 "${A[@]}" --run "$T/p" > "$T/p.out" 2> "$T/p.err" || fail "pnas: $(tail -3 "$T/p.err")"
grep -q "NASNet's space (normal + reduction cell)" "$T/p.err" || fail "space not stated: $(head -2 "$T/p.err")"
grep -q "4410 children of 10 beam cells scored" "$T/p.err" || fail "level 2: $(grep 'level 2' "$T/p.err")"
"$PNAS" inspect "$T/p" --json > "$T/p.json" || fail "inspect"
[ "$(grep -c '"cell"' "$T/p.json")" = 13 ] || fail "10 tied pairs + 3 expected: $(grep -c '"cell"' "$T/p.json")"
[ "$(grep '"cell"' "$T/p.json" | grep -c '|')" = 13 ] || fail "a record is not a pair"
# Resume finds every record (nothing retrained).
"$PNAS" search --resume "$T/p" > /dev/null 2> "$T/p2.err" || fail "resume: $(tail -3 "$T/p2.err")"
[ "$("$PNAS" inspect "$T/p" --json | grep -c '"cell"')" = 13 ] || fail "resume retrained"
for st in rl random evolution; do
  "$PNAS" search --strategy $st --budget-models 4 --rl-batch 2 --population 3 --sample 2 "${A[@]}" \
    --run "$T/$st" > /dev/null 2> "$T/$st.err" || fail "$st: $(tail -3 "$T/$st.err")"
  "$PNAS" inspect "$T/$st" --json > "$T/$st.json" || fail "inspect $st"
  [ "$(grep '"cell"' "$T/$st.json" | grep -c '[0-9]:[a-z0-9_]*,[0-9]:[a-z0-9_]*;[0-9]:[a-z0-9_]*,[0-9]:[a-z0-9_]*|[0-9]')" = 4 ] ||
    fail "$st: 4 records of 2+2-block pairs expected: $(grep '"cell"' "$T/$st.json")"
done
# Pairs and B: --max-blocks 6 is refused for pairs; tables hold single cells.
"$PNAS" search --space nasnet --max-blocks 6 --N 1 --F 4 --device cpu --run "$T/x" > /dev/null 2> "$T/e4" && fail "B=6 pairs accepted"
grep -q "max-blocks 6 is above 5" "$T/e4" || fail "message: $(cat "$T/e4")"
# A predictor of pairs refuses a single cell, and a PNAS-space one refuses a pair.
"$PNAS" predict --model "$T/p/predictor-L1.msgpack" --cell '0:sep3x3,1:max3x3' > /dev/null 2> "$T/e5" &&
  fail "a pair predictor scored a single cell"
grep -q "fitted on NASNet pairs" "$T/e5" || fail "message: $(cat "$T/e5")"
"$PNAS" predict --model "$T/p/predictor-L1.msgpack" --cell '0:sep3x3,1:max3x3|0:max3x3,1:max3x3' > "$T/pp" ||
  fail "predict a pair"
echo "ok: NASNet's space"
