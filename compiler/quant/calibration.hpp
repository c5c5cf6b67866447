// Activation statistics for range selection: per tensor, the minimum, the
// maximum and a histogram of |x| with a fixed number of bins over [0, range).
// The range is the smallest power of two above the largest |x| so far: it
// doubles (merging bin pairs) whenever a larger value arrives, so bin edges
// stay aligned and the histogram never needs a second pass. A value's bin is
// |x| scaled by a power of two and truncated, so it is the same whether the
// value arrived before or after a doubling: histograms of parts of the data,
// merged, equal the histogram of all of it, byte for byte, in any order.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace yq {

struct AbsHistogram {
  static constexpr int kBins = 2048;

  double min = 0;
  double max = 0;
  double range = 0;  // upper edge of the last bin; 0 until the first value
  std::int64_t count = 0;
  std::vector<double> bins = std::vector<double>(kBins, 0.0);

  void add(const float* values, std::size_t n);
  // Adds another histogram's values (exact: every bin holds an integer count).
  void merge(const AbsHistogram& other);
  double max_abs() const { return max > -min ? max : -min; }
  double bin_width() const { return range / kBins; }

 private:
  // Doubles the range until it exceeds `value` (from 0: the smallest power of
  // two above it; a range of 0 means every value so far was 0, in bin 0).
  void grow_to(double value);
  void merge_extremes(double lo, double hi, std::int64_t n);
};

// Statistics of every node's output, and of the pre-activation (conv output
// before SiLU) of every SiLU convolution; indexed like graph.nodes.
struct CalibrationStatistics {
  std::vector<AbsHistogram> outputs;
  std::vector<AbsHistogram> pre_activations;  // empty histograms (count 0) where no SiLU
  int images = 0;
};

void save_calibration(const std::filesystem::path& file, const CalibrationStatistics& statistics);
CalibrationStatistics load_calibration(const std::filesystem::path& file, std::size_t node_count);

}  // namespace yq
