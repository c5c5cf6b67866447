#!/usr/bin/env bash
# Accuracy of the integer model against the float model, calibration and
# validation on disjoint images: calibrates once on CALIB (stages 0-4 with the
# layer-input statistics GPTQ and bias correction read; float mAP on DATA in
# stage_3), then runs stages 5-8 per configuration, JOBS at a time, and
# prints a table (also written to <out>/accuracy.tsv): each configuration's
# mAP, its change against float with the 95% paired bootstrap interval, the
# size of its weights and biases, and the wall seconds of its compile (stages
# 5-7). A configuration whose stage_8 report exists is not run again, so an
# interrupted grid resumes where it stopped.
#
#   scripts/bench_accuracy.sh [MODEL] [OUT]
# defaults: ../shared/models/yolov8n/yolov8n.pt runs/bench-accuracy
# environment:
#   CALIB    calibration folders, space-separated (default ../shared/data/coco_calib)
#   DATA     validation folders, space-separated, disjoint from CALIB
#            (default ../shared/data/coco128 ../shared/data/coco_val209)
#   CONFIGS  lines "name flags..." (yq-hw run flags; default: the grid below)
#   JOBS     configurations run at once (default 2, each on one thread)
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

# The table of docs/RESULTS.md: widths x rounding, then the W8A8 range methods.
default_configs=""
for wa in "8 8" "6 8" "4 8" "6 6" "4 4"; do
  read -r w a <<<"$wa"
  default_configs+="w${w}a${a} --wbits $w --abits $a --rounding nearest"$'\n'
  default_configs+="w${w}a${a}-gptq-bc --wbits $w --abits $a --rounding gptq --bias-correction"$'\n'
done
for method in max percentile mse entropy; do default_configs+="w8a8-$method --bits 8 --calib-method $method"$'\n'; done
mapfile -t configs < <(printf '%s' "${CONFIGS:-$default_configs}" | sed '/^[[:space:]]*$/d')

mkdir -p "$out"
if [[ ! -f "$out/base/stage_4/layer_inputs.pt" ]]; then
  "$yqhw" run --model "$model" "${data_args[@]}" "${calib_args[@]}" --rounding gptq --out "$out/base" \
    --through stage_4 >"$out/base.log"
fi

run_config() {
  local name=$1
  shift
  local dir="$out/$name"
  [[ -f $dir/stage_8/report.json ]] && return 0
  rm -rf "$dir" && mkdir -p "$dir" && cp -r "$out"/base/stage_{0,1,2,3,4} "$dir"/
  "$yqhw" --threads 1 run --model "$model" "${data_args[@]}" "${calib_args[@]}" --out "$dir" --from stage_5 \
    "$@" >"$dir.log" 2>&1 || echo "FAILED $name (see $dir.log)"
}
export -f run_config
export out model yqhw
export data_args_text="${data_args[*]}" calib_args_text="${calib_args[*]}"
printf '%s\n' "${configs[@]}" | xargs -P "$jobs" -L 1 bash -c \
  'read -r -a data_args <<<"$data_args_text"; read -r -a calib_args <<<"$calib_args_text"; run_config "$0" "$@"'

float=$(python3 -c "import json;print(json.load(open('$out/base/stage_3/metrics.json'))['map50_95'])")
{
  printf 'config\tmAP50-95\tmAP50\tchange_points\t95%%_interval\tweight_bytes\tcompile_s\tflags\n'
  for c in "${configs[@]}"; do
    read -r name flags <<<"$c"
    "$yqhw" inspect --json "$out/$name" >"$out/$name.inspect.json" 2>/dev/null || true
    python3 - "$out/$name" "$name" "$flags" <<'PY'
import json, sys
run, name, flags = sys.argv[1:]
try:
    r = json.load(open(f"{run}/stage_8/report.json"))
    i, d = r["integer"], r["paired_difference"]
    size = next(m for m in json.load(open(f"{run}.inspect.json"))["model_size"] if m["format"] == "run")
    compile_s = sum(json.load(open(f"{run}/stage_{s}/summary.json"))["seconds"] for s in (5, 6, 7))
    print(f"{name}\t{i['map50_95']:.4f}\t{i['map50']:.4f}\t{d['delta_map50_95_points']:+.2f}"
          f"\t[{d['low_points']:+.2f}, {d['high_points']:+.2f}]\t{size['bytes']}\t{compile_s:.0f}\t{flags}")
except (OSError, KeyError, StopIteration) as e:
    print(f"{name}\tfailed ({e})\t\t\t\t\t\t{flags}")
PY
  done
} >"$out/accuracy.tsv"
echo "float mAP50-95 on ${data[*]}: $float (calibration: ${calib[*]})"
column -t -s $'\t' "$out/accuracy.tsv"
