#include "compiler/metrics/bootstrap.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "compiler/util/error.hpp"

namespace yq {

namespace {

double percentile_of_sorted(const std::vector<double>& sorted, double p) {
  const double position = p * (sorted.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(position));
  const size_t above = std::min(sorted.size() - 1, below + 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}

}  // namespace

PairedDifference paired_bootstrap_map50_95(const std::vector<ImageResult>& a, const std::vector<ImageResult>& b,
                                           int num_classes, int resamples, std::uint64_t seed) {
  if (a.size() != b.size() || a.empty()) throw Error("a paired bootstrap needs the same, non-empty set of images twice");
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].image_id != b[i].image_id) throw Error("paired bootstrap: image " + a[i].image_id + " is not paired");
  }
  PairedDifference result;
  result.map50_95 = evaluate_detections(b, num_classes).map50_95 - evaluate_detections(a, num_classes).map50_95;
  result.resamples = resamples;
  result.seed = seed;
  std::mt19937_64 random(seed);
  std::vector<double> differences;
  std::vector<ImageResult> sample_a(a.size()), sample_b(b.size());
  for (int r = 0; r < resamples; ++r) {
    for (size_t i = 0; i < a.size(); ++i) {
      const size_t pick = static_cast<size_t>(random() % a.size());
      sample_a[i] = a[pick];
      sample_b[i] = b[pick];
    }
    differences.push_back(evaluate_detections(sample_b, num_classes).map50_95 -
                          evaluate_detections(sample_a, num_classes).map50_95);
  }
  std::sort(differences.begin(), differences.end());
  if (!differences.empty()) {
    result.low = percentile_of_sorted(differences, 0.025);
    result.high = percentile_of_sorted(differences, 0.975);
  }
  return result;
}

}  // namespace yq
