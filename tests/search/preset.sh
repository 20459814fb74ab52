#!/usr/bin/env bash
# Which space a search searches: the 4-operator space belongs to the no-flag default search (a
# named preset that says so); --beam/--max-blocks without --ops (the paper's command) searches
# the paper's 8 operators and says so; every search states its operator set at its start.
# Runs stop at once on a missing dataset directory (nothing trains).
set -u
PNAS=$1
T=$(mktemp -d "${TMPDIR:-/tmp}/pnas-preset.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$PNAS" --beam 256 --max-blocks 5 --data "$T/none" --run "$T/a" > /dev/null 2> "$T/a.err"
grep -q "the paper's space of 8 operators" "$T/a.err" || fail "no paper-space notice: $(cat "$T/a.err")"
"$PNAS" --beam 8 --ops identity,max3x3 --data "$T/none" --run "$T/b" > /dev/null 2> "$T/b.err"
if grep -q "paper's space" "$T/b.err"; then fail "--ops given, still switched to the paper's space"; fi
# A real (tiny) start states the operator set: the default preset, and the paper's command.
"$PNAS" --max-blocks 1 --ops identity,max3x3 --N 1 --F 2 --train-subset 100 --val-subset 100 \
  --threads 1 --run "$T/c" > /dev/null 2> "$T/c.err" || fail "tiny search failed: $(tail -3 "$T/c.err")"
grep -q "pnas search over 2 operators (identity,max3x3; 10 unique 1-block cells), up to 1 blocks" "$T/c.err" ||
  fail "the search does not state its operators: $(head -5 "$T/c.err")"
echo "preset: paper's command -> 8 operators (said); --ops respected; operator set stated"
