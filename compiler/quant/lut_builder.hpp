// Building the lookup tables of docs/ARITHMETIC.md section 6: SiLU (per
// convolution), sigmoid (class scores) and exp (DFL softmax). A table over
// codes of at most kMaxDirectLutBits bits is direct; wider codes get an
// interpolated table of 2^kMaxDirectLutBits + 1 knots.
#pragma once
#include <string>

#include "compiler/quant/quant_model.hpp"

namespace yq {

constexpr int kMaxDirectLutBits = 12;
constexpr int kExpOneBits = 15;  // EXP[0] = 2^15

Lut build_silu_lut(const std::string& name, const CodeFormat& pre, const CodeFormat& out);
Lut build_sigmoid_lut(const std::string& name, const CodeFormat& logits);
Lut build_exp_lut(const std::string& name, const CodeFormat& box_logits);

}  // namespace yq
