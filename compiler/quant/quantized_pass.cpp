#include "compiler/quant/quantized_pass.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include "compiler/quant/quantizer.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/parallel.hpp"

namespace yq {

QuantizedPass::QuantizedPass(const Model& fused, std::vector<FakeQuantGrids> grids, int images,
                             CalibrationInput input_at, int threads, bool float_reference)
    : model_(fused),
      float_model_(model_),
      reference_model_(fused),
      reference_(reference_model_),
      float_reference_(float_reference),
      grids_(std::move(grids)),
      input_at_(std::move(input_at)),
      threads_(threads),
      weights_set_(fused.graph.nodes.size(), false),
      last_consumer_(fused.graph.last_consumers()),
      codes_(images, std::vector<at::Tensor>(fused.graph.nodes.size())),
      floats_(float_reference ? images : 0, std::vector<at::Tensor>(fused.graph.nodes.size())) {
  if (grids_.size() != fused.graph.nodes.size()) throw Error("the quantized pass needs one grid pair per node");
  for (const FakeQuantGrids& grid : grids_) {
    if (grid.out.bits < 1 || grid.out.bits > 16) throw Error("the quantized pass needs every tensor on a grid of 1-16 bits");
  }
}

void QuantizedPass::set_conv(int conv, const at::Tensor& weight, const at::Tensor& bias) {
  set_conv_parameters(model_, model_.graph.nodes[conv].name, weight, bias);
  weights_set_[conv] = true;
}

namespace {

// A tensor on its grid as its codes, in int8 up to 8 bits (int16 above),
// and back: values() repeats fake_quantize's last step on the same codes,
// so it returns the same floats.
at::Tensor to_codes(const at::Tensor& on_grid, const Grid& grid) {
  return (at::round(on_grid / grid.scale) + grid.zero).to(grid.bits <= 8 ? at::kChar : at::kShort);
}

at::Tensor values(const at::Tensor& codes, const Grid& grid) { return (codes.to(at::kFloat) - grid.zero) * grid.scale; }

}  // namespace

// Nodes next_node_..last of one image, each output put on its grid and kept
// as codes (a quarter of the memory at 8 bits), and with a float reference
// the float model's output beside it; an output is released once every node
// reading it has run.
void QuantizedPass::run_image(int image, int last) {
  c10::InferenceMode inference;
  const auto& nodes = model_.graph.nodes;
  std::vector<at::Tensor>& codes = codes_[image];
  std::vector<at::Tensor> inputs(nodes.size()), float_inputs(nodes.size());
  const TensorTransform pre_grid = [this](size_t node, bool, const at::Tensor& x) {
    return fake_quantize(x, grids_[node].pre);
  };
  for (int i = next_node_; i <= last; ++i) {
    for (int k : nodes[i].inputs) inputs[k] = values(codes[k], grids_[k].out);
    const at::Tensor output =
        nodes[i].op == OpKind::Input ? input_at_(image) : float_model_.run_one(i, inputs, &pre_grid);
    codes[i] = to_codes(fake_quantize(output, grids_[i].out), grids_[i].out);
    if (float_reference_) {
      for (int k : nodes[i].inputs) float_inputs[k] = floats_[image][k];
      floats_[image][i] = nodes[i].op == OpKind::Input ? output : reference_.run_one(i, float_inputs, nullptr);
    }
    for (int k : nodes[i].inputs) {
      inputs[k] = at::Tensor();
      float_inputs[k] = at::Tensor();
      if (last_consumer_[k] == static_cast<size_t>(i)) release(image, k);
    }
    if (last_consumer_[i] == static_cast<size_t>(i)) release(image, i);  // read by no node
  }
}

void QuantizedPass::release(int image, int node) {
  codes_[image][node] = at::Tensor();
  if (float_reference_) floats_[image][node] = at::Tensor();
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
  const int images = static_cast<int>(codes_.size());
  std::vector<ImageConvInput> per_image(images);
  const int saved_threads = at::get_num_threads();
  at::set_num_threads(1);
  parallel_for_each_index(images, threads_, [&](size_t image) {
    run_image(static_cast<int>(image), conv - 1);
    const int input_node = node.inputs[0];
    const at::Tensor input = values(codes_[image][input_node], grids_[input_node].out).contiguous();
    const at::Tensor float_input = float_reference_ ? floats_[image][input_node].contiguous() : at::Tensor();
    per_image[image] =
        conv_input_statistics(node, input.data_ptr<float>(), static_cast<int>(input.size(2)),
                              static_cast<int>(input.size(3)), static_cast<int>(image),
                              float_reference_ ? float_input.data_ptr<float>() : nullptr);
  });
  at::set_num_threads(saved_threads);
  next_node_ = conv;
  ConvInputStatistics total;
  for (const ImageConvInput& image : per_image) add_conv_input(total, image);
  return total;
}

}  // namespace yq
