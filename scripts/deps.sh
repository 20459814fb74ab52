#!/usr/bin/env bash
# Installs what pnas needs from Debian 12 packages (as root; uses sudo when not root).
# Idempotent: does nothing when everything is present.
set -euo pipefail
PKGS="build-essential cmake pkg-config libmsgpack-dev liblapacke-dev libopenblas-dev zlib1g-dev
      libopenmpi-dev openmpi-bin dataset-fashion-mnist graphviz gnuplot-nox python3 python3-torch"
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
