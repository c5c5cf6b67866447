// stage_7: emission for FPGA flows. Loads stage_6's quantized model and
// writes the `$readmemh` memory images, the layer program, the DRAM image
// and its memory map (regions aligned to --axi-bits), yq_format.vh,
// yq_params.vh and manifest.json (compiler/emit/hw_emitter.hpp, docs/ARTIFACTS.md) into the
// stage folder, then copies them to --emit when given. The source checkpoint's
// SHA-256 comes from stage_0's config.json ("synthetic" for the built-in model).
#include <cstdio>

#include "compiler/emit/byte_planes.hpp"
#include "compiler/emit/hw_emitter.hpp"
#include "compiler/emit/layer_program.hpp"
#include "compiler/quant/quant_model_io.hpp"
#include "compiler/util/files.hpp"
#include "stages/stage.hpp"

namespace yq {

namespace {

std::string source_model_sha256(const StageContext& context) {
  const nlohmann::json config = read_json_file(context.stage_dir(0) / "config.json");
  return config.contains("model_sha256") ? config["model_sha256"].get<std::string>() : "synthetic";
}

void print_summary(const nlohmann::json& summary, const std::filesystem::path& folder) {
  const nlohmann::json& memories = summary["memories"];
  const nlohmann::json& fmap = summary["feature_maps"];
  std::printf("         %zu files, %lld bytes; %lld descriptors, %lld weights x %d b, %lld biases x %d b -> %s\n",
              summary["files"].get<size_t>(), summary["bytes"].get<long long>(),
              memories["program"]["depth"].get<long long>(), memories["weight"]["depth"].get<long long>(),
              memories["weight"]["width"].get<int>(), memories["bias"]["depth"].get<long long>(),
              memories["bias"]["width"].get<int>(), folder.string().c_str());
  std::printf("         feature maps: %lld words at the peak (all outputs: %lld), %lld layers are views\n",
              fmap["depth"].get<long long>(), fmap["sum_of_outputs"].get<long long>(), fmap["views"].get<long long>());
}

// The layers whose outputs are byte planes, or why codes wider than a byte
// make every feature-map word wide.
void print_byte_planes(const QuantModel& model) {
  const std::vector<int> planes = byte_planes(model);
  std::string names;
  for (size_t i = 0; i < planes.size(); ++i) {
    if (planes[i] > 1) names += (names.empty() ? "" : ", ") + model.graph.nodes[i].name;
  }
  const std::string unfit = byte_planes_unfit(model);
  if (!names.empty()) {
    std::printf("         byte planes (each code two one-byte words, docs/ARTIFACTS.md 3.2): %s\n", names.c_str());
  } else if (!unfit.empty()) {
    std::printf("         feature-map words of %d bits: %s, so the wider codes cannot be byte planes "
                "(docs/ARTIFACTS.md 3.2)\n",
                word_widths(model).fmap, unfit.c_str());
  }
}

}  // namespace

nlohmann::json run_stage_7_emit(StageContext& context) {
  const QuantModel model = load_quant_model(context.stage_dir(6));
  const RunConfig& config = context.config;
  const EmitOptions options{
      model.image_size, config.axi_bits,
      int_nms_options({config.score_threshold, config.val_iou_threshold, config.max_detections}),
      config.weight_buffer_bytes, config.band_buffer_bytes, source_model_sha256(context)};
  const nlohmann::json manifest = emit_hardware(model, options, context.output_dir);
  nlohmann::json summary = emission_summary(manifest);
  std::filesystem::path shown = context.stage_dir(7);
  if (context.config.emit_dir) {
    copy_emission(manifest, context.output_dir, *context.config.emit_dir);
    summary["emit_dir"] = context.config.emit_dir->string();
    shown = *context.config.emit_dir;
  }
  print_summary(summary, shown);
  print_byte_planes(model);
  return summary;
}

}  // namespace yq
