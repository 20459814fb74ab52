#!/usr/bin/env bash
# Wall time of one small real CPU search (PNAS, Fashion-MNIST) in 1 process (plain `pnas`, no
# MPI) and with `mpirun -np P` (rank 0 runs the search, P-1 workers train), median of repeats,
# speedup over the first process count listed (1 by default); checks that every run trained the same cells to the same accuracies.
# usage: bench/mpi_bench.sh [PNAS_BINARY] [REPEATS] ["NP LIST"]   e.g. build/pnas/pnas 3 "1 2 3"
# Extra search flags can be given in MPI_BENCH_ARGS (they replace the default configuration).
set -u
PNAS=${1:-build/pnas/pnas}
REPEATS=${2:-3}
NPS=${3:-1 2 3}
[ -x "$PNAS" ] || { echo "no pnas binary at $PNAS (build first, or pass its path)"; exit 2; }
command -v mpirun > /dev/null || { echo "mpirun not found"; exit 2; }
# shellcheck disable=SC2206
ARGS=(${MPI_BENCH_ARGS:---ops sep3x3,max3x3,identity --beam 4 --max-blocks 2 --N 1 --F 4
      --train-subset 600 --val-subset 300 --members 2 --predictor-epochs 20 --threads 1 --seed 3})
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_hwloc_base_binding_policy=none
T=$(mktemp -d /tmp/pnas-mpi-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT

echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs online"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "search: pnas search ${ARGS[*]}"
key() { "$PNAS" inspect "$1" --json | sed -E 's/.*"cell": "([^"]*)".*"val_acc": ([^,]*),.*/\1 \2/' | sort; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# Repeats are interleaved (1, 2, 3, 1, 2, 3 ...) so a change in the machine's load hits every
# process count alike.
declare -A times cpus flights
base=""
for r in $(seq 1 "$REPEATS"); do
  for np in $NPS; do
    d=$T/np$np-$r
    TIMEFORMAT='%R %U %S' # wall, user, sys of the whole process tree (mpirun waits for its ranks)
    if [ "$np" = 1 ]; then
      { time "$PNAS" search "${ARGS[@]}" --run "$d" > "$d.out" 2> "$d.err"; } 2> "$d.time"
    else
      { time mpirun --oversubscribe -np "$np" "$PNAS" search "${ARGS[@]}" --run "$d" > "$d.out" \
          2> "$d.err"; } 2> "$d.time"
    fi
    rc=$?
    [ $rc = 0 ] || { echo "np=$np run $r failed:"; tail -20 "$d.err"; exit 1; }
    read -r wall user sys < "$d.time"
    times[$np]="${times[$np]:-} $wall"
    cpus[$np]="${cpus[$np]:-} $(echo "$user + $sys" | bc)"
    # Children's own wall seconds summed: over the run's wall, the children in flight on average.
    train=$("$PNAS" inspect "$d" --json | sed -E 's/.*"seconds": ([0-9.]+).*/\1/' | paste -sd+ | bc)
    flights[$np]="${flights[$np]:-} $(echo "scale=3; $train / $wall" | bc)"
    if [ -z "$base" ]; then base=$d; else
      diff <(key "$base") <(key "$d") > /dev/null || { echo "np=$np run $r: different results"; exit 1; }
    fi
  done
done
t1p=""
for np in $NPS; do
  # shellcheck disable=SC2086
  med=$(printf '%s\n' ${times[$np]} | median)
  [ -z "$t1p" ] && t1p=$med
  workers=$((np > 1 ? np - 1 : 1))
  sp=$(echo "scale=2; $t1p / $med" | bc)
  # shellcheck disable=SC2086
  cpu=$(printf '%s\n' ${cpus[$np]} | median)
  # shellcheck disable=SC2086
  printf 'np=%s (%s training process%s): median wall %.1f s of %s runs [%s], speedup %sx; ' \
    "$np" "$workers" "$([ $workers = 1 ] && echo "" || echo "es")" "$med" "$REPEATS" \
    "$(printf '%.1f ' ${times[$np]} | sed 's/ $//')" "$sp"
  # CPU seconds used / wall: how many cores the search actually got (a loaded machine caps it).
  # shellcheck disable=SC2086
  fl=$(printf '%s\n' ${flights[$np]} | median)
  printf 'median CPU %.1f s (user+sys), %.2f cores busy, %.2f children in flight on average\n' \
    "$cpu" "$(echo "scale=3; $cpu / $med" | bc)" "$fl"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "every run trained the same $(key "$base" | wc -l) cells to the same accuracies"
