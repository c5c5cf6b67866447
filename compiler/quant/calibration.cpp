#include "compiler/quant/calibration.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "compiler/io/checkpoint.hpp"
#include "compiler/util/error.hpp"

namespace yq {

void AbsHistogram::grow_to(double value) {
  if (range == 0) {
    if (value == 0) return;
    range = std::exp2(std::ceil(std::log2(value)));
    if (range <= value) range *= 2;
    return;
  }
  while (range <= value) {
    for (int i = 0; i < kBins / 2; ++i) bins[i] = bins[2 * i] + bins[2 * i + 1];
    std::fill(bins.begin() + kBins / 2, bins.end(), 0.0);
    range *= 2;
  }
}

void AbsHistogram::merge_extremes(double lo, double hi, std::int64_t n) {
  min = count == 0 ? lo : std::min(min, lo);
  max = count == 0 ? hi : std::max(max, hi);
  count += n;
  grow_to(std::max(std::fabs(lo), std::fabs(hi)));
}

void AbsHistogram::merge(const AbsHistogram& other) {
  if (other.count == 0) return;
  merge_extremes(other.min, other.max, other.count);
  // This range is now at least other's: each of other's bins lands whole in
  // bin b / (range / other.range).
  const int step = other.range == 0 ? kBins : static_cast<int>(range / other.range);
  for (int b = 0; b < kBins; ++b) bins[b / step] += other.bins[b];
}

namespace {

// The smallest and largest of n > 0 values, four lanes at a time (a GCC
// vector type of 16 bytes: vector min/max on any target with 128-bit vectors).
std::pair<float, float> extremes(const float* values, std::size_t n) {
  constexpr std::size_t kLanes = 4;
  using Lanes = float __attribute__((vector_size(kLanes * sizeof(float))));
  Lanes lo = values[0] - Lanes{}, hi = lo;
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    Lanes v;
    std::memcpy(&v, values + i, sizeof v);
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  float low = lo[0], high = hi[0];
  for (std::size_t j = 1; j < kLanes; ++j) {
    low = std::min(low, lo[j]);
    high = std::max(high, hi[j]);
  }
  for (; i < n; ++i) {
    low = std::min(low, values[i]);
    high = std::max(high, values[i]);
  }
  return {low, high};
}

// Counts each value's bin, |x| * per_bin truncated (exact in float, per_bin
// being a power of two; at most kBins - 1 for a value not below the range,
// which only a NaN can be), into four interleaved count arrays so that
// consecutive values in one bin do not wait for each other's increment.
// Indices are computed a block at a time, in a loop the compiler vectorizes.
void count_bins(const float* values, std::size_t n, float per_bin, std::array<std::uint32_t*, 4> counts) {
  constexpr std::size_t kBlock = 512;
  constexpr std::uint32_t kLast = AbsHistogram::kBins - 1;
  std::array<std::uint32_t, kBlock> index;
  for (std::size_t first = 0; first < n; first += kBlock) {
    const std::size_t size = std::min(kBlock, n - first);
    for (std::size_t j = 0; j < size; ++j) {
      const auto bin = static_cast<std::uint32_t>(static_cast<std::int32_t>(std::fabs(values[first + j]) * per_bin));
      index[j] = bin < kLast ? bin : kLast;
    }
    std::size_t j = 0;
    for (; j + 4 <= size; j += 4) {
      ++counts[0][index[j]];
      ++counts[1][index[j + 1]];
      ++counts[2][index[j + 2]];
      ++counts[3][index[j + 3]];
    }
    for (; j < size; ++j) ++counts[0][index[j]];
  }
}

}  // namespace

void AbsHistogram::add(const float* values, std::size_t n) {
  if (n == 0) return;
  const auto [lo, hi] = extremes(values, n);
  merge_extremes(lo, hi, static_cast<std::int64_t>(n));
  if (range == 0) {
    bins[0] += static_cast<double>(n);
    return;
  }
  const auto per_bin = static_cast<float>(kBins / range);
  // The four counts' sums are added exactly to the double bins (every count
  // is below 2^53).
  constexpr std::size_t kChunk = std::size_t{1} << 30;  // each count stays below 2^32
  std::vector<std::uint32_t> counts(4 * kBins);
  const std::array<std::uint32_t*, 4> lanes = {&counts[0], &counts[kBins], &counts[2 * kBins], &counts[3 * kBins]};
  for (std::size_t first = 0; first < n; first += kChunk) {
    count_bins(values + first, std::min(kChunk, n - first), per_bin, lanes);
    for (int b = 0; b < kBins; ++b) {
      bins[b] += static_cast<double>(std::uint64_t{lanes[0][b]} + lanes[1][b] + lanes[2][b] + lanes[3][b]);
      for (std::uint32_t* lane : lanes) lane[b] = 0;
    }
  }
}

namespace {

at::Tensor histogram_tensor(const AbsHistogram& h) {
  at::Tensor t = at::empty({AbsHistogram::kBins + 4}, at::kDouble);
  double* data = t.data_ptr<double>();
  data[0] = h.min;
  data[1] = h.max;
  data[2] = h.range;
  data[3] = static_cast<double>(h.count);
  std::copy(h.bins.begin(), h.bins.end(), data + 4);
  return t;
}

AbsHistogram histogram_from_tensor(const at::Tensor& t) {
  if (t.scalar_type() != at::kDouble || t.numel() != AbsHistogram::kBins + 4) {
    throw Error("calibration statistics have an unexpected layout");
  }
  const double* data = t.data_ptr<double>();
  AbsHistogram h;
  h.min = data[0];
  h.max = data[1];
  h.range = data[2];
  h.count = static_cast<std::int64_t>(data[3]);
  std::copy(data + 4, data + 4 + AbsHistogram::kBins, h.bins.begin());
  return h;
}

}  // namespace

void save_calibration(const std::filesystem::path& file, const CalibrationStatistics& statistics) {
  NamedTensorList tensors;
  tensors.emplace_back("images", at::full({1}, statistics.images, at::kLong));
  for (std::size_t i = 0; i < statistics.outputs.size(); ++i) {
    tensors.emplace_back("out." + std::to_string(i), histogram_tensor(statistics.outputs[i]));
    if (statistics.pre_activations[i].count > 0) {
      tensors.emplace_back("pre." + std::to_string(i), histogram_tensor(statistics.pre_activations[i]));
    }
  }
  write_tensor_archive(file, tensors);
}

CalibrationStatistics load_calibration(const std::filesystem::path& file, std::size_t node_count) {
  CalibrationStatistics statistics;
  statistics.outputs.resize(node_count);
  statistics.pre_activations.resize(node_count);
  for (const auto& [name, tensor] : read_tensor_archive(file)) {
    if (name == "images") {
      statistics.images = static_cast<int>(tensor.item<int64_t>());
      continue;
    }
    const auto dot = name.find('.');
    const std::size_t index = std::stoul(name.substr(dot + 1));
    if (index >= node_count) throw Error(file.string() + ": statistics for a node the model does not have");
    (name.starts_with("out.") ? statistics.outputs : statistics.pre_activations)[index] = histogram_from_tensor(tensor);
  }
  return statistics;
}

}  // namespace yq
