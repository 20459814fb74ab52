#!/bin/sh
# Speed of two builds side by side, for "no speed lost" checks of a refactor: alternates OLD and
# NEW R times (so load changes hit both alike) over `pnas train --bench STEPS` (CPU backend,
# images/s) on CELL at each N,F of CONFIGS, and over predictor_bench --no-torch (training time
# of the LSTM and the MLP ensemble, scoring rate of 301,056 children), then prints the median of
# each figure per build and NEW/OLD (above 1 = NEW faster). Not a test: timings are never asserted.
# Usage: bench/ab_speed.sh OLD_BUILD_DIR NEW_BUILD_DIR   (each holds pnas/pnas and
#        predictor/predictor_bench)   env: R (5), STEPS (20), THREADS (2), CELL (pnasnet-5),
#        CONFIGS ("1,8 2,24"), EPOCHS (3)
set -eu
old=$1 new=$2
R=${R:-5} steps=${STEPS:-20} threads=${THREADS:-2} cell=${CELL:-pnasnet-5}
configs=${CONFIGS:-"1,8 2,24"} epochs=${EPOCHS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
echo "machine: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) CPUs), load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "old: $old   new: $new   $R alternating repeats"
i=0
while [ "$i" -lt "$R" ]; do
  for b in old new; do
    eval dir=\$$b
    for cfg in $configs; do
      N=${cfg%,*} F=${cfg#*,}
      "$dir/pnas/pnas" train --cell "$cell" --N "$N" --F "$F" --threads "$threads" --bench "$steps" \
        --json 2>/dev/null | sed -n 's/.*"img_per_s": *\([0-9.eE+-]*\).*/\1/p' >> "$tmp/$b.train.$cfg"
    done
    for kind in lstm mlp; do
      "$dir/predictor/predictor_bench" --kind "$kind" --epochs "$epochs" --repeats 1 \
        --threads "$threads" --no-torch > "$tmp/out" 2>&1
      sed -n 's/^  C (pnas): *\([0-9.]*\) s.*/\1/p' "$tmp/out" >> "$tmp/$b.fit.$kind"
      sed -n 's/.*, \([0-9]*\) cells\/s$/\1/p' "$tmp/out" >> "$tmp/$b.score.$kind"
    done
  done
  i=$((i + 1))
done
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '%-34s %12s %12s %9s\n' "figure (median of $R)" old new "new/old"
row() { # label file-suffix higher-is-better(1|0)
  o=$(median "$tmp/old.$2") n=$(median "$tmp/new.$2")
  r=$(awk -v o="$o" -v n="$n" -v h="$3" 'BEGIN { printf "%.3f", h ? n / o : o / n }')
  printf '%-34s %12s %12s %9s\n' "$1" "$o" "$n" "${r}x"
}
for cfg in $configs; do row "train img/s, $cell N,F=$cfg" "train.$cfg" 1; done
for kind in lstm mlp; do
  row "$kind ensemble fit, s ($epochs epochs)" "fit.$kind" 0
  row "$kind ensemble score, cells/s" "score.$kind" 1
done
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)   (new/old is speed: above 1 = new faster)"
