#!/usr/bin/env bash
# Writes records.tsv (one line per record of every run of the comparisons named on the command
# line, in log order) from `pnas inspect --json`. Usage:
#   docs/nasnet-space-data/collect.sh PNAS_BINARY SPACE:DIR [SPACE:DIR ...] > records.tsv
set -eu
PNAS=$1; shift
printf 'space\tstrategy\tseed\torder\tcell\tlevel\tval_acc\tparams\tmult_adds\tseconds\tfrom_cache\n'
for arg in "$@"; do
  space=${arg%%:*}; dir=${arg#*:}
  for run in "$dir"/*-seed*; do
    name=$(basename "$run"); strategy=${name%-seed*}; seed=${name##*-seed}
    "$PNAS" inspect "$run" --json | /usr/bin/python3 -c '
import json, sys
space, strategy, seed = sys.argv[1:4]
for i, line in enumerate(sys.stdin):
    r = json.loads(line)
    if not r["ok"]:
        continue
    print("\t".join(map(str, [space, strategy, seed, i, r["cell"], r["level"], r["val_acc"],
                              r["params"], r["mult_adds"], r["seconds"], int(r["from_cache"])])))
' "$space" "$strategy" "$seed"
  done
done
