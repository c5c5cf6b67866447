// A YOLOv8 model as the compiler holds it: its ModelInfo, the graph, and the
// float weights under the compiler's own names: "<node>.weight",
// "<node>.bias" and, before BN fusion, "<node>.bn.weight|bias|mean|var".
#pragma once
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <string>
#include <vector>

#include "compiler/io/checkpoint.hpp"
#include "compiler/ir/model_info.hpp"

namespace yq {

struct Model {
  ModelInfo info;
  Graph graph;
  NamedTensorList weights;  // float32, graph order

  const at::Tensor& weight(const std::string& name) const;  // throws yq::Error if absent
  const at::Tensor* find_weight(const std::string& name) const;
};

// Writes model.json and weights.pt into folder; reads them back.
void save_model(const std::filesystem::path& folder, const Model& model);
Model load_model(const std::filesystem::path& folder);

// Parameters of a model (every weight except BN running statistics).
long long count_parameters(const Model& model);

}  // namespace yq
