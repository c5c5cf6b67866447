#include "compiler/quant/activation_formats.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>

#include "compiler/quant/quant_model_io.hpp"
#include "compiler/quant/requant_derivation.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/json_integer.hpp"

namespace yq {

namespace {

void check_bits(int bits, const std::string& what) {
  if (bits < 4 || bits > 16) throw Error(what + " " + std::to_string(bits) + " is outside the supported 4..16");
}

CodeFormat format_for_clip(double clip, int bits, ScaleForm form) {
  const double max_code = std::exp2(bits - 1) - 1;
  double scale = clip / max_code;
  if (form == ScaleForm::PowerOfTwo) scale = power_of_two_at_least(scale);
  return {bits, scale, 0};
}

CodeFormat input_format() { return {8, 1.0 / 255.0, -128}; }

// Shared concat scales: each concat and the format sources of its inputs join
// one group (unless their bits differ or one is the image); a group takes
// the widest clip of its members, so every concat input passes unchanged.
void share_concat_scales(const Graph& graph, const NodeBits& bits, ScaleForm form, std::vector<TensorFormats>& formats) {
  const int count = static_cast<int>(graph.nodes.size());
  std::vector<int> parent(count);
  for (int i = 0; i < count; ++i) parent[i] = i;
  for (int i = 0; i < count; ++i) {
    if (graph.nodes[i].op != OpKind::Concat) continue;
    std::vector<int> sources = {format_source(graph, i)};
    for (int input : graph.nodes[i].inputs) sources.push_back(format_source(graph, input));
    const bool shareable = std::all_of(sources.begin(), sources.end(), [&](int s) {
      return graph.nodes[s].op != OpKind::Input && bits.activation[s] == bits.activation[i];
    });
    if (!shareable) continue;
    for (int s : sources) parent[group_root(parent, s)] = group_root(parent, i);
  }
  std::vector<double> group_clip(count, 0.0);
  for (int i = 0; i < count; ++i) {
    double& clip = group_clip[group_root(parent, i)];
    if (!inherits_format(graph.nodes[i].op)) clip = std::max(clip, formats[i].clip);
  }
  for (int i = 0; i < count; ++i) {  // in node order: inherited formats follow their sources
    const Node& node = graph.nodes[i];
    if (inherits_format(node.op)) {
      formats[i].out = formats[node.inputs[0]].out;
    } else if (node.op != OpKind::Input) {
      formats[i].out = format_for_clip(group_clip[group_root(parent, i)], bits.activation[i], form);
    }
  }
}

}  // namespace

NodeBits resolve_node_bits(const Graph& graph, const QuantSettings& settings) {
  check_bits(settings.weight_bits, "weight bits");
  check_bits(settings.activation_bits, "activation bits");
  NodeBits bits{std::vector<int>(graph.nodes.size(), settings.activation_bits),
                std::vector<int>(graph.nodes.size(), settings.weight_bits)};
  for (const LayerOverride& override : settings.overrides) {
    std::regex pattern;
    try {
      pattern = std::regex(override.pattern);
    } catch (const std::regex_error&) {
      throw Error("override pattern '" + override.pattern + "' is not a valid regular expression");
    }
    bool matched = false;
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
      if (!std::regex_match(graph.nodes[i].name, pattern)) continue;
      matched = true;
      if (override.activation_bits) bits.activation[i] = override.activation_bits;
      if (override.weight_bits) bits.weight[i] = override.weight_bits;
    }
    if (!matched) throw Error("override pattern '" + override.pattern + "' matches no layer");
    if (override.activation_bits) check_bits(override.activation_bits, "activation bits");
    if (override.weight_bits) check_bits(override.weight_bits, "weight bits");
  }
  return bits;
}

std::vector<TensorFormats> select_tensor_formats(const Graph& graph, const CalibrationStatistics& statistics,
                                                 const QuantSettings& settings, const NodeBits& bits) {
  const RangeOptions range{settings.range_method, settings.percentile};
  const ScaleForm form = settings.scale_form;
  std::vector<TensorFormats> formats(graph.nodes.size());
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    TensorFormats& f = formats[i];
    switch (node.op) {
      case OpKind::Input: f.out = input_format(); break;
      case OpKind::Slice:
      case OpKind::MaxPool:
      case OpKind::Upsample: f.out = formats[node.inputs[0]].out; break;
      case OpKind::Conv:
        if (node.silu) {
          const int pre_bits = std::max(bits.activation[i], settings.pre_activation_bits);
          f.pre_clip = select_clip(statistics.pre_activations[i], pre_bits, range);
          f.pre = format_for_clip(f.pre_clip, pre_bits, form);
        }
        [[fallthrough]];
      case OpKind::Add:
      case OpKind::Concat:
        f.clip = select_clip(statistics.outputs[i], bits.activation[i], range);
        f.out = format_for_clip(f.clip, bits.activation[i], form);
        break;
    }
  }
  if (settings.concat_scales == ConcatScales::Shared) share_concat_scales(graph, bits, form, formats);
  return formats;
}

nlohmann::json alignment_report(const Graph& graph, const std::vector<TensorFormats>& formats) {
  nlohmann::json report = nlohmann::json::array();
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    if (node.op != OpKind::Concat && node.op != OpKind::Add) continue;
    nlohmann::json inputs = nlohmann::json::array();
    for (int input : node.inputs) {
      const double ratio = formats[input].out.scale / formats[i].out.scale;
      inputs.push_back({{"input", graph.nodes[input].name},
                        {"scale_ratio", ratio},
                        {"identity", ratio == 1.0},
                        {"bits_lost", ratio < 1.0 ? -std::log2(ratio) : 0.0}});
    }
    report.push_back({{"layer", node.name}, {"op", op_kind_name(node.op)}, {"inputs", inputs}});
  }
  return report;
}

SharedScaleLoss shared_scale_loss(const Graph& graph, const std::vector<TensorFormats>& formats) {
  SharedScaleLoss loss;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const TensorFormats& f = formats[i];
    if (f.clip <= 0) continue;
    const double range = f.out.scale * (std::exp2(f.out.bits - 1) - 1);
    const double lost = std::log2(range / f.clip);
    if (lost > loss.worst_bits_lost + 1e-9) loss = {lost, graph.nodes[i].name};
  }
  return loss;
}

nlohmann::json tensor_formats_to_json(const Graph& graph, const std::vector<TensorFormats>& formats) {
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    nlohmann::json entry = {{"layer", graph.nodes[i].name}, {"out", code_format_to_json(formats[i].out)}, {"clip", formats[i].clip}};
    if (formats[i].pre.bits) {
      entry["pre"] = code_format_to_json(formats[i].pre);
      entry["pre_clip"] = formats[i].pre_clip;
    }
    list.push_back(entry);
  }
  return list;
}

std::vector<TensorFormats> tensor_formats_from_json(const Graph& graph, const nlohmann::json& json) {
  if (!json.is_array() || json.size() != graph.nodes.size()) throw Error("tensor formats do not match the model's graph");
  std::vector<TensorFormats> formats(graph.nodes.size());
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const auto& entry = json[i];
    if (entry.at("layer").get<std::string>() != graph.nodes[i].name) throw Error("tensor formats do not match the model's graph");
    formats[i].out = code_format_from_json(entry.at("out"));
    formats[i].clip = entry.at("clip").get<double>();
    if (entry.contains("pre")) {
      formats[i].pre = code_format_from_json(entry.at("pre"));
      formats[i].pre_clip = entry.at("pre_clip").get<double>();
    }
  }
  return formats;
}

nlohmann::json node_bits_to_json(const NodeBits& bits) {
  return {{"activation", bits.activation}, {"weight", bits.weight}};
}

NodeBits node_bits_from_json(const Graph& graph, const nlohmann::json& json) {
  NodeBits bits{json_integers_at<int>(json, "activation"), json_integers_at<int>(json, "weight")};
  if (bits.activation.size() != graph.nodes.size() || bits.weight.size() != graph.nodes.size()) {
    throw Error("bits.json has " + std::to_string(bits.activation.size()) + " entries for a graph of " +
                std::to_string(graph.nodes.size()) + " nodes");
  }
  return bits;
}

bool inherits_format(OpKind op) { return op == OpKind::Slice || op == OpKind::MaxPool || op == OpKind::Upsample; }

int format_source(const Graph& graph, int i) {
  while (inherits_format(graph.nodes[i].op)) i = graph.nodes[i].inputs[0];
  return i;
}

int group_root(std::vector<int>& parent, int i) {
  while (parent[i] != i) i = parent[i] = parent[parent[i]];
  return i;
}

}  // namespace yq
