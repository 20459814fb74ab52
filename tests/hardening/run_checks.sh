#!/usr/bin/env bash
# Trustworthy runs, item 3: one check per run (the argument).
#  abs-data  a relative --data is saved absolute: --resume from another directory finds it;
#  subset    --train-subset/--val-subset larger than the data are said on stderr with the sizes;
#  threads   --threads above the CPU count is warned about, naming the CPU count;
#  sigint    Ctrl-C (SIGINT) of a search prints the exact resume command, which then works;
#  foreign   a non-empty directory that is not a pnas run (or /) is refused as --run, named,
#            and nothing in it changes.
# Usage: run_checks.sh PNAS CHECK
set -u
PNAS=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") # the checks change directory
CHECK=$2
. "$(dirname "$0")/common.sh"
T=$(mktemp -d /tmp/pnas-checks.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2> /dev/null; rm -rf "$T"' EXIT
SMALL=(--ops identity,max3x3 --beam 2 --max-blocks 2 --N 1 --F 2 --epochs 1 --batch 32
       --train-subset 64 --val-subset 64 --members 2 --predictor-epochs 2 --seed 5 --threads 1)
FM=/usr/share/datasets/fashion-mnist
fail() { echo "FAIL ($CHECK): $*"; [ -f "$T/err" ] && tail -5 "$T/err"; exit 1; }

case $CHECK in
abs-data)
  mkdir -p "$T/w/fm" "$T/elsewhere"
  ln -s "$FM"/train-* "$T/w/fm/"
  (cd "$T/w" && "$PNAS" search "${SMALL[@]}" --data fm --run r > /dev/null 2> "$T/err") ||
    fail "search with a relative --data"
  (cd "$T/elsewhere" && "$PNAS" search --resume "$T/w/r" > /dev/null 2> "$T/err") ||
    fail "--resume from another directory did not find the relative --data"
  echo "relative --data: saved absolute, the resume from another directory works" ;;
subset)
  # A small Fashion-MNIST: 5,100 images, so 100 train (the last 5,000 validate).
  python3 - "$FM" "$T/small" << 'PY' || fail "making the small dataset"
import gzip, os, struct, sys
src, dst = sys.argv[1], sys.argv[2]; os.makedirs(dst)
def rd(n):
    p = os.path.join(src, n)
    return gzip.open(p + ".gz").read() if os.path.exists(p + ".gz") else open(p, "rb").read()
img, lab = rd("train-images-idx3-ubyte"), rd("train-labels-idx1-ubyte")
n = 5100
open(os.path.join(dst, "train-images-idx3-ubyte"), "wb").write(struct.pack(">IIII", 2051, n, 28, 28) + img[16:16 + n * 784])
open(os.path.join(dst, "train-labels-idx1-ubyte"), "wb").write(struct.pack(">II", 2049, n) + lab[8:8 + n])
PY
  "$PNAS" search "${SMALL[@]}" --data "$T/small" --train-subset 600 --val-subset 6000 \
    --run "$T/r" > /dev/null 2> "$T/err" || fail "search on the small dataset"
  grep -q -- "--train-subset 600 is more than the 100 training images of fashion-mnist" "$T/err" ||
    fail "the clamped --train-subset is not said"
  grep -q -- "--val-subset 6000 is more than the 5000 validation images" "$T/err" ||
    fail "the clamped --val-subset is not said"
  echo "subsets larger than the data: said on stderr with the sizes" ;;
threads)
  ncpu=$(getconf _NPROCESSORS_ONLN)
  "$PNAS" search "${SMALL[@]}" --threads $((ncpu * 8)) --run "$T/r" > /dev/null 2> "$T/err" ||
    fail "search with many threads"
  grep -q -- "--threads $((ncpu * 8)) is more than the $ncpu CPUs of this machine" "$T/err" ||
    fail "no warning naming the $ncpu CPUs"
  "$PNAS" search "${SMALL[@]}" --threads 1 --run "$T/r1" > /dev/null 2> "$T/err" || fail "--threads 1"
  ! grep -q -- "CPUs of this machine" "$T/err" || fail "--threads 1 warned"
  echo "--threads above the CPU count: warned, naming $ncpu CPUs" ;;
sigint)
  set -m # a background job of a script ignores SIGINT unless job control is on
  "$PNAS" search "${SMALL[@]}" --ops identity,max3x3,avg3x3 --max-blocks 3 --epochs 2 \
    --train-subset 600 --run "$T/r" > /dev/null 2> "$T/err" &
  pid=$!
  set +m
  for _ in $(seq 300); do
    [ "$(records "$T/r" | wc -l)" -ge 3 ] && break
    kill -0 $pid 2> /dev/null || fail "the search ended before the interrupt"
    sleep 0.1
  done
  kill -INT $pid
  wait $pid
  rc=$?
  pid=
  [ $rc = 130 ] || fail "interrupted search: exit $rc, want 130 (killed by SIGINT)"
  line=$(grep -A1 "interrupted" "$T/err" | tail -1 | sed 's/^ *//')
  [ "$line" = "pnas search --resume $T/r" ] || fail "no resume line (got '$line')"
  n=$(records "$T/r" | wc -l)
  read -ra cmd <<< "${line#pnas }"
  "$PNAS" "${cmd[@]}" > /dev/null 2> "$T/err" || fail "the printed command failed: $line"
  [ "$(records "$T/r" | wc -l)" -gt "$n" ] || fail "the resume trained nothing"
  echo "SIGINT: prints '$line', which continues the search ($n records kept)" ;;
foreign)
  mkdir "$T/d"
  echo "my notes" > "$T/d/notes.txt"
  sum=$(dirsum "$T/d")
  "$PNAS" search "${SMALL[@]}" --run "$T/d" > /dev/null 2> "$T/err"
  rc=$?
  [ $rc = 2 ] || fail "a directory of other files as --run: exit $rc, want 2"
  grep -q "$T/d is not empty and is not a pnas run directory (notes.txt in it" "$T/err" ||
    fail "the refusal does not name the directory and its file"
  [ "$(dirsum "$T/d")" = "$sum" ] && [ "$(ls -A "$T/d")" = notes.txt ] || fail "$T/d changed: $(ls -A "$T/d")"
  "$PNAS" search "${SMALL[@]}" --run / > /dev/null 2> "$T/err"
  rc=$?
  [ $rc = 2 ] && grep -q "/ is not empty and is not a pnas run directory" "$T/err" ||
    fail "--run /: exit $rc"
  mkdir "$T/empty"
  "$PNAS" search "${SMALL[@]}" --run "$T/empty" > /dev/null 2> "$T/err" || fail "an empty directory"
  echo "non-run directories refused (exit 2, named, unchanged); an empty one is used" ;;
*) echo "unknown check $CHECK"; exit 2 ;;
esac
