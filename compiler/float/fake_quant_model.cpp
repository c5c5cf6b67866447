#include "compiler/float/fake_quant_model.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "compiler/util/error.hpp"

namespace yq {

// One pass over the values (in place of six tensor operations, each
// allocating a tensor of the feature map's size), split over the threads.
at::Tensor fake_quantize(const at::Tensor& x, const Grid& grid) {
  if (grid.bits == 0) return x;
  if (x.scalar_type() != at::kFloat) throw Error("fake quantization expects a float tensor");
  const at::Tensor input = x.contiguous();
  at::Tensor output = at::empty_like(input);
  const float* source = input.data_ptr<float>();
  float* target = output.data_ptr<float>();
  const float scale = static_cast<float>(grid.scale), zero = static_cast<float>(grid.zero);
  const float lo = static_cast<float>(-std::exp2(grid.bits - 1)), hi = static_cast<float>(std::exp2(grid.bits - 1) - 1);
  constexpr std::int64_t kGrain = 1 << 15;
  at::parallel_for(0, input.numel(), kGrain, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      const float code = std::clamp(std::floor(source[i] / scale + 0.5f) + zero, lo, hi);
      target[i] = (code - zero) * scale;
    }
  });
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
