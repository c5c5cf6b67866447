// The accelerator's view of a quantized model: where every node's data lives
// in its memories, and the layer program that drives it.
//
// Memory map (every address is a word address; docs/ARTIFACTS.md):
//   feature maps  each node's output is a contiguous region, NCHW, one code
//                 per word, placed by compiler/emit/fmap_plan.hpp (slices and
//                 pass-through concats are views of their inputs' words;
//                 regions of dead tensors are reused);
//   weights       each convolution's codes, [out][in][ky][kx], one per word,
//                 convolutions in node order;
//   biases        one accumulator-wide word per output channel, same order;
//   requant       one {multiplier, shift} word per output channel of a
//                 convolution, per input of an add (2) or concat;
//   LUTs          every table's entries, tables in id order.
//
// The layer program is one descriptor per graph node (program_layout()), and
// the LUT directory one word per table (lut_directory_layout()); both are
// fixed-layout PackedWords whose field positions the Verilog header repeats.
//
// Descriptor, 808 bits, fields from bit 0 up (all unsigned but pad_code;
// "none" is all ones):
//   [95:0]    8 bits each: op, num_inputs, kernel, stride, pad, in_bits,
//             out_bits, pre_bits, weight_bits, acc_bits, head, head_level
//   [415:96]  16 bits each: node, head_stride, act_lut, head_lut, pad_code
//             (signed), channel_begin, in_c, in_h, in_w, out_c, out_h,
//             out_w, input0..input7
//   [799:416] 32 bits each: out_base, in_base0..in_base7, weight_base,
//             bias_base, requant_base
//   [807:800] view: 1 when the output is a view of its inputs' words (no work)
// LUT directory entry, 96 bits: base[31:0], depth[63:32], kind[71:64],
// index_bits[79:72], knot_bits[87:80], value_bits[95:88].
// Requant word, MULT + 6 bits: multiplier[MULT-1:0], shift[MULT+5:MULT].
#pragma once
#include <cstdint>
#include <vector>

#include "compiler/emit/packed_word.hpp"
#include "compiler/ir/graph.hpp"

namespace yq {

struct QuantModel;

enum class ProgramOp { Input = 0, Conv = 1, Slice = 2, Add = 3, Concat = 4, MaxPool = 5, Upsample = 6 };
enum class HeadOutput { None = 0, Box = 1, Class = 2 };  // detect-level outputs the integer head decodes
enum class LutKind { Silu = 0, Sigmoid = 1, Exp = 2 };

constexpr int kProgramMaxInputs = 8;  // input slots of a descriptor (C2f of YOLOv8l/x concatenates 8)
constexpr int kShiftBits = 6;         // requantization shifts 0..62
constexpr int kHeadValueBits = 16;    // sigmoid scores (2^-16) and exp values (<= 2^15) are unsigned 16-bit

ProgramOp program_op(OpKind op);
const char* lut_kind_name(LutKind kind);
LutKind lut_kind(const std::string& name);  // "silu" | "sigmoid" | "exp"; throws yq::Error otherwise

// Words of each memory, per node (-1: the node uses none of that memory).
struct NodePlacement {
  TensorShape shape;
  std::int64_t fmap_base = 0;
  bool view = false;  // the output is a view of its inputs' words: no work at run time
  std::int64_t weight_base = -1, weight_count = 0;
  std::int64_t bias_base = -1, bias_count = 0;
  std::int64_t requant_base = -1, requant_count = 0;
};

struct MemoryMap {
  std::vector<NodePlacement> nodes;     // indexed like graph.nodes
  std::vector<std::int64_t> lut_bases;  // indexed like QuantModel::luts
  std::int64_t fmap_total_words = 0;    // every node's output summed (fmap_depth without views and reuse)
  std::int64_t fmap_depth = 0, weight_depth = 0, bias_depth = 0, requant_depth = 0, lut_depth = 0;
};

MemoryMap plan_memories(const QuantModel& model, int image_size);

// Word widths in bits: weights (widest weight bits), biases (the overflow
// certificate's widest accumulator), multipliers (at least the configured
// multiplier bits, more when a power-of-two multiplier needs it), feature
// maps (widest activation), LUT entries (16, or a wider SiLU output).
struct WordWidths {
  int weight = 0, bias = 0, multiplier = 0, fmap = 0, lut = 0;
};

WordWidths word_widths(const QuantModel& model);

const WordLayout& program_layout();
const WordLayout& lut_directory_layout();
WordLayout requant_layout(int multiplier_bits);  // multiplier (unsigned) in the low bits, then the shift

// One descriptor per graph node, in node order.
std::vector<PackedWord> layer_program(const QuantModel& model, const MemoryMap& map);
// One entry per table, in id order.
std::vector<PackedWord> lut_directory(const QuantModel& model, const MemoryMap& map);

// Bits of a table's entries: the SiLU's output codes (signed), 16 for sigmoid and exp (unsigned).
int lut_value_bits(const QuantModel& model, int lut);

}  // namespace yq
