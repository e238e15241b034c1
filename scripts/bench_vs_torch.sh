#!/usr/bin/env bash
# mone against a plain PyTorch eager training step, on the same weights, the same batch and the same
# number of threads, printed side by side in one run (docs/PERF.md, "mone against PyTorch eager").
#
#   bash scripts/bench_vs_torch.sh [threads]        # default 2
#
# For each model, `mone bench train --save-step DIR` times mone's step (forward, backward, AdamW) and
# writes its initial weights and batch to DIR; bench/torch_train_step.py then times PyTorch's eager
# step (the same model written as a PyTorch user would, torch.optim.AdamW) on exactly those.
# Needs mone built (bash scripts/setup.sh) and Debian's python3-torch (apt-get install python3-torch).
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
mone=build/bin/mone
python=/usr/bin/python3
[ -x "$mone" ] || { echo "bench_vs_torch: $mone is missing; run bash scripts/setup.sh first" >&2; exit 1; }
"$python" -c "import torch" 2>/dev/null ||
  { echo "bench_vs_torch: $python cannot import torch; install Debian's python3-torch" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name, model spec, batch size, sequence length
models=(
  "tiny-mone configs/models/tiny_mone.textproto 8 64"
  "small-mone configs/models/small_mone.textproto 8 128"
)
echo "$("$python" -c 'import torch; print("PyTorch", torch.__version__)'), $threads threads, $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo
echo "| model | batch | mone tokens/s | mone MFU | PyTorch eager tokens/s | mone / PyTorch |"
echo "|---|---|---:|---:|---:|---:|"
for m in "${models[@]}"; do
  read -r name spec b t <<< "$m"
  dir="$tmp/$name"
  mone_json=$("$mone" bench train --model "$spec" --batch-size "$b" --seq-len "$t" --steps 10 --warmup 3 \
              --threads "$threads" --save-step "$dir" --json)
  torch_json=$("$python" bench/torch_train_step.py --model-dir "$dir" --batch "$dir/batch.safetensors" \
               --threads "$threads" --steps 10 --warmup 3)
  "$python" - "$name" "$b" "$t" "$mone_json" "$torch_json" <<'PY'
import json, sys
name, b, t, m, p = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), json.loads(sys.argv[5])
print(f"| {name} | B {b}, T {t} | {m['tokens_per_s']:.0f} | {m['mfu']:.2f} | {p['tokens_per_s']:.0f} | "
      f"{m['tokens_per_s'] / p['tokens_per_s']:.2f}x |")
PY
done
