#!/usr/bin/env bash
# Fixture of the hardening tests: the uninterrupted reference run of the small search, in OUT/ref
# (OUT/ref.out holds its printed result). Reused when already complete.
set -u
PNAS=$1 OUT=$2
. "$(dirname "$0")/common.sh"
mkdir -p "$OUT"
# Reused only when made by this very binary (a rebuilt trainer may give other accuracies).
bin=$(sha256sum < "$PNAS")
if [ -s "$OUT/ref.out" ] && [ "$(cat "$OUT/ref.bin" 2>/dev/null)" = "$bin" ] &&
   [ "$(records "$OUT/ref" | wc -l)" = "$WANT" ]; then
  echo "reference run present"; exit 0
fi
rm -rf "$OUT/ref" "$OUT/ref.out" "$OUT/ref.bin"
"$PNAS" search "${ARGS[@]}" --run "$OUT/ref" > "$OUT/ref.tmp" 2> "$OUT/ref.err" ||
  { cat "$OUT/ref.err"; echo "FAIL: reference search"; exit 1; }
n=$(records "$OUT/ref" | wc -l)
[ "$n" = "$WANT" ] || { echo "FAIL: reference run holds $n records, want $WANT"; exit 1; }
mv "$OUT/ref.tmp" "$OUT/ref.out"
echo "$bin" > "$OUT/ref.bin"
echo "reference run: $n records"
