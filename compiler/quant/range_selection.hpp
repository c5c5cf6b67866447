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
//   auto        mse below kAutoMaxFromBits bits, max from there on. Chosen
//               on images disjoint from calibration (docs/RESULTS.md:
//               calibrated on the 270 coco_calib images, validated on the
//               337 of coco128 + coco_val209): W8A8 loses 0.79 points with
//               mse, 1.17 with percentile 99.99, 3.46 with entropy, 3.81
//               with max. From 11 bits max is kept (same-image figures only,
//               superseded: W12A12 0.0 points with max).
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

// The upper end c of an asymmetric grid [lower, c] of 2^bits codes (step
// (c - lower) / (2^bits - 1)) by the mse criterion, for a tensor whose
// values are all at least lower (<= 0): then every |x| <= c is inside the
// grid and every |x| > c is a positive value clipped to c, so the |x|
// histogram gives the exact error of every candidate c >= -lower. For the
// float simulation's zero-point measurement (compiler/quant/zero_point_grids.hpp);
// the integer arithmetic has no such grids.
double select_asymmetric_clip(const AbsHistogram& histogram, double lower, int bits);

}  // namespace yq
