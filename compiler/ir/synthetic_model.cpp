// Weights are drawn from a SplitMix64 stream (portable, unlike the standard
// library's distributions): conv weights uniform in +-sqrt(3/fan_in) (unit
// gain), BatchNorm gamma in [0.5, 1.5], beta and mean in [-0.1, 0.1], var in
// [0.5, 1.5]; class biases at -4 so few anchors fire.
#include "compiler/ir/synthetic_model.hpp"

#include <ATen/ATen.h>

#include <cmath>

#include "compiler/io/checkpoint.hpp"
#include "compiler/ir/coco_names.hpp"
#include "compiler/ir/graph.hpp"

namespace yq {

namespace {

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  // Uniform in [lo, hi).
  float uniform(float lo, float hi) {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const double unit = static_cast<double>(z >> 11) * (1.0 / 9007199254740992.0);
    return static_cast<float>(lo + (hi - lo) * unit);
  }

 private:
  std::uint64_t state_;
};

at::Tensor random_tensor(SplitMix64& rng, std::vector<int64_t> shape, float lo, float hi) {
  at::Tensor t = at::empty(shape, at::kFloat);
  float* data = t.data_ptr<float>();
  for (int64_t i = 0; i < t.numel(); ++i) data[i] = rng.uniform(lo, hi);
  return t;
}

}  // namespace

std::string synthetic_model_name(char scale) { return "synthetic yolov8" + std::string(1, scale); }

std::string synthetic_model_source(char scale, std::uint64_t seed) {
  return synthetic_model_name(scale) + " (seed " + std::to_string(seed) + ")";
}

Checkpoint synthetic_yolov8_checkpoint(char scale, std::uint64_t seed) {
  const Graph graph = build_yolov8_graph(yolov8_scale(scale, 80));
  SplitMix64 rng(seed);
  Checkpoint checkpoint;
  checkpoint.kind = "synthetic";
  checkpoint.class_names = coco_class_names();
  checkpoint.strides = {8, 16, 32};
  checkpoint.bn_eps = 1e-3;
  for (int index : graph.conv_nodes()) {
    const Node& node = graph.nodes[index];
    const float bound = std::sqrt(3.0f / static_cast<float>(node.in_channels * node.kernel * node.kernel));
    const std::vector<int64_t> kernel = {node.channels, node.in_channels, node.kernel, node.kernel};
    if (node.has_bias) {
      const float bias = node.branch == HeadBranch::Class ? -4.0f : 0.0f;
      checkpoint.tensors.emplace_back(node.source + ".weight", random_tensor(rng, kernel, -bound, bound));
      checkpoint.tensors.emplace_back(node.source + ".bias", at::full({node.channels}, bias, at::kFloat));
      continue;
    }
    checkpoint.tensors.emplace_back(node.source + ".conv.weight", random_tensor(rng, kernel, -bound, bound));
    checkpoint.tensors.emplace_back(node.source + ".bn.weight", random_tensor(rng, {node.channels}, 0.5f, 1.5f));
    checkpoint.tensors.emplace_back(node.source + ".bn.bias", random_tensor(rng, {node.channels}, -0.1f, 0.1f));
    checkpoint.tensors.emplace_back(node.source + ".bn.running_mean", random_tensor(rng, {node.channels}, -0.1f, 0.1f));
    checkpoint.tensors.emplace_back(node.source + ".bn.running_var", random_tensor(rng, {node.channels}, 0.5f, 1.5f));
  }
  checkpoint.tensors.emplace_back("model.22.dfl.conv.weight", at::arange(16, at::kFloat).reshape({1, 16, 1, 1}));
  return checkpoint;
}

}  // namespace yq
