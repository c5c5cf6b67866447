#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz; clang, -DYQ_FUZZ=ON, in
# build-fuzz/) and runs each for SECONDS on one core, one after the other.
#   scripts/fuzz.sh [SECONDS] [TARGET ...]     (default 60 s, every target)
#   scripts/fuzz.sh 0 [TARGET ...]             replays the corpora only
# Targets: checkpoint_zip checkpoint_pickle image quant_config quant_model_json.
# Seeds are made here, never committed: small files written by yq-hw's own
# writers (tests/fuzz/write_seeds.cpp), data.pkl of the checkpoints in
# ../shared when present, quant_model.json of a synthetic 64x64 run of
# build/yq-hw when it is built. Each corpus grows in build-fuzz/corpus/<target>/; a crashing
# input is saved as build-fuzz/crashes/<target>-crash-<sha1> and the script
# fails. Ends with one line per target: runs, seconds, corpus size.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
all_targets=(checkpoint_zip checkpoint_pickle image quant_config quant_model_json)
targets=("${@:-${all_targets[@]}}")
build=build-fuzz
shared=${YQ_SHARED:-../shared}

mkdir -p "$build"
CC=clang CXX=clang++ cmake -S . -B "$build" -DYQ_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j 2 --target write_seeds "${targets[@]/#/fuzz_}"

seeds=$build/seeds
rm -rf "$seeds"
inputs=()  # checkpoints and a quant_model.json the seed writer takes apart
for file in "$shared/models/yolov8n/yolov8n.pt" "$shared/models/yolov8n/yolov8n_state_dict.pt"; do
  [ -f "$file" ] && inputs+=("$file")
done
run=$(mktemp -d)
trap 'rm -rf "$run"' EXIT
if [ -x build/yq-hw ] && build/yq-hw run --out "$run/out" --imgsz 64 --through stage_6 > "$run/log" 2>&1; then
  inputs+=("$run/out/stage_6/quant_model.json")
fi
"$build/tests/fuzz/write_seeds" "$seeds" "${inputs[@]}"

mkdir -p "$build/crashes"
summary=()
for target in "${targets[@]}"; do
  corpus=$build/corpus/$target
  mkdir -p "$corpus" "$seeds/$target"
  log=$build/fuzz-$target.log
  if [ "$seconds" = 0 ]; then
    options=(-runs=0)
  else
    options=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20)
  fi
  echo "fuzz_$target: ${seconds}s, log $log"
  TIMEFORMAT='%U %S'
  if ! cpu=$({ time ASAN_OPTIONS=detect_leaks=1 "$build/tests/fuzz/fuzz_$target" "${options[@]}" -print_final_stats=1 \
      -artifact_prefix="$build/crashes/$target-" "$corpus" "$seeds/$target" > "$log" 2>&1; } 2>&1); then
    tail -n 40 "$log"
    echo "fuzz_$target FAILED: input saved under $build/crashes/" >&2
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  cpu=$(echo "$cpu" | awk '{printf "%.0f", $1 + $2}')
  summary+=("fuzz_$target: $runs runs, ${cpu} s CPU, corpus $(ls "$corpus" | wc -l) files")
done
printf '%s\n' "${summary[@]}"
