#!/usr/bin/env bash
# Weight rounding against accuracy on images disjoint from calibration:
# calibrates once on CALIB (stages 0-4 with layer input statistics, float
# validation on DATA), then runs stages 5-8 per configuration (weight bits x
# nearest / gptq / gptq + bias correction, plus any extra --config files),
# one at a time, and prints mAP50-95, the change against float and stage_6's
# seconds (also written to <out>/rounding.tsv).
#
#   scripts/bench_rounding.sh [DATA] [CALIB] [OUT] [-- extra flags for every row]
# defaults: ../shared/data/coco128 ../shared/data/coco_calib runs/bench-rounding
# CONFIGS="w8 w6 w4" picks weight bits, VARIANTS="nearest nearest-bc gptq gptq-bc" the
# rounding rows; MIXED=file.toml adds rows with that --config (nearest and gptq-bc).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${MODEL:-../shared/models/yolov8n/yolov8n.pt}
data=${1:-../shared/data/coco128}
calib=${2:-../shared/data/coco_calib}
out=${3:-runs/bench-rounding}
shift $(( $# < 3 ? $# : 3 ))
[[ ${1:-} == -- ]] && shift
extra=("$@")
yqhw=${YQHW:-build/yq-hw}
threads=${THREADS:-2}

mkdir -p "$out"
if [[ ! -f $out/base/stage_4/layer_inputs.pt ]]; then
  /usr/bin/time -f "%e s" -o "$out/base.time" "$yqhw" --threads "$threads" run --model "$model" --data "$data" \
    --calib "$calib" --out "$out/base" --rounding gptq --through stage_4 >"$out/base.log" 2>&1
fi

rows=()
for w in ${CONFIGS:-w8 w6 w4}; do
  bits=${w#w}
  for variant in ${VARIANTS:-nearest nearest-bc gptq gptq-bc}; do
    flags="--wbits $bits --abits 8 --rounding ${variant%-bc}"
    [[ $variant == *-bc ]] && flags+=" --bias-correction"
    rows+=("$w-$variant $flags")
  done
  if [[ -n ${MIXED:-} ]]; then
    rows+=("$w-mixed-nearest --config $MIXED --wbits $bits --abits 8 --rounding nearest")
    rows+=("$w-mixed-gptq-bc --config $MIXED --wbits $bits --abits 8 --rounding gptq --bias-correction")
  fi
done

printf 'config\tmAP50-95\tmAP50\tchange_points\tstage_6_s\toutput_mse_ratio\n' >"$out/rounding.tsv"
for row in "${rows[@]}"; do
  read -r name flags <<<"$row"
  dir="$out/$name"
  if [[ ! -f $dir/stage_8/report.json ]]; then
    rm -rf "$dir" && mkdir -p "$dir" && cp -al "$out"/base/stage_{0,1,2,3,4} "$dir"/
    # shellcheck disable=SC2086
    "$yqhw" --threads "$threads" run --model "$model" --data "$data" --calib "$calib" --out "$dir" --from stage_5 \
      $flags "${extra[@]}" >"$dir.log" 2>&1 || echo "FAILED $name (see $dir.log)"
  fi
  python3 - "$dir" "$name" >>"$out/rounding.tsv" <<'PY'
import json, sys
d, name = sys.argv[1:]
try:
    r = json.load(open(f"{d}/stage_8/report.json"))
    s6 = json.load(open(f"{d}/stage_6/summary.json"))
    ratio = s6["result"]["weights"].get("output_mse_ratio_geometric_mean", "")
    i = r["integer"]
    print(f"{name}\t{i['map50_95']:.4f}\t{i['map50']:.4f}\t{r['delta_map50_95_points']:+.2f}\t{s6['seconds']:.1f}\t{ratio if ratio == '' else format(ratio, '.3f')}")
except (OSError, KeyError) as e:
    print(f"{name}\tfailed ({e})")
PY
done
echo "float mAP50-95: $(python3 -c "import json;print(json.load(open('$out/base/stage_3/metrics.json'))['map50_95'])")"
column -t -s $'\t' "$out/rounding.tsv"
