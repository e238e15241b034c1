#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of a user's file (tests/fuzz, docs/RELIABILITY.md):
# builds the libFuzzer targets in the sanitized build (scripts/sanitize.sh: clang, AddressSanitizer
# and UndefinedBehaviorSanitizer, build-asan/), writes their seed corpora from mone's own files,
# and runs every target, as many at a time as there are cores (MONE_FUZZ_JOBS).
#   bash scripts/fuzz.sh              # 60 seconds per target
#   bash scripts/fuzz.sh 20           # what CI runs
#   MONE_FUZZ_TARGETS="shard model_spec" bash scripts/fuzz.sh 600
#   MONE_FUZZ_RUNS=1000000 bash scripts/fuzz.sh 0     # a number of inputs per target instead of a time
#   MONE_FUZZ_SEED=1 bash scripts/fuzz.sh 20          # libFuzzer's random seed (CI's: the same inputs every run)
# A crash, a sanitizer report, a leak, a timeout (10 s) or a broken property (an error that does
# not name the file, a round trip that changes something) fails the script; the input is saved
# as build-asan/crashes/<target>-crash-<sha1>. Replay one: build-asan/fuzz/fuzz_<target> FILE.
# Corpora grow in build-asan/corpus/<target>/ and are kept between runs; logs go to build-asan/logs/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
runs=${MONE_FUZZ_RUNS:--1}
seed=${MONE_FUZZ_SEED:-0}  # 0: libFuzzer draws one
build=${MONE_SANITIZE_BUILD_DIR:-build-asan}
bash scripts/sanitize.sh --build-only mone_fuzz

rm -rf "$build/seeds"
"$build/fuzz/mone_fuzz_seeds" "$build/seeds"
mkdir -p "$build/crashes" "$build/logs"
# Each target writes its input files here (tmpfs when there is one); whatever a crash leaves goes too.
scratch=$(mktemp -d /dev/shm/mone_fuzz.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Runs one target; its output goes to logs/<target>.log, its exit status to logs/<target>.rc.
fuzz_one() {
  local t=$1
  mkdir -p "$build/corpus/$t"
  local rc=0
  MONE_FUZZ_SCRATCH=$scratch UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -runs="$runs" -seed="$seed" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/crashes/$t-" "$build/corpus/$t" "$build/seeds/$t" \
    > "$build/logs/$t.log" 2>&1 || rc=$?
  echo "$rc" > "$build/logs/$t.rc"
}

targets=${MONE_FUZZ_TARGETS:-$(cd "$build/fuzz" && ls fuzz_* | sed 's/^fuzz_//')}
jobs=${MONE_FUZZ_JOBS:-$(nproc)}
for t in $targets; do
  rm -f "$build/logs/$t.rc"
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  fuzz_one "$t" &
done
wait

failed=()
printf '%-16s %10s %8s %8s %8s  %s\n' target executions cov ft corpus result
for t in $targets; do
  log="$build/logs/$t.log"
  rc=$(cat "$build/logs/$t.rc" 2>/dev/null || echo "?")
  # libFuzzer's last status line: "#1234 DONE cov: 2286 ft: 6427 corp: 447/2297Kb ..."
  status=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$status")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$status")
  corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<< "$status")
  result=ok
  if [ "$rc" != 0 ]; then
    result="FAILED (rc $rc, see $log)"
    failed+=("$t")
  fi
  printf '%-16s %10s %8s %8s %8s  %s\n' "$t" "$execs" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
if [ ${#failed[@]} -gt 0 ]; then
  for t in "${failed[@]}"; do
    echo "== $t"
    grep -E -A12 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|fuzz property broken' "$build/logs/$t.log" | head -40
  done
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}; inputs in $build/crashes/"
  exit 1
fi
echo "fuzz: every target ran clean"
