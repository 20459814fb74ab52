#!/usr/bin/env bash
# NASNet's operators (ids 8..12) through the command line: `pnas space`, `cost` and `show`
# with all five, a real tiny PNAS search and an RL search over identity,conv1x3_3x1,conv3x3,
# conv1x1 on the CPU (their predictors and controller embed 13 operators), every 1-block cell
# of identity,max5x5,max7x7 trained (the 5x5 / 7x7 pooling windows), `pnas predict` with that
# predictor, and a predictor of PNAS's space refusing a NASNet cell with a message.
set -u
PNAS=$1
T=$(mktemp -d "${TMPDIR:-/tmp}/pnas-nasnet.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ALL=conv1x3_3x1,max5x5,max7x7,conv1x1,conv3x3
# 5 ops + identity: 6 * 2 = 12 branches -> 78 one-block cells; 6 * 3 = 18 -> 171 at block 2.
"$PNAS" space count --blocks 2 --ops identity,$ALL > "$T/count" || fail "space count"
grep -q "171" "$T/count" || fail "space count: $(cat "$T/count")"
"$PNAS" space count --blocks 1 --ops nasnet > "$T/count13" || fail "space count nasnet"
grep -q "351" "$T/count13" || fail "13 operators: 26 branches -> 351 cells: $(cat "$T/count13")"
n=$("$PNAS" space expand --cell '0:max5x5,1:max7x7' --ops identity,$ALL --count) || fail "expand"
[ "$n" = 171 ] || fail "expand count $n"
C='0:max5x5,1:max7x7;2:conv1x3_3x1,0:conv3x3;3:conv1x1,1:identity'
"$PNAS" cost --cell "$C" --dataset fashion-mnist --N 1 --F 8 > "$T/cost" || fail "cost"
grep -q "^params" "$T/cost" || fail "cost output: $(cat "$T/cost")"
"$PNAS" show --cell "$C" > "$T/show" || fail "show"
for op in max5x5 max7x7 conv1x3_3x1 conv3x3 conv1x1; do
  grep -q "$op" "$T/show" || fail "show lacks $op"
done
"$PNAS" show --cell "$C" --format dot > "$T/dot" || fail "show dot"
"$PNAS" space count --blocks 1 --ops conv3x3,max9x9 > /dev/null 2> "$T/bad" && fail "max9x9 accepted"
grep -q "conv1x3_3x1" "$T/bad" || fail "the unknown-op message does not list the new names: $(cat "$T/bad")"

# A real tiny search over four operators, three of them NASNet's.
OPS=identity,conv1x3_3x1,conv3x3,conv1x1
A=(--max-blocks 2 --N 1 --F 4 --batch 32 --train-subset 200 --val-subset 200 --threads 1
   --device cpu --members 2 --predictor-epochs 5)
"$PNAS" search --ops $OPS --beam 2 "${A[@]}" --run "$T/s" > "$T/s.out" 2> "$T/s.err" ||
  fail "search: $(tail -3 "$T/s.err")"
grep -q "search over 4 operators (identity,conv1x3_3x1,conv1x1,conv3x3; 36 unique 1-block cells)" "$T/s.err" ||
  fail "operator set not stated: $(head -3 "$T/s.err")"
"$PNAS" inspect "$T/s" --json > "$T/s.json" || fail "inspect"
[ "$(grep -c '"cell"' "$T/s.json")" = 38 ] || fail "expected 36 + 2 records: $(grep -c '"cell"' "$T/s.json")"
for op in conv1x3_3x1 conv3x3 conv1x1; do
  grep -q "$op" "$T/s.json" || fail "no record uses $op"
done
grep -q '"ok": false' "$T/s.json" && fail "a child failed: $(grep '"ok": false' "$T/s.json" | head -2)"
grep -aq vocab "$T/s/predictor-L1.msgpack" || fail "the predictor file has no vocab entry"
"$PNAS" predict --model "$T/s/predictor-L1.msgpack" --cell '0:conv3x3,1:conv1x3_3x1' > "$T/p" ||
  fail "predict a NASNet cell"
# RL: its controller samples NASNet ops.
"$PNAS" search --strategy rl --ops $OPS --budget-models 6 --rl-batch 3 "${A[@]}" --run "$T/r" \
  > /dev/null 2> "$T/r.err" || fail "rl search: $(tail -3 "$T/r.err")"
[ "$("$PNAS" inspect "$T/r" --json | grep -c '"cell"')" = 6 ] || fail "rl: 6 records expected"

# The 5x5 and 7x7 max pools train: every 1-block cell of identity,max5x5,max7x7 (21).
B=("${A[@]}"); B[1]=1
"$PNAS" search --ops identity,max5x5,max7x7 "${B[@]}" --run "$T/m" > /dev/null 2> "$T/m.err" ||
  fail "max5x5/max7x7 search: $(tail -3 "$T/m.err")"
"$PNAS" inspect "$T/m" --json > "$T/m.json" || fail "inspect max pools"
[ "$(grep -c '"ok": true' "$T/m.json")" = 21 ] || fail "21 trained 1-block cells expected: $(grep -c '"ok": true' "$T/m.json")"
grep -q '"cell": "0:max7x7,1:max7x7"' "$T/m.json" || fail "no record of 0:max7x7,1:max7x7"

# A predictor of PNAS's space (vocabulary 8) refuses a NASNet cell, with a message.
"$PNAS" search --ops identity,max3x3 --beam 2 "${A[@]}" --run "$T/q" > /dev/null 2> "$T/q.err" ||
  fail "pnas-space search: $(tail -3 "$T/q.err")"
grep -aq vocab "$T/q/predictor-L1.msgpack" && fail "a vocabulary-8 file has a vocab entry"
"$PNAS" predict --model "$T/q/predictor-L1.msgpack" --cell '0:conv3x3,1:identity' > /dev/null \
  2> "$T/q.pred" && fail "a vocabulary-8 predictor scored conv3x3"
grep -q "outside the predictor's vocabulary of 8" "$T/q.pred" || fail "message: $(cat "$T/q.pred")"
echo "NASNet operators: space/cost/show, a tiny search and an RL search on the CPU, 5x5/7x7 max"
echo "pools trained, predict; a"
echo "PNAS-space predictor refuses them"
