// stage_6: quantization. Weights to W bits per output channel, biases to the
// accumulator scale with the input zero folded in, requantization multipliers
// and shifts, SiLU/sigmoid/exp tables (compiler/quant/quantizer.hpp), and the
// overflow certificate: every convolution's worst-case accumulator from its
// actual integer weights and input range, the bits it needs and the margin
// (certificate.json). A layer beyond the limit stops the run with an error.
#include <cstdio>

#include "compiler/quant/activation_formats.hpp"
#include "compiler/quant/quant_model_io.hpp"
#include "compiler/quant/quantizer.hpp"
#include "compiler/util/files.hpp"
#include "stages/stage.hpp"

namespace yq {

nlohmann::json run_stage_6_quantization(StageContext& context) {
  const Model fused = load_model(context.stage_dir(2));
  const std::vector<TensorFormats> formats =
      tensor_formats_from_json(fused.graph, read_json_file(context.stage_dir(5) / "scales.json"));
  const NodeBits bits = node_bits_from_json(fused.graph, read_json_file(context.stage_dir(5) / "bits.json"));
  const QuantModel model = quantize_model(fused, formats, bits, context.config.quant);
  save_quant_model(context.output_dir, model);
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
          {"head", enum_name(model.settings.head)}};
}

}  // namespace yq
