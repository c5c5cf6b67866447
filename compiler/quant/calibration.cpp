#include "compiler/quant/calibration.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "compiler/io/checkpoint.hpp"
#include "compiler/util/error.hpp"

namespace yq {

void AbsHistogram::grow_to(double value) {
  if (range == 0) {
    range = value > 0 ? std::exp2(std::ceil(std::log2(value))) : 1.0;
    if (range <= value) range *= 2;
    return;
  }
  while (range <= value) {
    for (int i = 0; i < kBins / 2; ++i) bins[i] = bins[2 * i] + bins[2 * i + 1];
    std::fill(bins.begin() + kBins / 2, bins.end(), 0.0);
    range *= 2;
  }
}

void AbsHistogram::add(const float* values, std::size_t n) {
  if (n == 0) return;
  float lo = values[0], hi = values[0];
  for (std::size_t i = 1; i < n; ++i) {
    lo = std::min(lo, values[i]);
    hi = std::max(hi, values[i]);
  }
  if (count == 0) {
    min = lo;
    max = hi;
  } else {
    min = std::min<double>(min, lo);
    max = std::max<double>(max, hi);
  }
  count += static_cast<std::int64_t>(n);
  grow_to(std::max(std::fabs(static_cast<double>(lo)), std::fabs(static_cast<double>(hi))));
  const double per_bin = kBins / range;
  const auto bin_of = [per_bin](float value) { return std::min(kBins - 1, static_cast<int>(std::fabs(value) * per_bin)); };
  // Four interleaved integer counts per bin, so that consecutive values in
  // one bin do not wait for each other's increment; their sums are the
  // counts, added exactly to the double bins (every count is below 2^53).
  constexpr std::size_t kChunk = std::size_t{1} << 30;  // each count stays below 2^32
  std::array<std::vector<std::uint32_t>, 4> counts;
  for (auto& c : counts) c.assign(kBins, 0);
  for (std::size_t first = 0; first < n; first += kChunk) {
    const std::size_t last = std::min(n, first + kChunk);
    std::size_t i = first;
    for (; i + 4 <= last; i += 4) {
      ++counts[0][bin_of(values[i])];
      ++counts[1][bin_of(values[i + 1])];
      ++counts[2][bin_of(values[i + 2])];
      ++counts[3][bin_of(values[i + 3])];
    }
    for (; i < last; ++i) ++counts[0][bin_of(values[i])];
    for (int b = 0; b < kBins; ++b) {
      bins[b] += static_cast<double>(std::uint64_t{counts[0][b]} + counts[1][b] + counts[2][b] + counts[3][b]);
      for (auto& c : counts) c[b] = 0;
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
