#!/usr/bin/env bash
# Sets up, builds and runs every test (ctest). Extra arguments go to ctest, e.g. -L gradcheck.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
build_dir=${MONE_BUILD_DIR:-build}
cd "$build_dir"
ctest --output-on-failure -j "$(nproc)" "$@"
