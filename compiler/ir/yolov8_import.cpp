// Binding a checkpoint to the YOLOv8 graph.
//
// The architecture comes from shapes alone: widths from the stride-2 convs
// (model.0,1,3,5,7), bottleneck counts from the model.L.m.K keys, classes and
// reg_max from the head's prediction convs. The graph built from it then
// lists, per convolution, the exact tensors it needs with their shapes; every
// checkpoint tensor must be claimed by exactly one node (num_batches_tracked
// and the constant DFL conv are checked and dropped).
#include "compiler/ir/yolov8_import.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "compiler/ir/coco_names.hpp"
#include "compiler/util/error.hpp"

namespace yq {

namespace {

using TensorIndex = std::map<std::string, at::Tensor>;

std::string shape_text(at::IntArrayRef shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << "]";
  return out.str();
}

const at::Tensor& require(const TensorIndex& index, const std::string& name, const std::string& why) {
  auto it = index.find(name);
  if (it == index.end()) throw Error("not a YOLOv8 detection checkpoint: missing tensor '" + name + "' (" + why + ")");
  return it->second;
}

int count_bottlenecks(const TensorIndex& index, int layer) {
  std::set<int> found;
  const std::string prefix = "model." + std::to_string(layer) + ".m.";
  for (auto it = index.lower_bound(prefix); it != index.end() && it->first.starts_with(prefix); ++it) {
    found.insert(std::stoi(it->first.substr(prefix.size())));
  }
  if (found.empty()) throw Error("not a YOLOv8 detection checkpoint: C2f layer model." + std::to_string(layer) + " has no bottlenecks");
  return static_cast<int>(found.size());
}

bool has_prefix(const TensorIndex& index, const std::string& prefix) {
  auto it = index.lower_bound(prefix);
  return it != index.end() && it->first.starts_with(prefix);
}

std::string guess_scale(const Yolov8Arch& arch) {
  for (char scale : std::string("nsmlx")) {
    Yolov8Arch official = yolov8_scale(scale, arch.num_classes);
    if (official.widths == arch.widths && official.repeats == arch.repeats) return std::string(1, scale);
  }
  return "custom";
}

// Shapes and the target name of every tensor a convolution node needs.
struct ExpectedTensor {
  std::string source;
  std::string target;
  std::vector<int64_t> shape;
};

std::vector<ExpectedTensor> expected_tensors(const Node& node) {
  const std::vector<int64_t> kernel_shape = {node.channels, node.in_channels, node.kernel, node.kernel};
  const std::vector<int64_t> vector_shape = {node.channels};
  if (node.has_bias) {
    return {{node.source + ".weight", node.name + ".weight", kernel_shape},
            {node.source + ".bias", node.name + ".bias", vector_shape}};
  }
  return {{node.source + ".conv.weight", node.name + ".weight", kernel_shape},
          {node.source + ".bn.weight", node.name + ".bn.weight", vector_shape},
          {node.source + ".bn.bias", node.name + ".bn.bias", vector_shape},
          {node.source + ".bn.running_mean", node.name + ".bn.mean", vector_shape},
          {node.source + ".bn.running_var", node.name + ".bn.var", vector_shape}};
}

at::Tensor take(TensorIndex& index, const ExpectedTensor& expected) {
  auto it = index.find(expected.source);
  if (it == index.end()) {
    throw Error("missing tensor '" + expected.source + "' (expected shape " + shape_text(expected.shape) + ")");
  }
  at::Tensor tensor = it->second;
  if (tensor.sizes() != at::IntArrayRef(expected.shape)) {
    throw Error("tensor '" + expected.source + "' has shape " + shape_text(tensor.sizes()) + ", expected " +
                shape_text(expected.shape));
  }
  if (!tensor.is_floating_point()) throw Error("tensor '" + expected.source + "' is not floating point");
  index.erase(it);
  check_finite(expected.source, tensor);
  return tensor.to(at::kFloat).contiguous();
}

RenamedTensor rename_record(const std::string& source, const std::string& target, const at::Tensor& original) {
  RenamedTensor record;
  record.source = source;
  record.target = target;
  record.shape = original.sizes().vec();
  record.dtype = std::string(c10::toString(original.scalar_type()));
  return record;
}

void check_dfl_weight(TensorIndex& index, int reg_max, std::vector<RenamedTensor>& name_map) {
  const std::string name = "model.22.dfl.conv.weight";
  auto it = index.find(name);
  if (it == index.end()) return;  // the DFL projection is fixed (0..reg_max-1) by the arithmetic
  at::Tensor expected = at::arange(reg_max, at::kFloat).reshape({1, reg_max, 1, 1});
  if (it->second.sizes() != expected.sizes() || !at::equal(it->second.to(at::kFloat), expected)) {
    throw Error("tensor '" + name + "' is not the DFL projection 0.." + std::to_string(reg_max - 1));
  }
  name_map.push_back(rename_record(name, "", it->second));
  index.erase(it);
}

void drop_batch_counters(TensorIndex& index, std::vector<RenamedTensor>& name_map) {
  for (auto it = index.begin(); it != index.end();) {
    if (it->first.ends_with(".num_batches_tracked")) {
      name_map.push_back(rename_record(it->first, "", it->second));
      it = index.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace

void check_finite(const std::string& name, const at::Tensor& tensor) {
  if (!tensor.is_floating_point()) return;
  at::Tensor flat = tensor.to(at::kFloat).reshape({-1});
  at::Tensor bad = flat.isfinite().logical_not();
  if (!bad.any().item<bool>()) return;
  const int64_t first = bad.nonzero()[0][0].item<int64_t>();
  const float value = flat[first].item<float>();
  throw Error("tensor '" + name + "' contains " + (std::isnan(value) ? "NaN" : "Inf") + " at flat index " +
              std::to_string(first));
}

Yolov8Arch infer_yolov8_arch(const NamedTensorList& tensors) {
  TensorIndex index(tensors.begin(), tensors.end());
  if (!has_prefix(index, "model.22.")) {
    throw Error("checkpoint has no Detect head (no model.22.* tensors): only YOLOv8 detection models are supported");
  }
  Yolov8Arch arch;
  for (int layer : {0, 1, 3, 5, 7}) {
    const std::string name = "model." + std::to_string(layer) + ".conv.weight";
    arch.widths.push_back(static_cast<int>(require(index, name, "backbone conv").size(0)));
  }
  for (int layer : {2, 4, 6, 8, 12, 15, 18, 21}) arch.repeats.push_back(count_bottlenecks(index, layer));
  arch.num_classes = static_cast<int>(require(index, "model.22.cv3.0.2.weight", "class prediction").size(0));
  arch.reg_max = static_cast<int>(require(index, "model.22.cv2.0.2.weight", "box prediction").size(0)) / 4;
  arch.box_channels = static_cast<int>(require(index, "model.22.cv2.0.0.conv.weight", "box branch").size(0));
  arch.class_channels = static_cast<int>(require(index, "model.22.cv3.0.0.conv.weight", "class branch").size(0));
  arch.width_multiple = arch.widths[0] / 64.0;
  arch.max_channels = static_cast<int>(std::lround(arch.widths[4] / arch.width_multiple));
  arch.depth_multiple = arch.repeats[1] / 6.0;
  arch.scale = guess_scale(arch);
  return arch;
}

ImportedModel import_yolov8(const Checkpoint& checkpoint, const std::string& source) {
  ImportedModel imported;
  Model& model = imported.model;
  model.info.arch = infer_yolov8_arch(checkpoint.tensors);
  model.info.bn_eps = checkpoint.bn_eps.value_or(1e-3);
  model.info.source = source;
  model.info.class_names = checkpoint.class_names;
  if (static_cast<int>(model.info.class_names.size()) != model.info.arch.num_classes) {
    model.info.class_names.clear();
    if (model.info.arch.num_classes == 80) model.info.class_names = coco_class_names();
    for (int c = static_cast<int>(model.info.class_names.size()); c < model.info.arch.num_classes; ++c) {
      model.info.class_names.push_back("class" + std::to_string(c));
    }
  }
  model.graph = build_yolov8_graph(model.info.arch);

  TensorIndex index(checkpoint.tensors.begin(), checkpoint.tensors.end());
  for (int node_index : model.graph.conv_nodes()) {
    for (const ExpectedTensor& expected : expected_tensors(model.graph.nodes[node_index])) {
      const at::Tensor original = index.count(expected.source) ? index.at(expected.source) : at::Tensor();
      model.weights.emplace_back(expected.target, take(index, expected));
      imported.name_map.push_back(rename_record(expected.source, expected.target, original));
    }
  }
  check_dfl_weight(index, model.info.arch.reg_max, imported.name_map);
  drop_batch_counters(index, imported.name_map);
  if (!index.empty()) {
    throw Error("unexpected tensor '" + index.begin()->first + "' (not part of the YOLOv8 detection architecture; " +
                std::to_string(index.size()) + " such tensors)");
  }
  return imported;
}

}  // namespace yq
