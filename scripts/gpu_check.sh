#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: run every `cuda` test and the GPU benchmark from the bundle
# that scripts/gpu_bundle.sh made on the build machine, and end with one table: op, dtype, max
# error against the CPU (and its tolerance), time. It also times training steps of mone-925m in
# bf16 and checks that mone-2.81b trains on the GPU (mone bench train --device cuda: tokens/s, MFU,
# peak memory), and runs the NCCL communicator with one rank (mone_bench_comm --backend nccl),
# which says why and is skipped when NCCL was not built.
#
#   bash scripts/gpu_check.sh                   # unpacks out/gpu_bundle/mone_gpu_bundle.tar.gz into /tmp
#   MONE_GPU_BUNDLE=dir bash scripts/gpu_check.sh
#   MONE_GPU_CUDA_LIBS=dir       # a folder holding cuBLAS and cuRAND, searched first
#   MONE_GPU_UNPACK=dir          # where the bundle is unpacked (/tmp/mone_gpu_bundle)
#   MONE_GPU_CHECK_SECONDS=450   # the whole check's time; each step also has its own cap
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
bundle=${MONE_GPU_UNPACK:-/tmp/mone_gpu_bundle}
rm -rf "$bundle" && mkdir -p "$bundle" && tar -C "$bundle" -xzf "$packed" ||
  { echo "gpu_check: could not unpack $packed into $bundle"; exit 1; }
logs=${OUT:-/tmp/mone_gpu_check}
mkdir -p "$logs"
errors="$logs/errors.tsv" bench="$logs/bench.tsv" log="$logs/gpu_check.log"
: > "$errors"
: > "$bench"
: > "$log"
say() { echo "$@" | tee -a "$log"; }
# Every step gets at most its own cap and never more than what is left of the whole check's time
# (MONE_GPU_CHECK_SECONDS, 450 by default: the device allows 8 minutes with the unpacking and start).
deadline=$((SECONDS + ${MONE_GPU_CHECK_SECONDS:-450}))
budget() {  # cap in seconds -> prints the seconds this step may take; fails under 5 s left
  local left=$((deadline - SECONDS))
  [ "$left" -ge 5 ] || return 1
  echo $(($1 < left ? $1 : left))
}

say "gpu_check: bundle of commit $(cat "$bundle/COMMIT" 2>/dev/null || echo unknown)"
timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | tee -a "$log" ||
  { say "gpu_check: nvidia-smi failed: no GPU visible"; exit 1; }

# ---- libraries: the bundle's first, then wherever this machine keeps cuBLAS and cuRAND ----
libdirs="$bundle/lib${MONE_GPU_CUDA_LIBS:+:$MONE_GPU_CUDA_LIBS}"
for lib in libcublas.so.13 libcublasLt.so.13 libcurand.so.10; do
  [ -n "${MONE_GPU_CUDA_LIBS:-}" ] && [ -e "$MONE_GPU_CUDA_LIBS/$lib" ] && continue
  ldconfig -p 2>/dev/null | grep "$lib" > /dev/null && continue
  found=$(find /usr/local /usr/lib /opt -name "$lib" 2>/dev/null | head -1)
  [ -z "$found" ] && found=$(timeout 30 find / -xdev -name "$lib" 2>/dev/null | head -1)
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
  s=$(budget 180) || { say "gpu_check: no time left for $(basename "$t")"; status=1; continue; }
  say "gpu_check: $(basename "$t") --test-suite=cuda (at most $s s)"
  timeout -k 5 "$s" "$t" --test-suite=cuda --no-version >> "$log" 2>&1
  rc=$?
  tail -2 "$log"
  if [ $rc -ne 0 ]; then
    say "gpu_check: $(basename "$t") FAILED (exit $rc); see $log"
    status=1
  fi
done

# ---- the GPU benchmark ----
say "gpu_check: mone_bench_cuda"
if s=$(budget 120); then
  MONE_BENCH_REPORT="$bench" timeout -k 5 "$s" "$bundle/bin/mone_bench_cuda" >> "$log" 2>&1 ||
    { say "gpu_check: mone_bench_cuda failed or ran out of time ($s s)"; status=1; }
else
  say "gpu_check: no time left for mone_bench_cuda"; status=1
fi
sed -n '/^# mone_bench_cuda/,$p' "$log" | grep -E '^(#|-|\||Peak)' | head -100

# ---- training steps on the GPU (mone bench train --device cuda): mone-925m in bf16 (tokens/s,
# MFU against the bf16 cuBLAS peak), and whether mone-2.81b trains on this GPU (the caching
# allocator's peak). B 8 x T 2048 each; few steps, to stay inside the 8 minutes. ----
train_bench() {  # name, timeout, model spec, warmup, steps
  local s
  s=$(budget "$2") || { say "gpu_check: no time left for mone bench train $1"; status=1; return; }
  say "gpu_check: mone bench train $1 (bf16, B 8 x T 2048, $4 warmup + $5 timed steps, at most $s s)"
  if timeout -k 5 "$s" "$bundle/bin/mone" bench train --model "$bundle/configs/models/$3.textproto" --device cuda \
       --precision bf16 --batch-size 8 --seq-len 2048 --warmup "$4" --steps "$5" --json \
       > "$logs/train_$1.json" 2>> "$log"; then
    python3 - "$logs/train_$1.json" "$1" "$bench" <<'PY' | tee -a "$log"
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
gib = r["cuda_peak_memory_bytes"] / 2**30
print(f"gpu_check: {sys.argv[2]}: step {r['step_s'] * 1e3:.1f} ms, {r['tokens_per_s']:.0f} tokens/s, "
      f"MFU {r['mfu']:.3f} (peak {r['peak_flops'] / 1e12:.1f} TFLOP/s, {r['peak_flops_how']}), "
      f"CUDA peak memory {gib:.2f} GiB: it fits")
with open(sys.argv[3], "a") as f:
    f.write(f"train step {sys.argv[2]}\tbf16\t{r['step_s'] * 1e3}\tB8xT2048, {r['tokens_per_s']:.0f} tok/s, "
            f"MFU {r['mfu']:.3f}, peak {gib:.2f} GiB\n")
PY
  else
    say "gpu_check: mone bench train $1 failed or ran out of time (does not fit, or a kernel is missing); see $log"
    status=1
  fi
}
train_bench mone-925m 100 mone_925m 2 3
train_bench mone-2.81b 120 mone_2p81b 1 1

# ---- one-rank NCCL: every all-reduce through NCCL's stream and the polling ----
if [ -x "$bundle/bin/mone_bench_comm" ]; then
  if s=$(budget 30); then
    say "gpu_check: mone_bench_comm --backend nccl"
    timeout -k 5 "$s" "$bundle/bin/mone_bench_comm" --backend nccl >> "$log" 2>&1 ||
      { say "gpu_check: mone_bench_comm (NCCL) failed"; status=1; }
  else
    say "gpu_check: no time left for mone_bench_comm"; status=1
  fi
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
