#include "compiler/quant/quantized_pass.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include "compiler/util/error.hpp"
#include "compiler/util/parallel.hpp"

namespace yq {

QuantizedPass::QuantizedPass(const Model& fused, std::vector<FakeQuantGrids> grids, int images,
                             CalibrationInput input_at, int threads)
    : model_(fused),
      float_model_(model_),
      grids_(std::move(grids)),
      input_at_(std::move(input_at)),
      threads_(threads),
      weights_set_(fused.graph.nodes.size(), false),
      last_consumer_(fused.graph.last_consumers()),
      outputs_(images, std::vector<at::Tensor>(fused.graph.nodes.size())) {
  if (grids_.size() != fused.graph.nodes.size()) throw Error("the quantized pass needs one grid pair per node");
}

void QuantizedPass::set_conv(int conv, const at::Tensor& weight, const at::Tensor& bias) {
  const Node& node = model_.graph.nodes[conv];
  for (auto& [name, tensor] : model_.weights) {
    if (name == node.name + ".weight") tensor = weight;
    if (name == node.name + ".bias") tensor = bias;
  }
  weights_set_[conv] = true;
}

// Nodes next_node_..last of one image, each output put on its grid; an
// output is released once every node reading it has run.
void QuantizedPass::run_image(int image, int last) {
  c10::InferenceMode inference;
  const auto& nodes = model_.graph.nodes;
  std::vector<at::Tensor>& outputs = outputs_[image];
  const TensorTransform pre_grid = [this](size_t node, bool, const at::Tensor& x) {
    return fake_quantize(x, grids_[node].pre);
  };
  for (int i = next_node_; i <= last; ++i) {
    const at::Tensor output =
        nodes[i].op == OpKind::Input ? input_at_(image) : float_model_.run_one(i, outputs, &pre_grid);
    outputs[i] = fake_quantize(output, grids_[i].out);
    for (int k : nodes[i].inputs) {
      if (last_consumer_[k] == static_cast<size_t>(i)) outputs[k] = at::Tensor();
    }
    if (last_consumer_[i] == static_cast<size_t>(i)) outputs[i] = at::Tensor();  // read by no node
  }
}

ConvInputStatistics QuantizedPass::input_statistics(int conv) {
  const auto& nodes = model_.graph.nodes;
  if (conv < next_node_ || nodes[conv].op != OpKind::Conv) {
    throw Error("the quantized pass has already run " + nodes[conv].name + " or it is not a convolution");
  }
  for (int i = next_node_; i < conv; ++i) {
    if (nodes[i].op == OpKind::Conv && !weights_set_[i]) {
      throw Error("the quantized pass reached " + nodes[i].name + " before its weights were set");
    }
  }
  const Node& node = nodes[conv];
  const int images = static_cast<int>(outputs_.size());
  std::vector<ImageConvInput> per_image(images);
  const int saved_threads = at::get_num_threads();
  at::set_num_threads(1);
  parallel_for_each_index(images, threads_, [&](size_t image) {
    run_image(static_cast<int>(image), conv - 1);
    const at::Tensor input = outputs_[image][node.inputs[0]].contiguous();
    per_image[image] = conv_input_statistics(node, input.data_ptr<float>(), static_cast<int>(input.size(2)),
                                             static_cast<int>(input.size(3)), static_cast<int>(image));
  });
  at::set_num_threads(saved_threads);
  next_node_ = conv;
  ConvInputStatistics total;
  for (const ImageConvInput& image : per_image) add_conv_input(total, image);
  return total;
}

}  // namespace yq
