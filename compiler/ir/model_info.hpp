// What the compiler knows about a model apart from its weights: the
// architecture, the class names and the BatchNorm facts (no LibTorch here).
#pragma once
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "compiler/ir/graph.hpp"

namespace yq {

struct ModelInfo {
  Yolov8Arch arch;
  std::vector<std::string> class_names;
  double bn_eps = 1e-3;
  bool bn_fused = false;
  std::string source;  // where the weights came from (checkpoint path or "synthetic")
};

nlohmann::json model_info_to_json(const ModelInfo& info);
ModelInfo model_info_from_json(const nlohmann::json& json);

// The graph of a model: the architecture's graph, with every convolution
// carrying a bias instead of a BatchNorm once the model is fused.
Graph build_model_graph(const ModelInfo& info);

}  // namespace yq
