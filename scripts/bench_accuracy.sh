#!/usr/bin/env bash
# Accuracy of the integer model against the float model on one labelled
# folder, for a grid of bit widths, range-selection methods and head modes.
# Calibrates once (stages 0-4), then runs stages 5-8 per configuration, two
# at a time, and prints a table (also written to <out>/accuracy.tsv).
#
#   scripts/bench_accuracy.sh [MODEL] [DATA] [OUT]
# defaults: ../shared/models/yolov8n/yolov8n.pt ../shared/data/coco128 runs/bench-accuracy
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-../shared/models/yolov8n/yolov8n.pt}
data=${2:-../shared/data/coco128}
out=${3:-runs/bench-accuracy}
yqhw=${YQHW:-build/yq-hw}
jobs=${JOBS:-2}

mkdir -p "$out"
"$yqhw" run --model "$model" --data "$data" --out "$out/base" --through stage_4 >"$out/base.log"

# name wbits abits method head
configs=()
for bits in 4 6 8 10 12 16; do
  for method in max percentile; do configs+=("w${bits}a${bits}-$method-int $bits $bits $method int"); done
  configs+=("w${bits}a${bits}-percentile-float $bits $bits percentile float")
done
for wbits in 4 6; do
  for method in max percentile; do configs+=("w${wbits}a8-$method-int $wbits 8 $method int"); done
  configs+=("w${wbits}a8-percentile-float $wbits 8 percentile float")
done

run_config() {
  local name=$1 wbits=$2 abits=$3 method=$4 head=$5
  local dir="$out/$name"
  rm -rf "$dir" && mkdir -p "$dir" && cp -r "$out"/base/stage_{0,1,2,3,4} "$dir"/
  "$yqhw" --threads 1 run --model "$model" --data "$data" --out "$dir" --from stage_5 \
    --wbits "$wbits" --abits "$abits" --calib-method "$method" --head "$head" >"$dir.log" 2>&1 || echo "FAILED $name (see $dir.log)"
}
export -f run_config
export out model data yqhw
printf '%s\n' "${configs[@]}" | xargs -P "$jobs" -L 1 bash -c 'run_config $0 $1 $2 $3 $4'

float=$(python3 -c "import json;print(json.load(open('$out/base/stage_3/metrics.json'))['map50_95'])")
{
  printf 'config\tW\tA\tmethod\thead\tmAP50-95\tmAP50\tdelta_points\n'
  for c in "${configs[@]}"; do
    set -- $c
    python3 - "$out/$1/stage_8/report.json" "$1" "$2" "$3" "$4" "$5" <<'PY'
import json, sys
path, name, w, a, method, head = sys.argv[1:]
try:
    r = json.load(open(path))
    i = r["integer"]
    print(f"{name}\t{w}\t{a}\t{method}\t{head}\t{i['map50_95']:.4f}\t{i['map50']:.4f}\t{r['delta_map50_95_points']:+.2f}")
except (OSError, KeyError):
    print(f"{name}\t{w}\t{a}\t{method}\t{head}\tfailed\t\t")
PY
  done
} >"$out/accuracy.tsv"
echo "float mAP50-95: $float"
column -t -s $'\t' "$out/accuracy.tsv"
