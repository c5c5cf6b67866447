// stage_6: quantization. Weights to W bits per output channel, biases to the
// accumulator scale with the input zero folded in, requantization multipliers
// and shifts, SiLU/sigmoid/exp tables (compiler/quant/quantizer.hpp), and the
// overflow certificate: every convolution's worst-case accumulator from its
// actual integer weights and input range, the bits it needs and the margin
// (certificate.json). A layer beyond the limit stops the run with an error.
// With GPTQ (--rounding gptq, or auto for weights narrower than 8 bits) or
// --bias-correction, weights are rounded with stage_4's layer input
// statistics (compiler/quant/gptq.hpp), layers in parallel; with --reconstruction sequential, in graph order from each
// convolution's input in the integer model built so far, which runs
// stage_4's calibration images again (compiler/quant/quantized_pass.hpp).
// rounding.json gives each convolution's mean squared output error on its
// calibration inputs with nearest rounding and with the codes chosen.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <thread>

#include "compiler/float/float_model.hpp"
#include "compiler/quant/activation_formats.hpp"
#include "compiler/quant/layer_inputs.hpp"
#include "compiler/quant/quant_model_io.hpp"
#include "compiler/quant/quantizer.hpp"
#include "compiler/util/files.hpp"
#include "stages/stage.hpp"

namespace yq {

namespace {

// rounding.json: per convolution, the output errors of nearest and chosen
// rounding; returns the totals for the summary and prints them.
nlohmann::json write_rounding_report(const std::filesystem::path& file, const std::vector<LayerRounding>& layers) {
  nlohmann::json rows = nlohmann::json::array();
  double log_ratio_sum = 0;
  int improved = 0;
  for (const LayerRounding& layer : layers) {
    const double ratio = layer.nearest_error > 0 ? layer.error / layer.nearest_error : 1.0;
    log_ratio_sum += std::log(std::max(ratio, 1e-12));
    improved += layer.error < layer.nearest_error;
    rows.push_back({{"layer", layer.layer},
                    {"nearest_output_mse", layer.nearest_error},
                    {"output_mse", layer.error},
                    {"ratio", ratio},
                    {"largest_channel_mean_error", layer.largest_mean_error}});
  }
  write_json_file(file, rows);
  const double geometric_mean_ratio = layers.empty() ? 1.0 : std::exp(log_ratio_sum / layers.size());
  std::printf("         output error vs nearest rounding: %.3f (geometric mean over %zu layers), %d layers lower\n",
              geometric_mean_ratio, layers.size(), improved);
  return {{"output_mse_ratio_geometric_mean", geometric_mean_ratio}, {"layers_lower_than_nearest", improved}};
}

}  // namespace

nlohmann::json run_stage_6_quantization(StageContext& context) {
  const Model fused = load_model(context.stage_dir(2));
  const std::vector<TensorFormats> formats =
      tensor_formats_from_json(fused.graph, read_json_file(context.stage_dir(5) / "scales.json"));
  const NodeBits bits = node_bits_from_json(fused.graph, read_json_file(context.stage_dir(5) / "bits.json"));
  const QuantSettings& settings = context.config.quant;
  std::optional<LayerInputStatistics> layer_inputs;
  RoundingInputs inputs;
  if (settings.needs_layer_inputs()) {
    layer_inputs = load_layer_inputs(context.stage_dir(4) / "layer_inputs.pt", fused.graph);
    inputs.float_inputs = &*layer_inputs;
    const CalibrationImages images = calibration_images(context.config);
    const InputSize image_size = context.config.image_size;
    inputs.images = images.count;
    inputs.input_at = [images, image_size](int i) { return image_to_input(letterbox(images.image_at(i), image_size).canvas); };
  }
  const int threads = context.config.threads > 0 ? context.config.threads : static_cast<int>(std::thread::hardware_concurrency());
  std::vector<LayerRounding> rounding;
  QuantModel model = quantize_model(fused, formats, bits, settings, inputs, threads, &rounding);
  model.image_size = context.config.image_size;
  save_quant_model(context.output_dir, model);
  nlohmann::json rounding_summary = {{"rounding", enum_name(settings.rounding)},
                                     {"bias_correction", settings.bias_correction},
                                     {"reconstruction", enum_name(settings.reconstruction)},
                                     {"weight_clip", enum_name(settings.weight_clip)}};
  if (layer_inputs) rounding_summary.update(write_rounding_report(context.output_dir / "rounding.json", rounding));
  const nlohmann::json certificate = overflow_certificate(model);
  write_json_file(context.output_dir / "certificate.json", certificate);
  size_t lut_entries = 0;
  for (const Lut& lut : model.luts) lut_entries += lut.values.size();
  std::printf("         %zu convolutions, widest accumulator %d bits (limit %d), %zu tables (%zu entries)\n",
              fused.graph.conv_nodes().size(), certificate["accumulator_bits"].get<int>(),
              model.settings.acc_bits_limit, model.luts.size(), lut_entries);
  return {{"convolutions", fused.graph.conv_nodes().size()},
          {"accumulator_bits", certificate["accumulator_bits"]},
          {"accumulator_limit_bits", model.settings.acc_bits_limit},
          {"tables", model.luts.size()},
          {"table_entries", lut_entries},
          {"head", enum_name(model.settings.head)},
          {"weights", rounding_summary}};
}

}  // namespace yq
