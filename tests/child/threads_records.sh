#!/usr/bin/env bash
# A CPU child may take fewer threads than --threads when the machine is oversubscribed
# (kn_threads_for_load), which is only sound because the records do not depend on the thread
# count: a tiny search with --threads 1, 2 and 3 (PNAS_FIXED_THREADS=1: exactly those) gives
# the same records, bit for bit, timings aside; and so does --threads 2 left to adapt.
set -u
PNAS=$1
T=$(mktemp -d "${TMPDIR:-/tmp}/pnas-threads.XXXXXX")
trap 'rm -rf "$T"' EXIT
A=(--ops sep3x3,max3x3 --max-blocks 2 --beam 2 --train-subset 400 --val-subset 200 --device cpu)
strip() { "$PNAS" inspect "$1" --json | sed -E 's/"(time|elapsed|seconds)": [0-9.e+-]*//g'; }
for t in 1 2 3; do
  PNAS_FIXED_THREADS=1 "$PNAS" "${A[@]}" --threads $t --run "$T/t$t" > /dev/null 2> "$T/t$t.err" ||
    { echo "FAIL: search --threads $t: $(tail -2 "$T/t$t.err")"; exit 1; }
  strip "$T/t$t" > "$T/t$t.json"
done
"$PNAS" "${A[@]}" --threads 2 --run "$T/auto" > /dev/null 2>&1 || { echo "FAIL: adaptive"; exit 1; }
strip "$T/auto" > "$T/auto.json"
[ "$(grep -c '"ok": true' "$T/t1.json")" = 12 ] || { echo "FAIL: 10 + 2 trained records expected"; exit 1; }
for x in t2 t3 auto; do
  cmp -s "$T/t1.json" "$T/$x.json" || { echo "FAIL: records with $x differ from --threads 1"; diff "$T/t1.json" "$T/$x.json" | head -4; exit 1; }
done
echo "records identical with --threads 1, 2, 3 and adaptive 2"
