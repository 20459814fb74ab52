#!/usr/bin/env bash
# The README's test command: install what is missing, build, run every test that needs no GPU
# and is not labelled slow (ctest -LE slow). Pass --all to include the slow ones.
# Then the sanitizer pass: a second, CPU-only build with ASan + UBSan (build-asan) runs the unit
# tests (label unit: kernels, predictor, store, parsers, fuzz replays, bad command lines, and a
# very small search with a full disk and resume). PNAS_SANITIZE_PASS=0 skips it (quick local run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
if [ "${1:-}" = "--all" ]; then
  (cd build && ctest --output-on-failure -j2)
else
  (cd build && ctest --output-on-failure -j2 -LE slow)
fi
if [ "${PNAS_SANITIZE_PASS:-1}" != 0 ]; then
  echo "pnas: sanitizer pass (ASan + UBSan) in build-asan"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Release -DPNAS_SANITIZE=ON -DPNAS_WITH_CUDA=OFF >/dev/null
  cmake --build build-asan -j"$(nproc)"
  (cd build-asan && ctest --output-on-failure -j2 -L unit)
fi
