// Range selection: the clipping magnitude c of a symmetric signed quantizer
// (scale = c / (2^(bits-1) - 1)) from a tensor's |x| histogram.
//   max         c = max |x|
//   percentile  c = the p-th percentile of |x| (linear within a bin)
//   mse         c minimising the expected squared error over the histogram:
//               values below c cost the rounding noise step^2/12, values
//               above cost (|x| - c)^2; every bin edge up to max |x| is tried
//               (prefix sums make each candidate O(1)).
//   auto        percentile below kAutoMaxFromBits bits, max from there on:
//               on coco128 clipping outliers pays at 8-10 bits (W8A8: -0.65
//               points with percentile, -2.7 with max) and costs at 12+ bits
//               (W12A12: -0.5 with percentile, 0.0 with max).
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

// Expected squared quantization error per value for clip c (the mse criterion).
double quantization_mse(const AbsHistogram& histogram, double clip, int bits);

}  // namespace yq
