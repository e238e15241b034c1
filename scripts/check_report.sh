#!/usr/bin/env bash
# By hand: look at `mone report`'s page as a reader would. Trains tiny-moe and tiny-mone briefly on
# Debian's fortunes, runs analyze, sparsify and gradstudy into the run directories, writes the
# report, and screenshots it with headless Chromium (Debian's `chromium`, which scripts/setup.sh
# does not install: apt-get install chromium). Open OUT/report.png (or OUT/report.html) and look.
#   bash scripts/check_report.sh [OUT]     # default OUT: out/report_check; STEPS=100 by default
set -euo pipefail
cd "$(dirname "$0")/.."
mone=$(realpath "${MONE_BUILD_DIR:-build}/bin/mone")
out=${1:-out/report_check}
steps=${STEPS:-100}
corpus=/usr/share/games/fortunes
command -v chromium > /dev/null || { echo "check_report.sh needs chromium: apt-get install chromium" >&2; exit 1; }
[ -x "$mone" ] || { echo "build mone first (cmake --build build --target mone)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
out=$(realpath "$out")

"$mone" tokenizer train --input "$corpus" --doc-separator % --vocab-size 1024 --out "$out/tokenizer.json"
"$mone" data prepare --tokenizer "$out/tokenizer.json" --input "$corpus" --doc-separator % --val-fraction 0.05 \
  --out "$out/data"
for model in tiny_moe tiny_mone; do
  "$mone" train --config "configs/train/$model.textproto" --data "$out/data" --val-data "$out/data" \
    --run-dir "$out/$model" --steps "$steps" --set eval_interval=25 --set log_interval=5
  "$mone" analyze --checkpoint "$out/$model" --data "$out/data" --batches 4 --out "$out/$model/analysis"
  "$mone" sparsify --checkpoint "$out/$model" --data "$out/data" --batches 4 --out "$out/$model/sparsify"
done
"$mone" gradstudy --checkpoint "$out/tiny_mone" --data "$out/data" --out "$out/tiny_mone/gradstudy"
"$mone" report "$out/tiny_moe" "$out/tiny_mone" --title "check_report.sh: tiny-moe and tiny-mone" \
  --out "$out/report.html"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,6000 \
  --screenshot="$out/report.png" "file://$out/report.html" 2> "$out/chromium.log"
echo "wrote $out/report.html and its screenshot $out/report.png"
