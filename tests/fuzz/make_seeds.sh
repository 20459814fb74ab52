#!/usr/bin/env bash
# Regenerates the seed corpus: `tests/fuzz/make_seeds.sh BUILD_DIR`. The synthetic seeds come
# from fuzz_make_seeds (the real writers); the results log is the first two records of a real
# tiny search, plus its first record torn in half (a crash mid-write).
set -euo pipefail
B=$1
HERE=$(cd "$(dirname "$0")" && pwd)
C=$HERE/corpus
mkdir -p "$C"/{cell,store,predictor,data,mpi}
"$B"/tests/fuzz/fuzz_make_seeds "$C"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$B"/pnas/pnas search --ops sep3x3,identity --max-blocks 1 --N 1 --F 2 --epochs 1 --batch 32 \
  --train-subset 64 --val-subset 64 --members 2 --predictor-epochs 1 --threads 1 \
  --run "$T/r" > /dev/null 2>&1
python3 - "$T/r/results.log" "$C/store" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
off = 12
for _ in range(2):
    n = struct.unpack_from('<I', d, off)[0]
    off += 8 + n
open(sys.argv[2] + '/log-2-records', 'wb').write(d[:off])
n1 = struct.unpack_from('<I', d, 12)[0]
open(sys.argv[2] + '/log-torn', 'wb').write(d[:12 + 8 + n1 // 2])
PY
ls -l "$C"/*
