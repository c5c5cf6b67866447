// stage_5: range and scale selection. From stage_4's histograms, picks every
// tensor's clipping range with the chosen method (max, percentile, mse or entropy;
// compiler/quant/range_selection.hpp) and turns it into a code format (bits
// from --abits and the per-layer overrides, scale = clip / (2^(bits-1)-1),
// a power of two with --scales pow2). Box and class head branches get their
// own scales by construction. Concat and add inputs are aligned explicitly:
// alignment.json lists each input's scale ratio and the bits it loses. With
// --concat-scales shared a concat and its inputs take one scale (the widest
// clip); the summary gives the resolution the narrowest member loses.
#include <algorithm>
#include <cstdio>

#include "compiler/ir/model.hpp"
#include "compiler/quant/activation_formats.hpp"
#include "compiler/util/files.hpp"
#include "stages/stage.hpp"

namespace yq {

nlohmann::json run_stage_5_scale_selection(StageContext& context) {
  const QuantSettings& settings = context.config.quant;
  const ModelInfo info = model_info_from_json(read_json_file(context.stage_dir(2) / "model.json"));
  const Graph graph = build_model_graph(info);
  const CalibrationStatistics statistics = load_calibration(context.stage_dir(4) / "statistics.pt", graph.nodes.size());
  const NodeBits bits = resolve_node_bits(graph, settings);
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
  return {{"settings", quant_settings_to_json(settings)},
          {"alignment_identity_inputs", identity_inputs},
          {"alignment_rescaled_inputs", rescaled_inputs},
          {"alignment_worst_bits_lost", worst_bits_lost},
          {"shared_scale_worst_bits_lost", shared.worst_bits_lost},
          {"shared_scale_worst_layer", shared.worst_layer}};
}

}  // namespace yq
