#!/usr/bin/env bash
# Installs every Debian package mone needs (idempotent) and builds mone in Release.
#   bash scripts/setup.sh            # packages + configure + build into ./build
#   MONE_BUILD_DIR=b MONE_CUDA=OFF bash scripts/setup.sh
#   bash scripts/setup.sh --packages-only   # just the packages (scripts/fuzz.sh builds its own way)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config
  libabsl-dev libprotobuf-dev protobuf-compiler
  doctest-dev libopenblas-openmp-dev
  nlohmann-json3-dev libcli11-dev libpcre2-dev libssl-dev
  libopenmpi-dev openmpi-bin
  fortunes fortune-mod
  python3                    # scripts/gpu_check.sh's table (tested here with a fake bundle)
  clang libclang-rt-14-dev   # libFuzzer and clang's sanitizer runtimes (scripts/fuzz.sh)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ "${1:-}" = "--packages-only" ] && exit 0

build_dir=${MONE_BUILD_DIR:-build}
jobs=${MONE_JOBS:-$(nproc)}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DMONE_CUDA="${MONE_CUDA:-AUTO}" ${MONE_CMAKE_ARGS:-}
cmake --build "$build_dir" -j "$jobs"
