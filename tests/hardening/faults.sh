#!/usr/bin/env bash
# Resource faults: the disk fills up while a record is written. (1) Injected: PNAS_FAULT_WRITE_AFTER=N
# (honoured by store_append: the append after N good ones writes half its frame, then fails with
# ENOSPC), at a level-2 child (the tmpfs case below fills up during level 1). (2) Real: the run directory on a tmpfs of 12 KiB
# (three pages: config, the lock file .lock while the search runs, and the log), when this container may mount one; skipped (said so) otherwise.
# Each time: exit 1, a message naming the log and the full disk, the log intact (N complete
# records, no torn tail), and `pnas search --resume` after the fault completes the search with
# the same records and result as the uninterrupted reference.
# Usage: faults.sh PNAS REF_OUT (make_ref.sh's directory)
set -u
PNAS=$1 REF=$2/ref REFOUT=$2/ref.out
. "$(dirname "$0")/common.sh"
T=$(mktemp -d /tmp/pnas-faults.XXXXXX)
M=$T/mnt
trap 'mountpoint -q "$M" 2>/dev/null && umount "$M"; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
[ "$(records "$REF" | wc -l)" = "$WANT" ] || fail "no reference run in $REF"

# check_stopped RUN ERRFILE N: the search stopped cleanly after N records with the right message.
check_stopped() {
  local run=$1 errf=$2 n=$3
  grep -q "pnas search: $run/results.log: cannot write a record: No space left on device (the log is intact; free space and rerun with --resume)" "$errf" ||
    fail "no clear message: $(tail -2 "$errf")"
  crashed 1 "$errf" && fail "crash report: $(tail -3 "$errf")"
  "$PNAS" inspect "$run" --json > "$T/insp" 2> "$T/insp.err" || fail "log unreadable after the fault: $(cat "$T/insp.err")"
  [ -s "$T/insp.err" ] && fail "log not clean after the fault: $(cat "$T/insp.err")"
  local got; got=$(wc -l < "$T/insp")
  [ "$got" = "$n" ] || fail "log holds $got records after the fault, want $n"
}
check_resumed() {
  local run=$1
  "$PNAS" search --resume "$run" > "$T/res.out" 2> "$T/res.err" || fail "resume after the fault: $(tail -3 "$T/res.err")"
  [ "$(records "$run" | wc -l)" = "$WANT" ] || fail "$(records "$run" | wc -l) records after resume"
  diff <(acc_key "$REF") <(acc_key "$run") > /dev/null || fail "records differ from the reference"
  diff <(grep -A1 "best cell" "$REFOUT") <(grep -A1 "best cell" "$T/res.out") > /dev/null || fail "final result differs"
}

for n in 22; do
  PNAS_FAULT_WRITE_AFTER=$n "$PNAS" search "${ARGS[@]}" --run "$T/inj$n" > /dev/null 2> "$T/inj$n.err"
  rc=$?
  [ $rc = 1 ] || fail "injected disk full after $n records: exit $rc, want 1: $(tail -2 "$T/inj$n.err")"
  check_stopped "$T/inj$n" "$T/inj$n.err" $n
  check_resumed "$T/inj$n"
  echo "ok   injected ENOSPC at record $((n + 1)): exit 1, log intact ($n records), resume completes identically"
done

mkdir -p "$M"
if mount -t tmpfs -o size=12k tmpfs "$M" 2> /dev/null; then
  "$PNAS" search "${ARGS[@]}" --run "$M/run" > /dev/null 2> "$T/full.err"
  rc=$?
  [ $rc = 1 ] || fail "tmpfs full: exit $rc, want 1: $(tail -2 "$T/full.err")"
  n=$(records "$M/run" | wc -l)
  [ "$n" -ge 1 ] && [ "$n" -lt "$WANT" ] || fail "tmpfs full after $n records?"
  check_stopped "$M/run" "$T/full.err" "$n"
  mount -o remount,size=4m "$M" || fail "cannot grow the tmpfs"
  check_resumed "$M/run"
  echo "ok   real full disk (12 KiB tmpfs) at record $((n + 1)): exit 1, log intact ($n records), resume after freeing space completes identically"
else
  echo "skipped: real full disk (cannot mount a tmpfs here); the injected faults above ran"
fi
