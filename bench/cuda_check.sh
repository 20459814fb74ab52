#!/usr/bin/env bash
# First checks of the CUDA backend on a machine WITH a GPU (none of this could run where the
# backend was written). Needs no network. In order:
#   1. environment: nvidia-smi, which binaries, whether every shared library resolves;
#   2. the cuda tests (label cuda: probe, every op vs the CPU reference, whole training steps vs
#      the CPU, pnas search --device auto/cuda): `ctest -L cuda --output-on-failure` when the
#      tree can be built here, else the same tests run from the carried binaries;
#   3. training throughput of PNASNet-5 N=2 F=24, batch 128, Fashion-MNIST-sized images: pnas
#      (bench/cuda_bench.c) vs PyTorch (bench/cuda_bench_torch.py) on the same network
#      (pnas export), fp32, then both with TF32 allowed; pnas again without CUDA graphs, and four
#      pnas bench processes at once;
#   4. search throughput: children per hour of `pnas search` at the default settings with
#      --jobs-per-gpu 1, 4 and 8 (bench/search_rate.sh, LIMIT_S seconds each).
# Two ways to get the binaries:
#   a) build here (needs cmake, nvcc, cuDNN, msgpack, OpenBLAS, LAPACKE): BUILD=1, or automatic
#      when no carried binaries exist;
#   b) carried: on the machine with the toolkit run bench/cuda_pack.sh, then carry `carry/cuda`
#      (binaries, non-CUDA libraries incl. libmsgpackc.so.2, a 9,000-image Fashion-MNIST subset).
#      An LD_LIBRARY_PATH already pointing at a carried libmsgpackc.so.2 is kept (searched first).
# CUDA 13 libraries (cudart, cuBLAS, cuDNN 9) come from the GPU machine: /usr/local/cuda and the
# nvidia-* Python wheels' lib folders are added to LD_LIBRARY_PATH.
# Usage: bench/cuda_check.sh   env: RESULTS (folder for logs, default /tmp/cuda_check), BUILD=1,
#        PACK (carry/cuda), PYTHON (python3), STEPS (30), SKIP_BENCH=1, SKIP_TESTS=1,
#        CPU_BENCH=1 (also time the CPU backend on the same network), SKIP_SEARCH=1,
#        LIMIT_S (60: seconds per search-throughput run), SEARCH_JOBS ("1 4 8")
# Exit status: 0 when every test passed (skips count as failures here: there is a GPU).
# With the device tool (OUT set by it; everything must fit one call of ~5 minutes):
#   run(carry=["carry/cuda"], timeout_s=540, command="bash bench/cuda_check.sh")
#   -> the logs come back as $OUT/cuda_check.tgz.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
out=${RESULTS:-/tmp/cuda_check}
pack=${PACK:-$root/carry/cuda}
py=${PYTHON:-python3}
steps=${STEPS:-30}
mkdir -p "$out"
status=0
py_env=${LD_LIBRARY_PATH:-} # PyTorch runs with the caller's library path, not with ours
say() { echo "== $*"; }
note_fail() { echo "FAILED: $*"; status=1; }

say "environment"
nvidia-smi -L 2>&1 || echo "(nvidia-smi not available)"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv 2>/dev/null
# CUDA libraries of this machine: the toolkit, then the nvidia-* wheels (torch's cu13 set)
cudalibs=""
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
  [ -d "$d" ] && cudalibs="$cudalibs:$d"
done
wheels=$("$py" -c 'import nvidia, os; print(os.path.dirname(list(nvidia.__path__)[0]))' 2>/dev/null)
if [ -n "$wheels" ]; then
  for d in $(find "$wheels/nvidia" -maxdepth 3 -type d -name lib 2>/dev/null); do cudalibs="$cudalibs:$d"; done
fi

mode=carried
[ "${BUILD:-0}" = 1 ] && mode=build
[ -x "$pack/bin/test_cuda_ops" ] || mode=build
if [ "$mode" = build ]; then
  build=$root/build-gpu
  say "building in $build (cmake + nvcc here)"
  export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}${cudalibs#:}"
  if ! cmake -S "$root" -B "$build" -DPNAS_WITH_MPI=OFF > "$out/configure.log" 2>&1 ||
     ! grep -q "CUDA backend ON" "$out/configure.log" ||
     ! cmake --build "$build" -j"$(nproc)" > "$out/build.log" 2>&1; then
    tail -30 "$out/configure.log" "$out/build.log" 2>/dev/null
    echo "cannot build here; run bench/cuda_pack.sh where the toolkit and the build dependencies"
    echo "are, and carry carry/cuda (see the header of this script)"
    exit 1
  fi
  bin=$build/tests/cuda
  pnas=$build/pnas/pnas
  datadir=${PNAS_DATA_DIR:-}
  [ -z "$datadir" ] && [ -d "$pack/data" ] && datadir=$pack/data
else
  say "carried binaries in $pack"
  bin=$pack/bin
  pnas=$pack/bin/pnas
  libdir=/tmp/pnas-cuda-libs
  rm -rf "$libdir" && mkdir -p "$libdir" && tar -C "$libdir" -xJf "$pack/lib.tar.xz"
  # the caller's LD_LIBRARY_PATH (e.g. a carried libmsgpackc.so.2) first, then ours, then CUDA
  export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$libdir/lib${cudalibs}"
  datadir=$pack/data
fi
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
missing=0
for b in "$pnas" "$bin/test_cuda_probe" "$bin/test_cuda_ops" "$bin/test_cuda_net" "$bin/cuda_bench"; do
  if ldd "$b" | grep "not found"; then
    echo "  ^ missing for $b"
    missing=1
  fi
done
[ "$missing" = 0 ] || { echo "unresolved shared libraries: see above"; exit 1; }
"$bin/test_cuda_probe" | tee "$out/probe.txt"

if [ "${SKIP_TESTS:-0}" != 1 ]; then
  say "tests (label cuda)"
  if [ "$mode" = build ]; then
    PNAS_DATA_DIR=$datadir ctest --test-dir "$build" -L cuda --output-on-failure 2>&1 |
      tee "$out/ctest.txt"
    grep -q "100% tests passed" "$out/ctest.txt" || note_fail "ctest -L cuda"
    grep -q "Skipped" "$out/ctest.txt" && note_fail "a cuda test skipped on a GPU machine"
  else
    for t in test_cuda_probe test_cuda_ops test_cuda_net; do
      "$bin/$t" > "$out/$t.txt" 2>&1
      rc=$?
      case $rc in
      0) echo "PASSED  $t" ;;
      77) note_fail "$t SKIPPED on a GPU machine: $(tail -1 "$out/$t.txt")" ;;
      *) note_fail "$t (exit $rc)"; cat "$out/$t.txt" ;;
      esac
    done
    if PNAS_DATA_DIR=$datadir bash "$bin/cli_device.sh" "$pnas" "$bin/test_cuda_probe" \
        > "$out/cli_device.txt" 2>&1; then
      echo "PASSED  cli_device: $(tail -1 "$out/cli_device.txt")"
    else
      note_fail "cli_device"
      cat "$out/cli_device.txt"
    fi
    grep -h "max |diff|" "$out"/test_cuda_net.txt 2>/dev/null | sort -k5 -g | tail -5
  fi
fi

if [ "${SKIP_BENCH:-0}" != 1 ]; then
  say "throughput: PNASNet-5 N=2 F=24, batch 128, 28x28x1, median of $steps steps"
  "$pnas" export --cell pnasnet-5 --format pytorch --N 2 --F 24 --dataset fashion-mnist \
    > "$out/model.py" || note_fail "pnas export"
  field() { sed -n "s/.*\"$1\": *\([0-9.eE+-]*\).*/\1/p"; }
  printf '%-12s %14s %14s %8s\n' "math" "pnas img/s" "torch img/s" "ratio"
  for tf in 0 1; do
    PNAS_CUDA_TF32=$tf "$bin/cuda_bench" --backend cuda --N 2 --F 24 --batch 128 \
      --steps "$steps" --warmup 5 > "$out/pnas_tf32_$tf.json" 2> "$out/pnas_tf32_$tf.err"
    ours=$(field img_per_s < "$out/pnas_tf32_$tf.json")
    targ=""
    [ "$tf" = 1 ] && targ=--tf32
    LD_LIBRARY_PATH=$py_env "$py" "$root/bench/cuda_bench_torch.py" "$out/model.py" \
      --batch 128 --steps "$steps" \
      --warmup 5 $targ > "$out/torch_tf32_$tf.json" 2> "$out/torch_tf32_$tf.err"
    ref=$(field img_per_s < "$out/torch_tf32_$tf.json")
    ratio=$(awk -v a="${ours:-0}" -v b="${ref:-0}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')
    printf '%-12s %14s %14s %8s\n' "$([ "$tf" = 1 ] && echo "TF32" || echo "fp32")" \
      "${ours:-failed}" "${ref:-failed}" "$ratio"
    [ -n "$ours" ] || { note_fail "pnas bench"; cat "$out/pnas_tf32_$tf.err"; }
    [ -n "$ref" ] || { echo "torch bench failed:"; tail -5 "$out/torch_tf32_$tf.err"; }
  done
  head -c 600 "$out/pnas_tf32_0.json"; echo
  # the same fp32 step without CUDA graphs (eager launches): what the graphs save
  PNAS_CUDA_GRAPHS=0 PNAS_CUDA_TF32=0 "$bin/cuda_bench" --backend cuda --N 2 --F 24 --batch 128 \
    --steps "$steps" --warmup 5 > "$out/pnas_nographs.json" 2> "$out/pnas_nographs.err" &&
    echo "pnas fp32 without CUDA graphs: $(field img_per_s < "$out/pnas_nographs.json") img/s"
  # several steps of different children at once on one GPU: the images/s of one bench process
  # while 3 more run the same network (a rough view of --jobs-per-gpu 4 at batch 128)
  for k in 1 2 3; do
    PNAS_CUDA_TF32=0 "$bin/cuda_bench" --backend cuda --N 2 --F 24 --batch 128 \
      --steps "$steps" --warmup 5 > "$out/pnas_conc_$k.json" 2>&1 &
  done
  PNAS_CUDA_TF32=0 "$bin/cuda_bench" --backend cuda --N 2 --F 24 --batch 128 --steps "$steps" \
    --warmup 5 > "$out/pnas_conc_0.json" 2>&1
  wait
  tot=0
  for k in 0 1 2 3; do
    v=$(field img_per_s < "$out/pnas_conc_$k.json")
    tot=$(awk -v a="$tot" -v b="${v:-0}" 'BEGIN { print a + b }')
  done
  echo "4 bench processes at once: $tot img/s in all"

  if [ "${CPU_BENCH:-0}" = 1 ]; then # the CPU backend on the same network, for scale (slow)
    "$bin/cuda_bench" --backend cpu --N 2 --F 24 --batch 128 --steps 3 --warmup 1 \
      --threads "$(nproc)" > "$out/pnas_cpu.json" 2>&1 &&
      echo "pnas cpu backend ($(nproc) threads): $(field img_per_s < "$out/pnas_cpu.json") img/s"
  fi
fi
if [ "${SKIP_SEARCH:-0}" != 1 ]; then
  # children per hour at the default search settings, --jobs-per-gpu 1 and more (bench/search_rate.sh)
  say "search throughput: children/hour, default settings, LIMIT_S=${LIMIT_S:-60} per run"
  PNAS_DATA_DIR=$datadir DEVICE=cuda LIMIT_S=${LIMIT_S:-60} WORK=$out/search \
    bash "$root/bench/search_rate.sh" "$pnas" ${SEARCH_JOBS:-1 4 8} 2>&1 | tee "$out/search_rate.txt"
  [ "${PIPESTATUS[0]}" = 0 ] || note_fail "search throughput"
fi
say "results in $out"
if [ -n "${OUT:-}" ] && [ -d "$OUT" ] && [ "$OUT" != "$out" ]; then # the device tool's folder
  tar -C "$(dirname "$out")" -czf "$OUT/cuda_check.tgz" "$(basename "$out")" &&
    echo "logs: \$OUT/cuda_check.tgz"
fi
[ "$status" = 0 ] && echo "cuda_check: all checks passed" || echo "cuda_check: FAILURES above"
exit $status
