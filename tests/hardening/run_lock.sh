#!/usr/bin/env bash
# One search per run directory, and no file written through a planted link:
#  1. a run directory whose lock (DIR/.lock) is held by another process is refused - a resume
#     and a new search with the same --run both exit 1 naming the holder's pid, and nothing in
#     the directory changes (it holds a torn last record that an open would cut off);
#  2. the kernel drops the lock with its holder: the resume then works;
#  3. two searches started at once with the same --run: never both run (one refused);
#  4. the default runs/<timestamp> name is claimed with mkdir: a search started while that name
#     is taken gets runs/<timestamp>-2 (and two at once get two directories);
#  5. a symbolic link planted at config.msgpack.tmp is refused and its target untouched; a
#     stale regular tmp file is replaced;
#  6. a results.log that is a symbolic link is refused; the file it points to is untouched.
# Usage: run_lock.sh PNAS
set -u
PNAS=$1
. "$(dirname "$0")/common.sh"
T=$(mktemp -d /tmp/pnas-lock.XXXXXX)
holder=
trap '[ -n "$holder" ] && kill "$holder" 2> /dev/null; rm -rf "$T"' EXIT
SMALL=(--ops identity,max3x3 --beam 2 --max-blocks 2 --N 1 --F 2 --epochs 1 --batch 32
       --train-subset 64 --val-subset 64 --members 2 --predictor-epochs 2 --seed 5 --threads 1)
fail() { echo "FAIL: $*"; [ -f "$T/err" ] && tail -5 "$T/err"; exit 1; }

# A complete small run, then a torn tail (half of a copy of its last frame).
"$PNAS" search "${SMALL[@]}" --run "$T/r" > /dev/null 2> "$T/err" || fail "reference search"
n0=$(records "$T/r" | wc -l)
last=$(frame_off "$T/r/results.log" $((n0 - 1)))
tail -c +$((last + 1)) "$T/r/results.log" | head -c 40 >> "$T/r/results.log"

# 1. Another process holds the lock (a flock on DIR/.lock, its pid written as pnas does).
rm -f "$T/ready"
mkdir "$T/r2"
python3 -c '
import fcntl, os, sys, time
fs = []
for d in sys.argv[1:3]:
    f = open(d + "/.lock", "a+"); fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    f.truncate(0); f.write("%d otherhost\n" % os.getpid()); f.flush(); fs.append(f)
open(sys.argv[3], "w").close()
time.sleep(60)' "$T/r" "$T/r2" "$T/ready" &
holder=$!
for _ in $(seq 100); do [ -e "$T/ready" ] && break; sleep 0.1; done
[ -e "$T/ready" ] || fail "the lock holder did not start"
sum0=$(dirsum "$T/r")
"$PNAS" search --resume "$T/r" > "$T/out" 2> "$T/err"
rc=$?
[ $rc = 1 ] || fail "resume of a locked run: exit $rc, want 1"
grep -q "run directory $T/r is in use by pid $holder on otherhost (another search or resume)" \
  "$T/err" || fail "resume: the refusal does not name pid $holder"
[ "$(dirsum "$T/r")" = "$sum0" ] || fail "the refused resume changed the run directory"
# A new search into a locked directory that holds no log yet (the race of two new searches).
sum2=$(dirsum "$T/r2")
"$PNAS" search "${SMALL[@]}" --run "$T/r2" > "$T/out" 2> "$T/err"
rc=$?
[ $rc = 1 ] || fail "new search on a locked directory: exit $rc, want 1"
grep -q "run directory $T/r2 is in use by pid $holder" "$T/err" || fail "search: no pid"
[ "$(dirsum "$T/r2")" = "$sum2" ] && [ "$(ls -A "$T/r2")" = .lock ] ||
  fail "the refused search changed $T/r2: $(ls -A "$T/r2")"
echo "1. locked run directory: resume and new search refused (exit 1, pid $holder), nothing changed"

# 2. The holder dies: its lock goes with it.
kill "$holder"
wait "$holder" 2> /dev/null
holder=
"$PNAS" search --resume "$T/r" > "$T/out" 2> "$T/err" || fail "resume after the holder died"
grep -q "dropping a torn last record" "$T/err" || fail "resume did not see the torn record"
[ ! -s "$T/r/.lock" ] || fail "$T/r/.lock not emptied when the resume closed the run"
echo "2. holder gone: the resume runs (and drops the torn record); the lock file is empty after"

# 3. Two searches at once on one new --run: at most one runs, the other is refused cleanly.
"$PNAS" search "${SMALL[@]}" --run "$T/same" > "$T/o1" 2> "$T/e1" &
p1=$!
"$PNAS" search "${SMALL[@]}" --run "$T/same" > "$T/o2" 2> "$T/e2" &
p2=$!
wait $p1; rc1=$?
wait $p2; rc2=$?
ok=0
[ $rc1 = 0 ] && ok=$((ok + 1))
[ $rc2 = 0 ] && ok=$((ok + 1))
[ $ok = 1 ] || { tail -3 "$T/e1" "$T/e2"; fail "two searches on one --run: exits $rc1 and $rc2, want one 0"; }
grep -qE "is in use by pid|already holds a search" "$T/e1" "$T/e2" || fail "no refusal message"
n=$(records "$T/same" | wc -l)
ref=$(records "$T/r" | wc -l)
[ "$n" = "$ref" ] || fail "the shared --run holds $n records, want $ref (one search's)"
echo "3. two searches on one --run: one ran, one refused (exits $rc1, $rc2), $n records"

# 4. Default names: runs/<now> (and the next seconds) taken -> a -2 suffix.
mkdir "$T/cwd"
now=$(date +%s)
for d in $(seq 0 10); do
  mkdir -p "$T/cwd/runs/$(date -d "@$((now + d))" +%Y%m%d-%H%M%S)"
done
(cd "$T/cwd" && "$PNAS" search "${SMALL[@]}" > "$T/out" 2> "$T/err") ||
  fail "a search while runs/<timestamp> is taken"
dir=$(sed -n 's/.*search, run directory \(runs\/[^ ]*\)$/\1/p' "$T/err" | head -1)
case "$dir" in runs/*-2) ;; *) fail "search went to '$dir', want runs/<timestamp>-2" ;; esac
rm -rf "$T/cwd/runs"
(cd "$T/cwd" && "$PNAS" search "${SMALL[@]}" > "$T/o1" 2> "$T/e1") &
p1=$!
(cd "$T/cwd" && "$PNAS" search "${SMALL[@]}" > "$T/o2" 2> "$T/e2") &
p2=$!
wait $p1 || { tail -3 "$T/e1"; fail "first of two default-named searches"; }
wait $p2 || { tail -3 "$T/e2"; fail "second of two default-named searches"; }
nd=$(ls "$T/cwd/runs" | wc -l)
[ "$nd" = 2 ] || fail "two default-named searches made $nd run directories, want 2"
for d in "$T"/cwd/runs/*; do
  [ "$(records "$d" | wc -l)" = "$ref" ] || fail "$d does not hold one whole search"
done
echo "4. default names: runs/<ts> taken -> $dir; two at once -> 2 directories"

# 5. A planted link at config.msgpack.tmp; a stale regular tmp file.
mkdir "$T/p"
echo "victim" > "$T/victim"
ln -s "$T/victim" "$T/p/config.msgpack.tmp"
"$PNAS" search "${SMALL[@]}" --run "$T/p" > "$T/out" 2> "$T/err"
rc=$?
[ "$(cat "$T/victim")" = victim ] || fail "the link's target was written"
[ $rc = 1 ] || fail "search with a planted config.msgpack.tmp link: exit $rc, want 1"
grep -q "config.msgpack.tmp: exists and is a symbolic link" "$T/err" || fail "no clear message"
[ -L "$T/p/config.msgpack.tmp" ] || fail "the planted link was removed or replaced"
mkdir "$T/q"
echo junk > "$T/q/config.msgpack.tmp"
"$PNAS" search "${SMALL[@]}" --run "$T/q" > /dev/null 2> "$T/err" || fail "a stale tmp file"
[ ! -e "$T/q/config.msgpack.tmp" ] || fail "the stale tmp file is still there"
echo "5. link at config.msgpack.tmp refused, its target untouched; a stale tmp file replaced"

# 6. results.log a symbolic link to a log with a torn tail (an open would truncate it).
cp "$T/r/results.log" "$T/victim.log"
head -c 30 "$T/r/results.log" | tail -c 18 >> "$T/victim.log"
v0=$(sha256sum < "$T/victim.log")
rm "$T/r/results.log" && ln -s "$T/victim.log" "$T/r/results.log"
"$PNAS" search --resume "$T/r" > "$T/out" 2> "$T/err"
rc=$?
[ "$(sha256sum < "$T/victim.log")" = "$v0" ] || fail "the log link's target was changed"
[ $rc = 1 ] || fail "resume with results.log a link: exit $rc, want 1"
grep -q "results.log: is a symbolic link" "$T/err" || fail "no clear message"
echo "6. results.log a symbolic link: refused, its target untouched"
echo "run lock and safe files: ok"
