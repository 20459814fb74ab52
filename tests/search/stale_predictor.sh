#!/usr/bin/env bash
# A predictor file left in a run directory by another search (results.log deleted, new flags)
# must not steer the new search: it is refitted with a warning, and the new search takes the
# decisions of the same search in a fresh directory (same records, same saved predictors).
set -u
PNAS=$1
T=$(mktemp -d "${TMPDIR:-/tmp}/pnas-stale.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
A=(--ops sep3x3,max3x3,identity --beam 3 --max-blocks 2 --N 1 --F 4 --batch 32 --members 2
   --predictor-epochs 20 --threads 1 --device cpu --val-subset 300)
cells() { "$PNAS" inspect "$1" --json | sed -E 's/.*"cell": "([^"]*)".*"val_acc": ([^,]*),.*/\1 \2/' | sort; }
"$PNAS" search "${A[@]}" --train-subset 300 --seed 3 --run "$T/d" > /dev/null 2> "$T/1.err" ||
  fail "first search: $(tail -3 "$T/1.err")"
ls "$T"/d/predictor-L1.msgpack > /dev/null || fail "no predictor saved"
rm "$T/d/results.log"
"$PNAS" search "${A[@]}" --train-subset 500 --seed 4 --run "$T/d" > "$T/2.out" 2> "$T/2.err" ||
  fail "second search: $(tail -3 "$T/2.err")"
grep -q "predictor-L1.msgpack was not fitted on this search's records" "$T/2.err" ||
  fail "no warning about the stale predictor: $(grep -i predictor "$T/2.err")"
"$PNAS" search "${A[@]}" --train-subset 500 --seed 4 --run "$T/e" > "$T/3.out" 2> "$T/3.err" ||
  fail "fresh search: $(tail -3 "$T/3.err")"
diff <(cells "$T/d") <(cells "$T/e") > "$T/diff" || fail "the reused directory searched differently: $(head "$T/diff")"
cmp "$T/d/predictor-L2.msgpack" "$T/e/predictor-L2.msgpack" || fail "final predictor not refit"
diff <(grep -A1 "best cell" "$T/2.out") <(grep -A1 "best cell" "$T/3.out") || fail "different answer"
echo "stale predictors: refitted with a warning; same records and predictors as a fresh directory"
