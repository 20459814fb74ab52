#!/usr/bin/env bash
# --cache is read, never written (trustworthy runs, item 1):
#  1. a search with --cache A copies the records it finds in A into its own results.log and
#     appends nothing to A (A is byte-for-byte unchanged, still resumable, its figures its own);
#  2. the cache may be a run that is live (its lock held): it is read without the lock;
#  3. --cache naming the run directory itself is refused (exit 2) and creates nothing;
#  4. a --cache that does not exist is an error (exit 1) that leaves no run directory behind.
# Usage: cache_readonly.sh PNAS
set -u
PNAS=$1
. "$(dirname "$0")/common.sh"
T=$(mktemp -d /tmp/pnas-cache.XXXXXX)
holder=
trap '[ -n "$holder" ] && kill "$holder" 2> /dev/null; rm -rf "$T"' EXIT
SMALL=(--ops identity,max3x3 --beam 2 --max-blocks 2 --N 1 --F 2 --epochs 1 --batch 32
       --train-subset 64 --val-subset 64 --members 2 --predictor-epochs 2 --seed 5 --threads 1)
fail() { echo "FAIL: $*"; [ -f "$T/err" ] && tail -5 "$T/err"; exit 1; }

"$PNAS" search "${SMALL[@]}" --run "$T/a" > /dev/null 2> "$T/err" || fail "reference search"
na=$(records "$T/a" | wc -l)
sum_a=$(dirsum "$T/a")

# 1. A wider beam trains level-2 children that A lacks: they go to B's log only.
"$PNAS" search "${SMALL[@]}" --beam 3 --run "$T/b" --cache "$T/a" > /dev/null 2> "$T/err" ||
  fail "search with --cache"
[ "$(dirsum "$T/a")" = "$sum_a" ] || fail "the cache $T/a was changed ($na records before, $(records "$T/a" | wc -l) after)"
nb=$(records "$T/b" | wc -l)
nc=$(grep -c "(cached)" "$T/err")
[ "$nc" -ge 10 ] && [ "$nb" -gt "$nc" ] || fail "b: $nb records, $nc from the cache"
"$PNAS" search --resume "$T/a" > /dev/null 2> "$T/err" || fail "the cache run no longer resumes"
echo "1. --cache A: $nc of B's $nb records copied from A; A unchanged ($na records) and resumable"

# 2. The cache's lock held by another process (a live run): read anyway.
rm -f "$T/ready"
python3 -c '
import fcntl, sys, time
f = open(sys.argv[1] + "/.lock", "a+"); fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
open(sys.argv[2], "w").close()
time.sleep(60)' "$T/a" "$T/ready" &
holder=$!
for _ in $(seq 100); do [ -e "$T/ready" ] && break; sleep 0.1; done
[ -e "$T/ready" ] || fail "the lock holder did not start"
"$PNAS" search "${SMALL[@]}" --run "$T/c" --cache "$T/a" > /dev/null 2> "$T/err" ||
  fail "--cache of a live (locked) run"
nc=$(grep -c "(cached)" "$T/err")
[ "$nc" = "$na" ] || fail "c: $nc records from the live cache, want $na"
kill "$holder"; wait "$holder" 2> /dev/null; holder=
echo "2. --cache of a live run (lock held): read without the lock, $nc hits"

# 3. --cache = --run: refused before anything is created (a new name, an empty directory, and
# the same directory spelled with a trailing slash).
for how in new empty slash; do
  d=$T/self-$how
  c=$d
  [ $how = empty ] && mkdir "$d"
  [ $how = slash ] && c=$d/
  "$PNAS" search "${SMALL[@]}" --run "$d" --cache "$c" > /dev/null 2> "$T/err"
  rc=$?
  [ $rc = 2 ] || fail "--run $d --cache $c: exit $rc, want 2"
  grep -q "names the run directory itself" "$T/err" || fail "$how: no clear message"
  if [ $how = empty ]; then
    [ -z "$(ls -A "$d")" ] || fail "$d: the refused search left $(ls -A "$d")"
  else
    [ ! -e "$d" ] || fail "$d: the refused search created it ($(ls -A "$d"))"
  fi
done
echo "3. --cache naming the run directory: exit 2, nothing created"

# 4. A missing cache: exit 1 naming it, no run directory left behind.
"$PNAS" search "${SMALL[@]}" --run "$T/d" --cache "$T/none" > /dev/null 2> "$T/err"
rc=$?
[ $rc = 1 ] || fail "missing --cache: exit $rc, want 1"
grep -q -- "--cache: $T/none: no such run directory" "$T/err" || fail "the message does not name $T/none"
[ ! -e "$T/d" ] || fail "the failed start left $T/d ($(ls -A "$T/d"))"
echo "4. missing --cache: exit 1 naming it, no run directory left"
echo "cache is read-only: ok"
