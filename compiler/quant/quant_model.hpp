// The quantized model: the graph plus, per node, the integers of
// docs/ARITHMETIC.md (codes' bits and scales, integer weights and biases,
// requantization multipliers/shifts, lookup tables) and the detect head's
// tables. This is everything the integer reference and the hardware run on.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir/graph.hpp"
#include "compiler/ir/model_info.hpp"
#include "compiler/quant/quant_settings.hpp"

namespace yq {

// How a real tensor maps to codes: real = scale * (code - zero), code of `bits` bits.
struct CodeFormat {
  int bits = 8;
  double scale = 1.0;
  int zero = 0;
};

// acc -> rounding_shift(acc * multiplier, shift)
struct Requant {
  std::int64_t multiplier = 1;
  int shift = 0;
};

struct QuantConv {
  int weight_bits = 8;
  std::vector<std::int16_t> weights;   // [out][in][k][k] codes, narrow range
  std::vector<double> weight_scales;   // per output channel (compile time only)
  std::vector<std::int64_t> bias;      // accumulator units, input zero folded in
  std::vector<Requant> requant;        // per output channel: acc -> pre-activation code
  CodeFormat pre;                      // pre-activation codes (= output for prediction convs)
  int acc_bits = 32;                   // from the overflow certificate
  std::int64_t worst_case_acc = 0;     // max |acc| over every input the codes allow
  int silu_lut = -1;                   // index into QuantModel::luts, -1 when no activation
};

struct QuantNode {
  CodeFormat out;
  QuantConv conv;                      // for Conv nodes
  std::vector<Requant> input_requant;  // Concat: one per input; Add: two (shared shift)
};

// A lookup table (docs/ARITHMETIC.md section 6). Direct when
// knot_bits == index_bits (2^index_bits entries), interpolated otherwise
// (2^knot_bits + 1 knots).
struct Lut {
  std::string name;
  std::string kind;  // "silu", "sigmoid" (indexed by code) or "exp" (indexed by distance 0..size-1)
  int index_bits = 8;
  int knot_bits = 8;
  std::vector<std::int32_t> values;
};

// Per detect level: the tables of the integer head.
struct QuantHeadLevel {
  int sigmoid_lut = -1;  // class-logit code -> score in units of 2^-16
  int exp_lut = -1;      // DFL: EXP[d] = round(2^15 exp(-d * box scale)); d beyond the table reads 0
};

struct QuantModel {
  ModelInfo info;
  InputSize image_size;  // the input size the activation ranges were calibrated at
  Graph graph;
  QuantSettings settings;
  std::vector<QuantNode> nodes;  // indexed like graph.nodes
  std::vector<Lut> luts;
  std::vector<QuantHeadLevel> head;
};

// The widest accumulator of any convolution (the overflow certificate's bound).
int widest_accumulator_bits(const QuantModel& model);

}  // namespace yq
