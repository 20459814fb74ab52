#!/usr/bin/env bash
# MPI search tests on a tiny real PNAS search (Fashion-MNIST). Modes:
#   reference  - the single-process search (the ctest fixture the other two compare with)
#   np3        - the same search with `mpirun -np 3` (rank 0 + 2 workers): the same trained cells
#                with bit-identical records, and the same printed result
#   dead       - the same search with 3 ranks, one worker killed with SIGKILL part-way: the job
#                must exit non-zero with a clear message and lose no finished child; then
#                `mpirun -np 3 pnas search --resume` completes it without retraining anything,
#                identical to the reference
#   pool       - test_mpi_pool (the submit/wait-any API) in one process and on 3 ranks, same log
#   worker-error - workers that cannot load the dataset: the job stops with their reason
#   nasnet     - a search of NASNet's pairs (--space nasnet) in one process and on 3 ranks:
#                the same records bit for bit (pairs travel through the MPI messages)
# usage: mpi_search.sh MODE PNAS MPI_RECORDS MPIRUN WORKDIR
set -u
MODE=$1 PNAS=$2 RECORDS=$3 MPIRUN=$4 WORK=$5
fail() { echo "FAIL ($MODE): $*"; exit 1; }
if [ -n "${OPENBLAS_CORETYPE:-}" ] && ! grep -qw avx2 /proc/cpuinfo; then
  echo "SKIP: OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE needs AVX2, which this CPU lacks"; exit 77
fi
ARGS=(--ops sep3x3,max3x3,identity --beam 4 --max-blocks 2 --N 1 --F 4 --train-subset 600
      --val-subset 300 --members 2 --predictor-epochs 20 --threads 1 --seed 3)
WANT=$((21 + 4)) # 21 unique 1-block cells of 3 ops, then the top 4 level-2 children
REF=$WORK/ref

# Open MPI as root in a container on one machine, without a network: shared memory only,
# oversubscribed (2 cores, 3 ranks), no binding, no single-copy (CMA is often blocked).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_hwloc_base_binding_policy=none
export OMPI_MCA_plm_rsh_agent=false
MPI=("$MPIRUN" --oversubscribe -np 3)

check_run() { # DIR OUTFILE: WANT distinct records identical to the reference, same result
  local d=$1 out=$2
  "$RECORDS" "$d" > "$d.records" || fail "cannot read $d"
  local n u
  n=$(wc -l < "$d.records")
  u=$(cut -d' ' -f1 "$d.records" | sort -u | wc -l)
  [ "$n" = "$WANT" ] || fail "$d holds $n records, want $WANT"
  [ "$u" = "$WANT" ] || fail "$d: a child was trained twice ($u distinct cells in $n records)"
  diff "$REF.records" "$d.records" > "$d.diff" ||
    fail "records differ from the single-process run: $(head -20 "$d.diff")"
  diff <(grep -A1 "best cell" "$REF.out") <(grep -A1 "best cell" "$out") ||
    fail "different final result: $(cat "$out")"
}

case $MODE in
reference)
  rm -rf "$REF" "$REF".*
  mkdir -p "$WORK"
  "$PNAS" search "${ARGS[@]}" --run "$REF" > "$REF.out" 2> "$REF.err" ||
    { cat "$REF.err"; fail "single-process search failed"; }
  "$RECORDS" "$REF" > "$REF.records" || fail "cannot read $REF"
  [ "$(wc -l < "$REF.records")" = "$WANT" ] || fail "reference holds the wrong number of records"
  grep -q "best cell (level 2)" "$REF.out" || fail "no result printed: $(cat "$REF.out")"
  echo "reference: $WANT children, $(grep 'best cell' "$REF.out")"
  ;;
np3)
  [ -s "$REF.records" ] || fail "no reference run in $REF (run the mpi_reference test first)"
  D=$WORK/np3
  rm -rf "$D" "$D".*
  timeout 600 "${MPI[@]}" "$PNAS" search "${ARGS[@]}" --run "$D" > "$D.out" 2> "$D.err" ||
    { cat "$D.err"; fail "3-rank search failed"; }
  grep -q "pnas: MPI: 3 ranks" "$D.err" || fail "not run as 3 ranks: $(head "$D.err")"
  [ "$(grep -c 'pnas: MPI: worker rank' "$D.err")" = 2 ] || fail "not 2 workers: $(head "$D.err")"
  check_run "$D" "$D.out"
  echo "np3: the same $WANT records bit for bit and the same best cell as one process"
  ;;
dead)
  [ -s "$REF.records" ] || fail "no reference run in $REF (run the mpi_reference test first)"
  D=$WORK/dead
  rm -rf "$D" "$D".*
  timeout 600 "${MPI[@]}" "$PNAS" search "${ARGS[@]}" --run "$D" > "$D.out" 2> "$D.err" &
  job=$!
  # Kill worker rank 1 once 6 children are in the log (level 1 has 21).
  for _ in $(seq 1 3000); do
    c=$("$RECORDS" "$D" 2>/dev/null | wc -l)
    [ "$c" -ge 6 ] && break
    kill -0 $job 2>/dev/null || { cat "$D.err"; fail "search ended before the kill"; }
    sleep 0.1
  done
  pid=$(sed -n 's/^pnas: MPI: worker rank 1 pid \([0-9]*\) .*/\1/p' "$D.err")
  [ -n "$pid" ] || fail "no pid of worker rank 1 in: $(head "$D.err")"
  "$RECORDS" "$D" > "$D.before"
  kill -9 "$pid"
  wait $job
  rc=$?
  [ "$rc" != 0 ] || fail "the job exited 0 after a worker was killed"
  [ "$rc" != 124 ] || fail "the job hung after a worker was killed"
  grep -q "pnas: rank 0 was terminated by the MPI launcher" "$D.err" ||
    fail "no clear message from rank 0: $(cat "$D.err")"
  grep -q "pnas search --resume $D" "$D.err" || fail "the message does not say how to resume"
  "$RECORDS" "$D" > "$D.after" || fail "the log is unreadable after the kill"
  # Nothing finished is lost: every record present before the kill is still there.
  comm -23 <(sort "$D.before") <(sort "$D.after") > "$D.lost"
  [ ! -s "$D.lost" ] || fail "records lost: $(cat "$D.lost")"
  nb=$(wc -l < "$D.after")
  timeout 600 "${MPI[@]}" "$PNAS" search --resume "$D" > "$D.out2" 2> "$D.err2" ||
    { cat "$D.err2"; fail "resumed search failed"; }
  cached=$(grep -c "(cached)" "$D.err2")
  [ "$cached" = "$nb" ] || fail "resume found $cached of the $nb finished children in the log"
  check_run "$D" "$D.out2"
  echo "dead worker: job exited $rc with a clear message, $nb children kept; resumed under MPI to" \
       "the same $WANT records and result as one process"
  ;;
nasnet)
  NA=(--space nasnet --ops sep3x3,max3x3 --beam 2 --max-blocks 2 --N 1 --F 4 --train-subset 300
      --val-subset 200 --members 2 --predictor-epochs 10 --threads 1 --seed 3)
  D=$WORK/nasnet
  rm -rf "$D" "$D".*
  mkdir -p "$WORK"
  "$PNAS" search "${NA[@]}" --run "$D.one" > "$D.one.out" 2> "$D.one.err" ||
    { cat "$D.one.err"; fail "single-process pair search failed"; }
  timeout 600 "${MPI[@]}" "$PNAS" search "${NA[@]}" --run "$D" > "$D.out" 2> "$D.err" ||
    { cat "$D.err"; fail "3-rank pair search failed"; }
  grep -q "pnas: MPI: 3 ranks" "$D.err" || fail "not run as 3 ranks: $(head "$D.err")"
  "$RECORDS" "$D.one" > "$D.one.records" && "$RECORDS" "$D" > "$D.records" || fail "cannot read the logs"
  [ "$(wc -l < "$D.records")" = 12 ] || fail "want 10 tied pairs + 2: $(wc -l < "$D.records")"
  grep -q '|' "$D.records" || fail "no pair in the records: $(head -2 "$D.records")"
  diff "$D.one.records" "$D.records" > "$D.diff" || fail "records differ: $(head -10 "$D.diff")"
  echo "nasnet: 12 pair records bit for bit the same on 3 ranks as in one process"
  ;;
worker-error)
  # The workers run in a directory without the dataset that rank 0 finds at --data
  # /proc/self/cwd/fm (a path that is absolute, so pnas keeps it as given, and that names each
  # process's own working directory: a dataset present on rank 0's node only). Each worker
  # reports the error, and rank 0 stops the job with it (exit 1, not a hang). A relative --data
  # would not do: pnas search saves it absolute, so the workers would find rank 0's copy.
  D=$WORK/werr
  rm -rf "$D" "$D".*
  mkdir -p "$D.rank0" "$D.workers"
  data=$(dirname "$(find /usr/share/datasets/fashion-mnist -name 'train-images-idx3-ubyte*' 2>/dev/null | head -1)")
  [ -d "$data" ] || fail "no Fashion-MNIST under /usr/share/datasets/fashion-mnist"
  ln -s "$data" "$D.rank0/fm"
  timeout 300 "$MPIRUN" --oversubscribe -np 1 --wdir "$D.rank0" "$PNAS" search "${ARGS[@]}" \
    --data /proc/self/cwd/fm --run "$D" : -np 2 --wdir "$D.workers" "$PNAS" > "$D.out" 2> "$D.err"
  rc=$?
  [ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "exit status $rc: $(cat "$D.err")"
  grep -q "pnas search: worker rank [12] failed: /proc/self/cwd/fm/train-images.*missing file" "$D.err" ||
    fail "no clear message naming the worker and the missing file: $(cat "$D.err")"
  grep -q "continue with: pnas search --resume $D" "$D.err" || fail "no resume hint"
  echo "worker error: the job stopped with exit $rc and the worker's reason"
  ;;
gpu-pick)
  # One GPU per worker: with CUDA_VISIBLE_DEVICES=5,7 the two workers of this node take 5 and 7
  # (local rank mod 2) and say so in their hello; --device cpu still trains on the CPU. Then
  # --device cuda where the workers have no usable GPU stops the job with the worker's reason.
  D=$WORK/gpupick
  rm -rf "$D" "$D".* "$D"c "$D"c.*
  CUDA_VISIBLE_DEVICES=5,7 timeout 300 "${MPI[@]}" -x CUDA_VISIBLE_DEVICES "$PNAS" search \
    "${ARGS[@]}" --max-blocks 1 --device cpu --run "$D" > "$D.out" 2> "$D.err" ||
    fail "exit $?: $(tail -5 "$D.err")"
  grep -q "worker rank [12] .*device gpu 5" "$D.err" && grep -q "worker rank [12] .*device gpu 7" "$D.err" ||
    fail "workers did not take GPUs 5 and 7: $(grep worker "$D.err")"
  grep -q "best cell" "$D.out" || fail "no result with --device cpu"
  timeout 300 env -u CUDA_VISIBLE_DEVICES "${MPI[@]}" "$PNAS" search "${ARGS[@]}" --max-blocks 1 \
    --device cuda --run "$D"c > "$D"c.out 2> "$D"c.err
  rc=$?
  if grep -q "device gpu" "$D"c.err; then
    echo "this node has GPUs: --device cuda under MPI not checked for refusal"
  else
    [ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "--device cuda without GPUs: exit $rc"
    grep -q "worker rank [12] failed: --device cuda: " "$D"c.err ||
      fail "no clear message from the worker: $(tail -5 "$D"c.err)"
  fi
  echo "gpu pick: workers took GPUs 5 and 7; --device cuda without GPUs: exit $rc with the reason"
  ;;
pool)
  # $PNAS is test_mpi_pool here: the asynchronous API in one process and on 3 ranks.
  D=$WORK/pool
  rm -rf "$D"1 "$D"3 "$D".*
  "$PNAS" "${D}1" || fail "test_mpi_pool failed in one process"
  timeout 300 "${MPI[@]}" "$PNAS" "${D}3" > "$D.out" 2> "$D.err" ||
    { cat "$D.out" "$D.err"; fail "test_mpi_pool failed on 3 ranks"; }
  cat "$D.out"
  grep -q "(2 worker ranks): ok" "$D.out" || fail "not run with 2 workers"
  "$RECORDS" "${D}1" > "$D.1" && "$RECORDS" "${D}3" > "$D.3" || fail "cannot read the logs"
  diff "$D.1" "$D.3" || fail "one process and 3 ranks stored different records"
  ;;
*) fail "unknown mode" ;;
esac
