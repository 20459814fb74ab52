#!/usr/bin/env bash
# Renders a small real report in headless Chromium and checks that a non-trivial screenshot
# comes out. Skipped (77) where /usr/bin/chromium is absent.
# Usage: screenshot.sh PNAS_BINARY
set -u
PNAS=$1
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "no $CHROMIUM: skipped"; exit 77; }
command -v gnuplot > /dev/null && command -v dot > /dev/null || { echo "no gnuplot/dot: skipped"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/pnas-shot.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
for s in 1 2; do
  "$PNAS" search --strategy random --seed $s --budget-models 4 --ops identity,max3x3 --max-blocks 2 \
    --N 1 --F 4 --epochs 1 --batch 32 --train-subset 200 --val-subset 100 --threads 1 \
    --run "$T/random-seed$s" > /dev/null 2> "$T/s.err" || { cat "$T/s.err"; fail "search"; }
done
"$PNAS" report "$T/random-seed1" "$T/random-seed2" --out "$T/r" > /dev/null || fail "report"
"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run \
  --user-data-dir="$(mktemp -d "$T/profile.XXXXXX")" --screenshot="$T/shot.png" \
  --window-size=1200,3000 "file://$T/r/report.html" > "$T/chromium.log" 2>&1 ||
  { tail -5 "$T/chromium.log"; fail "chromium failed"; }
[ -s "$T/shot.png" ] || fail "no screenshot"
size=$(stat -c %s "$T/shot.png")
# A blank 1200x3000 page compresses to a few KiB; tables, curves and drawings do not.
[ "$size" -gt 30000 ] || fail "screenshot is only $size bytes (blank page?)"
head -c 8 "$T/shot.png" | od -An -c | grep -q 'P   N   G' || fail "not a PNG"
echo "screenshot ok: $size bytes"
