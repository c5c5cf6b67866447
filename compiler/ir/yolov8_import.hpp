// Turning a checkpoint's tensors into a Model: infer the architecture from
// tensor shapes, build the graph, bind every tensor to a node under the
// compiler's names (checking names, shapes and values), and record the
// rename.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/io/checkpoint.hpp"
#include "compiler/ir/model.hpp"

namespace yq {

struct RenamedTensor {
  std::string source;  // checkpoint name, e.g. "model.2.m.0.cv1.conv.weight"
  std::string target;  // compiler name, e.g. "c2f2.m0.cv1.weight"; empty when checked and dropped
  std::vector<int64_t> shape;
  std::string dtype;
};

struct ImportedModel {
  Model model;
  std::vector<RenamedTensor> name_map;
};

// Architecture parameters from tensor shapes (widths, repeats, classes,
// reg_max); throws yq::Error when the tensors are not a YOLOv8 detector.
Yolov8Arch infer_yolov8_arch(const NamedTensorList& tensors);

ImportedModel import_yolov8(const Checkpoint& checkpoint, const std::string& source);

// Throws yq::Error naming the tensor and the first index holding NaN or Inf.
void check_finite(const std::string& name, const at::Tensor& tensor);

}  // namespace yq
