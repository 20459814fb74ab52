#!/usr/bin/env bash
# Search-time throughput: children trained per hour by `pnas search` at the default search
# settings (or ARGS), once per --jobs value, on one device. Each run gets LIMIT_S seconds (it is
# stopped there; its log keeps every finished child) and the rate is trained children / wall
# seconds of that run. Children found in a store are not counted (every run has a fresh run
# directory and no cache).
# Usage: bench/search_rate.sh PNAS_BINARY [JOBS...]   (default jobs: 1 2 4 8)
#   env: DEVICE (cuda), LIMIT_S (120), ARGS (extra search flags, e.g. "--max-blocks 2"),
#        PNAS_DATA_DIR (dataset folder), WORK (scratch folder, default a new mktemp -d)
# Prints one line per --jobs value and a JSON summary line; exit 1 when a run trained nothing.
set -u
pnas=${1:?usage: bench/search_rate.sh PNAS_BINARY [JOBS...]}
shift
jobs_list=${*:-1 2 4 8}
device=${DEVICE:-cuda}
limit=${LIMIT_S:-120}
work=${WORK:-$(mktemp -d)}
mkdir -p "$work" || exit 1
data_flag=()
[ -n "${PNAS_DATA_DIR:-}" ] && data_flag=(--data "$PNAS_DATA_DIR")
status=0
best_j=0 best_rate=0 json=""
printf '%-6s %8s %10s %14s  %s\n' "jobs" "trained" "seconds" "children/hour" "device"
for j in $jobs_list; do
  run=$work/run-j$j
  rm -rf "$run"
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  timeout -s INT "$limit" "$pnas" search --run "$run" --device "$device" --jobs "$j" \
    "${data_flag[@]}" ${ARGS:-} > "$run.out" 2> "$run.err"
  rc=$?
  t1=$(date +%s.%N)
  trained=$("$pnas" inspect "$run" --json 2>/dev/null | grep -c '"ok"')
  devs=$("$pnas" inspect "$run" --json 2>/dev/null | sed -n 's/.*"device": *"\([^"]*\)".*/\1/p' | sort -u | tr '\n' ' ')
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  rate=$(awk -v n="$trained" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? n * 3600 / s : 0) }')
  note=""
  case $rc in
  0) ;;
  124) note="(stopped at ${limit}s)" ;;
  *) note="(exit $rc)" ;;
  esac
  printf '%-6s %8s %10s %14s  %s %s\n' "$j" "$trained" "$secs" "$rate" "$devs" "$note"
  if [ "$trained" = 0 ]; then
    echo "  no child trained with --jobs $j:"
    tail -5 "$run.err"
    status=1
  fi
  if awk -v r="$rate" -v b="$best_rate" 'BEGIN { exit !(r > b) }'; then
    best_rate=$rate best_j=$j
  fi
  json="$json${json:+, }\"$j\": {\"trained\": $trained, \"seconds\": $secs, \"children_per_hour\": $rate}"
done
echo "{\"device\": \"$device\", \"limit_s\": $limit, \"args\": \"${ARGS:-}\", \"jobs\": {$json}, \"best_jobs\": $best_j, \"best_children_per_hour\": $best_rate}"
exit $status
