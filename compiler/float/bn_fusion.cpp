#include "compiler/float/bn_fusion.hpp"

#include <ATen/ATen.h>

namespace yq {

Model fuse_batch_norm(const Model& model) {
  Model fused;
  fused.info = model.info;
  fused.info.bn_fused = true;
  fused.graph = build_model_graph(fused.info);
  for (int index : model.graph.conv_nodes()) {
    const Node& node = model.graph.nodes[index];
    const std::string& name = node.name;
    if (!node.batch_norm) {
      fused.weights.emplace_back(name + ".weight", model.weight(name + ".weight"));
      fused.weights.emplace_back(name + ".bias", model.weight(name + ".bias"));
      continue;
    }
    const at::Tensor gamma = model.weight(name + ".bn.weight").to(at::kDouble);
    const at::Tensor beta = model.weight(name + ".bn.bias").to(at::kDouble);
    const at::Tensor mean = model.weight(name + ".bn.mean").to(at::kDouble);
    const at::Tensor var = model.weight(name + ".bn.var").to(at::kDouble);
    const at::Tensor scale = gamma / at::sqrt(var + model.info.bn_eps);
    const at::Tensor weight = model.weight(name + ".weight").to(at::kDouble) * scale.reshape({-1, 1, 1, 1});
    const at::Tensor bias = beta - mean * scale;
    fused.weights.emplace_back(name + ".weight", weight.to(at::kFloat).contiguous());
    fused.weights.emplace_back(name + ".bias", bias.to(at::kFloat).contiguous());
  }
  return fused;
}

}  // namespace yq
