#include "compiler/quant/quant_model_io.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "compiler/io/checkpoint.hpp"
#include "compiler/ref/arithmetic.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"
#include "compiler/util/json_integer.hpp"

namespace yq {

namespace {

// Bumped whenever quant_model.json or quant_tensors.pt change layout.
constexpr int kQuantModelFormatVersion = 3;

using nlohmann::json;

json requant_json(const std::vector<Requant>& list) {
  json multipliers = json::array(), shifts = json::array();
  for (const Requant& r : list) {
    multipliers.push_back(r.multiplier);
    shifts.push_back(r.shift);
  }
  return {{"multiplier", multipliers}, {"shift", shifts}};
}

std::vector<Requant> requant_from(const json& j) {
  const auto multipliers = json_integers_at<std::int64_t>(j, "multiplier");
  const auto shifts = json_integers_at<int>(j, "shift");
  if (multipliers.size() != shifts.size()) {
    throw Error(std::to_string(multipliers.size()) + " requant multipliers but " + std::to_string(shifts.size()) + " shifts");
  }
  std::vector<Requant> list;
  for (size_t i = 0; i < multipliers.size(); ++i) list.push_back({multipliers[i], shifts[i]});
  return list;
}

json node_json(const Node& node, const QuantNode& qn) {
  json j = {{"layer", node.name}, {"out", code_format_to_json(qn.out)}};
  if (node.op == OpKind::Conv) {
    const QuantConv& c = qn.conv;
    j["conv"] = {{"weight_bits", c.weight_bits},   {"weight_scales", c.weight_scales}, {"requant", requant_json(c.requant)},
                 {"pre", code_format_to_json(c.pre)},       {"acc_bits", c.acc_bits},           {"worst_case_acc", c.worst_case_acc},
                 {"silu_lut", c.silu_lut}};
  }
  if (!qn.input_requant.empty()) j["input_requant"] = requant_json(qn.input_requant);
  return j;
}

void read_node(const json& j, QuantNode& qn) {
  qn.out = code_format_from_json(j.at("out"));
  if (j.contains("conv")) {
    const json& c = j.at("conv");
    qn.conv.weight_bits = json_integer_at<int>(c, "weight_bits");
    qn.conv.weight_scales = c.at("weight_scales").get<std::vector<double>>();
    qn.conv.requant = requant_from(c.at("requant"));
    qn.conv.pre = code_format_from_json(c.at("pre"));
    qn.conv.acc_bits = json_integer_at<int>(c, "acc_bits");
    qn.conv.worst_case_acc = json_integer_at<std::int64_t>(c, "worst_case_acc");
    qn.conv.silu_lut = json_integer_at<int>(c, "silu_lut");
  }
  if (j.contains("input_requant")) qn.input_requant = requant_from(j.at("input_requant"));
}

template <typename T>
at::Tensor vector_tensor(const std::vector<T>& values, at::ScalarType type) {
  return at::from_blob(const_cast<T*>(values.data()), {static_cast<int64_t>(values.size())}, type).clone();
}

template <typename T>
std::vector<T> tensor_vector(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  return std::vector<T>(c.data_ptr<T>(), c.data_ptr<T>() + c.numel());
}

}  // namespace

json code_format_to_json(const CodeFormat& f) { return {{"bits", f.bits}, {"scale", f.scale}, {"zero", f.zero}}; }

CodeFormat code_format_from_json(const json& j) {
  return {json_integer_at<int>(j, "bits"), j.at("scale").get<double>(), json_integer_at<int>(j, "zero")};
}

void save_quant_model(const std::filesystem::path& folder, const QuantModel& model) {
  json nodes = json::array();
  NamedTensorList tensors;
  for (size_t i = 0; i < model.graph.nodes.size(); ++i) {
    const Node& node = model.graph.nodes[i];
    nodes.push_back(node_json(node, model.nodes[i]));
    if (node.op != OpKind::Conv) continue;
    tensors.emplace_back(node.name + ".weight", vector_tensor(model.nodes[i].conv.weights, at::kShort));
    tensors.emplace_back(node.name + ".bias", vector_tensor(model.nodes[i].conv.bias, at::kLong));
  }
  json luts = json::array();
  for (const Lut& lut : model.luts) {
    luts.push_back({{"name", lut.name}, {"kind", lut.kind}, {"index_bits", lut.index_bits}, {"knot_bits", lut.knot_bits},
                    {"entries", lut.values.size()}});
    tensors.emplace_back("lut." + lut.name, vector_tensor(lut.values, at::kInt));
  }
  json head = json::array();
  for (const QuantHeadLevel& level : model.head) head.push_back({{"sigmoid_lut", level.sigmoid_lut}, {"exp_lut", level.exp_lut}});
  write_json_file(folder / "quant_model.json", {{"format_version", kQuantModelFormatVersion},
                                                {"arithmetic_version", arith::kArithmeticVersion},
                                                {"image_size", input_size_json(model.image_size)},
                                                {"model", model_info_to_json(model.info)},
                                                {"settings", quant_settings_to_json(model.settings)},
                                                {"nodes", nodes},
                                                {"luts", luts},
                                                {"head", head}});
  write_tensor_archive(folder / "quant_tensors.pt", tensors);
}

namespace {

// What the executor and the emitter index by: one requant word and weight
// scale per output channel, one input requant per concatenated input (two
// for an add), shifts a 64-bit accumulator can take, tables that exist.
void check_node(const Node& node, const QuantNode& qn, size_t lut_count) {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw Error(what);
  };
  auto require_lut = [&](int lut, bool optional) {
    require((optional && lut == -1) || (lut >= 0 && static_cast<size_t>(lut) < lut_count),
            "table index " + std::to_string(lut) + " outside the " + std::to_string(lut_count) + " tables");
  };
  auto require_requant = [&](const std::vector<Requant>& list, size_t count) {
    require(list.size() == count, std::to_string(list.size()) + " requant words, not " + std::to_string(count));
    for (const Requant& r : list) require(r.shift >= 0 && r.shift <= 62, "requant shift outside 0..62");
  };
  auto require_format = [&](const CodeFormat& f) {
    require(f.bits >= 2 && f.bits <= 16 && f.scale > 0, "code format of " + std::to_string(f.bits) + " bits outside 2..16");
  };
  require_format(qn.out);
  if (node.op == OpKind::Conv) {
    require_format(qn.conv.pre);
    require(qn.conv.weight_scales.size() == static_cast<size_t>(node.channels), "weight scales do not match the channels");
    require_requant(qn.conv.requant, node.channels);
    require_lut(qn.conv.silu_lut, !node.silu);
  }
  if (node.op == OpKind::Add) require_requant(qn.input_requant, 2);
  if (node.op == OpKind::Concat) require_requant(qn.input_requant, node.inputs.size());
}

void check_versions(const json& j) {
  auto version = [&](const char* key) { return j.contains(key) ? json_integer_at<int>(j, key) : 1; };
  const int format = version("format_version"), arithmetic = version("arithmetic_version");
  if (format != kQuantModelFormatVersion || arithmetic != arith::kArithmeticVersion) {
    throw Error("quantized model of format " + std::to_string(format) + " and arithmetic " +
                std::to_string(arithmetic) + ", this yq-hw reads format " + std::to_string(kQuantModelFormatVersion) +
                " and arithmetic " + std::to_string(arith::kArithmeticVersion) + " (rerun from stage_5)");
  }
}

}  // namespace

QuantModel quant_model_from_json(const json& j, const std::string& origin) {
  try {
    check_versions(j);
    QuantModel model;
    model.image_size = input_size_at(j, "image_size");
    model.info = model_info_from_json(j.at("model"));
    model.graph = build_model_graph(model.info);
    model.settings = quant_settings_from_json(j.at("settings"));
    for (const json& l : j.at("luts")) {
      model.luts.push_back({l.at("name"), l.at("kind"), json_integer_at<int>(l, "index_bits"), json_integer_at<int>(l, "knot_bits"), {}});
    }
    for (const json& h : j.at("head")) {
      model.head.push_back({json_integer_at<int>(h, "sigmoid_lut"), json_integer_at<int>(h, "exp_lut")});
    }
    for (const QuantHeadLevel& level : model.head) {
      if (std::min(level.sigmoid_lut, level.exp_lut) < 0 || std::max(level.sigmoid_lut, level.exp_lut) >= int(model.luts.size())) {
        throw Error("a head level's tables are outside the model's " + std::to_string(model.luts.size()) + " tables");
      }
    }
    model.nodes.resize(model.graph.nodes.size());
    if (j.at("nodes").size() != model.graph.nodes.size()) throw Error("node count does not match the model");
    for (size_t i = 0; i < model.graph.nodes.size(); ++i) {
      try {
        read_node(j.at("nodes")[i], model.nodes[i]);
        check_node(model.graph.nodes[i], model.nodes[i], model.luts.size());
      } catch (const Error& e) {
        throw Error("layer " + model.graph.nodes[i].name + ": " + e.what());
      }
    }
    return model;
  } catch (const json::exception& e) {
    throw Error(origin + ": malformed quantized model (" + e.what() + ")");
  } catch (const Error& e) {
    throw Error(origin + ": " + e.what());
  }
}

QuantModel load_quant_model(const std::filesystem::path& folder) {
  QuantModel model = quant_model_from_json(read_json_file(folder / "quant_model.json"), folder.string());
  const NamedTensorList list = read_tensor_archive(folder / "quant_tensors.pt");
  const std::map<std::string, at::Tensor> tensors(list.begin(), list.end());
  auto tensor = [&](const std::string& name) -> const at::Tensor& {
    auto it = tensors.find(name);
    if (it == tensors.end()) throw Error(folder.string() + ": quantized model has no tensor '" + name + "'");
    return it->second;
  };
  for (size_t i = 0; i < model.graph.nodes.size(); ++i) {
    if (model.graph.nodes[i].op != OpKind::Conv) continue;
    model.nodes[i].conv.weights = tensor_vector<std::int16_t>(tensor(model.graph.nodes[i].name + ".weight"));
    model.nodes[i].conv.bias = tensor_vector<std::int64_t>(tensor(model.graph.nodes[i].name + ".bias"));
    const Node& node = model.graph.nodes[i];
    if (model.nodes[i].conv.weights.size() != size_t(node.channels) * node.in_channels * node.kernel * node.kernel ||
        model.nodes[i].conv.bias.size() != size_t(node.channels)) {
      throw Error(folder.string() + ": layer " + node.name + ": weight or bias count does not match its shape");
    }
  }
  for (Lut& lut : model.luts) lut.values = tensor_vector<std::int32_t>(tensor("lut." + lut.name));
  return model;
}

}  // namespace yq
