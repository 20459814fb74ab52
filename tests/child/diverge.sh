#!/usr/bin/env bash
# Divergence to a huge finite loss is a failure, not a trained child: with --lr 100 the loss
# explodes (to ~1e15, never NaN within a few steps); the child must fail with "diverged: loss X
# at step N", in `pnas train` (exit 1, ok false) and in a search (the records are failed with
# that reason). The same child at the default lr trains (the limit never trips normal training).
# Usage: diverge.sh PNAS
set -u
PNAS=$1
T=$(mktemp -d /tmp/pnas-diverge.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
TINY=(--cell 0:identity,1:max3x3 --train-subset 256 --val-subset 128 --batch 16 --threads 1 --json)
"$PNAS" train "${TINY[@]}" --lr 100 > "$T/out" 2> "$T/err"
rc=$?
cat "$T/out"
[ $rc = 1 ] || fail "train --lr 100: exit $rc, want 1 (failed child)"
grep -qE '"ok": false, "reason": "diverged: loss [0-9][0-9.e+]* at step [0-9]+' "$T/out" ||
  fail "train --lr 100: no 'diverged: loss X at step N' reason"
grep -q "val_accuracy" "$T/out" && fail "a diverged child was validated"
"$PNAS" train "${TINY[@]}" > "$T/out" 2> "$T/err" || fail "the same child at lr 0.05 failed: $(tail -1 "$T/err")"
grep -q '"ok": true' "$T/out" || fail "lr 0.05: not ok"
echo "train: --lr 100 fails as diverged, the default lr trains"
"$PNAS" search --ops identity,max3x3 --beam 2 --max-blocks 2 --N 1 --F 2 --epochs 1 --batch 16 \
  --train-subset 128 --val-subset 64 --members 2 --predictor-epochs 2 --seed 5 --threads 1 \
  --lr 100 --run "$T/r" > /dev/null 2> "$T/err"
rc=$?
[ $rc -lt 128 ] || fail "search crashed (exit $rc)"
"$PNAS" inspect "$T/r" --json > "$T/recs" || fail "inspect"
n=$(wc -l < "$T/recs")
bad=$(grep -cE '"ok": false, "reason": "diverged: loss [0-9][0-9.e+]* at step [0-9]+' "$T/recs")
ok=$(grep -c '"ok": true' "$T/recs")
echo "search --lr 100: $n records, $bad failed as diverged, $ok ok"
[ "$n" -ge 1 ] && [ "$bad" -ge 1 ] || fail "no record failed as diverged"
# (the limit is checked on the mean loss between read-backs - in a search, over the epoch - so a
# tiny child whose loss stays under 100 x ln 10 on average may pass; most do not)
[ $((2 * bad)) -ge "$n" ] || fail "only $bad of $n children failed as diverged at lr 100"
[ $((bad + ok)) = "$n" ] || fail "failed records with another reason: $(grep '"ok": false' "$T/recs" | grep -v 'diverged: loss [0-9]' | head -2)"
echo "divergence: ok"
