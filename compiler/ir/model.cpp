#include "compiler/ir/model.hpp"

#include <nlohmann/json.hpp>

#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"
#include "compiler/util/json_integer.hpp"

namespace yq {

const at::Tensor* Model::find_weight(const std::string& name) const {
  for (const auto& [weight_name, tensor] : weights) {
    if (weight_name == name) return &tensor;
  }
  return nullptr;
}

const at::Tensor& Model::weight(const std::string& name) const {
  const at::Tensor* tensor = find_weight(name);
  if (!tensor) throw Error("model has no weight '" + name + "'");
  return *tensor;
}

Graph build_model_graph(const ModelInfo& info) {
  Graph graph = build_yolov8_graph(info.arch);
  if (info.bn_fused) {
    for (Node& node : graph.nodes) {
      if (node.op != OpKind::Conv) continue;
      node.batch_norm = false;
      node.has_bias = true;
    }
  }
  return graph;
}

void save_model(const std::filesystem::path& folder, const Model& model) {
  write_json_file(folder / "model.json", model_info_to_json(model.info));
  write_tensor_archive(folder / "weights.pt", model.weights);
}

Model load_model(const std::filesystem::path& folder) {
  Model model;
  model.info = model_info_from_json(read_json_file(folder / "model.json"));
  model.graph = build_model_graph(model.info);
  model.weights = read_tensor_archive(folder / "weights.pt");
  return model;
}

long long count_parameters(const Model& model) {
  long long count = 0;
  for (const auto& [name, tensor] : model.weights) {
    const bool running_statistic = name.ends_with(".bn.mean") || name.ends_with(".bn.var");
    if (!running_statistic) count += tensor.numel();
  }
  return count;
}

nlohmann::json model_info_to_json(const ModelInfo& info) {
  const Yolov8Arch& a = info.arch;
  return {{"architecture",
           {{"family", "yolov8-detect"},
            {"scale", a.scale},
            {"widths", a.widths},
            {"repeats", a.repeats},
            {"num_classes", a.num_classes},
            {"reg_max", a.reg_max},
            {"box_channels", a.box_channels},
            {"class_channels", a.class_channels},
            {"width_multiple", a.width_multiple},
            {"depth_multiple", a.depth_multiple},
            {"max_channels", a.max_channels}}},
          {"class_names", info.class_names},
          {"bn_eps", info.bn_eps},
          {"bn_fused", info.bn_fused},
          {"source", info.source}};
}

ModelInfo model_info_from_json(const nlohmann::json& json) {
  try {
    ModelInfo info;
    const auto& a = json.at("architecture");
    info.arch.scale = a.at("scale").get<std::string>();
    info.arch.widths = json_integers_at<int>(a, "widths");
    info.arch.repeats = json_integers_at<int>(a, "repeats");
    info.arch.num_classes = json_integer_at<int>(a, "num_classes");
    info.arch.reg_max = json_integer_at<int>(a, "reg_max");
    info.arch.box_channels = json_integer_at<int>(a, "box_channels");
    info.arch.class_channels = json_integer_at<int>(a, "class_channels");
    info.arch.width_multiple = a.at("width_multiple").get<double>();
    info.arch.depth_multiple = a.at("depth_multiple").get<double>();
    info.arch.max_channels = json_integer_at<int>(a, "max_channels");
    info.class_names = json.at("class_names").get<std::vector<std::string>>();
    info.bn_eps = json.at("bn_eps").get<double>();
    info.bn_fused = json.at("bn_fused").get<bool>();
    info.source = json.at("source").get<std::string>();
    return info;
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("malformed model description: ") + e.what());
  } catch (const Error& e) {
    throw Error(std::string("malformed model description: ") + e.what());
  }
}

}  // namespace yq
