// The calibration images through the integer model while stage_6 builds it,
// for sequential reconstruction (compiler/quant/quantizer.hpp): a float
// simulation with every tensor on its integer grid (fake_quantize of
// compiler/float/fake_quant_model.hpp) whose convolutions, once rounded, run
// with their dequantized integer weights and biases. The graph advances one
// node at a time over every image, so a convolution's input statistics are
// those of its quantized predecessors' outputs; each image keeps, as codes,
// only the tensors that nodes not yet run still read. Each image's nodes run on one
// LibTorch thread (images in parallel) and the statistics are added in image
// order: the same bytes for every thread count.
//
// With a float reference (asymmetric reconstruction) each image also runs
// the float model, unquantized, beside it and keeps its tensors the same
// way, and a convolution's statistics then hold the cross moments of the
// float model's input and the quantized one's at the same positions.
#pragma once
#include <ATen/core/Tensor.h>

#include <functional>
#include <vector>

#include "compiler/float/fake_quant_model.hpp"
#include "compiler/float/float_model.hpp"
#include "compiler/quant/layer_inputs.hpp"

namespace yq {

// The network input ([1, 3, H, W] in [0, 1]) of calibration image i.
using CalibrationInput = std::function<at::Tensor(int)>;

class QuantizedPass {
 public:
  // grids: per node, indexed like graph.nodes.
  QuantizedPass(const Model& fused, std::vector<FakeQuantGrids> grids, int images, CalibrationInput input_at,
                int threads, bool float_reference = false);

  // Runs every node before convolution `conv` not yet run (each convolution
  // among them must have its weights) and returns the statistics of conv's
  // input over every image, sampled as stage_4 samples them (with `cross`
  // when the pass has a float reference).
  ConvInputStatistics input_statistics(int conv);

  // The real-valued weight and bias convolution `conv` runs with from now on.
  void set_conv(int conv, const at::Tensor& weight, const at::Tensor& bias);

 private:
  void run_image(int image, int last);
  void release(int image, int node);

  Model model_;  // the fused model, with the dequantized weights of the convolutions set
  FloatModel float_model_;
  Model reference_model_;  // the fused model as it is
  FloatModel reference_;
  bool float_reference_;
  std::vector<FakeQuantGrids> grids_;
  CalibrationInput input_at_;
  int threads_;
  std::vector<bool> weights_set_;        // per node
  std::vector<size_t> last_consumer_;    // per node
  int next_node_ = 0;                    // the first node not yet run
  std::vector<std::vector<at::Tensor>> codes_;  // [image][node] outputs as codes, released after their last reader
  std::vector<std::vector<at::Tensor>> floats_;  // [image][node] the float reference's outputs, released likewise
};

}  // namespace yq
