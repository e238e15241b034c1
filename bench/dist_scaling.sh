#!/usr/bin/env bash
# Data-parallel scaling on this machine (docs/PERF.md): tiny-mone training steps on the fortunes
# corpus, tokens/s of
#   A  1 process  x 2 threads      (what `mone train` does alone on 2 cores)
#   B  2 processes x 1 thread each (mpirun -np 2, data parallel, the same global batch)
#   C  1 process  x 1 thread       (one core: the per-core baseline)
#   D  B with the all-reduces overlapped with the backward (overlap_grad_reduce, off for MPI by default)
# each run ROUNDS times, alternating A, B, C, D. Per run: the median of the tokens/s of the logged
# windows of 10 steps, the first window (warm-up) left out. Efficiency = B / (2 x C).
#   bash bench/dist_scaling.sh            # STEPS=60 ROUNDS=3 by default
#   EXTRA="--set grad_bucket_mb=1" bash bench/dist_scaling.sh   # extra mone train arguments for every run
set -euo pipefail
cd "$(dirname "$0")/.."
mone=${MONE_BUILD_DIR:-build}/bin/mone
steps=${STEPS:-60}
rounds=${ROUNDS:-3}
read -r -a extra <<< "${EXTRA:-}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # CI and containers run as root

corpus=/usr/share/games/fortunes
"$mone" tokenizer train --input "$corpus" --doc-separator % --vocab-size 1024 --out "$work/tok.json" > /dev/null
"$mone" data prepare --tokenizer "$work/tok.json" --input "$corpus" --doc-separator % --val-fraction 0.05 \
  --out "$work/data" > /dev/null

# run NAME LAUNCHER THREADS [ARG...]: trains (with the extra mone train arguments), prints the
# median tokens/s of the windows after the first.
run() {
  local name=$1 launcher=$2 threads=$3 dir="$work/$1.$RANDOM"
  shift 3
  $launcher "$mone" train "${extra[@]}" "$@" --config configs/train/tiny_mone.textproto --data "$work/data" --val-data "$work/data" \
    --vocab-size 1024 --run-dir "$dir" --steps "$steps" --threads "$threads" --set eval_interval=0 \
    --set log_interval=10 --set checkpoint_interval=0 --set peak_flops=1e11 > "$dir.log" 2>&1 ||
    { echo "dist_scaling: run $name failed:" >&2; cat "$dir.log" >&2; exit 1; }
  python3 -c "
import json, statistics, sys
rates = [json.loads(l)['tokens_per_s'] for l in open(sys.argv[1])][1:]
print(f'{statistics.median(rates):.0f}')" "$dir/metrics.jsonl"
}

echo "tiny-mone, B 16 x T 64 per step, $steps steps${EXTRA:+, $EXTRA}, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| round | A: 1 proc x 2 threads | B: 2 procs x 1 thread | C: 1 proc x 1 thread | D: B overlapped | B / A | B / (2 C) | D / B |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for r in $(seq 1 "$rounds"); do
  a=$(run a "" 2)
  b=$(run b "mpirun -np 2" 1)
  c=$(run c "" 1)
  d=$(run d "mpirun -np 2" 1 --set overlap_grad_reduce=true)
  python3 -c "print(f'| $r | $a | $b | $c | $d | {$b/$a:.2f} | {$b/(2*$c):.2f} | {$d/$b:.2f} |')"
done
echo "load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
