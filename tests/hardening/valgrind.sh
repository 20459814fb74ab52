#!/usr/bin/env bash
# Valgrind (memcheck) on a small real search and its resume: no invalid reads/writes, no use of
# uninitialised values, no definite leaks (exit 99 from valgrind otherwise). Slow (label slow).
# Usage: valgrind.sh PNAS
set -u
PNAS=$1
command -v valgrind > /dev/null || { echo "skipped: valgrind not installed"; exit 0; }
T=$(mktemp -d /tmp/pnas-valgrind.XXXXXX)
trap 'rm -rf "$T"' EXIT
VG=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --track-origins=yes --num-callers=20)
SMALL=(--ops identity,max3x3 --beam 2 --max-blocks 2 --N 1 --F 2 --epochs 1 --batch 32
       --train-subset 64 --val-subset 64 --members 2 --predictor-epochs 2 --seed 5 --threads 1)
# 1. the search, killed by an injected full disk after 4 records; 2. its resume to the end;
# 3. inspect and predict on the result.
PNAS_FAULT_WRITE_AFTER=4 "${VG[@]}" "$PNAS" search "${SMALL[@]}" --run "$T/r" > /dev/null 2> "$T/1.err"
rc=$?
[ $rc = 1 ] || { tail -40 "$T/1.err"; echo "FAIL: search under valgrind exit $rc (want 1: injected ENOSPC)"; exit 1; }
"${VG[@]}" "$PNAS" search --resume "$T/r" > "$T/out" 2> "$T/2.err" ||
  { tail -40 "$T/2.err"; echo "FAIL: resume under valgrind"; exit 1; }
"${VG[@]}" "$PNAS" inspect "$T/r" > /dev/null 2> "$T/3.err" || { tail -40 "$T/3.err"; echo "FAIL: inspect"; exit 1; }
"${VG[@]}" "$PNAS" predict --model "$T/r/predictor-L1.msgpack" --cell 0:identity,1:max3x3 > /dev/null 2> "$T/4.err" ||
  { tail -40 "$T/4.err"; echo "FAIL: predict"; exit 1; }
for i in 1 2 3 4; do grep -E "ERROR SUMMARY|definitely lost" "$T/$i.err" | sed "s/^==[0-9]*== /run $i: /"; done
grep -q "best cell" "$T/out" || { echo "FAIL: no result"; exit 1; }
echo "valgrind: search (stopped by ENOSPC), resume, inspect, predict: clean"
