// The per-anchor integer arithmetic of the detect head (docs/ARITHMETIC.md
// section 7) in executable form: the best class, the table lookup of a
// code, the DFL distance of one box side and the anchor centre. Header-only
// and without floating point, like arithmetic.hpp: the integer head
// (int_head.cpp) and the RTL benches of the head units use these same
// functions.
#pragma once
#include <cstddef>
#include <cstdint>

#include "compiler/detect/detection.hpp"
#include "compiler/ref/arithmetic.hpp"

namespace yq::arith {

// A table's value for one code: direct when knot_bits == code_bits, else interpolated (section 6).
template <typename Table>
constexpr std::int64_t table_value(const Table& table, std::int64_t code, int code_bits, int knot_bits) {
  if (knot_bits == code_bits) return lookup(table, code, code_bits);
  return interpolated_lookup(table, code, code_bits, knot_bits);
}

// The best class: the first c with the largest logit (lowest c on ties).
// logits[c * stride] is class c's code.
inline int best_class(const std::int32_t* logits, int num_classes, std::size_t stride) {
  int best = 0;
  for (int c = 1; c < num_classes; ++c) {
    if (logits[c * stride] > logits[best * stride]) best = c;
  }
  return best;
}

// DFL distance of one side in 1/2^kBoxFractionBits pixel:
// (sum_j j e_j * stride * 2^kBoxFractionBits + den/2) / den with
// e_j = EXP[max - b_j] (0 beyond the table) and den = sum_j e_j.
// bins[j * step] is bin j's code; exp_values[0 .. exp_size-1] the exp table.
template <typename Table>
std::int64_t dfl_distance(const std::int32_t* bins, int reg_max, std::size_t step, const Table& exp_values,
                          std::int64_t exp_size, int stride) {
  std::int32_t max_bin = bins[0];
  for (int j = 1; j < reg_max; ++j) max_bin = bins[j * step] > max_bin ? bins[j * step] : max_bin;
  std::int64_t numerator = 0, denominator = 0;
  for (int j = 0; j < reg_max; ++j) {
    const std::int64_t distance = max_bin - bins[j * step];
    const std::int64_t e = distance < exp_size ? exp_values[static_cast<std::size_t>(distance)] : 0;
    numerator += j * e;
    denominator += e;
  }
  const std::int64_t scaled = numerator * stride * (std::int64_t{1} << kBoxFractionBits);
  return (scaled + denominator / 2) / denominator;
}

// Centre of cell `cell` (column or row) of a level with this stride, in 1/2^kBoxFractionBits pixel.
constexpr std::int64_t anchor_centre(int cell, int stride) {
  return (2 * std::int64_t{cell} + 1) * stride * (std::int64_t{1} << (kBoxFractionBits - 1));
}

}  // namespace yq::arith
