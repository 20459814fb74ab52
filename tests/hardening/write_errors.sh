#!/usr/bin/env bash
# Output that cannot be written is a failure: each command that prints its result on stdout
# exits 1 with a message on stderr when stdout is /dev/full (a full disk), and 0 otherwise.
# Trains nothing: the run directory and predictor are the fuzz seeds (as in bad_cli.sh).
# Usage: write_errors.sh PNAS
set -u
PNAS=$1
SEEDS=$(cd "$(dirname "$0")/../fuzz/corpus" && pwd)
[ -w /dev/full ] || { echo "skipped: no /dev/full"; exit 0; }
T=$(mktemp -d /tmp/pnas-write.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir "$T/run"
cp "$SEEDS/store/log-2-records" "$T/run/results.log"
M=$SEEDS/predictor/lstm-2x3.msgpack
rows=(
  "inspect $T/run"
  "inspect $T/run --json"
  "cost --cell pnasnet-5"
  "cost --cell pnasnet-5 --json"
  "predict --model $M --cell pnasnet-5"
  "predict --model $M --cell pnasnet-5 --json"
  "space count --blocks 2"
  "space count --blocks 2 --json"
  "space expand --cell 0:identity,1:max3x3"
  "space expand --cell 0:identity,1:max3x3 --count"
  "space canon --cell 0:identity,1:max3x3"
  "show --cell pnasnet-5"
  "show --cell pnasnet-5 --format text"
  "show --cell pnasnet-5 --format dot"
)
command -v dot > /dev/null && rows+=("show --cell pnasnet-5 --format svg") ||
  echo "(no Graphviz dot: show --format svg not checked)"
failures=0
for r in "${rows[@]}"; do
  # shellcheck disable=SC2086
  "$PNAS" $r > "$T/out" 2> "$T/err"
  ok=$?
  # shellcheck disable=SC2086
  "$PNAS" $r > /dev/full 2> "$T/err"
  rc=$?
  why=""
  if [ $ok != 0 ] || [ ! -s "$T/out" ]; then why="exit $ok or no output with a writable stdout"
  elif [ $rc != 1 ]; then why="exit $rc with stdout on a full disk, want 1"
  elif ! grep -qE "^pnas [a-z]+: .*(write|stdout)" "$T/err"; then
    why="no message: $(head -c 200 "$T/err")"
  fi
  if [ -n "$why" ]; then
    echo "FAIL pnas $r: $why"
    failures=$((failures + 1))
  else
    echo "ok   pnas $r > /dev/full: exit 1, $(grep "^pnas " "$T/err" | head -1)"
  fi
done
[ $failures = 0 ] || { echo "$failures of ${#rows[@]} commands fail"; exit 1; }
echo "${#rows[@]} commands: exit 1 with a message when stdout cannot be written"
