#!/usr/bin/env bash
# Runs one libFuzzer harness for a fixed time from the checked-in seeds, with a fixed -seed so
# that a CI run explores the same inputs first on every machine (a faster machine, more). New corpus entries go
# to a temporary directory (the repository is not written). On a crash, leak, timeout or OOM the
# input is copied to ARTIFACTS (check it into tests/fuzz/regress/<harness>/ once fixed), replayed
# once with its message visible, and the test fails.
set -u
BIN=$1 SEEDS=$2 SECONDS_=$3 ARTIFACTS=$4
W=$(mktemp -d /tmp/pnas-fuzz-run.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/corpus" "$W/art"
# /dev/shm: the store harness fsyncs; on tmpfs that costs nothing.
export TMPDIR=/dev/shm
# An allocation over 2 GB fails (NULL) instead of being reported: a corrupt header that asks
# msgpack-c or a reader for huge memory must then give a clean error (the out-of-memory path),
# as on a machine without that memory. Same options as the replay tests (CMakeLists.txt).
export ASAN_OPTIONS=allocator_may_return_null=1:max_allocation_size_mb=2048:detect_leaks=1
"$BIN" -seed=1 -max_total_time="$SECONDS_" -timeout=10 -rss_limit_mb=3072 -malloc_limit_mb=4096 -max_len=65536 -close_fd_mask=2 \
  -print_final_stats=1 -artifact_prefix="$W/art/" "$W/corpus" "$SEEDS" > "$W/log" 2>&1
rc=$?
found=$(ls "$W/art" | head -20)
if [ $rc != 0 ] || [ -n "$found" ]; then
  tail -40 "$W/log"
  mkdir -p "$ARTIFACTS"
  for f in $found; do
    cp "$W/art/$f" "$ARTIFACTS/"
    echo "=== $f (saved in $ARTIFACTS), replayed:"
    "$BIN" "$W/art/$f" 2>&1 | grep -v "^INFO" | head -30
  done
  echo "FAIL: $(basename "$BIN") exit $rc"
  exit 1
fi
grep -E "^stat::number_of_executed_units|^stat::new_units_added|^stat::peak_rss_mb" "$W/log" | tr '\n' ' '
echo "($(basename "$BIN"), ${SECONDS_} s, corpus $(ls "$W/corpus" | wc -l) new + $(ls "$SEEDS" | wc -l) seeds)"
