// The stage runner: a linear list of numbered stages. Each stage writes into
// <out>/stage_N.partial/ and is renamed to <out>/stage_N/ only when it
// succeeds (with summary.json: status, wall time, the stage's own results),
// so a failed stage leaves no half-written output and --from resumes from
// the last good outputs. A failed run into a folder that did not exist
// removes every folder it created: a failed first run leaves nothing.
// After the last stage, report.html is rebuilt from the run folder
// (stages/run_report.hpp); a report that cannot be made is a warning, never
// a failed run, and leaves no stale report behind.
#include <chrono>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "compiler/ir/synthetic_model.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"
#include "stages/run_report.hpp"
#include "stages/stage.hpp"

namespace yq {

namespace fs = std::filesystem;

namespace {

std::string absolute_path(const fs::path& path) { return fs::weakly_canonical(fs::absolute(path)).string(); }

// The checkpoint's SHA-256, read once per file and size (provenance asks for it once per stage).
std::string sha256_of_model(const fs::path& model) {
  static std::map<std::pair<std::string, std::uintmax_t>, std::string> digests;
  std::error_code error;
  const auto key = std::make_pair(absolute_path(model), fs::file_size(model, error));
  if (error) return "(unreadable " + model.string() + ")";
  auto it = digests.find(key);
  if (it == digests.end()) it = digests.emplace(key, sha256_file(model)).first;
  return it->second;
}

nlohmann::json absolute_paths(const std::vector<fs::path>& paths) {
  nlohmann::json list = nlohmann::json::array();
  for (const fs::path& path : paths) list.push_back(absolute_path(path));
  return list;
}

// The settings each stage's outputs depend on, named like the options that set them.
nlohmann::json model_settings(const RunConfig& config) {
  return {{"--model", config.model ? sha256_of_model(*config.model) : synthetic_model_name(config.synthetic_scale)}};
}

nlohmann::json validation_settings(const RunConfig& config) {
  return {{"--data", absolute_paths(config.data)},
          {"--imgsz", config.image_size.text()},
          {"--max-images", config.max_images},
          {"validation", {{"score_threshold", config.val_score_threshold},
                          {"iou_threshold", config.val_iou_threshold},
                          {"max_detections", config.max_detections}}}};
}

nlohmann::json calibration_settings(const RunConfig& config) {
  const auto& images = config.calib.empty() ? config.data : config.calib;
  return {{"--calib", images.empty() ? nlohmann::json("(test patterns)") : absolute_paths(images)},
          {"--calib-images", config.calib_images},
          {"--imgsz", config.image_size.text()}};
}

nlohmann::json quantization_settings(const RunConfig& config) {
  return {{"quant", quant_settings_to_json(config.quant)}, {"--imgsz", config.image_size.text()}};
}

// Scale selection does not depend on how weights are rounded. With a weight
// budget it depends on the budget and on the sensitivity images: their
// count is here, the images are stage_4's (its provenance covers --calib).
nlohmann::json scale_selection_settings(const RunConfig& config) {
  nlohmann::json settings = quantization_settings(config);
  settings["quant"].erase("rounding");
  settings["quant"].erase("bias_correction");
  settings["quant"].erase("reconstruction");
  settings["quant"].erase("weight_clip");
  if (!config.quant.weight_budget.is_set()) settings["quant"].erase("sensitivity_images");
  return settings;
}

nlohmann::json emission_settings(const RunConfig& config) {
  return {{"--axi-bits", config.axi_bits},
          {"--weight-buffer-bytes", config.weight_buffer_bytes},
          {"--band-buffer-bytes", config.band_buffer_bytes},
          {"max_detections", config.max_detections},
          {"score_threshold", config.score_threshold},
          {"iou_threshold", config.val_iou_threshold}};
}

// The float model's batched forward pass rounds some convolutions differently
// from one image at a time (oneDNN picks its kernel by batch size), so the
// float figures depend on --batch; the integer ones do not.
nlohmann::json float_validation_settings(const RunConfig& config) {
  nlohmann::json settings = validation_settings(config);
  settings["--batch"] = config.batch;
  return settings;
}

nlohmann::json integer_validation_settings(const RunConfig& config) {
  nlohmann::json settings = validation_settings(config);
  settings["--golden-image"] = config.golden_image ? absolute_path(*config.golden_image) : std::string();
  settings["--nms"] = enum_name(config.nms);
  settings["golden_score_threshold"] = config.score_threshold;
  return settings;
}

}  // namespace

const std::vector<StageInfo>& pipeline_stages() {
  static const std::vector<StageInfo> stages = {
      {0, "config", "configuration", run_stage_0_config, {}, nullptr},
      {1, "import", "checkpoint import and rename", run_stage_1_import, {}, model_settings},
      {2, "bn_fusion", "BatchNorm fusion", run_stage_2_bn_fusion, {1}, nullptr},
      {3, "float_validation", "float validation", run_stage_3_float_validation, {2}, float_validation_settings},
      {4, "calibration", "activation calibration", run_stage_4_calibration, {2}, calibration_settings},
      {5, "scale_selection", "range and scale selection", run_stage_5_scale_selection, {2, 4}, scale_selection_settings},
      {6, "quantization", "weight and activation quantization", run_stage_6_quantization, {2, 4, 5}, quantization_settings},
      {7, "emit", "memories, parameter header and layer program", run_stage_7_emit, {0, 6}, emission_settings},
      {8, "integer_validation", "integer validation and golden dumps", run_stage_8_integer_validation, {2, 3, 6},
       integer_validation_settings},
  };
  return stages;
}

namespace {

const StageInfo* find_stage(int number) {
  for (const StageInfo& stage : pipeline_stages()) {
    if (stage.number == number) return &stage;
  }
  return nullptr;
}

// An earlier stage's outputs can be reused only when it completed and its
// provenance is what this run would make.
void require_reusable(const StageInfo& stage, const RunConfig& config) {
  const std::string name = stage_folder_name(stage.number);
  const std::string resume = stage_folder_name(config.from_stage);
  const fs::path summary = config.out / name / "summary.json";
  if (!fs::exists(summary)) {
    throw Error("cannot resume from " + resume + ": " + name + " has not completed in " + config.out.string() +
                " (run it first, e.g. --from " + name + ")");
  }
  const nlohmann::json stored = read_json_file(summary).value("provenance", nlohmann::json());
  const std::string differences = compare_provenance(stored, stage_provenance(stage, config));
  if (!differences.empty()) {
    throw Error("cannot resume from " + resume + ": " + name + " in " + config.out.string() + " was made from other inputs (" +
                differences + "); rerun from " + name + " (--from " + name + ")");
  }
}

void run_stage(const StageInfo& stage, const RunConfig& config) {
  const fs::path final_dir = config.out / stage_folder_name(stage.number);
  const fs::path partial_dir = config.out / (stage_folder_name(stage.number) + ".partial");
  fs::remove_all(partial_dir);
  fs::create_directories(partial_dir);
  std::printf("%s  %s\n", stage_folder_name(stage.number).c_str(), stage.title);
  std::fflush(stdout);

  StageContext context{config, partial_dir};
  const auto start = std::chrono::steady_clock::now();
  nlohmann::json result;
  try {
    result = stage.run(context);
  } catch (...) {
    fs::remove_all(partial_dir);
    throw;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const bool skipped = result.contains("skipped");
  nlohmann::json summary = {{"stage", stage_folder_name(stage.number)},
                            {"name", stage.name},
                            {"status", skipped ? "skipped" : "ok"},
                            {"seconds", seconds},
                            {"provenance", stage_provenance(stage, config)},
                            {"result", result}};
  write_json_file(partial_dir / "summary.json", summary);
  fs::remove_all(final_dir);
  fs::rename(partial_dir, final_dir);
  if (skipped) {
    std::printf("         skipped: %s\n", result["skipped"].get<std::string>().c_str());
  } else {
    std::printf("         done in %.2f s -> %s\n", seconds, final_dir.string().c_str());
  }
  std::fflush(stdout);
}

// Outputs of later stages were made from the outputs just replaced.
void remove_stale_stages(const fs::path& out, int last_run) {
  for (int stage = last_run + 1; stage <= 8; ++stage) {
    const fs::path dir = out / stage_folder_name(stage);
    if (fs::exists(dir)) {
      fs::remove_all(dir);
      std::printf("removed stale %s (made from earlier outputs)\n", stage_folder_name(stage).c_str());
    }
  }
}

void write_report_after_run(const fs::path& out) {
  try {
    std::printf("report   %s\n", write_run_report({out}, std::nullopt).string().c_str());
  } catch (const std::exception& e) {
    std::error_code ignored;
    fs::remove(out / "report.html", ignored);
    std::printf("warning: report.html not written: %s\n", e.what());
  }
}

// The outermost folder of `out` that does not exist yet (empty when `out` exists).
fs::path first_missing_folder(const fs::path& out) {
  fs::path missing;
  for (fs::path folder = fs::absolute(out); !folder.empty() && !fs::exists(folder); folder = folder.parent_path()) {
    missing = folder;
    if (folder == folder.parent_path()) break;
  }
  return missing;
}

nlohmann::json paths_to_json(const std::vector<fs::path>& paths) {
  nlohmann::json list = nlohmann::json::array();
  for (const fs::path& path : paths) list.push_back(path.string());
  return list;
}

}  // namespace

std::string stage_folder_name(int stage) { return "stage_" + std::to_string(stage); }

fs::path StageContext::stage_dir(int stage) const { return config.out / stage_folder_name(stage); }

void run_pipeline(const RunConfig& config) {
  const auto& stages = pipeline_stages();
  const int last = stages.back().number;
  if (config.through_stage > last) {
    throw Error(stage_folder_name(config.through_stage) + " is not available in this version (stages 0-" +
                std::to_string(last) + ")");
  }
  if (config.from_stage > config.through_stage) {
    throw Error("--from " + stage_folder_name(config.from_stage) + " comes after --through " +
                stage_folder_name(config.through_stage));
  }
  const fs::path created = first_missing_folder(config.out);
  ensure_writable_folder(config.out);
  try {
    if (config.from_stage > 0) run_stage(pipeline_stages().front(), config);  // the input checks, every time
    for (int stage = 1; stage < config.from_stage; ++stage) {
      if (const StageInfo* info = find_stage(stage)) require_reusable(*info, config);
    }
    for (int stage = config.from_stage; stage <= config.through_stage; ++stage) {
      if (const StageInfo* info = find_stage(stage)) {
        run_stage(*info, config);
      } else {
        std::printf("%s  not in this version, skipped\n", stage_folder_name(stage).c_str());
      }
    }
  } catch (...) {
    std::error_code ignored;  // the folders were made by this run: nothing in them is the user's
    if (!created.empty()) fs::remove_all(created, ignored);
    throw;
  }
  remove_stale_stages(config.out, config.through_stage);
  write_report_after_run(config.out);
}

nlohmann::json run_config_to_json(const RunConfig& config) {
  return {{"model", config.model ? config.model->string() : "(built-in " + synthetic_model_name(config.synthetic_scale) + ")"},
          {"data", paths_to_json(config.data)},
          {"out", config.out.string()},
          {"image_size", input_size_json(config.image_size)},
          {"max_images", config.max_images},
          {"threads", config.threads},
          {"batch", config.batch},
          {"from_stage", config.from_stage},
          {"through_stage", config.through_stage},
          {"val_score_threshold", config.val_score_threshold},
          {"val_iou_threshold", config.val_iou_threshold},
          {"score_threshold", config.score_threshold},
          {"max_detections", config.max_detections},
          {"axi_bits", config.axi_bits},
          {"weight_buffer_bytes", config.weight_buffer_bytes},
          {"band_buffer_bytes", config.band_buffer_bytes},
          {"calib", paths_to_json(config.calib)},
          {"calib_images", config.calib_images},
          {"quant", quant_settings_to_json(config.quant)},
          {"nms", enum_name(config.nms)},
          {"attribution", config.attribution},
          {"golden_image", config.golden_image ? config.golden_image->string() : std::string()}};
}

}  // namespace yq
