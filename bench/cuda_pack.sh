#!/usr/bin/env bash
# Builds, on a machine with the CUDA toolkit (no GPU needed), what bench/cuda_check.sh runs on a
# GPU machine that lacks this project's build dependencies (msgpack, OpenBLAS, LAPACKE): the
# binaries (MPI off, no -march=native), the non-system shared libraries they need except the
# CUDA ones (the GPU machine has its own CUDA 13 runtime, cuBLAS and cuDNN), and the first 9,000
# Fashion-MNIST training images (a search's default 4,000 training images plus its 5,000-image
# validation split, so search-throughput figures are measured at the default sizes).
# Output: carry/cuda/ (ignored by git; name it in the device tool's `carry`), about 25 MB.
# Usage: bench/cuda_pack.sh [BUILD_DIR (build-cudapack)]   env: JOBS (2)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-cudapack}
pack=$root/carry/cuda
jobs=${JOBS:-2}
mkdir -p "$build"
cmake -S "$root" -B "$build" -DPNAS_WITH_MPI=OFF -DPNAS_NATIVE=OFF -DPNAS_WITH_CUDA=ON > "$build/configure.log"
grep -q "CUDA backend ON" "$build/configure.log" || { echo "cuda_pack: CUDA backend not configured"; exit 1; }
cmake --build "$build" -j"$jobs" --target pnas test_cuda_probe test_cuda_ops test_cuda_net cuda_bench
rm -rf "$pack"
mkdir -p "$pack/bin" "$pack/lib" "$pack/data"
cp "$build/pnas/pnas" "$build"/tests/cuda/{test_cuda_probe,test_cuda_ops,test_cuda_net,cuda_bench} \
  "$pack/bin/"
cp "$root/tests/cuda/cli_device.sh" "$pack/bin/"
# Shared libraries outside glibc and CUDA, by soname (what the loader asks for).
for b in "$pack"/bin/*; do
  [ -x "$b" ] && file "$b" | grep -q ELF || continue
  ldd "$b" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }'
done | sort -u | while read -r soname path; do
  case "$soname" in
  libc.so* | libm.so* | libgcc_s.so* | libpthread.so* | libdl.so* | librt.so* | ld-linux*) ;;
  # everywhere a compiler and PyTorch are (and an older copy first on the path breaks them)
  libstdc++.so* | libz.so* | libgomp.so*) ;;
  libcudart.so* | libcublas*.so* | libcudnn*.so*) ;;
  *) cp -L "$path" "$pack/lib/$soname" ;;
  esac
done
# Lib payload compressed: OpenBLAS alone is ~36 MB; the device tool carries 64 MiB in all.
tar -C "$pack" -cJf "$pack/lib.tar.xz" lib
rm -rf "$pack/lib"
python3 - "$pack/data" <<'EOF'
import gzip, struct, sys
src, dst, n = "/usr/share/datasets/fashion-mnist/", sys.argv[1] + "/", 9000
with gzip.open(src + "train-images-idx3-ubyte.gz", "rb") as f:
    magic, _, h, w = struct.unpack(">IIII", f.read(16))
    img = f.read(n * h * w)
with gzip.open(dst + "train-images-idx3-ubyte.gz", "wb") as f:
    f.write(struct.pack(">IIII", magic, n, h, w) + img)
with gzip.open(src + "train-labels-idx1-ubyte.gz", "rb") as f:
    magic, _ = struct.unpack(">II", f.read(8))
    lab = f.read(n)
with gzip.open(dst + "train-labels-idx1-ubyte.gz", "wb") as f:
    f.write(struct.pack(">II", magic, n) + lab)
EOF
du -sh "$pack"
echo "cuda_pack: carry 'carry/cuda' and run bench/cuda_check.sh on the GPU machine"
