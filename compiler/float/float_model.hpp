// The float reference: runs the graph IR with LibTorch (fused or unfused
// weights), one image at a time.
#pragma once
#include <ATen/core/Tensor.h>

#include <functional>
#include <vector>

#include "compiler/io/image.hpp"
#include "compiler/ir/model.hpp"

namespace yq {

// [1, 3, H, W] float32 in [0, 1], RGB, from an 8-bit canvas.
at::Tensor image_to_input(const RgbImage& canvas);
// [N, 3, H, W]: a batch of canvases of one size.
at::Tensor images_to_input(const std::vector<RgbImage>& canvases);

// Applied to a tensor as soon as a node produces it: (node index, true for a
// SiLU convolution's pre-activation, the tensor) -> the tensor to use.
using TensorTransform = std::function<at::Tensor(size_t, bool, const at::Tensor&)>;
// Shown every tensor as a node produces it, with the same arguments.
using TensorObserver = std::function<void(size_t, bool, const at::Tensor&)>;

class FloatModel {
 public:
  explicit FloatModel(const Model& model);

  // Every node's output for one input, indexed like graph.nodes. When
  // pre_activations is given it receives, for SiLU convolutions, the output
  // before the activation (undefined tensors elsewhere).
  // A transform, when given, replaces every pre-activation and output as it
  // is produced (compiler/float/fake_quant_model.hpp).
  std::vector<at::Tensor> run_all(const at::Tensor& input, std::vector<at::Tensor>* pre_activations = nullptr,
                                  const TensorTransform* transform = nullptr) const;

  // The detection path: only the head's prediction outputs, per level box
  // then class ([1, C, H, W], contiguous); every other tensor is released
  // after its last consumer, so the pass keeps a few feature maps alive
  // instead of all of them.
  std::vector<at::Tensor> run_heads(const at::Tensor& input, const TensorTransform* transform = nullptr) const;

  // One pass that shows every pre-activation and output to `observe` and,
  // like run_heads, releases each tensor after its last consumer: for
  // statistics of every tensor without keeping them all (stage_4).
  void observe_all(const at::Tensor& input, const TensorObserver& observe) const;

  // Runs the graph again from convolution `first` with its weight replaced:
  // `outputs` holds every node's output (as run_all returns them); node
  // `first` and every node that depends on it are recomputed in place, the
  // others are kept. For measuring one layer's effect without rerunning the
  // layers before it (compiler/quant/sensitivity.hpp).
  void rerun_from(size_t first, const at::Tensor& first_weight, std::vector<at::Tensor>& outputs) const;

  // Node i's output (not the input node's) from `outputs`, which must hold
  // the outputs of the nodes it reads; a transform replaces a SiLU
  // convolution's pre-activation, the caller transforms the output. For
  // running a graph node by node (compiler/quant/quantized_pass.hpp).
  at::Tensor run_one(size_t i, const std::vector<at::Tensor>& outputs, const TensorTransform* transform) const;

  const Model& model() const { return model_; }

 private:
  // The convolution (and BatchNorm) before the activation, with the model's
  // weight or `weight` when defined.
  at::Tensor run_conv(const Node& node, const at::Tensor& x, const at::Tensor& weight) const;
  // Node i's output (not the input node's) from the outputs of the nodes
  // before it; a SiLU convolution's pre-activation also goes to *pre when given.
  at::Tensor run_node(size_t i, const std::vector<at::Tensor>& outputs, const at::Tensor& weight, at::Tensor* pre,
                      const TensorTransform* transform) const;

  // Runs every node; with release_dead, drops each output after its last
  // consumer unless the node is a head prediction.
  std::vector<at::Tensor> run(const at::Tensor& input, std::vector<at::Tensor>* pre_activations,
                              const TensorTransform* transform, bool release_dead) const;

  const Model& model_;
};

}  // namespace yq
