#!/usr/bin/env bash
# Crash-safe --salvage (issue item 10b): the reference run's results.log with a flipped byte in a
# middle record (record 10), repaired with `pnas search --resume DIR --salvage` under an
# LD_PRELOAD shim (kill_shim.c) that raises SIGKILL at its Nth write, fsync or rename in the run
# directory, for N = 1, 2, ... (every step of the salvage: keeping the damaged original as
# results.log.corrupt, writing results.log.tmp, the renames and the fsyncs) until two kills
# after the repaired log is in place. After each kill results.log must be either the damaged
# original, byte for byte, or a complete repaired log (every good record); then the same
# command without the shim must finish the run with every good record exactly once (same hash,
# same training time: none retrained), the damaged record trained again, no tmp files left,
# results.log.corrupt holding the damaged original and no results.log.corrupt.1 (an identical
# one is reused). Last, a second damage of the repaired run goes to results.log.corrupt.1, the
# first results.log.corrupt untouched.
# Usage: salvage_kill.sh PNAS REF_OUT KILL_SHIM (REF_OUT: make_ref.sh's directory)
set -u
PNAS=$1 REF=$2/ref SHIM=$3
. "$(dirname "$0")/common.sh"
T=$(mktemp -d /tmp/pnas-salvage-kill.XXXXXX)
T=$(cd "$T" && pwd -P) # the shim compares the paths the kernel reports: no link in them
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
[ "$(records "$REF" | wc -l)" = "$WANT" ] || fail "no reference run in $REF"
[ -f "$SHIM" ] || fail "no kill shim at $SHIM"

# hash, training time and accuracy of every record of a run (read without --salvage), sorted.
keys() { "$PNAS" inspect "$1" --json 2> /dev/null | python3 -c '
import json, sys
for l in sys.stdin: r = json.loads(l); print(r["hash"], "%.3f" % r["time"], r["val_acc"])' | sort; }

BAD=10
cp -a "$REF" "$T/damaged"
flip "$T/damaged/results.log" $(( $(frame_off "$T/damaged/results.log" $BAD) + 40 )) 3
cp "$T/damaged/results.log" "$T/damaged.log"
"$PNAS" inspect "$T/damaged" > /dev/null 2>&1 && fail "the flipped log still reads as clean"
# The good set: every reference record but record BAD.
"$PNAS" inspect "$REF" --json | python3 -c '
import json, sys
for l in sys.stdin:
  r = json.loads(l)
  if r["seq"] != int(sys.argv[1]): print(r["hash"], "%.3f" % r["time"], r["val_acc"])' $BAD |
  sort > "$T/good"
[ "$(wc -l < "$T/good")" = $((WANT - 1)) ] || fail "good set of $(wc -l < "$T/good") records"
bad_hash=$(records "$REF" | awk -v s=$BAD '$1 == s {print $2}')
# A --salvage read (memory only) of the damaged log sees exactly the good set.
diff <("$PNAS" inspect "$T/damaged" --json --salvage 2> /dev/null | python3 -c '
import json, sys
for l in sys.stdin: r = json.loads(l); print(r["hash"], "%.3f" % r["time"], r["val_acc"])' | sort) \
  "$T/good" > /dev/null || fail "inspect --salvage does not read the good set"

# check_final W: the run after the unshimmed salvage.
check_final() {
  local W=$1 k
  keys "$W" > "$T/final"
  [ "$(wc -l < "$T/final")" = "$WANT" ] || { echo "$(wc -l < "$T/final") records, want $WANT"; return; }
  [ "$(cut -d' ' -f1 "$T/final" | sort -u | wc -l)" = "$WANT" ] || { echo "a child twice"; return; }
  k=$(comm -12 "$T/final" "$T/good" | wc -l)
  [ "$k" = $((WANT - 1)) ] || { echo "only $k of $((WANT - 1)) good records kept as they were (lost or retrained)"; return; }
  grep -q "^$bad_hash " "$T/final" || { echo "the damaged record's child was not trained again"; return; }
  for f in results.log.tmp results.log.corrupt.tmp results.log.corrupt.1; do
    [ -e "$W/$f" ] && { echo "$f left behind"; return; }
  done
  cmp -s "$W/results.log.corrupt" "$T/damaged.log" || { echo "results.log.corrupt is not the damaged original"; return; }
}

n=0 after=0 orig=0 tmp_seen=0 corrupt_tmp_seen=0 repaired=0
while :; do
  n=$((n + 1))
  [ $n -le 60 ] || fail "still killing at step $n: the shim never reached the end of the salvage"
  W=$T/k$n
  cp -a "$T/damaged" "$W"
  # (in a subshell whose stderr is dropped: bash's "Killed" notice is no failure here)
  (PNAS_KILL_DIR=$W PNAS_KILL_AT=$n LD_PRELOAD=$SHIM \
     "$PNAS" search --resume "$W" --salvage > "$W.out" 2> "$W.err") 2> /dev/null
  rc=$?
  step=$(grep -E "^kill_shim: $n .*SIGKILL" "$W.err" | sed -E 's/^kill_shim: [0-9]+ //; s/ \(SIGKILL\)//' | sed "s|$T/||g")
  if [ $rc = 0 ]; then
    [ $n -gt 8 ] || fail "the shimmed salvage finished before step $n: the shim counted nothing ($(head -3 "$W.err"))"
    echo "step $n: the salvage ran to its end without a kill"
    break
  fi
  [ $rc = 137 ] && [ -n "$step" ] || fail "step $n: exit $rc, not the shim's kill: $(grep -v kill_shim "$W.err" | tail -3)"
  # What the kill left: the damaged original, or a complete repaired log.
  if cmp -s "$W/results.log" "$T/damaged.log"; then
    state="the damaged original"
    orig=$((orig + 1))
  else
    keys "$W" > "$T/mid"
    [ "$(comm -12 "$T/mid" "$T/good" | wc -l)" = $((WANT - 1)) ] ||
      fail "step $n (killed at $step): results.log is neither the damaged original nor the complete repaired log"
    state="the repaired log"
    repaired=1
  fi
  [ -e "$W/results.log.tmp" ] && tmp_seen=1
  [ -e "$W/results.log.corrupt.tmp" ] && corrupt_tmp_seen=1
  "$PNAS" search --resume "$W" --salvage > "$W.out2" 2> "$W.err2" ||
    fail "step $n: the salvage after the kill exited $?: $(tail -3 "$W.err2")"
  why=$(check_final "$W")
  [ -z "$why" ] || fail "step $n (killed at $step, results.log was $state): $why"
  echo "step $n: killed at $step: results.log was $state; salvaged again: ok"
  [ $repaired = 1 ] && after=$((after + 1))
  [ $after -ge 2 ] && break
  rm -rf "$W" "$W".*
done
# The kills must have landed on each side of both renames.
[ $corrupt_tmp_seen = 1 ] || fail "no kill left results.log.corrupt.tmp (before its rename)"
[ $tmp_seen = 1 ] || fail "no kill left results.log.tmp (before the rename over results.log)"
[ $orig -ge 2 ] || fail "only $orig kills left the damaged original"
[ $repaired = 1 ] || fail "no kill after the rename over results.log"

# A second damage of the repaired run: kept as results.log.corrupt.1, the first one untouched.
W=$T/k$n
cp "$W/results.log.corrupt" "$T/first.corrupt"
flip "$W/results.log" $(( $(frame_off "$W/results.log" 3) + 40 )) 3
cp "$W/results.log" "$T/second.log"
"$PNAS" search --resume "$W" --salvage > "$W.out3" 2> "$W.err3" ||
  fail "second salvage exited $?: $(tail -3 "$W.err3")"
cmp -s "$W/results.log.corrupt" "$T/first.corrupt" || fail "the second salvage overwrote results.log.corrupt"
cmp -s "$W/results.log.corrupt.1" "$T/second.log" || fail "results.log.corrupt.1 is not the second damaged log"
grep -q "results.log.corrupt.1" "$W.err3" || fail "the second salvage does not name results.log.corrupt.1"
[ "$(records "$W" | wc -l)" = "$WANT" ] || fail "$(records "$W" | wc -l) records after the second salvage"
echo "salvage under a kill at each of $n steps: ok; a second damage kept as results.log.corrupt.1: ok"
