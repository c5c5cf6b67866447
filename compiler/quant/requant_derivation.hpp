// From real scale ratios to integer (multiplier, shift) pairs, as
// docs/ARITHMETIC.md section 3 defines: a normalised fixed-point multiplier
// of mult_bits bits, or (power-of-two scales) a pure shift.
#pragma once
#include "compiler/quant/quant_model.hpp"

namespace yq {

// (M, S) with M / 2^S ~= ratio; throws yq::Error when the ratio cannot be
// represented (too large, or so small that M would be 0).
Requant derive_requant(double ratio, ScaleForm form, int multiplier_bits);

// Two ratios sharing one shift (the residual add): the shift comes from the larger ratio.
std::pair<Requant, Requant> derive_shared_requant(double ratio_a, double ratio_b, ScaleForm form, int multiplier_bits);

// The power of two nearest above x (scales in pow2 mode never shrink a range).
double power_of_two_at_least(double x);

}  // namespace yq
