// The accelerator's hardware format, defined once (docs/ARTIFACTS.md): the
// format version, the field tables of the packed words (layer descriptor,
// LUT directory entry, requant word), the descriptor's codes (ops, detect
// head outputs, table kinds) and the "none" values. Everything else reads
// it: the emitter packs words with these layouts, and format_header() writes
// them as Verilog localparams (yq_format.vh), the one file the RTL, the
// benches and the random-program generator take positions and codes from.
// rtl/yq_format.vh is that text checked in (tests/test_emit.cpp compares
// them; `yq-hw format-header rtl/yq_format.vh` regenerates it).
//
// Descriptor, 816 bits, fields from bit 0 up (all unsigned but pad_code;
// "none" is all ones):
//   [95:0]    8 bits each: op, num_inputs, kernel, stride, pad, in_bits,
//             out_bits, pre_bits, weight_bits, acc_bits, head, head_level
//   [415:96]  16 bits each: node, head_stride, act_lut, head_lut, pad_code
//             (signed), channel_begin, in_c, in_h, in_w, out_c, out_h,
//             out_w, input0..input7 (contiguous: input k at input0 + 16k)
//   [799:416] 32 bits each: out_base, in_base0..in_base7 (in_base k at
//             in_base0 + 32k), weight_base, bias_base, requant_base
//   [807:800] view: 1 when the output is a view of its inputs' words (no work)
//   [815:808] pad_top: the pad rows above input row 0 (pad in the layer
//             program; less in a band program's descriptor, whose input
//             starts at a band's first row)
// LUT directory entry, 96 bits: base[31:0], depth[63:32], kind[71:64],
// index_bits[79:72], knot_bits[87:80], value_bits[95:88].
// Requant word, MULT + 6 bits: multiplier[MULT-1:0], shift[MULT+5:MULT]
// (its width depends on the model, so its layout is in yq_params.vh).
// Band program instruction, 304 bits: op, reads, writes, barrier, half,
// level 8 bits each, node, channels, first_row, rows 16 bits each, words,
// dram_address, dram_stride, scratch_word, scratch_stride, class_word 32
// bits each (docs/ARTIFACTS.md section 14).
// Detection record, 192 bits (the DRAM detection list): x1, y1, x2, y2
// (signed, 1/16 pixel), score (unsigned, 2^-16) 32 bits each, class_id,
// anchor 16 bits each. The list's slot 0 holds the count of records that
// follow (slots 1 .. count): count[31:0], the slot's other bits 0.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "compiler/emit/packed_word.hpp"

namespace yq {

// Version of docs/ARTIFACTS.md: changes with any change to an emitted format.
constexpr int kArtifactFormatVersion = 15;

enum class ProgramOp { Input = 0, Conv = 1, Slice = 2, Add = 3, Concat = 4, MaxPool = 5, Upsample = 6 };
enum class HeadOutput { None = 0, Box = 1, Class = 2 };  // detect-level outputs the integer head decodes
enum class LutKind { Silu = 0, Sigmoid = 1, Exp = 2 };

constexpr int kProgramMaxInputs = 8;  // input slots of a descriptor (C2f of YOLOv8l/x concatenates 8)
constexpr int kShiftBits = 6;         // requantization shifts 0..62
constexpr int kHeadValueBits = 16;    // sigmoid scores (2^-16) and exp values (<= 2^15) are unsigned 16-bit
// Weights per row of the weight memory: one tap of this many consecutive output
// channels (docs/ARTIFACTS.md section 3), so the conv engine reads its COLS
// columns' weights of a tap as one slice of one row. A power of two; the
// arrays it serves have COLS dividing it.
constexpr int kWeightGroup = 32;

// Every op with its Verilog name ("CONV"), in code order.
const std::vector<std::pair<std::string, ProgramOp>>& program_op_codes();
const char* lut_kind_name(LutKind kind);
LutKind lut_kind(const std::string& name);  // "silu" | "sigmoid" | "exp"; throws yq::Error otherwise

const WordLayout& program_layout();
const WordLayout& lut_directory_layout();
WordLayout requant_layout(int multiplier_bits);  // multiplier (unsigned) in the low bits, then the shift
const WordLayout& detection_layout();
const WordLayout& band_instruction_layout();  // one band program instruction (compiler/emit/band_program.hpp)
const WordLayout& detection_list_count_layout();  // slot 0 of the DRAM detection list

// The text of yq_format.vh: localparams only, no module, no include guard.
std::string format_header();

}  // namespace yq
