#!/bin/sh
# `pnas predict` end to end: a saved model, text and JSON output, repeated --cell, --file,
# and the failures (bad cell = usage error 2, damaged model = 1 with a message).
# usage: cli_predict.sh PNAS MAKE_MODEL
set -u
PNAS=$1
MAKE=$2
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$MAKE" "$D/m.msgpack" || fail "fixture"
out=$("$PNAS" predict --model "$D/m.msgpack" --cell pnasnet-5 --cell '0:sep3x3,1:identity') ||
  fail "predict exit $?"
echo "$out"
[ "$(echo "$out" | wc -l)" -eq 2 ] || fail "expected 2 lines"
echo "$out" | head -1 | grep -Eq '^0\.[0-9]{4} \+- 0\.[0-9]{4}  1:sep5x5,1:max3x3;0:sep7x7,0:max3x3;' ||
  fail "text format / canonical cell"
js=$("$PNAS" predict --model "$D/m.msgpack" --cell=pnasnet-5 --json) || fail "json exit"
echo "$js"
echo "$js" | grep -q '"kind": "ridge", "members": 5, "predictions": \[{"cell": "1:sep5x5,1:max3x3' ||
  fail "json"
printf '# cells\n0:sep3x3,1:identity\n\n1:avg3x3,0:dil3x3  # comment\n' >"$D/cells.txt"
n=$("$PNAS" predict --model "$D/m.msgpack" --file "$D/cells.txt" | wc -l)
[ "$n" -eq 2 ] || fail "--file gave $n lines"
"$PNAS" predict --model "$D/m.msgpack" --cell '0:bogus,0:identity' 2>"$D/err"
[ $? -eq 2 ] || fail "bad cell should exit 2"
grep -q "bad cell" "$D/err" || fail "bad cell message"
"$PNAS" predict --cell pnasnet-5 2>/dev/null
[ $? -eq 2 ] || fail "missing --model should exit 2"
head -c 100 "$D/m.msgpack" >"$D/t.msgpack"
"$PNAS" predict --model "$D/t.msgpack" --cell pnasnet-5 2>"$D/err"
[ $? -eq 1 ] || fail "truncated model should exit 1"
cat "$D/err"
grep -q "truncated" "$D/err" || fail "truncated message"
echo ok
