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

FloatModel::FloatModel(const Model& model) : model_(model) {}

at::Tensor FloatModel::run_conv(const Node& node, const at::Tensor& x) const {
  const at::Tensor& weight = model_.weight(node.name + ".weight");
  at::Tensor bias = node.has_bias ? model_.weight(node.name + ".bias") : at::Tensor();
  at::Tensor y = at::conv2d(x, weight, bias, {node.stride, node.stride}, {node.pad, node.pad});
  if (node.batch_norm) {
    y = at::batch_norm(y, model_.weight(node.name + ".bn.weight"), model_.weight(node.name + ".bn.bias"),
                       model_.weight(node.name + ".bn.mean"), model_.weight(node.name + ".bn.var"),
                       /*training=*/false, /*momentum=*/0.0, model_.info.bn_eps, /*cudnn_enabled=*/false);
  }
  return y;
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

std::vector<at::Tensor> FloatModel::run(const at::Tensor& input, std::vector<at::Tensor>* pre_activations,
                                        const TensorTransform* transform, bool release_dead) const {
  c10::InferenceMode inference;  // no autograd bookkeeping: nothing here is differentiated
  const auto& nodes = model_.graph.nodes;
  const std::vector<bool> is_head = model_.graph.head_predictions();
  const std::vector<size_t> last_consumer = model_.graph.last_consumers();
  std::vector<at::Tensor> outputs(nodes.size());
  if (pre_activations) pre_activations->assign(nodes.size(), at::Tensor());
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& node = nodes[i];
    auto in = [&](size_t k) -> const at::Tensor& { return outputs[node.inputs[k]]; };
    switch (node.op) {
      case OpKind::Input: outputs[i] = input; break;
      case OpKind::Conv: {
        at::Tensor y = run_conv(node, in(0));
        if (node.silu && transform) y = (*transform)(i, true, y);
        if (node.silu && pre_activations) (*pre_activations)[i] = y;
        outputs[i] = node.silu ? at::silu(y) : y;
        break;
      }
      case OpKind::Slice: outputs[i] = in(0).narrow(1, node.channel_begin, node.channels); break;
      case OpKind::Add: outputs[i] = in(0) + in(1); break;
      case OpKind::Concat: {
        std::vector<at::Tensor> parts;
        for (int k : node.inputs) parts.push_back(outputs[k]);
        outputs[i] = at::cat(parts, 1);
        break;
      }
      case OpKind::MaxPool:
        outputs[i] = at::max_pool2d(in(0), {node.kernel, node.kernel}, {1, 1}, {node.pad, node.pad});
        break;
      case OpKind::Upsample:
        outputs[i] = at::upsample_nearest2d(in(0), {in(0).size(2) * 2, in(0).size(3) * 2});
        break;
    }
    if (transform) outputs[i] = (*transform)(i, false, outputs[i]);
    if (!release_dead) continue;
    for (int k : node.inputs) {
      if (last_consumer[k] == i && !is_head[k]) outputs[k] = at::Tensor();
    }
  }
  return outputs;
}

}  // namespace yq
