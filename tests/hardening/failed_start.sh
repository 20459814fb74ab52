#!/usr/bin/env bash
# A search that fails to start leaves nothing that blocks the next try (trustworthy runs,
# item 2), and the messages say what to do:
#  1. a bad --data: exit 1, "nothing was left in DIR", no DIR; the same --run then works;
#  2. --dataset cifar10 with no data: the same;
#  3. the config cannot be written (config.msgpack.tmp is a directory, as a full disk would):
#     exit 1, only that obstacle is left; once it is gone the same command works;
#  4. the default run name (runs/<timestamp>) of a failed start is removed again;
#  5. a directory whose log holds no record (the first record could not be written) is taken
#     over by a new search with the same --run, said on stderr;
#  6. --resume of a directory with an empty log and no config says to start a new search.
# Usage: failed_start.sh PNAS
set -u
PNAS=$1
. "$(dirname "$0")/common.sh"
T=$(mktemp -d /tmp/pnas-start.XXXXXX)
trap 'rm -rf "$T"' EXIT
SMALL=(--ops identity,max3x3 --beam 2 --max-blocks 2 --N 1 --F 2 --epochs 1 --batch 32
       --train-subset 64 --val-subset 64 --members 2 --predictor-epochs 2 --seed 5 --threads 1)
fail() { echo "FAIL: $*"; [ -f "$T/err" ] && tail -5 "$T/err"; exit 1; }
again() { # the same --run, now with good flags: a whole search
  "$PNAS" search "${SMALL[@]}" --run "$1" > /dev/null 2> "$T/err" || fail "$2: the next try with --run $1 failed"
  [ "$(records "$1" | wc -l)" = 12 ] || fail "$2: the next try did not run the whole search"
}

# 1. Bad --data.
"$PNAS" search "${SMALL[@]}" --data "$T/nodata" --run "$T/c" > /dev/null 2> "$T/err"
rc=$?
[ $rc = 1 ] || fail "bad --data: exit $rc, want 1"
grep -q "nothing was left in $T/c: fix --data/--dataset and start the search again" "$T/err" ||
  fail "bad --data: the message does not say what to do"
[ ! -e "$T/c" ] || fail "bad --data left $T/c: $(ls -A "$T/c")"
again "$T/c" "bad --data"
echo "1. bad --data: exit 1, nothing left, the same --run then works"

# 2. CIFAR-10 without its data.
"$PNAS" search "${SMALL[@]}" --dataset cifar10 --run "$T/d" > /dev/null 2> "$T/err"
rc=$?
[ $rc = 1 ] || fail "cifar10 without data: exit $rc, want 1"
grep -q "nothing was left in $T/d" "$T/err" || fail "cifar10: no hint"
[ ! -e "$T/d" ] || fail "cifar10 without data left $T/d: $(ls -A "$T/d")"
again "$T/d" "cifar10 without data"
echo "2. --dataset cifar10 without data: exit 1, nothing left, the same --run then works"

# 3. The config cannot be written.
mkdir -p "$T/e/config.msgpack.tmp"
"$PNAS" search "${SMALL[@]}" --run "$T/e" > /dev/null 2> "$T/err"
rc=$?
[ $rc = 1 ] || fail "config not writable: exit $rc, want 1"
grep -q "nothing was left in $T/e" "$T/err" || fail "config not writable: no hint"
[ "$(ls -A "$T/e")" = config.msgpack.tmp ] || fail "config not writable: left $(ls -A "$T/e")"
rmdir "$T/e/config.msgpack.tmp"
again "$T/e" "config not writable"
echo "3. config not writable: exit 1, nothing but the obstacle left, then the same --run works"

# 4. The default run name.
mkdir "$T/cwd"
(cd "$T/cwd" && "$PNAS" search "${SMALL[@]}" --data "$T/nodata" > /dev/null 2> "$T/err")
[ -z "$(ls -A "$T/cwd/runs" 2> /dev/null)" ] || fail "the default run name was left: $(ls "$T/cwd/runs")"
echo "4. default run name of a failed start: removed"

# 5. The first record cannot be written (an injected full disk): config and an empty log stay
# (--resume would continue it); a new search with the same --run takes it over.
PNAS_FAULT_WRITE_AFTER=0 "$PNAS" search "${SMALL[@]}" --run "$T/f" > /dev/null 2> "$T/err"
[ $? = 1 ] || fail "injected full disk: the search did not fail"
[ "$(records "$T/f" | wc -l)" = 0 ] && [ -e "$T/f/results.log" ] || fail "f: want an empty log"
"$PNAS" search "${SMALL[@]}" --run "$T/f" > /dev/null 2> "$T/err" ||
  fail "a new search on a directory without records"
grep -q "$T/f holds no trained children (an earlier start failed); starting a new search there" \
  "$T/err" || fail "f: the take-over is not said"
[ "$(records "$T/f" | wc -l)" = 12 ] || fail "f: the new search is not whole"
echo "5. a directory without records: a new search takes it over (said on stderr)"

# 6. An empty log and no config: resume says what to do; a new search works.
mkdir "$T/g"
head -c 12 "$T/c/results.log" > "$T/g/results.log"
"$PNAS" search --resume "$T/g" > /dev/null 2> "$T/err"
rc=$?
[ $rc = 1 ] || fail "resume without config: exit $rc, want 1"
grep -q "$T/g holds no trained children (a start that failed?): start a new search there instead" \
  "$T/err" || fail "resume without config: no hint"
again "$T/g" "empty log, no config"
echo "6. resume of a directory without records or config: says to start a new search"
echo "failed starts leave nothing behind: ok"
