#!/usr/bin/env bash
# Installs what pnas needs from Debian 12 packages (as root; uses sudo when not root).
# Idempotent: does nothing when everything is present.
set -euo pipefail
# Build and run: compilers, msgpack-c, LAPACKE/OpenBLAS, zlib, OpenMPI, the dataset.
# Report and tests: graphviz + gnuplot (report figures), python3-torch (reference checks),
# clang + libclang-rt-14-dev (libFuzzer harnesses), chromium (report screenshot test).
PKGS="build-essential cmake pkg-config libmsgpack-dev liblapacke-dev libopenblas-dev zlib1g-dev
      libopenmpi-dev openmpi-bin dataset-fashion-mnist graphviz gnuplot-nox python3 python3-torch
      clang libclang-rt-14-dev chromium"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "pnas: installing:$missing" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
