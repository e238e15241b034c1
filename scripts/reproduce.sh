#!/usr/bin/env bash
# The MoNE paper in small, in one command (docs/REPRODUCTION.md): train MoE, MoNE at K_N = D/4,
# MoE at MoNE's activated parameters, MoNE without NG-LBL, MoNE with each neuron selector, and a
# sweep that splits one activated-parameter budget between experts per token (K) and neurons per
# expert (K_N), each with two seeds or more; evaluate every run, analyze its selections, sparsify
# the MoE runs post hoc; then `mone claims` states per claim whether it held (with the seed-spread
# noise rule) and `mone report` draws every run on one HTML page.
#
#   bash scripts/reproduce.sh                        # the default size, on the CPU (see REPRODUCTION.md for the time)
#   bash scripts/reproduce.sh --quick                # the machinery only: a tiny model, under a minute
#   bash scripts/reproduce.sh --size large --device cuda --seeds 1,2,3
#   bash scripts/reproduce.sh --text my_corpus.txt --doc-separator '' --out runs/mine
#
# Options:
#   --size quick|small|large  the train spec configs/reproduce/SIZE.textproto (default small; --quick = --size quick)
#   --device cpu|cuda         where training runs (default cpu); CUDA selects neurons by |G| only, so
#                             the other selectors' settings are skipped there (the script says so)
#   --text PATH ...           the corpus: files or directories (default /usr/share/games/fortunes)
#   --doc-separator SEP       a line that separates documents in a file (default %, fortunes' separator;
#                             '' for one document per file)
#   --seeds LIST              comma-separated seeds (default 1,2; at least two for the noise rule)
#   --steps N                 override the train spec's steps
#   --only LIST               comma-separated settings to run (default: all; names below)
#   --eval-batches N          validation batches for eval, analyze and sparsify (default: quick 4,
#                             small 24, large 0 = every full batch); the same batches for every run
#   --out DIR                 where everything goes (default runs/reproduce-SIZE in the working directory)
#   --threads N               threads per command (default 0: every core; quick: 1)
# MONE_BUILD_DIR picks the build (default build; else the mone on the PATH). A run whose eval.json exists is not trained
# again, so an interrupted study continues where it stopped when started again.
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."
repo=$PWD
# Paths given on the command line are relative to where the script was started.
from_caller() { case "$1" in /*) echo "$1" ;; *) echo "$caller/$1" ;; esac; }

size=small device=cpu sep=% seeds=1,2 steps="" only="" out="" threads="" eval_batches=""
text=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) size=quick; shift ;;
    --size) size=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --text) shift; while [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; do text+=("$(from_caller "$1")"); shift; done ;;
    --doc-separator) sep=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --eval-batches) eval_batches=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "reproduce.sh: unknown option $1 (--help lists them)" >&2; exit 2 ;;
  esac
done
[ ${#text[@]} -gt 0 ] || text=(/usr/share/games/fortunes)
spec=configs/reproduce/$size.textproto
[ -f "$spec" ] || { echo "reproduce.sh: --size $size: no $spec (quick, small or large)" >&2; exit 2; }
case "$device" in cpu|cuda) ;; *) echo "reproduce.sh: --device $device: cpu or cuda" >&2; exit 2 ;; esac
out=$(from_caller "${out:-runs/reproduce-$size}")
case "$size" in
  quick) : "${threads:=1}" "${eval_batches:=4}" ;;
  small) : "${threads:=0}" "${eval_batches:=24}" ;;
  *) : "${threads:=0}" "${eval_batches:=0}" ;;
esac
mone=${MONE_BUILD_DIR:-build}/bin/mone
case "$mone" in /*) ;; *) mone=$repo/$mone ;; esac
if [ ! -x "$mone" ]; then
  mone=$(command -v mone) || { echo "reproduce.sh: no $repo/${MONE_BUILD_DIR:-build}/bin/mone and no mone on the PATH; build first (bash scripts/setup.sh)" >&2; exit 2; }
fi
mkdir -p "$out"

# The model the spec names, for its vocabulary and expert width D.
model=$(sed -n 's/^model_spec: *"\(.*\)".*/\1/p' "$spec")
model=$(dirname "$spec")/$model
field() { sed -n "s/^$1: *\([0-9]*\).*/\1/p" "$model" | head -1; }
vocab=$(field vocab_size)
D=$(field moe_intermediate_size)

# The settings: name, then the model changes (--set model.FIELD=VALUE). The base model is MoNE with
# K = 2 and K_N = D/4. The sweep keeps K·(D + 2·K_N), the routed weights a token activates per
# layer (d·D gate, 2·d·K_N up and down per expert), at 6·D: K = 2 with K_N = D (that is `moe`),
# K = 3 with D/2, K = 4 with D/4, K = 5 with D/10 (rounded; within 1% of the budget).
settings=(
  "moe                      model.ffn_type=MOE"
  "mone"
  "moe_same_activated       model.ffn_type=MOE model.num_experts_per_tok=1"
  "mone_no_nglbl            model.neuron_aux_loss_coef=0"
  "mone_signed_gate         model.neuron_selector=SIGNED_GATE"
  "mone_abs_gate_times_up   model.neuron_selector=ABS_GATE_TIMES_UP"
  "mone_abs_gate_threshold  model.neuron_selector=ABS_GATE_THRESHOLD"
  "sweep_k3                 model.num_experts_per_tok=3 model.neuron_topk=$((D / 2))"
  "sweep_k4                 model.num_experts_per_tok=4 model.neuron_topk=$((D / 4))"
  "sweep_k5                 model.num_experts_per_tok=5 model.neuron_topk=$(((D + 5) / 10))"
)

data=$out/data
if [ ! -f "$data/done" ]; then
  echo "== tokenizer ($vocab tokens) and shards from ${text[*]}"
  rm -rf "$data" && mkdir -p "$data"
  sep_flag=()
  [ -n "$sep" ] && sep_flag=(--doc-separator "$sep")
  "$mone" tokenizer train --input "${text[@]}" "${sep_flag[@]}" --vocab-size "$vocab" --out "$data/tokenizer.json"
  "$mone" data prepare --tokenizer "$data/tokenizer.json" --input "${text[@]}" "${sep_flag[@]}" \
    --val-fraction 0.05 --out "$data/shards"
  touch "$data/done"
fi

start=$SECONDS
IFS=, read -r -a seed_list <<< "$seeds"
for line in "${settings[@]}"; do
  read -r name changes <<< "$line"
  if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then continue; fi
  if [ "$device" = cuda ] && [[ "$changes" == *neuron_selector=* ]]; then
    echo "== $name: skipped (CUDA selects by |G| only)"
    continue
  fi
  set_flags=(--set "model.name=$name")
  for c in $changes; do set_flags+=(--set "$c"); done
  for seed in "${seed_list[@]}"; do
    run=$out/runs/$name/seed$seed
    [ -f "$run/eval.json" ] && { echo "== $name seed $seed: done before"; continue; }
    echo "== $name seed $seed ($((SECONDS - start)) s so far)"
    rm -rf "$run" && mkdir -p "$(dirname "$run")"
    "$mone" train --config "$spec" --data "$data/shards" --val-data "$data/shards" --tokenizer "$data/tokenizer.json" \
      --run-dir "$run" --seed "$seed" --device "$device" --threads "$threads" ${steps:+--steps "$steps"} \
      "${set_flags[@]}" > "$run.train.log" 2>&1 || { tail -20 "$run.train.log" >&2; exit 1; }
    mv "$run.train.log" "$run/train.log"
    tail -1 "$run/train.log"
    evalflags=(--checkpoint "$run" --data "$data/shards" --batches "$eval_batches" --threads "$threads" --device "$device")
    "$mone" analyze "${evalflags[@]}" --out "$run/analysis" > "$run/analysis.txt"
    if [[ "$changes" == *ffn_type=MOE* ]]; then
      "$mone" sparsify "${evalflags[@]}" --keep 1,0.8,0.6,0.4,0.2,0.1,0.05 --out "$run/sparsify" > "$run/sparsify.txt"
    fi
    "$mone" eval "${evalflags[@]}" --json > "$run/eval.json.part"
    mv "$run/eval.json.part" "$run/eval.json"
  done
done
echo "== trained and analyzed in $((SECONDS - start)) s"

"$mone" claims "$out" > /dev/null
"$mone" report "$out"/runs/*/seed* --out "$out/report.html" > /dev/null
cat "$out/summary.md"
echo
echo "wrote $out/summary.md, $out/summary.json, $out/sweep.svg and $out/report.html"
