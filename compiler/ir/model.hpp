// A YOLOv8 model as the compiler holds it: the graph, the float weights under
// the compiler's own names, and what the checkpoint said about classes and
// BatchNorm. Weight names: "<node>.weight", "<node>.bias" and, before BN
// fusion, "<node>.bn.weight|bias|mean|var".
#pragma once
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "compiler/io/checkpoint.hpp"
#include "compiler/ir/graph.hpp"

namespace yq {

struct ModelInfo {
  Yolov8Arch arch;
  std::vector<std::string> class_names;
  double bn_eps = 1e-3;
  bool bn_fused = false;
  std::string source;  // where the weights came from (checkpoint path or "synthetic")
};

struct Model {
  ModelInfo info;
  Graph graph;
  NamedTensorList weights;  // float32, graph order

  const at::Tensor& weight(const std::string& name) const;  // throws yq::Error if absent
  const at::Tensor* find_weight(const std::string& name) const;
};

nlohmann::json model_info_to_json(const ModelInfo& info);
ModelInfo model_info_from_json(const nlohmann::json& json);

// The graph of a model: the architecture's graph, with every convolution
// carrying a bias instead of a BatchNorm once the model is fused.
Graph build_model_graph(const ModelInfo& info);

// Writes model.json and weights.pt into folder; reads them back.
void save_model(const std::filesystem::path& folder, const Model& model);
Model load_model(const std::filesystem::path& folder);

// Parameters of a model (every weight except BN running statistics).
long long count_parameters(const Model& model);

}  // namespace yq
