#!/usr/bin/env bash
# End-to-end: a tiny real PNAS search on Fashion-MNIST, then the same search killed with SIGKILL
# part-way and resumed. Checks the number of trained children, the run directory contents (every
# msgpack file sealed by its crc32 entry), that nothing is lost or trained twice, and that the
# resumed result equals the uninterrupted one.
set -u
PNAS=$1
T=$(mktemp -d /tmp/pnas-e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ARGS=(--ops sep3x3,max3x3,identity --beam 4 --max-blocks 2 --N 1 --F 4 --epochs 1 --batch 32
      --train-subset 600 --val-subset 300 --members 2 --predictor-epochs 20 --seed 3 --threads 1)
# 3 ops, 2 inputs: 21 unique 1-block cells; then the top 4 of 21 x 45 children.
WANT=$((21 + 4))

"$PNAS" search "${ARGS[@]}" --run "$T/a" > "$T/a.out" 2> "$T/a.err" || { cat "$T/a.err"; fail "search failed"; }
n=$("$PNAS" inspect "$T/a" --json | wc -l)
[ "$n" = "$WANT" ] || fail "run a holds $n records, want $WANT"
u=$("$PNAS" inspect "$T/a" --json | grep -o '"hash": "[0-9a-f]*"' | sort -u | wc -l)
[ "$u" = "$WANT" ] || fail "run a: $u distinct cells in $n records"
l2=$("$PNAS" inspect "$T/a" --json | grep -c '"level": 2')
[ "$l2" = 4 ] || fail "run a: $l2 level-2 children, want 4"
for f in config.msgpack results.log predictor-L1.msgpack predictor-L2.msgpack state.msgpack; do
  [ -s "$T/a/$f" ] || fail "run a lacks $f"
done
python3 "$(dirname "$0")/../check_sealed.py" "$T"/a/*.msgpack ||
  fail "a run file without its checksum (the last entry, zlib's crc32 of the rest)"
grep -q "best cell (level 2)" "$T/a.out" || fail "no result printed: $(cat "$T/a.out")"
grep -q "pnas train --cell" "$T/a.out" || fail "no retrain command printed"
grep -q "predictor Spearman on the trained 4: .* (4 picks: even a perfect order is within chance at 5%" "$T/a.err" ||
  fail "the level's Spearman on 4 picks without its caveat: $(grep 'level 2 done' "$T/a.err")"

# The run's surrogate: retrain with the paper protocol, evaluate, predict; bad model files.
ls -l "$T/a" > "$T/a.ls"
"$PNAS" predictor retrain --run "$T/a" --members 2 --epochs 20 --json --out "$T/rt.msgpack" > "$T/rt.json" || fail "retrain"
grep -q '"train_level": 1, "test_level": 2, "ntrain": 21, "ntest": 4' "$T/rt.json" || fail "retrain table: $(cat "$T/rt.json")"
[ -s "$T/rt.msgpack" ] || fail "retrained predictor not saved"
(cd "$T" && "$PNAS" predictor retrain --run a --members 2 --epochs 20 > /dev/null) && [ -s "$T/predictor-retrained-mlp.msgpack" ] ||
  fail "retrain without --out: not in the current directory"
ls -l "$T/a" | cmp -s - "$T/a.ls" || fail "retrain changed the run directory"
"$PNAS" predictor eval --run "$T/a" --model "$T/rt.msgpack" --json | grep -q '"level": 2, "cells": 4, "rows": "fitted"' || fail "predictor eval"
# A level-1 predictor scored on the run: level 1 rows are the fitted ones, level 2 held out, never
# pooled; precision@10 of 4 cells is not reported.
"$PNAS" predictor eval --run "$T/a" --model "$T/a/predictor-L1.msgpack" --json > "$T/ev.json" || fail "eval L1"
grep -q '"level": 1, "cells": 21, "rows": "fitted"' "$T/ev.json" && grep -q '"level": 2, "cells": 4, "rows": "held-out"' "$T/ev.json" &&
  grep -q '"level": "held_out", "cells": 4, "rows": "held-out"' "$T/ev.json" && grep -q '"k": 10, "precision_at_k": null' "$T/ev.json" &&
  ! grep -q '"level": "all"' "$T/ev.json" || fail "eval L1 rows: $(cat "$T/ev.json")"
"$PNAS" predict --model "$T/a/predictor-L2.msgpack" --cell 0:sep3x3,1:max3x3 > "$T/p.out" || fail "predict"
# Extrapolation is marked: the level-1 predictor saw neither 2-block cells nor sep7x7.
"$PNAS" predict --model "$T/a/predictor-L1.msgpack" --cell 0:sep3x3,1:max3x3 --cell '0:sep3x3,1:max3x3;2:sep7x7,0:identity' > "$T/p.out" 2> "$T/p.err" || fail "predict L1"
head -1 "$T/p.out" | grep -qv extrapolated && tail -1 "$T/p.out" | grep -q '\[extrapolated: 2 blocks, fitted on <= 1; sep7x7 never seen\]' &&
  grep -q "1 of 2 cells lie outside what the predictor was fitted on (21 cells of <= 1 blocks, operators identity,sep3x3,max3x3)" "$T/p.err" ||
  fail "extrapolation marks: $(cat "$T/p.out" "$T/p.err")"
"$PNAS" predictor eval --run "$T/a" --model "$T/a/config.msgpack" 2> "$T/e.err"; rc=$?
[ $rc = 1 ] && grep -q "not a pnas predictor file" "$T/e.err" || fail "foreign model file: rc $rc $(cat "$T/e.err")"
"$PNAS" predictor retrain --run "$T/nonexistent" 2> "$T/e.err"; [ $? = 1 ] || fail "missing run accepted"

# A config that disagrees with the log's records (edited or damaged) is refused on resume.
# (A start that fails before its first record - bad --data - leaves nothing behind now; one
# whose first record cannot be written keeps its config and empty log, to be resumed.)
PNAS_FAULT_WRITE_AFTER=0 "$PNAS" search "${ARGS[@]}" --F 5 --run "$T/c" > /dev/null 2>&1
[ -s "$T/c/config.msgpack" ] || fail "run c wrote no config"
cp -r "$T/a" "$T/a2" && cp "$T/c/config.msgpack" "$T/a2/config.msgpack"
before=$(md5sum "$T/a2/results.log")
"$PNAS" search --resume "$T/a2" > /dev/null 2> "$T/m.err"; rc=$?
[ $rc = 1 ] && grep -q "does not match the results log" "$T/m.err" || fail "mismatched config: rc $rc $(cat "$T/m.err")"
[ "$before" = "$(md5sum "$T/a2/results.log")" ] || fail "refused resume changed the log"

# Same search, killed with SIGKILL after some children, then resumed (twice).
"$PNAS" search "${ARGS[@]}" --run "$T/b" > /dev/null 2> "$T/b.err" &
pid=$!
for kill_at in 5 17; do
  while :; do
    c=$(("$PNAS" inspect "$T/b" --json 2>/dev/null || true) | wc -l)
    [ "$c" -ge "$kill_at" ] && break
    kill -0 $pid 2>/dev/null || fail "search b ended before the kill at $kill_at: $(cat "$T/b.err")"
    sleep 0.2
  done
  kill -9 $pid; wait $pid 2>/dev/null
  "$PNAS" search --resume "$T/b" > "$T/b.out" 2> "$T/b.err" &
  pid=$!
done
wait $pid || { cat "$T/b.err"; fail "resumed search failed"; }
n=$("$PNAS" inspect "$T/b" --json | wc -l)
[ "$n" = "$WANT" ] || fail "run b holds $n records after kill/resume, want $WANT"
u=$("$PNAS" inspect "$T/b" --json | grep -o '"hash": "[0-9a-f]*"' | sort -u | wc -l)
[ "$u" = "$WANT" ] || fail "run b: a child was trained twice ($u distinct in $n)"
# Same cells with bit-identical accuracies, and the same final answer.
key() { "$PNAS" inspect "$1" --json | sed -E 's/.*"cell": "([^"]*)".*"val_acc": ([^,]*),.*/\1 \2/' | sort; }
diff <(key "$T/a") <(key "$T/b") > "$T/diff" || fail "runs differ: $(cat "$T/diff")"
diff <(grep -A1 "best cell" "$T/a.out") <(grep -A1 "best cell" "$T/b.out") || fail "different final result"
echo "e2e search: $WANT children, kill/resume identical"
