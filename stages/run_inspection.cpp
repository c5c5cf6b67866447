// Reading a run folder for `yq-hw inspect` (stages/run_folder.hpp): the model
// description comes from stage_2 (fused) or else stage_1, the image size from
// stage_0's config.json.
#include "stages/run_inspection.hpp"

#include "compiler/inspect/model_inspection.hpp"
#include "compiler/quant/quant_model_io.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"
#include "stages/run_folder.hpp"
#include "stages/stage.hpp"

namespace yq {
namespace {

namespace fs = std::filesystem;

constexpr int kLastStage = 8;

InspectionInputs run_inspection_inputs(const fs::path& run, InputSize default_image_size) {
  InspectionInputs inputs;
  inputs.kind = "run";
  inputs.source = run.string();
  for (int stage = 0; stage <= kLastStage; ++stage) {
    if (!stage_completed(run, stage)) continue;
    const nlohmann::json summary = read_json_file(stage_artifact(run, stage, "summary.json"));
    inputs.completed_stages.emplace_back(stage_folder_name(stage), summary.value("status", "ok"));
  }
  const int model_stage = stage_completed(run, 2) ? 2 : 1;
  const fs::path model_dir = run / stage_folder_name(model_stage);
  if (!stage_completed(run, model_stage)) {
    throw Error(run.string() + " is neither a checkpoint file nor a run folder with a completed stage_1 or stage_2");
  }
  inputs.info = model_info_from_json(read_json_file(model_dir / "model.json"));
  inputs.image_size = stage_completed(run, 0)
                          ? input_size_at(read_json_file(stage_artifact(run, 0, "config.json")), "image_size")
                          : default_image_size;
  const Graph graph = build_model_graph(inputs.info);
  if (stage_completed(run, 5)) {
    const fs::path dir = run / stage_folder_name(5);
    inputs.bits = node_bits_from_json(graph, read_json_file(dir / "bits.json"));
    inputs.formats = tensor_formats_from_json(graph, read_json_file(dir / "scales.json"));
  }
  if (stage_completed(run, 6)) inputs.quant = load_quant_model(run / stage_folder_name(6));
  if (stage_completed(run, 7)) inputs.manifest = read_json_file(stage_artifact(run, 7, "manifest.json"));
  return inputs;
}

}  // namespace

nlohmann::json inspect_path(const fs::path& path, InputSize checkpoint_image_size, std::int64_t band_buffer_bytes) {
  if (!fs::exists(path)) throw Error(path.string() + " does not exist (expected a checkpoint file or a run folder)");
  InspectionInputs inputs = fs::is_directory(path) ? run_inspection_inputs(path, checkpoint_image_size)
                                                   : checkpoint_inspection_inputs(path, checkpoint_image_size);
  inputs.band_buffer_bytes = band_buffer_bytes;
  return inspection_report(inputs);
}

}  // namespace yq
