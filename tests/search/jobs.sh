#!/usr/bin/env bash
# --jobs J: several children trained at once in one process. For each strategy (pnas, random,
# evolution, rl) a tiny real search with --jobs 1 and with --jobs 3 (same --threads 2) must train
# the same cells to bit-identical records (mpi_records: every field but seq/time/seconds, floats
# in hex), write the same state files and print the same best cell; a --jobs 3 PNAS search killed
# with SIGKILL twice and resumed ends like the uninterrupted one; --jobs is saved in the config
# but is not a training setting (same settings hash); bad values are usage errors (exit 2).
# The wall times of the --jobs 1 / 3 runs are printed, not asserted.
# usage: jobs.sh PNAS MPI_RECORDS
set -u
PNAS=$1 RECORDS=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/pnas-jobs.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
COMMON=(--ops sep3x3,max3x3,identity --max-blocks 2 --N 1 --F 4 --epochs 1 --batch 32
        --threads 2)
PNAS_ARGS=("${COMMON[@]}" --beam 4 --train-subset 400 --val-subset 200 --members 2
           --predictor-epochs 20 --seed 3)
WANT=$((21 + 4)) # 21 unique 1-block cells of 3 ops, then the top 4 level-2 children
BASE_ARGS=("${COMMON[@]}" --budget-models 8 --train-subset 300 --val-subset 200 --population 6
           --sample 3 --rl-batch 3 --seed 5)

same_run() { # DIR_A DIR_B OUT_A OUT_B WHAT
  "$RECORDS" "$1" > "$1.records" || fail "$5: cannot read $1"
  "$RECORDS" "$2" > "$2.records" || fail "$5: cannot read $2"
  diff "$1.records" "$2.records" > "$T/diff" || fail "$5: records differ: $(head -20 "$T/diff")"
  diff <(grep -A1 "best cell" "$3") <(grep -A1 "best cell" "$4") > /dev/null ||
    fail "$5: different final result: $(grep -A1 "best cell" "$3" "$4")"
  for f in state.msgpack rl-controller.msgpack; do
    [ -e "$1/$f" ] || continue
    cmp -s "$1/$f" "$2/$f" || fail "$5: $f differs"
  done
}

# 1. Every strategy: --jobs 1 and --jobs 3 give the same search.
for strat in pnas random evolution rl; do
  if [ $strat = pnas ]; then ARGS=("${PNAS_ARGS[@]}"); n=$WANT; else ARGS=("${BASE_ARGS[@]}" --strategy $strat); n=8; fi
  for j in 1 3; do
    t0=$(now)
    "$PNAS" search "${ARGS[@]}" --jobs $j --run "$T/$strat$j" > "$T/$strat$j.out" 2> "$T/$strat$j.err" ||
      { cat "$T/$strat$j.err"; fail "$strat --jobs $j failed"; }
    echo "$strat --jobs $j: $(since "$t0") s"
  done
  c=$("$PNAS" inspect "$T/${strat}3" --json | wc -l)
  [ "$c" = $n ] || fail "$strat --jobs 3 holds $c records, want $n"
  same_run "$T/${strat}1" "$T/${strat}3" "$T/${strat}1.out" "$T/${strat}3.out" "$strat --jobs 1 vs 3"
done
grep -q "best cell (level 2)" "$T/pnas3.out" || fail "no result printed: $(cat "$T/pnas3.out")"

# 2. --jobs is saved in config.msgpack but is not a training setting.
LC_ALL=C grep -qa $'jobs\x03' "$T/pnas3/config.msgpack" || fail "config.msgpack lacks jobs=3"
s1=$("$PNAS" inspect "$T/pnas1" --json | grep -o '"settings": "[0-9a-f]*"' | sort -u)
s3=$("$PNAS" inspect "$T/pnas3" --json | grep -o '"settings": "[0-9a-f]*"' | sort -u)
[ -n "$s1" ] && [ "$s1" = "$s3" ] || fail "--jobs changed the training settings: $s1 / $s3"

# 3. --jobs 3, killed with SIGKILL twice (children in flight), resumed (jobs comes from the
# config): the same records and the same answer as the uninterrupted run.
"$PNAS" search "${PNAS_ARGS[@]}" --jobs 3 --run "$T/k" > /dev/null 2> "$T/k.err" &
pid=$!
for kill_at in 5 15; do
  while :; do
    c=$(("$PNAS" inspect "$T/k" --json 2>/dev/null || true) | wc -l)
    [ "$c" -ge $kill_at ] && break
    kill -0 $pid 2>/dev/null || fail "run k ended before the kill at $kill_at: $(cat "$T/k.err")"
    sleep 0.05
  done
  kill -9 $pid; wait $pid 2>/dev/null
  "$PNAS" search --resume "$T/k" > "$T/k.out" 2> "$T/k.err" &
  pid=$!
done
wait $pid || { cat "$T/k.err"; fail "resumed run failed"; }
c=$("$PNAS" inspect "$T/k" --json | wc -l)
[ "$c" = $WANT ] || fail "run k holds $c records after kill/resume, want $WANT (trained twice?)"
same_run "$T/pnas3" "$T/k" "$T/pnas3.out" "$T/k.out" "--jobs 3 kill/resume"

# 4. Bad values: usage errors naming the flag.
for bad in "--jobs 0" "--jobs 65" "--jobs x" "--jobs-per-gpu 0" "--jobs"; do
  "$PNAS" search $bad --run "$T/bad" > /dev/null 2> "$T/bad.err"; rc=$?
  [ $rc = 2 ] || fail "'$bad' exited $rc, want 2: $(cat "$T/bad.err")"
  grep -q -- "--jobs" "$T/bad.err" || fail "'$bad': unclear message: $(cat "$T/bad.err")"
  [ -e "$T/bad" ] && fail "'$bad' created a run directory"
done
"$PNAS" search --help | grep -q -- "--jobs J" || fail "--jobs missing from --help"
# The alias sets the same field.
"$PNAS" search "${BASE_ARGS[@]}" --strategy random --budget-models 2 --jobs-per-gpu 2 \
  --run "$T/alias" > /dev/null 2> "$T/alias.err" || { cat "$T/alias.err"; fail "--jobs-per-gpu run"; }
LC_ALL=C grep -qa $'jobs\x02' "$T/alias/config.msgpack" || fail "--jobs-per-gpu 2 not saved as jobs=2"
echo "jobs: pnas, random, evolution, rl identical with --jobs 1 and 3; kill/resume identical"
