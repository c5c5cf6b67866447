#!/usr/bin/env bash
# RTL benchmark: the whole YOLOv8 layer program on the RTL engines at full
# resolution, for several MAC arrays, every layer compared byte for byte with
# the golden dumps (rtl_tb `make layers`). Makes one run with the compiler
# (official weights, W<bits>A<bits>), then per array prints the conv cycles,
# the ideal cycles (MACs / array size), the MAC utilization (their ratio), the
# element-wise cycles, the layers that are views (no engine cycles), the
# total, frames per second at --clock-mhz and the speed-up over the first
# array. The table also goes to <out>/rtl_bench.tsv; each array's log is
# copied to <run>/rtl_bench/, where `yq-hw report <run>` reads it.
# Then the whole frame through rtl/yq_top.v on the band program (feature maps
# in DRAM, rtl_tb `make top`) per array and DRAM bandwidth of --dram (timed
# model: latency 100 cycles, that many bytes per cycle, 4 outstanding bursts,
# no random stalls), bit-exact: frame cycles, cycles with no engine running,
# MAC utilization with the DRAM stalls counted, DRAM bytes read and written;
# in <out>/rtl_frame.tsv (--dram "" skips it). Each frame's profile (top_bench
# --profile: per layer, cycles, cycles without an engine and bytes; the
# waits by what the issuer was doing, in its log) goes to
# <out>/top-<array>-<bytes per cycle>.profile.tsv, its bank census (top_bench
# --census: the cycles two banked scratch memories, narrow banks and wide
# even/odd rows, would add to serve the read lanes; columns of rtl_frame.tsv)
# to <out>/top-<array>-<bytes per cycle>.census.tsv.
#
#   scripts/bench_rtl.sh [--imgsz 640] [--arrays "8x8 16x16"] [--bits 8]
#                        [--model PT] [--calib DIR] [--golden-image IMAGE]
#                        [--clock-mhz 200] [--per-layer] [--dram "12.8 25.6"]
#                        [--out runs/bench-rtl]
# defaults: ../shared/models/yolov8n/yolov8n.pt, calibration on
# ../shared/data/coco8, golden dumps of ../shared/data/samples/bus.jpg.
# The program runs from the image on rtl/yq_sequencer.v (make layers CHAIN=1:
# every layer reads the RTL's own outputs; the cycles include fetching the
# descriptors); --per-layer starts each layer from its golden inputs instead.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
imgsz=640
arrays="8x8 16x16"
bits=8
model=$repo/../shared/models/yolov8n/yolov8n.pt
calib=$repo/../shared/data/coco8
golden_image=$repo/../shared/data/samples/bus.jpg
clock_mhz=200
chain=1
out=$repo/runs/bench-rtl
dram="12.8 25.6"
while [[ $# -gt 0 ]]; do
  case $1 in
    --imgsz) imgsz=$2; shift 2 ;;
    --arrays) arrays=$2; shift 2 ;;
    --bits) bits=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --calib) calib=$2; shift 2 ;;
    --golden-image) golden_image=$2; shift 2 ;;
    --clock-mhz) clock_mhz=$2; shift 2 ;;
    --per-layer) chain=; shift ;;
    --dram) dram=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench_rtl: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
for f in "$model" "$calib" "$golden_image"; do
  [[ -e "$f" ]] || { echo "bench_rtl: $f not found (see --help for the options)" >&2; exit 2; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
run="$out/yolov8n-$imgsz-w$bits"

tsv="$out/rtl_bench.tsv"
printf 'array\tconv_cycles\tideal_cycles\tmac_utilization\teltwise_cycles\tview_layers\ttotal_cycles\tfps_at_%sMHz\tspeedup\tsim_seconds\n' \
  "$clock_mhz" >"$tsv"
first_total=
make_run=(IMGSZ="$imgsz" BITS="$bits" MODEL="$(realpath "$model")" CALIB="$(realpath "$calib")"
          GOLDEN_IMAGE="$(realpath "$golden_image")")
for array in $arrays; do
  log="$out/layers-$array.log"
  echo "== $array: make -C rtl_tb layers RUN=$run ARRAY=$array${chain:+ CHAIN=1} (log: $log)"
  status=0
  make --no-print-directory -C "$repo/rtl_tb" layers RUN="$run" ARRAY="$array" ${chain:+CHAIN=1} "${make_run[@]}" \
    >"$log" 2>&1 || status=$?
  grep -v '^LAYER ' "$log" | sed 's/^/   /'
  [[ $status -eq 0 ]] || { echo "bench_rtl: $array failed (status $status), see $log" >&2; exit 1; }
  mkdir -p "$run/rtl_bench" && cp "$log" "$run/rtl_bench/"  # read by `yq-hw report` (cycles per layer)
  make_run=()  # the run is made once
  read -r conv_cycles macs < <(sed -n 's/^TOTAL conv: [0-9]* layers, \([0-9]*\) cycles, \([0-9]*\) MACs.*/\1 \2/p' "$log")
  eltwise_cycles=$(sed -n 's/^TOTAL eltwise: [0-9]* layers, \([0-9]*\) cycles.*/\1/p' "$log")
  views=$(sed -n 's/^TOTAL views: \([0-9]*\) layers.*/\1/p' "$log")
  total=$(sed -n 's/^TOTAL \([0-9]*\) cycles.*/\1/p' "$log")
  sim_seconds=$(sed -n 's/^LAYERS time \([0-9.]*\) s.*/\1/p' "$log")
  first_total=${first_total:-$total}
  awk -v a="$array" -v cc="$conv_cycles" -v m="$macs" -v ec="$eltwise_cycles" -v vw="${views:-0}" -v t="$total" -v f="$first_total" \
      -v mhz="$clock_mhz" -v s="$sim_seconds" 'BEGIN {
    split(a, rc, "x"); ideal = m / (rc[1] * rc[2]);
    printf "%s\t%d\t%d\t%.2f%%\t%d\t%d\t%d\t%.2f\t%.2f\t%s\n", a, cc, ideal, 100 * ideal / cc, ec, vw, t, mhz * 1e6 / t, f / t, s
  }' >>"$tsv"
done
echo
echo "YOLOv8n W${bits}A${bits} at ${imgsz}x${imgsz}, every layer bit-exact (run: $run)"
column -t -s $'\t' "$tsv"

# The whole frame through yq_top, from DRAM, per array and bandwidth.
[[ -n "$dram" ]] || exit 0
frame_tsv="$out/rtl_frame.tsv"
printf 'array\tbytes_per_cycle\tframe_cycles\tno_engine_cycles\tmac_utilization\tdram_bytes_read\tdram_bytes_written\tfps_at_%sMHz\tnarrow_banks_more_cycles\twide_rows_more_cycles\tsim_seconds\n' \
  "$clock_mhz" >"$frame_tsv"
for array in $arrays; do
  macs=$(sed -n 's/^TOTAL conv: [0-9]* layers, [0-9]* cycles, \([0-9]*\) MACs.*/\1/p' "$out/layers-$array.log")
  for bandwidth in $dram; do
    log="$out/top-$array-$bandwidth.log"
    args="--timed --latency 100 --bandwidth $bandwidth --outstanding 4 --stalls 0 --watchdog 2000000000"
    args+=" --profile $out/top-$array-$bandwidth.profile.tsv --census $out/top-$array-$bandwidth.census.tsv"
    echo "== $array, $bandwidth bytes/cycle: make -C rtl_tb top RUN=$run ARRAY=$array TOP_ARGS='$args' (log: $log)"
    start=$(date +%s.%N)
    status=0
    make --no-print-directory -C "$repo/rtl_tb" top RUN="$run" ARRAY="$array" TOP_ARGS="$args" >"$log" 2>&1 || status=$?
    seconds=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }')
    grep '^TOP' "$log" | sed 's/^/   /'
    [[ $status -eq 0 ]] || { echo "bench_rtl: the frame at $array, $bandwidth bytes/cycle failed (status $status), see $log" >&2; exit 1; }
    read -r cycles stalls read written < <(sed -n \
      's/^TOP cycles \([0-9]*\), no engine running \([0-9]*\) .*bytes read \([0-9]*\), bytes written \([0-9]*\), model.*/\1 \2 \3 \4/p' "$log")
    # The census lines: "... (A cycles more), N on set B (B more)", narrow banks first.
    read -r narrow rows < <(sed -n 's/^TOP   .* cycles with a collision on set A (\([0-9]*\) cycles more), [0-9]* on set B (\([0-9]*\) more)$/\1 \2/p' "$log" |
                            awk '{ more[NR] = $1 + $2 } END { print more[1], more[2] }')
    awk -v a="$array" -v b="$bandwidth" -v c="$cycles" -v st="$stalls" -v m="$macs" -v r="$read" -v w="$written" \
        -v mhz="$clock_mhz" -v s="$seconds" -v nb="$narrow" -v wr="$rows" 'BEGIN {
      split(a, rc, "x");
      printf "%s\t%s\t%d\t%d (%.1f%%)\t%.1f%%\t%d\t%d\t%.2f\t%d (%.1f%%)\t%d (%.1f%%)\t%s\n", a, b, c, st, 100 * st / c,
             100 * m / (rc[1] * rc[2] * c), r, w, mhz * 1e6 / c, nb, 100 * nb / c, wr, 100 * wr / c, s
    }' >>"$frame_tsv"
  done
done
echo
echo "The whole frame through yq_top, feature maps in DRAM (timed: latency 100 cycles), bit-exact"
column -t -s $'\t' "$frame_tsv"

