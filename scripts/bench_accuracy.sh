#!/usr/bin/env bash
# Accuracy of the integer model against the float model, calibration and
# validation on disjoint images: calibrates once on CALIB (stages 0-4, float
# mAP on DATA in stage_3), then runs stages 5-8 per configuration, two at a
# time, and prints a table (also written to <out>/accuracy.tsv) with each
# configuration's change against float and its 95% paired bootstrap interval.
#
#   scripts/bench_accuracy.sh [MODEL] [OUT]
# defaults: ../shared/models/yolov8n/yolov8n.pt runs/bench-accuracy
# environment:
#   CALIB    calibration folders, space-separated (default ../shared/data/coco_calib)
#   DATA     validation folders, space-separated, disjoint from CALIB
#            (default ../shared/data/coco128 ../shared/data/coco_val209)
#   CONFIGS  lines "name wbits abits method head" (default: the grid below)
#   JOBS     configurations run at once (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-../shared/models/yolov8n/yolov8n.pt}
out=${2:-runs/bench-accuracy}
yqhw=${YQHW:-build/yq-hw}
jobs=${JOBS:-2}
read -r -a calib <<<"${CALIB:-../shared/data/coco_calib}"
read -r -a data <<<"${DATA:-../shared/data/coco128 ../shared/data/coco_val209}"
data_args=() calib_args=()
for d in "${data[@]}"; do data_args+=(--data "$d"); done
for c in "${calib[@]}"; do calib_args+=(--calib "$c"); done

default_configs=""
for bits in 6 8 10 12 16; do
  for method in max percentile mse entropy; do default_configs+="w${bits}a${bits}-$method $bits $bits $method int"$'\n'; done
done
mapfile -t configs < <(printf '%s' "${CONFIGS:-$default_configs}" | sed '/^[[:space:]]*$/d')

mkdir -p "$out"
if [[ ! -f "$out/base/stage_4/summary.json" ]]; then
  "$yqhw" run --model "$model" "${data_args[@]}" "${calib_args[@]}" --out "$out/base" --through stage_4 >"$out/base.log"
fi

run_config() {
  local name=$1 wbits=$2 abits=$3 method=$4 head=$5
  local dir="$out/$name"
  rm -rf "$dir" && mkdir -p "$dir" && cp -r "$out"/base/stage_{0,1,2,3,4} "$dir"/
  "$yqhw" --threads 1 run --model "$model" "${data_args[@]}" "${calib_args[@]}" --out "$dir" --from stage_5 \
    --wbits "$wbits" --abits "$abits" --calib-method "$method" --head "$head" >"$dir.log" 2>&1 || echo "FAILED $name (see $dir.log)"
}
export -f run_config
export out model yqhw
export data_args_text="${data_args[*]}" calib_args_text="${calib_args[*]}"
printf '%s\n' "${configs[@]}" | xargs -P "$jobs" -L 1 bash -c \
  'read -r -a data_args <<<"$data_args_text"; read -r -a calib_args <<<"$calib_args_text"; run_config $0 $1 $2 $3 $4'

float=$(python3 -c "import json;print(json.load(open('$out/base/stage_3/metrics.json'))['map50_95'])")
{
  printf 'config\tW\tA\tmethod\thead\tmAP50-95\tmAP50\tchange_points\t95%%_interval\n'
  for c in "${configs[@]}"; do
    set -- $c
    python3 - "$out/$1/stage_8/report.json" "$1" "$2" "$3" "$4" "$5" <<'PY'
import json, sys
path, name, w, a, method, head = sys.argv[1:]
try:
    r = json.load(open(path))
    i, d = r["integer"], r["paired_difference"]
    print(f"{name}\t{w}\t{a}\t{method}\t{head}\t{i['map50_95']:.4f}\t{i['map50']:.4f}\t{d['delta_map50_95_points']:+.2f}"
          f"\t[{d['low_points']:+.2f}, {d['high_points']:+.2f}]")
except (OSError, KeyError):
    print(f"{name}\t{w}\t{a}\t{method}\t{head}\tfailed\t\t\t")
PY
  done
} >"$out/accuracy.tsv"
echo "float mAP50-95 on ${data[*]}: $float (calibration: ${calib[*]})"
column -t -s $'\t' "$out/accuracy.tsv"
