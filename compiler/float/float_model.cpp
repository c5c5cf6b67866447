#include "compiler/float/float_model.hpp"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "compiler/util/error.hpp"

namespace yq {

at::Tensor image_to_input(const RgbImage& canvas) {
  at::Tensor hwc = at::from_blob(const_cast<std::uint8_t*>(canvas.pixels.data()), {canvas.height, canvas.width, 3},
                                 at::kByte);
  return hwc.permute({2, 0, 1}).unsqueeze(0).to(at::kFloat).div(255.0f).contiguous();
}

at::Tensor images_to_input(const std::vector<RgbImage>& canvases) {
  std::vector<at::Tensor> inputs;
  for (const RgbImage& canvas : canvases) inputs.push_back(image_to_input(canvas));
  return inputs.size() == 1 ? inputs.front() : at::cat(inputs, 0);
}

namespace {

// LibTorch sends a 1x1 convolution on one thread to im2col and the system
// BLAS (Debian's reference sgemm: a third of calibration's time, whose
// forward passes run one image per thread); every convolution goes to oneDNN
// instead when LibTorch has it, whatever the thread count.
at::Tensor convolve(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias, int stride, int pad) {
  if (at::hasMKLDNN()) {
    return at::mkldnn_convolution(x.contiguous(), w, bias.defined() ? c10::optional<at::Tensor>(bias) : c10::nullopt,
                                  {pad, pad}, {stride, stride}, {1, 1}, 1);
  }
  return at::conv2d(x, w, bias, {stride, stride}, {pad, pad});
}

}  // namespace

FloatModel::FloatModel(const Model& model) : model_(model) {}

at::Tensor FloatModel::run_conv(const Node& node, const at::Tensor& x, const at::Tensor& weight) const {
  const at::Tensor& w = weight.defined() ? weight : model_.weight(node.name + ".weight");
  at::Tensor bias = node.has_bias ? model_.weight(node.name + ".bias") : at::Tensor();
  at::Tensor y = convolve(x, w, bias, node.stride, node.pad);
  if (node.batch_norm) {
    y = at::batch_norm(y, model_.weight(node.name + ".bn.weight"), model_.weight(node.name + ".bn.bias"),
                       model_.weight(node.name + ".bn.mean"), model_.weight(node.name + ".bn.var"),
                       /*training=*/false, /*momentum=*/0.0, model_.info.bn_eps, /*cudnn_enabled=*/false);
  }
  return y;
}

at::Tensor FloatModel::run_node(size_t i, const std::vector<at::Tensor>& outputs, const at::Tensor& weight, at::Tensor* pre,
                                const TensorTransform* transform) const {
  const Node& node = model_.graph.nodes[i];
  auto in = [&](size_t k) -> const at::Tensor& { return outputs[node.inputs[k]]; };
  switch (node.op) {
    case OpKind::Input: break;
    case OpKind::Conv: {
      at::Tensor y = run_conv(node, in(0), weight);
      if (!node.silu) return y;
      if (transform) y = (*transform)(i, true, y);
      if (pre) *pre = y;
      return at::silu(y);
    }
    case OpKind::Slice: return in(0).narrow(1, node.channel_begin, node.channels);
    case OpKind::Add: return in(0) + in(1);
    case OpKind::Concat: {
      std::vector<at::Tensor> parts;
      for (int k : node.inputs) parts.push_back(outputs[k]);
      return at::cat(parts, 1);
    }
    case OpKind::MaxPool: return at::max_pool2d(in(0), {node.kernel, node.kernel}, {1, 1}, {node.pad, node.pad});
    case OpKind::Upsample: return at::upsample_nearest2d(in(0), {in(0).size(2) * 2, in(0).size(3) * 2});
  }
  throw Error("node " + node.name + " has no computation of its own");
}

std::vector<at::Tensor> FloatModel::run_all(const at::Tensor& input, std::vector<at::Tensor>* pre_activations,
                                            const TensorTransform* transform) const {
  return run(input, pre_activations, transform, /*release_dead=*/false);
}

std::vector<at::Tensor> FloatModel::run_heads(const at::Tensor& input, const TensorTransform* transform) const {
  const std::vector<at::Tensor> outputs = run(input, nullptr, transform, /*release_dead=*/true);
  std::vector<at::Tensor> heads;
  for (const DetectLevel& level : model_.graph.levels) {
    heads.push_back(outputs[level.box_node].contiguous());
    heads.push_back(outputs[level.class_node].contiguous());
  }
  return heads;
}

void FloatModel::observe_all(const at::Tensor& input, const TensorObserver& observe) const {
  const TensorTransform show = [&observe](size_t node, bool pre_activation, const at::Tensor& tensor) {
    observe(node, pre_activation, tensor);
    return tensor;
  };
  run(input, nullptr, &show, /*release_dead=*/true);
}

std::vector<at::Tensor> FloatModel::run(const at::Tensor& input, std::vector<at::Tensor>* pre_activations,
                                        const TensorTransform* transform, bool release_dead) const {
  c10::InferenceMode inference;  // no autograd bookkeeping: nothing here is differentiated
  const auto& nodes = model_.graph.nodes;
  const std::vector<bool> is_head = model_.graph.head_predictions();
  const std::vector<size_t> last_consumer = model_.graph.last_consumers();
  std::vector<at::Tensor> outputs(nodes.size());
  if (pre_activations) pre_activations->assign(nodes.size(), at::Tensor());
  for (size_t i = 0; i < nodes.size(); ++i) {
    at::Tensor* pre = pre_activations ? &(*pre_activations)[i] : nullptr;
    outputs[i] = nodes[i].op == OpKind::Input ? input : run_node(i, outputs, at::Tensor(), pre, transform);
    if (transform) outputs[i] = (*transform)(i, false, outputs[i]);
    if (!release_dead) continue;
    for (int k : nodes[i].inputs) {
      if (last_consumer[k] == i && !is_head[k]) outputs[k] = at::Tensor();
    }
  }
  return outputs;
}

at::Tensor FloatModel::run_one(size_t i, const std::vector<at::Tensor>& outputs, const TensorTransform* transform) const {
  c10::InferenceMode inference;
  return run_node(i, outputs, at::Tensor(), nullptr, transform);
}

void FloatModel::rerun_from(size_t first, const at::Tensor& first_weight, std::vector<at::Tensor>& outputs) const {
  const auto& nodes = model_.graph.nodes;
  if (first >= nodes.size() || nodes[first].op != OpKind::Conv) throw Error("rerun_from needs a convolution");
  c10::InferenceMode inference;
  std::vector<bool> changed(nodes.size(), false);
  changed[first] = true;
  outputs[first] = run_node(first, outputs, first_weight, nullptr, nullptr);
  for (size_t i = first + 1; i < nodes.size(); ++i) {
    for (int input : nodes[i].inputs) changed[i] = changed[i] || changed[input];
    if (changed[i]) outputs[i] = run_node(i, outputs, at::Tensor(), nullptr, nullptr);
  }
}

}  // namespace yq
