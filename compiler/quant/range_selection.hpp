// Range selection: the clipping magnitude c of a symmetric signed quantizer
// (scale = c / (2^(bits-1) - 1)) from a tensor's |x| histogram.
//   max         c = max |x|
//   percentile  c = the p-th percentile of |x| (linear within a bin)
//   mse         c minimising the expected squared error over the histogram:
//               values below c cost the rounding noise step^2/12, values
//               above cost (|x| - c)^2; every bin edge up to max |x| is tried
//               (prefix sums make each candidate O(1)).
//   entropy     TensorRT's entropy calibration: c minimising KL(P || Q)
//               between the histogram clipped at c and its quantization to
//               2^(bits-1) levels (TensorRT's 128 at 8 bits), every bin
//               edge from 2^(bits-1) bins up tried; max where the used bins
//               are no more than the levels (always from 12 bits on). A lone
//               outlier is kept: Q is 0 where its clipped tail would land.
//   auto        percentile below kAutoMaxFromBits bits, max from there on.
//               Chosen before the disjoint protocol, from coco128 calibrated
//               and validated on itself (docs/RESULTS.md, superseded: W8A8
//               -0.65 points with percentile, -2.7 with max; W12A12 -0.5 with
//               percentile, 0.0 with max). The disjoint comparison of
//               max / percentile / mse / entropy (scripts/bench_accuracy.sh)
//               has not completed yet, so the default is unchanged; with it
//               W8A8 loses 1.06 points on the disjoint set (64 calibration images).
// The grid is symmetric (zero code 0, range [-c, c]): a tensor with a known
// lower bound (a SiLU output, >= -0.2785) loses no value below -c for any
// c above that bound, so the |x| histogram gives the exact error of every
// candidate; a grid from the real minimum to c would need zero points in
// the add and concat arithmetic (not in docs/ARITHMETIC.md).
#pragma once
#include <string>

#include "compiler/quant/calibration.hpp"
#include "compiler/quant/quant_settings.hpp"

namespace yq {

constexpr int kAutoMaxFromBits = 11;

struct RangeOptions {
  RangeMethod method = RangeMethod::Auto;
  double percentile = 99.99;
};

double select_clip(const AbsHistogram& histogram, int bits, const RangeOptions& options);

// KL(P || Q) of the entropy criterion for clip c (at least 2^(bits-1) bins).
double quantization_kl(const AbsHistogram& histogram, double clip, int bits);

// Expected squared quantization error per value for clip c (the mse criterion).
double quantization_mse(const AbsHistogram& histogram, double clip, int bits);

}  // namespace yq
