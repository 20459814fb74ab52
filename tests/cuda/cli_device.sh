#!/usr/bin/env bash
# pnas search --device on this machine. Without a GPU: --device cuda fails (exit 1) with a clear
# message before creating the run directory; --device auto trains on the CPU and says so once,
# and the record says "cpu". With a GPU: auto and cuda train on it and the record says "cuda:0".
# Usage: cli_device.sh PNAS TEST_CUDA_PROBE   env: PNAS_DATA_DIR (Fashion-MNIST dir; default the
# system's, see data/dataset.h) - bench/cuda_check.sh points it at a carried subset.
set -u
PNAS=$1
PROBE=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/pnas-cli-device.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ARGS=(--strategy random --ops identity --max-blocks 1 --budget-models 1 --N 1 --F 2 --epochs 1
      --batch 32 --train-subset 64 --val-subset 32 --threads 1)
[ -n "${PNAS_DATA_DIR:-}" ] && ARGS+=(--data "$PNAS_DATA_DIR")
"$PROBE" > "$T/probe.txt" || fail "probe: $(cat "$T/probe.txt")"
if grep -q "^CUDA devices: 0" "$T/probe.txt"; then
  "$PNAS" search "${ARGS[@]}" --device cuda --run "$T/c" > "$T/c.out" 2> "$T/c.err"
  rc=$?
  [ "$rc" = 1 ] || fail "--device cuda without a GPU: exit $rc, want 1"
  grep -q -- "--device cuda: no usable GPU" "$T/c.err" || fail "unclear message: $(cat "$T/c.err")"
  [ ! -e "$T/c" ] || fail "--device cuda without a GPU created the run directory"
  "$PNAS" search "${ARGS[@]}" --device auto --run "$T/a" > /dev/null 2> "$T/a.err" ||
    fail "--device auto: $(cat "$T/a.err")"
  n=$(grep -c "training children on the CPU (no usable GPU" "$T/a.err")
  [ "$n" = 1 ] || fail "--device auto said the fallback $n times: $(cat "$T/a.err")"
  "$PNAS" inspect "$T/a" --json | grep -q '"device": "cpu"' || fail "record device is not cpu"
  # pnas compare opens a search per strategy and seed: the fallback is still said once.
  CARGS=("${ARGS[@]:2}")
  "$PNAS" compare --strategies random,evolution --seeds 2 "${CARGS[@]}" --out "$T/cmp" > /dev/null \
    2> "$T/cmp.err" || fail "compare: $(cat "$T/cmp.err")"
  n=$(grep -c "training children on the CPU (no usable GPU" "$T/cmp.err")
  [ "$n" = 1 ] || fail "compare said the fallback $n times"
  echo "no GPU: --device cuda refused (exit 1), --device auto fell back to the CPU, said once (also in compare)"
else
  for dev in auto cuda; do
    "$PNAS" search "${ARGS[@]}" --device $dev --run "$T/$dev" > /dev/null 2> "$T/$dev.err" ||
      fail "--device $dev with a GPU: $(cat "$T/$dev.err")"
    grep -q "training children on cuda:0" "$T/$dev.err" || fail "--device $dev: $(cat "$T/$dev.err")"
    "$PNAS" inspect "$T/$dev" --json | grep -q '"device": "cuda:0"' || fail "record device is not cuda:0"
    "$PNAS" inspect "$T/$dev" --json | grep -q '"ok": true' || fail "the GPU child failed: $("$PNAS" inspect "$T/$dev" --json)"
  done
  echo "GPU: --device auto and cuda trained on cuda:0"
fi
