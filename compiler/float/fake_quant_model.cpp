#include "compiler/float/fake_quant_model.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/util/error.hpp"

namespace yq {

namespace {

// The grid's scales as floats: one, or one per channel of x.
std::vector<float> channel_scales(const at::Tensor& x, const Grid& grid) {
  if (grid.channel_scales.empty()) return {static_cast<float>(grid.scale)};
  if (x.dim() != 4 || x.size(1) != static_cast<std::int64_t>(grid.channel_scales.size())) {
    throw Error("a per-channel grid of " + std::to_string(grid.channel_scales.size()) +
                " scales needs an [N, C, H, W] tensor of as many channels");
  }
  return {grid.channel_scales.begin(), grid.channel_scales.end()};
}

}  // namespace

// One pass over the values (in place of six tensor operations, each
// allocating a tensor of the feature map's size), split over the threads.
at::Tensor fake_quantize(const at::Tensor& x, const Grid& grid) {
  if (grid.bits == 0) return x;
  if (x.scalar_type() != at::kFloat) throw Error("fake quantization expects a float tensor");
  const at::Tensor input = x.contiguous();
  at::Tensor output = at::empty_like(input);
  const float* source = input.data_ptr<float>();
  float* target = output.data_ptr<float>();
  const std::vector<float> scales = channel_scales(input, grid);
  if (input.numel() == 0) return output;
  // A run of `plane` values shares a scale: run r has scales[r % scales.size()].
  const std::int64_t runs = static_cast<std::int64_t>(scales.size()) * (scales.size() == 1 ? 1 : input.size(0));
  const std::int64_t plane = input.numel() / runs;
  const float zero = static_cast<float>(grid.zero);
  const float lo = static_cast<float>(-std::exp2(grid.bits - 1)), hi = static_cast<float>(std::exp2(grid.bits - 1) - 1);
  const auto quantize_run = [&](std::int64_t run, std::int64_t begin, std::int64_t end) {
    const float scale = scales[static_cast<size_t>(run) % scales.size()];
    for (std::int64_t i = run * plane + begin; i < run * plane + end; ++i) {
      const float code = std::clamp(std::floor(source[i] / scale + 0.5f) + zero, lo, hi);
      target[i] = (code - zero) * scale;
    }
  };
  constexpr std::int64_t kGrain = 1 << 15;
  if (runs == 1) {
    at::parallel_for(0, plane, kGrain, [&](std::int64_t begin, std::int64_t end) { quantize_run(0, begin, end); });
  } else {
    at::parallel_for(0, runs, 1, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t run = begin; run < end; ++run) quantize_run(run, 0, plane);
    });
  }
  return output;
}

FakeQuantModel::FakeQuantModel(const Model& model, std::vector<FakeQuantGrids> grids)
    : float_model_(model), grids_(std::move(grids)) {
  if (grids_.size() != model.graph.nodes.size()) throw Error("fake quantization needs one grid pair per node");
}

TensorTransform FakeQuantModel::transform() const {
  return [this](size_t node, bool pre_activation, const at::Tensor& x) {
    return fake_quantize(x, pre_activation ? grids_[node].pre : grids_[node].out);
  };
}

std::vector<at::Tensor> FakeQuantModel::run_all(const at::Tensor& input) const {
  const TensorTransform quantize = transform();
  return float_model_.run_all(input, nullptr, &quantize);
}

std::vector<at::Tensor> FakeQuantModel::run_heads(const at::Tensor& input) const {
  const TensorTransform quantize = transform();
  return float_model_.run_heads(input, &quantize);
}

}  // namespace yq
