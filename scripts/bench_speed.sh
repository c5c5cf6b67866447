#!/usr/bin/env bash
# Speed a user feels, against Python torch (Debian's python3-torch, the same
# LibTorch 1.13 underneath; a benchmark-only peer, never the product's) in
# the same run: the float forward pass and the integer reference (yq-hw
# bench: letterboxed canvas to the head predictions) against Python's fp32
# forward pass (scripts/bench_speed_peer.py: eval, no_grad, BatchNorm
# unfused), and stage_4's calibration of CALIB_IMAGES images. Each figure
# is the median of RUNS runs; runs alternate yq-hw and Python so a drift of
# the machine's speed hits both.
#
#   scripts/bench_speed.sh [OUT]        (default runs/bench-speed)
# environment: MODEL (checkpoint), STATE_DICT (the same weights as a plain
# float32 state dict, for the peer), DATA (images), THREADS (default 2),
# IMAGES per run (default 8), RUNS (default 5), CALIB_IMAGES (default 128),
# IMGSZ (default 640).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/bench-speed}
model=${MODEL:-../shared/models/yolov8n/yolov8n.pt}
state_dict=${STATE_DICT:-../shared/models/yolov8n/yolov8n_state_dict.pt}
data=${DATA:-../shared/data/coco128}
threads=${THREADS:-2} images=${IMAGES:-8} runs=${RUNS:-5} calib_images=${CALIB_IMAGES:-128} imgsz=${IMGSZ:-640}
yqhw=${YQHW:-build/yq-hw}
python=/usr/bin/python3  # Debian's interpreter, the one python3-torch installs into
"$python" -c 'import torch' 2>/dev/null || { echo "bench_speed.sh: needs Debian's python3-torch (apt-get install python3-torch)" >&2; exit 1; }

mkdir -p "$out"
if [[ ! -f $out/run/stage_6/summary.json ]]; then
  "$yqhw" run --model "$model" --imgsz "$imgsz" --out "$out/run" --through stage_6 >"$out/run.log"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {print a / b}'; }
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
: >"$out/float.txt" && : >"$out/integer.txt" && : >"$out/python.txt" && : >"$out/calibrate.txt"
for ((run = 1; run <= runs; ++run)); do
  report=$("$yqhw" --threads "$threads" bench --run "$out/run" --data "$data" --images "$images" --imgsz "$imgsz")
  awk '/float \(LibTorch\)/ {print $3}' <<<"$report" >>"$out/float.txt"
  awk '/integer reference/ {print $3}' <<<"$report" >>"$out/integer.txt"
  "$python" scripts/bench_speed_peer.py "$state_dict" "$images" "$imgsz" "$threads" 1 | awk '{print $2}' >>"$out/python.txt"
  from=stage_0 && [[ -d $out/calibrate/stage_3 ]] && from=stage_4
  "$yqhw" --threads "$threads" run --model "$model" --imgsz "$imgsz" --calib "$data" --calib-images "$calib_images" \
    --out "$out/calibrate" --from "$from" --through stage_4 >"$out/calibrate.log"
  "$python" -c "import json,sys; print(json.load(open(sys.argv[1]))['seconds'])" "$out/calibrate/stage_4/summary.json" \
    >>"$out/calibrate.txt"
done

float_ms=$(median <"$out/float.txt") integer_ms=$(median <"$out/integer.txt") python_ms=$(median <"$out/python.txt")
calibrate_s=$(median <"$out/calibrate.txt")
printf '%dx%d, %d threads, %d images a run, median of %d runs\n' "$imgsz" "$imgsz" "$threads" "$images" "$runs"
printf '  Python torch fp32 forward   %8.1f ms/image\n' "$python_ms"
printf '  yq-hw float forward         %8.1f ms/image   %5.2fx Python\n' "$float_ms" "$(ratio "$python_ms" "$float_ms")"
printf '  yq-hw integer reference     %8.1f ms/image   %5.2fx Python\n' "$integer_ms" "$(ratio "$python_ms" "$integer_ms")"
printf '  yq-hw calibration           %8.1f s for %d images\n' "$calibrate_s" "$calib_images"
