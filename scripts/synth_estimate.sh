#!/usr/bin/env bash
# FPGA resource estimate of the RTL for one emitted model: yosys
# `synth_xilinx -family <family>` of rtl/yq_conv_engine.v (ROWS x COLS MAC
# array), rtl/yq_eltwise_engine.v (ROWS lanes), rtl/yq_sequencer.v and the
# detect head's post-processing (rtl/yq_score_filter.v, rtl/yq_dfl_decode.v,
# rtl/yq_qnms.v with MAX_CAND candidates and the run's max_det; on request
# the whole head, rtl/yq_detect_head.v, with its controller), with
# every width and descriptor field position taken from the run's
# stage_7/yq_params.vh, then `stat`; on request yq_top's weight buffer
# (rtl/yq_weight_buffer.v: the run's YQ_WEIGHT_BUFFER_DEPTH, 128-bit AXI
# beats), one table lane (rtl/yq_table_lane.v: YQ_TABLE_BUFFER_DEPTH) and the
# scratch memory (rtl/yq_scratch.v: ROWS, the run's halves), or the whole
# accelerator (MODULES=yq_top: ROWSxCOLS, the run's buffers, MAX_CAND
# q_NMS candidates, ROWS head lanes), where
# UltraScale+ families (xcu, xcup) may map memories to UltraRAM (-uram;
# the table lanes go there, TABLE_URAM = 1: every lane when no table
# interpolates, else halves deeper than 512 entries).
# Prints DSP48, LUT, FF, BRAM, URAM and CARRY per engine, and the block
# RAM the emitted memories would need if held on chip (RAMB36 tiles of the
# best aspect ratio; the feature-map memory is the peak live size of the
# program).
#
#   scripts/synth_estimate.sh RUN [ARRAY] [FAMILY]
#     RUN     a `yq-hw run --out` folder with stage_7 (e.g. runs/v8n640)
#     ARRAY   ROWSxCOLS of the conv engine's MAC array, default 16x16
#     FAMILY  synth_xilinx -family, default xc7
#   MODULES="yq_score_filter ..." (environment) synthesizes only those;
#   MAX_CAND (environment, default 256) is q_NMS's candidate capacity,
#   HEAD_LANES (default 1) the score filter's and the head's lanes,
#   SCRATCH_CHECK=0 leaves the scratch memory's bank check out (a board
#   build's option; default 1, as simulated).
# Logs and yosys `stat -json` output go to RUN/synth/.
set -euo pipefail
if [[ $# -lt 1 || $# -gt 3 ]]; then
  sed -n '2,/^# Logs/p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
run=$(cd "$1" && pwd)
array=${2:-16x16}
family=${3:-xc7}
yosys=${YOSYS:-yosys}
params="$run/stage_7/yq_params.vh"
[[ -f "$params" ]] || { echo "synth_estimate: missing $params (run yq-hw run --through stage_7 first)" >&2; exit 2; }
[[ "$array" =~ ^([1-9][0-9]*)x([1-9][0-9]*)$ ]] || { echo "synth_estimate: ARRAY must be <rows>x<cols>, not $array" >&2; exit 2; }
rows=${BASH_REMATCH[1]}
cols=${BASH_REMATCH[2]}
command -v "$yosys" >/dev/null || { echo "synth_estimate: $yosys not found (apt-get install yosys)" >&2; exit 2; }

# The value of localparam NAME in yq_params.vh (param) or rtl/yq_format.vh (format).
localparam_in() {
  local value
  value=$(sed -n "s/^localparam integer $2 = \(-\{0,1\}[0-9]*\);.*/\1/p" "$1")
  [[ -n "$value" ]] || { echo "synth_estimate: $2 not in $1" >&2; exit 2; }
  echo "$value"
}
param() { localparam_in "$params" "$1"; }
format() { localparam_in "$repo/rtl/yq_format.vh" "$1"; }
bits_for() { python3 -c "print(max(1, ($1).bit_length()))"; }  # bits of an unsigned value
max_cand=${MAX_CAND:-256}
scratch_check=${SCRATCH_CHECK:-1}
[[ $scratch_check == 0 || $scratch_check == 1 ]] || { echo "synth_estimate: SCRATCH_CHECK must be 0 or 1" >&2; exit 2; }
head_lanes=${HEAD_LANES:-1}

# chparam arguments of an engine: its widths and array size (field positions
# and codes come from rtl/yq_format.vh, which the engines include).
engine_params() {
  local module=$1 args=""
  case $module in
    yq_conv_engine)
      args+=" -set ROWS $rows -set COLS $cols -set A_W $(param YQ_FMAP_WIDTH) -set W_W $(param YQ_WEIGHT_WIDTH)"
      args+=" -set ACC_W $(param YQ_BIAS_WIDTH) -set MULT_W $(param YQ_MULT_BITS) -set SHIFT_W $(format YQ_SHIFT_BITS)"
      args+=" -set PRE_W $(param YQ_PRE_BITS) -set LUT_W $(param YQ_LUT_WIDTH)"
      # built for the run, as yq_top builds it: interpolation, requant shift window, coordinate bits
      args+=" -set INTERP $(param YQ_TABLE_INTERPOLATED) -set RQ_SHIFT_MIN $(param YQ_CONV_SHIFT_MIN)"
      args+=" -set RQ_SHIFT_MAX $(param YQ_CONV_SHIFT_MAX) -set DIM_W $(param YQ_MAX_DIM_BITS)"
      # lane addresses as yq_top sizes them: the scratch memory's words, and one bit more
      args+=" -set FM_ADDR_W $(( $(bits_for "$(param YQ_SCRATCH_WORDS) - 1") + 1 ))" ;;
    yq_eltwise_engine)
      args+=" -set LANES $rows -set A_W $(param YQ_FMAP_WIDTH) -set MULT_W $(param YQ_MULT_BITS) -set SHIFT_W $(format YQ_SHIFT_BITS)"
      args+=" -set DIM_W $(param YQ_MAX_DIM_BITS)" ;;
    yq_score_filter)
      local classes
      classes=$(param YQ_NUM_CLASSES)
      args+=" -set LOGIT_W $(param YQ_LEVEL0_CLASS_BITS) -set LANES $head_lanes"
      args+=" -set CLASS_W $(bits_for "($classes + $head_lanes - 1) // $head_lanes * $head_lanes - 1")" ;;
    yq_detect_head)
      args+=" -set MAX_CAND $max_cand -set LANES $head_lanes" ;;
    yq_dfl_decode)
      local logit_w knot_w levels
      logit_w=$(param YQ_LEVEL0_CLASS_BITS)
      knot_w=$(( logit_w < $(param YQ_LUT_DIRECT_MAX_BITS) ? logit_w : $(param YQ_LUT_DIRECT_MAX_BITS) ))
      levels=$(param YQ_NUM_LEVELS)
      args+=" -set BIN_W $(param YQ_ACT_BITS) -set REG_MAX $(param YQ_REG_MAX) -set LOGIT_W $logit_w -set KNOT_W $knot_w"
      args+=" -set CELL_W $(bits_for "max($(param YQ_IMAGE_HEIGHT), $(param YQ_IMAGE_WIDTH)) // $(param YQ_LEVEL0_STRIDE) - 1")"
      args+=" -set STRIDE_W $(bits_for "$(param YQ_LEVEL$((levels - 1))_STRIDE)")" ;;
    yq_qnms)
      # Head boxes need 18-bit signed coordinates (docs/ARITHMETIC.md section 8).
      args+=" -set MAX_CAND $max_cand -set MAX_DET $(param YQ_MAX_DETECTIONS) -set COORD_W 18 -set IOU_W 10" ;;
    yq_weight_buffer)
      local slot
      slot=$(param YQ_DRAM_WEIGHT_SLOT_BITS)
      args+=" -set GROUP $(format YQ_WEIGHT_GROUP) -set W $(param YQ_WEIGHT_WIDTH) -set SLOT_W $slot"
      args+=" -set PB $(( $(param YQ_AXI_DATA_BITS) / slot )) -set COLS $cols"
      args+=" -set HALF_ROWS $(( $(param YQ_WEIGHT_BUFFER_DEPTH) / $(format YQ_WEIGHT_GROUP) ))" ;;
    yq_table_lane)
      args+=" -set DEPTH $(param YQ_TABLE_BUFFER_DEPTH) -set W $(param YQ_LUT_WIDTH)"
      args+=" -set KNOTS $(param YQ_TABLE_INTERPOLATED) -set URAM $table_uram" ;;
    yq_top)
      args+=" -set ROWS $rows -set COLS $cols -set AXI_DATA_W $(param YQ_AXI_DATA_BITS)"
      args+=" -set WBUF_DEPTH $(param YQ_WEIGHT_BUFFER_DEPTH) -set HEAD_MAX_CAND $max_cand -set HEAD_LANES $rows"
      args+=" -set SCRATCH_CHECK $scratch_check -set TABLE_URAM $table_uram" ;;
    yq_scratch)
      args+=" -set ROWS $rows -set FW $(param YQ_FMAP_WIDTH)"
      args+=" -set PB $(( $(param YQ_AXI_DATA_BITS) / $(param YQ_FMAP_NARROW_SLOT_BITS) ))"
      args+=" -set IN_WORDS $(param YQ_BAND_INPUT_WORDS) -set OUT_WORDS $(param YQ_BAND_OUTPUT_WORDS)"
      args+=" -set CHECK $scratch_check"
      args+=" -set ANY_PITCH_MODULUS $(param YQ_HEAD_PITCH_MODULUS)" ;;
  esac
  echo "$args"
}

# The synthesis commands for one module (see dsp_split above).
synth_commands() {
  if [[ -n $dsp_split ]]; then
    echo "synth_xilinx -family xc7 -top $1 -flatten -run begin:coarse"
    echo "synth_xilinx -family $family $uram_flag -top $1 -flatten -run coarse:"
  else
    echo "synth_xilinx -family $family $uram_flag -top $1 -flatten"
  fi
}

out="$run/synth"
mkdir -p "$out"
summarize() {  # stat -json file -> "DSP LUT FF BRAM36 URAM CARRY"
  python3 - "$1" <<'PY'
import json, sys
cells = json.load(open(sys.argv[1]))["design"]["num_cells_by_type"]
count = lambda prefixes: sum(n for t, n in cells.items() if t.startswith(prefixes))
dsp = count(("DSP48",))
lut = count(("LUT",))
ff = count(("FD",))
bram = count(("RAMB36",)) + count(("RAMB18",)) / 2
uram = count(("URAM",))
carry = count(("CARRY",))
print(f"{dsp} {lut} {ff} {bram:g} {uram} {carry}")
PY
}

# UltraScale+ (xcu, xcup): memories may map to UltraRAM (-uram). yosys 0.23
# packs a multiplier's registers and post-adder (the MAC array's
# accumulate, acc <= (first ? bias : acc) + a*w) into a DSP only for the
# DSP48E1 of 7-series parts; on DSP48E2 it maps the bare multiplier and
# builds every accumulator from LUTs, carries and flip-flops (48 LUTs and
# 40 flip-flops a MAC cell at 8-bit codes). Vivado packs them into the
# DSP48E2, whose post-adder, Z multiplexer (P or C) and M/P registers are a
# superset of the DSP48E1's. So there the DSPs are mapped as for xc7
# (DSP48E1 cells, each standing for one DSP48E2; 25x18 instead of 27x18
# multipliers, so never fewer DSPs than Vivado) and the rest as for the
# family. YQ_DSP_MODEL=native maps DSP48E2 as yosys does.
uram_flag=""
dsp_split=""
table_uram=0   # table lanes in UltraRAM where the part has it (yq_top's TABLE_URAM)
if [[ $family == xcu || $family == xcup ]]; then
  uram_flag=-uram
  table_uram=1
  case ${YQ_DSP_MODEL:-dsp48e1} in
    dsp48e1) dsp_split=1 ;;
    native) ;;
    *) echo "synth_estimate: YQ_DSP_MODEL must be dsp48e1 or native" >&2; exit 2 ;;
  esac
fi
printf '%-20s %-8s %7s %8s %8s %7s %5s %7s %8s\n' module array DSP48 LUT FF BRAM36 URAM CARRY seconds
for module in ${MODULES:-yq_conv_engine yq_eltwise_engine yq_sequencer yq_score_filter yq_dfl_decode yq_qnms}; do
  case $module in
    yq_conv_engine) tag="${module}_${rows}x${cols}"; shape="${rows}x${cols}" ;;
    yq_eltwise_engine) tag="${module}_${rows}"; shape="${rows} lanes" ;;
    yq_qnms) tag="${module}_${max_cand}"; shape="$max_cand cand" ;;
    yq_score_filter) tag="${module}_l${head_lanes}"; shape="$head_lanes lanes" ;;
    yq_detect_head) tag="${module}_l${head_lanes}_${max_cand}"; shape="L$head_lanes/$max_cand" ;;
    yq_weight_buffer) tag="${module}_${cols}"; shape="$cols cols" ;;
    yq_scratch) tag="${module}_${rows}_$(param YQ_BAND_INPUT_WORDS)_c${scratch_check}"; shape="$rows rows" ;;
    yq_top) tag="${module}_${rows}x${cols}_$(param YQ_BAND_INPUT_WORDS)_c${scratch_check}"; shape="${rows}x${cols}" ;;
    *) tag=$module; shape="-" ;;
  esac
  start=$(date +%s)
  args=$(engine_params "$module")
  # Read deferred: modules are elaborated only at the parameters chparam
  # gives (yq_top at its default AXI_DATA_W would fail its check against a
  # run of another width).
  "$yosys" -q -l "$out/$tag.log" -p "
    read_verilog -defer -I$repo/rtl -I$run/stage_7 $repo/rtl/*.v
    ${args:+chparam $args $module}
    $(synth_commands "$module")
    tee -q -o $out/$tag.stat.json stat -json
    tee -q -o $out/$tag.stat.txt stat" >/dev/null 2>"$out/$tag.stderr" \
    || { tail -n 5 "$out/$tag.log"; echo "synth_estimate: yosys failed on $module (log: $out/$tag.log)" >&2; exit 1; }
  read -r dsp lut ff bram uram carry <<<"$(summarize "$out/$tag.stat.json")"
  printf '%-20s %-8s %7s %8s %8s %7s %5s %7s %8s\n' "$module" \
    "$shape" "$dsp" "$lut" "$ff" "$bram" "$uram" "$carry" \
    "$(( $(date +%s) - start ))"
  # Every cell of the MAC array multiplies: a netlist with fewer DSPs than
  # cells lost logic (yosys found MAC outputs unused), not an estimate.
  if [[ $module == yq_conv_engine || $module == yq_top ]] && (( dsp < rows * cols )); then
    echo "synth_estimate: $module has $dsp DSPs, fewer than the $((rows * cols)) MAC cells: yosys dropped logic the design uses (log: $out/$tag.log)" >&2
    exit 1
  fi
done

echo
echo "On-chip memories of this model, if held in block RAM (RAMB36 = 36 Kbit, best aspect ratio):"
printf '%-10s %7s %10s %12s %8s\n' memory width depth bits RAMB36
for memory in PROGRAM LUT_DIR WEIGHT BIAS REQUANT LUT FMAP; do
  width=$(param "YQ_${memory}_WIDTH")
  depth=$(param "YQ_${memory}_DEPTH")
  python3 - "$memory" "$width" "$depth" <<'PY'
import sys
name, width, depth = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
# RAMB36E1 aspect ratios: (depth, width)
shapes = [(32768, 1), (16384, 2), (8192, 4), (4096, 9), (2048, 18), (1024, 36), (512, 72)]
tiles = min(-(-depth // d) * -(-width // w) for d, w in shapes)
print(f"{name.lower():<10} {width:>7} {depth:>10} {width * depth:>12} {tiles:>8}")
PY
done
echo "(7-series parts hold 50 (xc7a35t) to 955 (xc7k480t) RAMB36, Virtex-7 up to 1,880; beyond that, external memory)"
echo "yosys logs and stat: $out/"
