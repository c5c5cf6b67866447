// The float model with simulated quantization ("fake quant"): after each
// chosen tensor, quantize-dequantize on a uniform grid
//   real = scale * (code - zero),  code = saturate(floor(x / scale + 1/2) + zero, bits)
// (round half up and saturation, as docs/ARITHMETIC.md rounds and clamps).
// A grid may hold one scale per channel. Which tensors get a grid, and which weights the model carries, is the
// caller's choice (compiler/quant/attribution.hpp switches them per
// component). A float simulation for finding where accuracy goes, not the
// bit-exact integer reference (compiler/ref/).
#pragma once
#include <ATen/core/Tensor.h>

#include <vector>

#include "compiler/float/float_model.hpp"

namespace yq {

struct Grid {
  int bits = 0;  // 0: no quantization
  double scale = 1.0;
  int zero = 0;
  // One scale per channel (dimension 1 of an [N, C, H, W] tensor) in place
  // of `scale` when not empty (compiler/quant/channel_grids.hpp).
  std::vector<double> channel_scales = {};
};

struct FakeQuantGrids {
  Grid pre;  // SiLU convolutions' pre-activation
  Grid out;
};

// x on the grid (a no-op for bits 0).
at::Tensor fake_quantize(const at::Tensor& x, const Grid& grid);

class FakeQuantModel {
 public:
  // model: the weights to run (float or dequantized integer weights);
  // grids: per node, indexed like graph.nodes.
  FakeQuantModel(const Model& model, std::vector<FakeQuantGrids> grids);

  std::vector<at::Tensor> run_all(const at::Tensor& input) const;
  std::vector<at::Tensor> run_heads(const at::Tensor& input) const;  // FloatModel::run_heads, simulated

 private:
  TensorTransform transform() const;

  FloatModel float_model_;
  std::vector<FakeQuantGrids> grids_;
};

}  // namespace yq
