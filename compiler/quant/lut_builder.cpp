#include "compiler/quant/lut_builder.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include "compiler/detect/detection.hpp"
#include "compiler/ref/arithmetic.hpp"

namespace yq {

namespace {

// Entries for codes min_code(bits) .. max_code(bits) (direct), or knots every
// 2^(bits - kMaxDirectLutBits) codes including one past the largest code.
Lut function_lut(const std::string& name, const char* kind, int bits, const std::function<std::int32_t(std::int64_t)>& value_at) {
  Lut lut;
  lut.name = name;
  lut.index_bits = bits;
  lut.knot_bits = std::min(bits, kMaxDirectLutBits);
  const std::int64_t step = std::int64_t{1} << (bits - lut.knot_bits);
  const std::int64_t entries = (std::int64_t{1} << lut.knot_bits) + (lut.knot_bits < bits ? 1 : 0);
  lut.kind = kind;
  lut.values.reserve(static_cast<std::size_t>(entries));
  for (std::int64_t i = 0; i < entries; ++i) lut.values.push_back(value_at(arith::min_code(bits) + i * step));
  return lut;
}

}  // namespace

Lut build_silu_lut(const std::string& name, const CodeFormat& pre, const CodeFormat& out) {
  return function_lut(name, "silu", pre.bits, [&](std::int64_t code) {
    const double x = code * pre.scale;
    const double silu = x / (1.0 + std::exp(-x));
    return static_cast<std::int32_t>(arith::saturate(std::llround(silu / out.scale), out.bits));
  });
}

Lut build_sigmoid_lut(const std::string& name, const CodeFormat& logits) {
  return function_lut(name, "sigmoid", logits.bits, [&](std::int64_t code) {
    const double sigmoid = 1.0 / (1.0 + std::exp(-code * logits.scale));
    return static_cast<std::int32_t>(std::min<long long>(std::llround(std::ldexp(sigmoid, kScoreFractionBits)), 65535));
  });
}

Lut build_exp_lut(const std::string& name, const CodeFormat& box_logits) {
  Lut lut;
  lut.name = name;
  lut.kind = "exp";
  const std::int64_t max_distance = std::int64_t{1} << box_logits.bits;
  for (std::int64_t d = 0; d < max_distance; ++d) {
    const long long value = std::llround(std::ldexp(std::exp(-d * box_logits.scale), kExpOneBits));
    if (value == 0) break;
    lut.values.push_back(static_cast<std::int32_t>(value));
  }
  return lut;
}

}  // namespace yq
