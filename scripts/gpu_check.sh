#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: run every `cuda` test and the GPU benchmark from the bundle
# that scripts/gpu_bundle.sh made on the build machine, and end with one table: op, dtype, max
# error against the CPU (and its tolerance), time. It also runs the NCCL communicator with one rank
# (mone_bench_comm --backend nccl), which says why and is skipped when NCCL was not built.
#
#   bash scripts/gpu_check.sh                   # unpacks out/gpu_bundle/mone_gpu_bundle.tar.gz into /tmp
#   MONE_GPU_BUNDLE=dir bash scripts/gpu_check.sh
#
# Needs only the bundle, the NVIDIA driver, cuBLAS and cuRAND of CUDA 13 (found through ldconfig,
# /usr/local/cuda*, or a Python environment's nvidia-* packages) and python3 for the table.
# Logs and the raw tables go to $OUT when it is set (the device tool returns that folder), else to
# /tmp/mone_gpu_check. Exits non-zero when a test fails or a binary cannot start.
set -uo pipefail
cd "$(dirname "$0")/.."
packed=${MONE_GPU_BUNDLE:-out/gpu_bundle}/mone_gpu_bundle.tar.gz
[ -f "$packed" ] ||
  { echo "gpu_check: no $packed: run scripts/gpu_bundle.sh on the build machine and carry out/gpu_bundle"; exit 1; }
bundle=/tmp/mone_gpu_bundle
rm -rf "$bundle" && mkdir -p "$bundle" && tar -C "$bundle" -xzf "$packed" ||
  { echo "gpu_check: could not unpack $packed into $bundle"; exit 1; }
logs=${OUT:-/tmp/mone_gpu_check}
mkdir -p "$logs"
errors="$logs/errors.tsv" bench="$logs/bench.tsv" log="$logs/gpu_check.log"
: > "$errors"
: > "$bench"
: > "$log"
say() { echo "$@" | tee -a "$log"; }

say "gpu_check: bundle of commit $(cat "$bundle/COMMIT" 2>/dev/null || echo unknown)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | tee -a "$log" ||
  { say "gpu_check: nvidia-smi failed: no GPU visible"; exit 1; }

# ---- libraries: the bundle's first, then wherever this machine keeps cuBLAS and cuRAND ----
libdirs="$bundle/lib"
for lib in libcublas.so.13 libcublasLt.so.13 libcurand.so.10; do
  ldconfig -p 2>/dev/null | grep "$lib" > /dev/null && continue
  found=$(find /usr/local /usr/lib /opt -name "$lib" 2>/dev/null | head -1)
  [ -z "$found" ] && found=$(find / -xdev -name "$lib" 2>/dev/null | head -1)
  if [ -z "$found" ]; then
    say "gpu_check: $lib is not on this machine"
    exit 1
  fi
  libdirs="$libdirs:$(dirname "$found")"
done
# Our libstdc++ only when this machine's lacks the symbol version our binaries need.
system_stdcxx=$(ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ { print $NF; exit }')
needed=$(cat "$bundle/STDCXX_NEEDED" 2>/dev/null)
if [ -n "$system_stdcxx" ] && [ -n "$needed" ] && grep -qa "$needed" "$system_stdcxx"; then
  say "gpu_check: using this machine's $system_stdcxx (it has $needed)"
else
  libdirs="$libdirs:$bundle/lib/stdcxx"
fi
export LD_LIBRARY_PATH="$libdirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
say "gpu_check: LD_LIBRARY_PATH=$LD_LIBRARY_PATH"

# The tests read configs and data under the source path compiled into them, and run bin/mone
# under the build path: where those paths do not exist here, point them at the bundle.
for f in SOURCE_DIR BINARY_DIR; do
  p=$(cat "$bundle/$f")
  if [ ! -e "$p" ]; then
    mkdir -p "$(dirname "$p")" && ln -s "$bundle" "$p" && say "gpu_check: linked $p -> $bundle"
  fi
done

# ---- every cuda-labelled test of every test binary ----
status=0
export MONE_CUDA_REPORT="$errors"
for t in "$bundle"/bin/test_*; do
  say "gpu_check: $(basename "$t") --test-suite=cuda"
  timeout 300 "$t" --test-suite=cuda --no-version >> "$log" 2>&1
  rc=$?
  tail -2 "$log"
  if [ $rc -ne 0 ]; then
    say "gpu_check: $(basename "$t") FAILED (exit $rc); see $log"
    status=1
  fi
done

# ---- the GPU benchmark ----
say "gpu_check: mone_bench_cuda"
MONE_BENCH_REPORT="$bench" timeout 240 "$bundle/bin/mone_bench_cuda" >> "$log" 2>&1 ||
  { say "gpu_check: mone_bench_cuda failed or ran out of time"; status=1; }
sed -n '/^# mone_bench_cuda/,$p' "$log" | grep -E '^(#|-|\||Peak)' | head -80

# ---- one-rank NCCL: every all-reduce through NCCL's stream and the polling ----
if [ -x "$bundle/bin/mone_bench_comm" ]; then
  say "gpu_check: mone_bench_comm --backend nccl"
  timeout 60 "$bundle/bin/mone_bench_comm" --backend nccl >> "$log" 2>&1 ||
    { say "gpu_check: mone_bench_comm (NCCL) failed"; status=1; }
  tail -5 "$log"
fi

# ---- one table: op, dtype, max error (tolerance), time ----
python3 - "$errors" "$bench" <<'PY'
import sys
errors, bench = {}, {}
for line in open(sys.argv[1]):
    op, dtype, err, tol = line.rstrip("\n").split("\t")
    key = (op, dtype)
    e = errors.setdefault(key, [0.0, float(tol), 0])
    e[0] = max(e[0], float(err)); e[1] = max(e[1], float(tol)); e[2] += 1
for line in open(sys.argv[2]):
    op, dtype, ms, shape = line.rstrip("\n").split("\t")
    bench.setdefault((op, dtype), (float(ms), shape))
keys = sorted(set(errors) | set(bench))
print("\n| op | dtype | max error | tolerance | checks | time (ms) | timed shape |")
print("|---|---|---|---|---|---|---|")
for k in keys:
    e = errors.get(k); b = bench.get(k)
    err = f"{e[0]:.2e}" if e else "-"
    tol = f"{e[1]:.0e}" if e else "-"
    n = str(e[2]) if e else "-"
    t = f"{b[0]:.4f}" if b else "-"
    print(f"| {k[0]} | {k[1]} | {err} | {tol} | {n} | {t} | {b[1] if b else '-'} |")
PY
[ $status -eq 0 ] && say "gpu_check: every cuda test passed" || say "gpu_check: FAILURES above (full log: $log)"
exit $status
