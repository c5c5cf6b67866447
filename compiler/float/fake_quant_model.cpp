#include "compiler/float/fake_quant_model.hpp"

#include <ATen/ATen.h>

#include <cmath>

#include "compiler/util/error.hpp"

namespace yq {

at::Tensor fake_quantize(const at::Tensor& x, const Grid& grid) {
  if (grid.bits == 0) return x;
  const double lo = -std::exp2(grid.bits - 1), hi = std::exp2(grid.bits - 1) - 1;
  const at::Tensor codes = at::clamp(at::floor(x / grid.scale + 0.5) + grid.zero, lo, hi);
  return (codes - grid.zero) * grid.scale;
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
