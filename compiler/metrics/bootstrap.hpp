// Paired bootstrap of an mAP difference: two detectors' results on the same
// images are resampled together (image indices drawn with replacement by a
// std::mt19937_64 with a fixed seed, so the interval is the same on every
// machine), and the 2.5th and 97.5th percentiles of the resampled
// differences bound the difference at 95%.
#pragma once
#include <cstdint>
#include <vector>

#include "compiler/metrics/detection_metrics.hpp"

namespace yq {

struct PairedDifference {
  double map50_95 = 0;  // b - a on all images
  double low = 0, high = 0;  // 95% percentile interval of b - a
  int resamples = 0;
  std::uint64_t seed = 0;
};

// Throws yq::Error unless a and b hold the same images in the same order.
PairedDifference paired_bootstrap_map50_95(const std::vector<ImageResult>& a, const std::vector<ImageResult>& b,
                                           int num_classes, int resamples, std::uint64_t seed = 20240611);

}  // namespace yq
