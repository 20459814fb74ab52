#!/usr/bin/env bash
# The README's main command: install what is missing, build, run the default search
# (a small real search on Fashion-MNIST; on the CPU when no GPU is present).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
exec ./build/pnas/pnas "$@"
