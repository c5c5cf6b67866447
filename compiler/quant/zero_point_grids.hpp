// Asymmetric (zero-point) activation grids for the float simulation
// (compiler/float/fake_quant_model.hpp): a measurement of what codes with a
// zero point after SiLU would buy, before building them. The integer
// arithmetic has none (docs/ARITHMETIC.md: zero code 0 everywhere but the
// image), so these grids exist only in the simulation.
//
// A tensor is SiLU-bounded when it cannot go below a known value: a SiLU
// convolution's output (>= kSiluMinimum), a concat, max-pool, upsample or
// slice of SiLU-bounded tensors (the least of their bounds), an add of two
// (the sum). Each such tensor's symmetric grid [-c, c] (2^bits - 1 codes,
// half of them below the bound) becomes [lower, upper] over all 2^bits codes:
//   scale = (upper - lower) / (2^bits - 1),  zero = -2^(bits-1) - round(lower / scale)
// so lower is the smallest code and 0 is exact. The ends:
//   lower  SiluBound  the structural bound above
//          Observed   the calibration minimum (at most 0)
//   upper  Kept       today's c (the same clipping, only the step shrinks)
//          Mse        the mse criterion for the asymmetric grid
//                     (select_asymmetric_clip)
// Tensors that share one scale today (shared concat scales: a concat and its
// inputs) share one asymmetric grid: the least lower and the largest upper
// of the group, so the concat stays a pass-through. The pre-activations
// (SiLU inputs) and the tensors that are not SiLU-bounded keep their grids.
#pragma once
#include <optional>
#include <vector>

#include "compiler/float/fake_quant_model.hpp"
#include "compiler/ir/graph.hpp"
#include "compiler/quant/calibration.hpp"
#include "compiler/quant/quant_model.hpp"

namespace yq {

constexpr double kSiluMinimum = -0.2784645427610738;  // min over x of x * sigmoid(x), at x = -1.2785

enum class ZeroPointLower { SiluBound, Observed };
enum class ZeroPointUpper { Kept, Mse };

// Per node, the value its output cannot go below, for SiLU-bounded tensors.
std::vector<std::optional<double>> silu_lower_bounds(const Graph& graph);

// The grid [lower, upper] of 2^bits codes.
Grid asymmetric_grid(double lower, double upper, int bits);

// The integer model's grids for every activation (compiler/quant/attribution.hpp's
// activation_grids), with every SiLU-bounded tensor's output grid made asymmetric.
std::vector<FakeQuantGrids> zero_point_grids(const QuantModel& quant, const CalibrationStatistics& statistics,
                                             ZeroPointLower lower, ZeroPointUpper upper);

}  // namespace yq
