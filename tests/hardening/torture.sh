#!/usr/bin/env bash
# Crash torture: a real small PNAS search killed with SIGKILL at random moments, KILLS times
# (at least), resumed after each kill with `pnas search --resume`. Kill moments mix: a random
# sleep after (re)start (dataset load, store open, training, predictor fit, state writes), and
# "right after the results log grows" (within 0-20 ms of a record landing: its fsync, the
# progress line, the next child's start). After each kill the complete records are snapshotted.
# Checks: the log only ever grows by appending (each snapshot is a prefix of the final log),
# every child in a snapshot is in the final log exactly once (distinct hashes == records), and
# every record's accuracy and the final result equal an uninterrupted run with the same seed.
# Usage: torture.sh PNAS KILLS REF_OUT [SEED]  (REF_OUT: make_ref.sh's directory; SEED: the kill
# schedule, random unless given, printed for reproduction)
set -u
PNAS=$1 KILLS=$2 REF=$3/ref REFOUT=$3/ref.out
SEED=${4:-$(( $(date +%s) % 100000 ))}
. "$(dirname "$0")/common.sh"
RANDOM=$SEED
T=$(mktemp -d /tmp/pnas-torture.XXXXXX)
trap 'kill -9 $pid 2>/dev/null; rm -rf "$T"' EXIT
pid=
fail() { echo "FAIL (kill schedule seed $SEED): $*"; exit 1; }
echo "kill schedule seed $SEED, $KILLS kills"

logsize() { stat -c %s "$T/b/results.log" 2>/dev/null || echo 0; }

[ "$(records "$REF" | wc -l)" = "$WANT" ] || fail "no reference run in $REF"
t0=$(date +%s)
"$PNAS" search "${ARGS[@]}" --run "$T/b" > "$T/b.out" 2> "$T/b.err" &
pid=$!
kills=0 torn=0 stale=0 snap=0
while [ $kills -lt "$KILLS" ]; do
  before=$(records "$T/b" | wc -l)
  # Spread the kills over the whole run: while more records than kills remain, let 1-3 records
  # land before a growth kill; otherwise mostly random sleeps (which also hit the predictor fit
  # and the level change).
  left_r=$((WANT - before)) left_k=$((KILLS - kills))
  grow=$((left_r / left_k)); [ $grow -gt 3 ] && grow=3
  if [ $grow -ge 1 ] && { [ $stale -ge 2 ] || [ $((RANDOM % 2)) = 0 ]; }; then
    # Right after the log grows by g records, within 0-20 ms.
    g=$((1 + RANDOM % grow))
    for _ in $(seq $g); do
      s0=$(logsize)
      while [ "$(logsize)" = "$s0" ] && kill -0 $pid 2>/dev/null; do sleep 0.01; done
    done
    sleep "0.0$(printf %02d $((RANDOM % 20)))"
    how="after $g record(s)"
  else
    # Short (0-0.4 s): on a fast machine a longer sleep lets several children finish, and the
    # run would end before KILLS kills; a restart's own start-up takes about this long.
    d=$(printf "0.%03d" $((RANDOM % 400)))
    sleep "$d"
    how="after ${d}s"
  fi
  if ! kill -0 $pid 2>/dev/null; then
    wait $pid; rc=$?
    [ $rc = 0 ] || fail "search exited $rc before kill $((kills + 1)): $(tail -3 "$T/b.err")"
    fail "search finished after only $kills kills (raise the record count or lower KILLS)"
  fi
  kill -9 $pid; wait $pid 2>/dev/null
  kills=$((kills + 1))
  records "$T/b" > "$T/snap.$kills"
  after=$(wc -l < "$T/snap.$kills")
  [ "$after" -gt "$before" ] && stale=0 || stale=$((stale + 1))
  echo "kill $kills $how: $after records"
  "$PNAS" search --resume "$T/b" > "$T/b.out" 2> "$T/b.err" &
  pid=$!
  # A torn tail is reported by the resumed run; count them (they are expected, not errors).
  sleep 0.05
  grep -q "torn last record" "$T/b.err" 2>/dev/null && torn=$((torn + 1))
  [ "$after" -ge "$WANT" ] && break
done
wait $pid; rc=$?
pid=
[ $rc = 0 ] || fail "final resumed search exited $rc: $(tail -5 "$T/b.err")"
echo "torture run: $kills kills, $torn torn records dropped, $(( $(date +%s) - t0 )) s"
[ $kills -ge "$KILLS" ] || fail "only $kills kills"

records "$T/b" > "$T/final"
n=$(wc -l < "$T/final")
[ "$n" = "$WANT" ] || fail "$n records after $kills kills, want $WANT"
u=$(cut -d' ' -f2 "$T/final" | sort -u | wc -l)
[ "$u" = "$n" ] || fail "a child was trained twice: $u distinct in $n records"
for i in $(seq 1 $kills); do
  k=$(wc -l < "$T/snap.$i")
  head -n "$k" "$T/final" | cmp -s - "$T/snap.$i" ||
    fail "records before kill $i are not a prefix of the final log: $(diff "$T/snap.$i" <(head -n "$k" "$T/final") | head -5)"
done
key() { cut -d' ' -f3,4 "$1" | sort; }
records "$REF" > "$T/ref"
diff <(key "$T/ref") <(key "$T/final") > "$T/diff" || fail "cells or accuracies differ from the uninterrupted run: $(head "$T/diff")"
diff <(grep -A1 "best cell" "$REFOUT") <(grep -A1 "best cell" "$T/b.out") ||
  fail "different final result"
echo "torture: $kills SIGKILLs, $n records, each once, identical to the uninterrupted run"
