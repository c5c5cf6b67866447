// The accelerator's view of a quantized model: where every node's data lives
// in its memories, and the layer program that drives it.
//
// Memory map (every address is a word address; docs/ARTIFACTS.md):
//   feature maps  each node's output is a contiguous region, NCHW, one code
//                 per word (a byte-plane tensor's code two words, its high and
//                 low byte in stored channels 2c and 2c + 1: byte_planes.hpp),
//                 placed by compiler/emit/fmap_plan.hpp (slices and
//                 pass-through concats are views of their inputs' words;
//                 regions of dead tensors are reused); in DRAM, the same
//                 plan in bytes, each tensor's codes in slots of their width;
//   weights       each convolution's codes, one per word, in rows of
//                 kWeightGroup words: row (g, t) holds tap t = (i*k + ky)*k + kx
//                 of output channels g*kWeightGroup .. + kWeightGroup - 1 (zero
//                 past the last channel), rows in (g, t) order; convolutions in
//                 node order, each from a row boundary;
//   biases        one accumulator-wide word per output channel, same order;
//   requant       one {multiplier, shift} word per output channel of a
//                 convolution, per input of an add (2) or concat;
//   LUTs          every table's entries, tables in id order.
//
// The layer program is one descriptor per graph node and the LUT directory
// one word per table, packed with the layouts of compiler/emit/hw_format.hpp.
#pragma once
#include <cstdint>
#include <vector>

#include "compiler/emit/hw_format.hpp"
#include "compiler/ir/graph.hpp"

namespace yq {

struct QuantModel;

ProgramOp program_op(OpKind op);

// Words of each memory, per node (-1: the node uses none of that memory).
struct NodePlacement {
  TensorShape shape;  // as stored: a byte-plane tensor's channels are twice the layer's
  int planes = 1;     // 2: its output is stored as byte planes (compiler/emit/byte_planes.hpp)
  std::int64_t fmap_base = 0;
  std::int64_t fmap_dram_offset = 0;  // its output's first byte in the DRAM feature-map region
  int fmap_slot_bytes = 1;            // bytes a code of its output takes there
  bool view = false;  // the output is a view of its inputs' words: no work at run time
  int forwarded_to = -1;  // the next node, when this one hands it its output band by band (fmap_plan.hpp)
  bool foldable = false;  // an upsample its readers' loads may perform (fmap_plan.hpp; the band program decides)
  std::int64_t weight_base = -1, weight_count = 0;
  std::int64_t bias_base = -1, bias_count = 0;
  std::int64_t requant_base = -1, requant_count = 0;
};

struct MemoryMap {
  std::vector<NodePlacement> nodes;     // indexed like graph.nodes
  std::vector<std::int64_t> lut_bases;  // indexed like QuantModel::luts
  std::int64_t fmap_total_words = 0;    // every node's output summed (fmap_depth without views and reuse)
  std::int64_t fmap_dram_bytes = 0;     // the DRAM feature-map region (each tensor in slots of its own width)
  std::int64_t fmap_depth = 0, weight_depth = 0, bias_depth = 0, requant_depth = 0, lut_depth = 0;
};

MemoryMap plan_memories(const QuantModel& model, InputSize image_size);

// A convolution's weights ([out][in][ky][kx] codes) as the conv engine reads
// them: each input channel's taps twice (for its high and low plane) when
// its input is stored as byte planes (its placement's `planes`; `map` needs
// the placements of the nodes before `node` only).
std::vector<std::int16_t> stored_weights(const QuantModel& model, const MemoryMap& map, int node);

// A convolution's weights ([out][in][ky][kx] codes) in the weight memory's
// row order above, padded to whole rows.
std::vector<std::int16_t> weight_rows(const std::vector<std::int16_t>& weights, int out_channels);

// Word widths in bits: weights (widest weight bits), biases (the overflow
// certificate's widest accumulator), multipliers (at least the configured
// multiplier bits, more when a power-of-two multiplier needs it), feature
// maps (widest activation, or one byte with byte planes), LUT entries (16,
// or a wider SiLU output).
struct WordWidths {
  int weight = 0, bias = 0, multiplier = 0, fmap = 0, lut = 0;
  bool planes = false;  // some tensor is stored as byte planes (the conv engine's operand is 8 bits wider)
  int pre = 0;  // the widest pre-activation code of a convolution (its requantizer's output)
};

WordWidths word_widths(const QuantModel& model);

// One descriptor per graph node, in node order.
std::vector<PackedWord> layer_program(const QuantModel& model, const MemoryMap& map);
// One entry per table, in id order.
std::vector<PackedWord> lut_directory(const QuantModel& model, const MemoryMap& map);

// Bits of a table's entries: the SiLU's output codes (signed), 16 for sigmoid and exp (unsigned).
int lut_value_bits(const QuantModel& model, int lut);

}  // namespace yq
