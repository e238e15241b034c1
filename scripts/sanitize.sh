#!/usr/bin/env bash
# The sanitized build (docs/RELIABILITY.md): clang with AddressSanitizer, UndefinedBehaviorSanitizer
# and libFuzzer's coverage instrumentation (-DMONE_FUZZ=ON), CUDA and benchmarks off, in
# build-asan/. One build serves the sanitized tests and the fuzz targets (scripts/fuzz.sh).
#   bash scripts/sanitize.sh                      # builds it all, runs the unit and gradcheck suites
#   bash scripts/sanitize.sh -R test_train        # extra arguments go to ctest
#   bash scripts/sanitize.sh --build-only [TARGET...]   # configures and builds (all, or the targets)
# Any sanitizer report aborts the process it happens in, so ctest counts it as a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${MONE_SANITIZE_BUILD_DIR:-build-asan}
bash scripts/setup.sh --packages-only

mkdir -p "$build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DMONE_FUZZ=ON -DMONE_CUDA=OFF -DMONE_BUILD_BENCH=OFF > "$build/configure.log" ||
  { cat "$build/configure.log"; exit 1; }
jobs=${MONE_JOBS:-$(nproc)}
if [ "${1:-}" = "--build-only" ]; then
  shift
  targets=()
  for t in "$@"; do targets+=(--target "$t"); done
  cmake --build "$build" -j "$jobs" "${targets[@]}"
  exit 0
fi
cmake --build "$build" -j "$jobs"
cd "$build"
# UBSan's reports carry a stack trace; ASan's leak checker stays on (the default).
UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j "$jobs" -L 'unit|gradcheck' "$@"
