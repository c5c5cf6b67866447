#include "compiler/quant/requant_derivation.hpp"

#include <cmath>
#include <sstream>

#include "compiler/util/error.hpp"

namespace yq {

namespace {

constexpr int kMaxShift = 62;

std::string ratio_text(double ratio) {
  std::ostringstream out;
  out << ratio;
  return out.str();
}

Requant power_of_two_requant(double ratio) {
  const int k = static_cast<int>(std::lround(std::log2(ratio)));
  if (std::exp2(k) != ratio) throw Error("scale ratio " + ratio_text(ratio) + " is not a power of two");
  if (k > 0) return {std::int64_t{1} << k, 0};
  if (-k > kMaxShift) throw Error("scale ratio " + ratio_text(ratio) + " needs a shift above 62");
  return {1, -k};
}

}  // namespace

double power_of_two_at_least(double x) { return std::exp2(std::ceil(std::log2(x))); }

Requant derive_requant(double ratio, ScaleForm form, int multiplier_bits) {
  if (!(ratio > 0) || !std::isfinite(ratio)) throw Error("scale ratio " + ratio_text(ratio) + " is not positive");
  if (form == ScaleForm::PowerOfTwo) return power_of_two_requant(ratio);
  const int exponent = static_cast<int>(std::floor(std::log2(ratio)));
  int shift = multiplier_bits - 1 - exponent;
  if (shift < 0) throw Error("scale ratio " + ratio_text(ratio) + " is too large for a " + std::to_string(multiplier_bits) + "-bit multiplier");
  shift = std::min(shift, kMaxShift);
  std::int64_t multiplier = std::llround(std::ldexp(ratio, shift));
  if (multiplier == (std::int64_t{1} << multiplier_bits)) {
    multiplier >>= 1;
    --shift;
  }
  if (multiplier == 0) throw Error("scale ratio " + ratio_text(ratio) + " is too small to represent");
  return {multiplier, shift};
}

std::pair<Requant, Requant> derive_shared_requant(double ratio_a, double ratio_b, ScaleForm form, int multiplier_bits) {
  const Requant a = derive_requant(ratio_a, form, multiplier_bits);
  const Requant b = derive_requant(ratio_b, form, multiplier_bits);
  // Multiplier form: the larger ratio fixes the shift. Power of two: the
  // larger shift, so both multipliers stay exact powers of two.
  const int shift = form == ScaleForm::PowerOfTwo ? std::max(a.shift, b.shift) : (ratio_a >= ratio_b ? a.shift : b.shift);
  return {Requant{std::llround(std::ldexp(ratio_a, shift)), shift}, Requant{std::llround(std::ldexp(ratio_b, shift)), shift}};
}

}  // namespace yq
