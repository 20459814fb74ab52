#!/usr/bin/env bash
# A very small real search stopped by an injected full disk, its resume, inspect and predict:
# the whole program path (dataset, training, store, predictor fit/save/load, fault, resume) in
# seconds. MODE plain: as is - in the sanitizer build (build-asan) that is the ASan/UBSan run of
# the search (label unit). MODE valgrind: under memcheck - no invalid accesses, no uninitialised
# values, no definite leaks (valgrind exits 99 otherwise); slow (label slow).
# Usage: small_search.sh PNAS plain|valgrind
set -u
PNAS=$1 MODE=${2:-plain}
VG=()
if [ "$MODE" = valgrind ]; then
  command -v valgrind > /dev/null || { echo "skipped: valgrind not installed"; exit 0; }
  VG=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
      --show-leak-kinds=definite --track-origins=yes --num-callers=20)
  export GOMP_SPINCOUNT=20000 OPENBLAS_NUM_THREADS=1 # else pnas re-executes itself outside valgrind
fi
T=$(mktemp -d /tmp/pnas-small.XXXXXX)
trap 'rm -rf "$T"' EXIT
SMALL=(--ops identity,max3x3 --beam 2 --max-blocks 2 --N 1 --F 2 --epochs 1 --batch 32
       --train-subset 64 --val-subset 64 --members 2 --predictor-epochs 2 --seed 5 --threads 1)
# 1. the search, killed by an injected full disk after 4 records; 2. its resume to the end;
# 3. inspect and predict on the result.
PNAS_FAULT_WRITE_AFTER=4 "${VG[@]}" "$PNAS" search "${SMALL[@]}" --run "$T/r" > /dev/null 2> "$T/1.err"
rc=$?
[ $rc = 1 ] || { tail -40 "$T/1.err"; echo "FAIL: search exit $rc (want 1: injected ENOSPC)"; exit 1; }
grep -q "No space left on device" "$T/1.err" || { tail "$T/1.err"; echo "FAIL: no ENOSPC message"; exit 1; }
"${VG[@]}" "$PNAS" search --resume "$T/r" > "$T/out" 2> "$T/2.err" ||
  { tail -40 "$T/2.err"; echo "FAIL: resume"; exit 1; }
"${VG[@]}" "$PNAS" inspect "$T/r" > /dev/null 2> "$T/3.err" || { tail -40 "$T/3.err"; echo "FAIL: inspect"; exit 1; }
"${VG[@]}" "$PNAS" predict --model "$T/r/predictor-L1.msgpack" --cell 0:identity,1:max3x3 > /dev/null 2> "$T/4.err" ||
  { tail -40 "$T/4.err"; echo "FAIL: predict"; exit 1; }
for i in 1 2 3 4; do grep -E "ERROR SUMMARY|definitely lost" "$T/$i.err" | sed "s/^==[0-9]*== /run $i: /"; done
grep -q "best cell" "$T/out" || { echo "FAIL: no result"; exit 1; }
n=$("$PNAS" inspect "$T/r" --json | wc -l)
[ "$n" = 12 ] || { echo "FAIL: $n records, want 10 + 2"; exit 1; }
echo "small search ($MODE): stopped by ENOSPC after 4 records, resumed to 12, inspect, predict: clean"
