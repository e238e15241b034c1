#!/usr/bin/env bash
# The main job: install what mone needs, build it, and train a tiny MoNE language model on a real
# English corpus (Debian's fortunes) on the CPU, then sample from it. About three minutes after the
# build on two cores (measured: docs/PERF.md). Point the same commands at your own text.
#   bash scripts/demo.sh                 # STEPS=600 bash scripts/demo.sh for a shorter run
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

mone=${MONE_BUILD_DIR:-build}/bin/mone
work=runs/demo
steps=${STEPS:-1500}
corpus=/usr/share/games/fortunes   # installed by scripts/setup.sh (package fortunes)
rm -rf "$work"
mkdir -p "$work"

echo "== 1. a byte-level BPE tokenizer (1024 tokens) from $corpus"
"$mone" tokenizer train --input "$corpus" --doc-separator % --vocab-size 1024 --out "$work/tokenizer.json"

echo "== 2. token shards: one document per fortune, 5% of them for validation"
"$mone" data prepare --tokenizer "$work/tokenizer.json" --input "$corpus" --doc-separator % \
  --val-fraction 0.05 --out "$work/data"

echo "== 3. train tiny-mone (8 experts, K=2, K_N = D/4) for $steps steps"
"$mone" inspect configs/models/tiny_mone.textproto | sed -n '1,3p'
"$mone" train --config configs/train/tiny_mone.textproto --data "$work/data" --val-data "$work/data" \
  --tokenizer "$work/tokenizer.json" --vocab-size 1024 --run-dir "$work/run" --steps "$steps" \
  --set eval_interval=250 --set checkpoint_interval=500 --set log_interval=50

echo "== 4. validation loss over training (metrics: $work/run/metrics.jsonl)"
grep -o '"step":[0-9]*,"val_loss":[0-9.]*' "$work/run/metrics.jsonl" | sed 's/"step":/  step /; s/,"val_loss":/  val loss /'
"$mone" eval --checkpoint "$work/run" --data "$work/data" --batches 8

echo "== 5. samples"
"$mone" generate --checkpoint "$work/run" --prompt "The secret of" --max-tokens 80 \
  --temperature 0.8 --top-k 40 --seed 1 --samples 3
