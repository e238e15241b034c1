#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: build with CUDA, run every test (the CUDA-labelled ones compare
# each CUDA op with the CPU reference, and run the NCCL communicator with one rank when the build
# found NCCL) and the benchmarks, in one command. The NCCL all-reduce benchmark (one rank) runs
# when NCCL is built and a GPU is visible; otherwise it says why and is skipped.
#   bash scripts/gpu_check.sh            # results in build-gpu/ and printed
set -euo pipefail
cd "$(dirname "$0")/.."
nvidia-smi || { echo "gpu_check: no GPU visible (nvidia-smi failed)"; exit 1; }
export MONE_BUILD_DIR=build-gpu MONE_CUDA=ON
bash scripts/setup.sh
cd build-gpu
ctest --output-on-failure -j "$(nproc)"
ctest --output-on-failure -L cuda
for b in bin/mone_bench_*; do
  [ -x "$b" ] && "$b"
done
# One-rank NCCL: every all-reduce through NCCL's stream and the polling (skipped without NCCL).
bin/mone_bench_comm --backend nccl
