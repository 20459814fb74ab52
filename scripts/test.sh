#!/usr/bin/env bash
# The README's test command: install what is missing, build, run every test that needs no GPU
# and is not labelled slow (ctest -LE slow). Pass --all to include the slow ones.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
cd build
if [ "${1:-}" = "--all" ]; then
  ctest --output-on-failure -j2
else
  ctest --output-on-failure -j2 -LE slow
fi
