#!/usr/bin/env bash
# Search quality on a benchmark table: every PNAS variant and the baselines replayed with many
# seeds (pnas compare --table), for docs/search-quality.md.
#   usage: bench/search_quality.sh PNAS TABLE OUT PHASE [JOBS=2]
#   PHASE tune:   seeds 1..100, K = 8 and 32, the baselines once per K and every PNAS variant of
#                 VARIANTS (name, then pnas flags; one per line); prints one line per variant
#   PHASE report: seeds 101..300 (never used for choosing), K = 8 and 32, the paper's PNAS and
#                 the variant FINAL (pnas flags) against every baseline: the reported figures
# Each comparison writes OUT/<phase>-K<k>-<name>/table-report.{md,json}.
set -euo pipefail
PNAS=$1 TABLE=$2 OUT=$3 PHASE=$4 JOBS=${5:-2}
# {q} and {h} stand for K/4 and K/2 (exploration picks).
VARIANTS=${VARIANTS:-"paper --predictor lstm --select mean --explore 0
mlp --predictor mlp
ridge --predictor ridge
lstm-ucb1 --predictor lstm --select ucb --kappa 1
mlp-ucb1 --predictor mlp --select ucb --kappa 1
mlp-ucb3 --predictor mlp --select ucb --kappa 3
lstm-xq --predictor lstm --explore {q}
mlp-xq --predictor mlp --explore {q}
mlp-xh --predictor mlp --explore {h}"}
FINAL=${FINAL:---predictor mlp}
mkdir -p "$OUT"
run() { # NAME K FIRST SEEDS STRATEGIES FLAGS...
  local name=$1 k=$2 first=$3 seeds=$4 strat=$5; shift 5
  local d="$OUT/$PHASE-K$k-$name"
  rm -rf "$d"
  local s=$(date +%s.%N)
  "$PNAS" compare --table "$TABLE" --beam "$k" --seeds "$seeds" --first-seed "$first" \
    --strategies "$strat" --jobs "$JOBS" --threads 1 --fit-cache "$OUT/fits" --out "$d" "$@" \
    > "$d.out" 2> "$d.err" ||
    { tail -3 "$d.err"; return 1; }
  printf '%s K=%s %s: %.0f s\n' "$PHASE" "$k" "$name" "$(echo "$(date +%s.%N) - $s" | bc)" >&2
}
summ() { # DIR: one line per strategy from table-report.json
  python3 - "$1/table-report.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for s in j["strategies"]:
    r2 = s["reach"][1]
    print("  %-10s at %d models %.4f [%.4f,%.4f]  top%% %.2f  reach top2%% %d/%d in %.1f models" % (
        s["name"], j["pnas_budget"], *s["best_at_pnas_budget"], s["top_percent"],
        r2["reached"], j["seeds"], r2["mean"]))
PY
}
case $PHASE in
tune)
  for k in 8 32; do
    run baselines $k 1 100 rl,random,evolution && summ "$OUT/tune-K$k-baselines"
    while read -r name flags; do
      [ -n "$name" ] || continue
      flags=${flags//\{q\}/$((k / 4))}
      flags=${flags//\{h\}/$((k / 2))}
      run "$name" $k 1 100 pnas $flags && echo "K=$k $name ($flags)" && summ "$OUT/tune-K$k-$name"
    done <<< "$VARIANTS"
  done
  ;;
report)
  for k in 8 32; do
    run paper $k 101 200 pnas,rl,random,evolution --predictor lstm --select mean --explore 0
    f=${FINAL//\{q\}/$((k / 4))}
    f=${f//\{h\}/$((k / 2))}
    run final $k 101 200 pnas,rl,random,evolution $f
    for n in paper final; do echo "K=$k $n"; summ "$OUT/report-K$k-$n"; done
  done
  ;;
*) echo "unknown phase $PHASE" >&2; exit 2 ;;
esac
