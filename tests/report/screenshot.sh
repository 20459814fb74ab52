#!/usr/bin/env bash
# The single-run and the comparison report rendered in headless Chromium: each must give a
# non-trivial screenshot, and in the page Chromium renders every figure must carry its labelled
# axes and every data point behind it must lie within the axes (check_figures.py). Skipped (77)
# where /usr/bin/chromium, gnuplot or Graphviz are absent.
# Usage: screenshot.sh PNAS_BINARY CHECK_FIGURES_PY
set -u
PNAS=$1
CHECK=$2
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "no $CHROMIUM: skipped"; exit 77; }
command -v gnuplot > /dev/null && command -v dot > /dev/null || { echo "no gnuplot/dot: skipped"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/pnas-shot.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
TINY=(--ops identity,max3x3 --max-blocks 2 --N 1 --F 4 --epochs 1 --batch 32 --train-subset 200
      --val-subset 100 --threads 1)
# A comparison: random search, 2 seeds. A single run: PNAS (its predictions get a figure).
for s in 1 2; do
  "$PNAS" search --strategy random --seed $s --budget-models 4 "${TINY[@]}" \
    --run "$T/random-seed$s" > /dev/null 2> "$T/s.err" || { cat "$T/s.err"; fail "search"; }
done
"$PNAS" search --beam 2 --members 2 --predictor-epochs 10 "${TINY[@]}" --run "$T/pnas" > /dev/null \
  2> "$T/s.err" || { cat "$T/s.err"; fail "pnas search"; }
"$PNAS" report "$T/random-seed1" "$T/random-seed2" --out "$T/cmp" > /dev/null 2> "$T/r.err" ||
  fail "report: $(cat "$T/r.err")"
"$PNAS" report "$T/pnas" --out "$T/one" > /dev/null 2> "$T/r.err" || fail "report: $(cat "$T/r.err")"
[ -s "$T/r.err" ] && fail "report printed on stderr: $(cat "$T/r.err")"
for r in cmp one; do
  prof=$(mktemp -d "$T/profile.XXXXXX")
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run \
    --user-data-dir="$prof" --screenshot="$T/$r.png" --window-size=1200,3000 \
    "file://$T/$r/report.html" > "$T/chromium.log" 2>&1 || { tail -5 "$T/chromium.log"; fail "chromium failed"; }
  [ -s "$T/$r.png" ] || fail "$r: no screenshot"
  size=$(stat -c %s "$T/$r.png")
  # A blank 1200x3000 page compresses to a few KiB; tables, curves and drawings do not.
  [ "$size" -gt 30000 ] || fail "$r: screenshot is only $size bytes (blank page?)"
  head -c 8 "$T/$r.png" | od -An -c | grep -q 'P   N   G' || fail "$r: not a PNG"
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run \
    --user-data-dir="$prof" --dump-dom "file://$T/$r/report.html" > "$T/$r.dom" 2> "$T/chromium.log" ||
    { tail -5 "$T/chromium.log"; fail "chromium --dump-dom failed"; }
  /usr/bin/python3 "$CHECK" "$T/$r" "$T/$r.dom" || fail "$r: figures"
  echo "$r: screenshot ok ($size bytes), figures ok"
done
grep -q "fig-predicted.svg" "$T/one/report.md" || fail "the PNAS run's report has no predicted-vs-measured figure"
