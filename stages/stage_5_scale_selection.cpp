// stage_5: range and scale selection. From stage_4's histograms, picks every
// tensor's clipping range with the chosen method (max, percentile, mse or entropy;
// compiler/quant/range_selection.hpp) and turns it into a code format (bits
// from --abits and the per-layer overrides, scale = clip / (2^(bits-1)-1),
// a power of two with --scales pow2). Box and class head branches get their
// own scales by construction. Concat and add inputs are aligned explicitly:
// alignment.json lists each input's scale ratio and the bits it loses. With
// --concat-scales shared a concat and its inputs take one scale (the widest
// clip); the summary gives the resolution the narrowest member loses.
// With --weight-budget it also chooses each convolution's weight bits
// (compiler/quant/sensitivity.hpp): the output error of quantizing that layer
// alone at 4, 6 and 8 bits (never above its --wbits or override), measured
// on the first --sensitivity-images calibration images (so the stage then
// also reads stage_4's images), then the least total error within the
// budget, exactly. It writes sensitivity.json and mixed_precision.toml, a
// --config that gives the same bits without the search; bits.json holds the
// chosen weight bits that stage_6 uses.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "compiler/ir/model.hpp"
#include "compiler/quant/activation_formats.hpp"
#include "compiler/quant/quant_config.hpp"
#include "compiler/quant/sensitivity.hpp"
#include "compiler/util/files.hpp"
#include "stages/stage.hpp"

namespace yq {

namespace {

// The first --sensitivity-images calibration images, letterboxed.
std::vector<RgbImage> sensitivity_canvases(const RunConfig& config) {
  const CalibrationImages images = calibration_images(config);
  std::vector<RgbImage> canvases;
  for (int i = 0; i < std::min(images.count, config.quant.sensitivity_images); ++i) {
    canvases.push_back(letterbox(images.image_at(i), config.image_size).canvas);
  }
  return canvases;
}

std::string regex_escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::string("\\^$.|?*+()[]{}").find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

// The run's settings without the budget, and one override per weight width
// naming its layers exactly (after the run's own overrides, so it wins).
std::string mixed_precision_config(const QuantSettings& settings, const Graph& graph, const NodeBits& bits,
                                   const std::string& header) {
  std::map<int, std::string> layers_of_width;
  for (int index : graph.conv_nodes()) {
    std::string& names = layers_of_width[bits.weight[index]];
    names += (names.empty() ? "" : "|") + regex_escaped(graph.nodes[index].name);
  }
  QuantSettings chosen = settings;
  chosen.weight_budget = {};
  for (const auto& [width, names] : layers_of_width) chosen.overrides.push_back({"^(" + names + ")$", width, 0});
  return quant_config_text(chosen, header);
}

struct WeightSize {
  double average_bits = 0;
  long long bytes = 0;
};

WeightSize weight_size(const Graph& graph, const NodeBits& bits) {
  double total_bits = 0, weights = 0;
  for (int index : graph.conv_nodes()) {
    const auto count = static_cast<double>(conv_weight_count(graph.nodes[index]));
    weights += count;
    total_bits += count * bits.weight[index];
  }
  return {total_bits / weights, static_cast<long long>(std::ceil(total_bits / 8))};
}

// --weight-budget: measures every layer's sensitivity, chooses the widths
// into bits.weight, writes sensitivity.json and mixed_precision.toml.
nlohmann::json choose_mixed_precision(StageContext& context, const Graph& graph, NodeBits& bits) {
  const RunConfig& config = context.config;
  std::vector<LayerSensitivity> layers = weight_layers(graph, bits.weight);
  check_weight_budget(layers, config.quant.weight_budget);  // before the measurement
  const Model fused = load_model(context.stage_dir(2));
  const std::vector<RgbImage> canvases = sensitivity_canvases(config);
  const int threads = config.threads > 0 ? config.threads : at::get_num_threads();
  measure_sensitivity(fused, config.quant, canvases, threads, layers);
  const std::vector<int> chosen = choose_weight_widths(layers, config.quant.weight_budget);

  nlohmann::json report = nlohmann::json::array();
  double total_error = 0;
  std::printf("         %-22s %9s %5s %11s\n", "layer", "weights", "bits", "error");
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerSensitivity& layer = layers[l];
    bits.weight[layer.node] = chosen[l];
    nlohmann::json errors = nlohmann::json::object();
    double chosen_error = 0;
    for (size_t k = 0; k < layer.widths.size(); ++k) {
      errors[std::to_string(layer.widths[k])] = layer.errors[k];
      if (layer.widths[k] == chosen[l]) chosen_error = layer.errors[k];
    }
    total_error += chosen_error;
    std::printf("         %-22s %9lld %5d %11.3e\n", layer.layer.c_str(), static_cast<long long>(layer.weights), chosen[l],
                chosen_error);
    report.push_back({{"layer", layer.layer}, {"weights", layer.weights}, {"errors", errors}, {"chosen_bits", chosen[l]}});
  }
  const WeightSize size = weight_size(graph, bits);
  const std::string budget = config.quant.weight_budget.description();
  write_json_file(context.output_dir / "sensitivity.json",
                  {{"weight_budget", budget}, {"images", canvases.size()}, {"layers", report}});
  char header[512];
  std::snprintf(header, sizeof header,
                "# Weight bits chosen by stage_5 for --weight-budget %s: %.3f bits per weight on average, %lld bytes.\n"
                "# Pass this file with --config (and no --weight-budget) for the same bits without the search.\n",
                budget.c_str(), size.average_bits, size.bytes);
  write_file_atomic(context.output_dir / "mixed_precision.toml", mixed_precision_config(config.quant, graph, bits, header));
  std::printf("         weight budget %s: %.3f bits per weight, %lld bytes, total error %.4e (%zu images)\n",
              budget.c_str(), size.average_bits, size.bytes, total_error, canvases.size());
  return {{"weight_budget", budget}, {"sensitivity_images", canvases.size()}, {"sensitivity_total_error", total_error}};
}

}  // namespace

nlohmann::json run_stage_5_scale_selection(StageContext& context) {
  const QuantSettings& settings = context.config.quant;
  const ModelInfo info = model_info_from_json(read_json_file(context.stage_dir(2) / "model.json"));
  const Graph graph = build_model_graph(info);
  const CalibrationStatistics statistics = load_calibration(context.stage_dir(4) / "statistics.pt", graph.nodes.size());
  NodeBits bits = resolve_node_bits(graph, settings);
  nlohmann::json mixed_precision = nlohmann::json::object();
  if (settings.weight_budget.is_set()) mixed_precision = choose_mixed_precision(context, graph, bits);
  const std::vector<TensorFormats> formats = select_tensor_formats(graph, statistics, settings, bits);
  write_json_file(context.output_dir / "scales.json", tensor_formats_to_json(graph, formats));
  write_json_file(context.output_dir / "bits.json", node_bits_to_json(bits));
  const nlohmann::json alignment = alignment_report(graph, formats);
  write_json_file(context.output_dir / "alignment.json", alignment);

  int identity_inputs = 0, rescaled_inputs = 0;
  double worst_bits_lost = 0;
  for (const auto& layer : alignment) {
    for (const auto& input : layer["inputs"]) {
      (input["identity"].get<bool>() ? identity_inputs : rescaled_inputs)++;
      worst_bits_lost = std::max(worst_bits_lost, input["bits_lost"].get<double>());
    }
  }
  std::printf("         method %s, W%d A%d, concat/add inputs: %d address-mapped, %d rescaled (worst loses %.2f bits)\n",
              enum_name(settings.range_method), settings.weight_bits, settings.activation_bits, identity_inputs,
              rescaled_inputs, worst_bits_lost);
  const SharedScaleLoss shared = shared_scale_loss(graph, formats);
  if (settings.concat_scales == ConcatScales::Shared) {
    std::printf("         shared concat scales: worst tensor loses %.2f bits (%s)\n", shared.worst_bits_lost,
                shared.worst_layer.c_str());
  }
  const WeightSize size = weight_size(graph, bits);
  nlohmann::json result = {{"settings", quant_settings_to_json(settings)},
          {"average_weight_bits", size.average_bits},
          {"weight_code_bytes", size.bytes},
          {"alignment_identity_inputs", identity_inputs},
          {"alignment_rescaled_inputs", rescaled_inputs},
          {"alignment_worst_bits_lost", worst_bits_lost},
          {"shared_scale_worst_bits_lost", shared.worst_bits_lost},
          {"shared_scale_worst_layer", shared.worst_layer}};
  result.update(mixed_precision);
  return result;
}

}  // namespace yq
