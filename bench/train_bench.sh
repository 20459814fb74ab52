#!/bin/sh
# Training throughput of pnas (CPU backend) against PyTorch on the same network, in one run.
# For each configuration: `pnas train --bench` (median images/s over STEPS steps after 3
# warm-up steps) and bench/train_bench_torch.py on the module written by
# `pnas export --format pytorch` (same layout, same SGD recipe, torch.set_num_threads(THREADS)).
# Usage: bench/train_bench.sh [PNAS_BINARY]   env: THREADS (2), STEPS (20), CELL (pnasnet-5),
#        CONFIGS ("1,8 2,24": N,F pairs), BATCH (64)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pnas=${1:-${PNAS:-$here/../build/pnas}}
threads=${THREADS:-2}
steps=${STEPS:-20}
cell=${CELL:-pnasnet-5}
batch=${BATCH:-64}
configs=${CONFIGS:-"1,8 2,24"}
py=/usr/bin/python3 # Debian's python has torch; the pyenv python3 does not
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

field() { # field NAME < json
  sed -n "s/.*\"$1\": *\([0-9.eE+-]*\).*/\1/p"
}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) CPUs visible)"
echo "torch:   $($py -c 'import torch; print(torch.__version__)')"
echo "cell $cell, Fashion-MNIST 28x28x1, batch $batch, $threads threads, median of $steps steps"
printf '%-10s %12s %12s %8s\n' "N,F" "pnas img/s" "torch img/s" "ratio"
for cfg in $configs; do
  N=${cfg%,*}
  F=${cfg#*,}
  "$pnas" export --cell "$cell" --format pytorch --N "$N" --F "$F" --dataset fashion-mnist \
    > "$tmp/model.py"
  ours=$("$pnas" train --cell "$cell" --N "$N" --F "$F" --batch "$batch" --threads "$threads" \
    --bench "$steps" --json | field img_per_s)
  ref=$(OMP_NUM_THREADS=$threads $py "$here/train_bench_torch.py" "$tmp/model.py" \
    --batch "$batch" --steps "$steps" --threads "$threads" | field img_per_s)
  ratio=$(awk -v a="$ours" -v b="$ref" 'BEGIN { printf "%.2f", a / b }')
  printf '%-10s %12.1f %12.1f %8s\n' "$N,$F" "$ours" "$ref" "${ratio}x"
done
