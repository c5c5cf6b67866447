#include "stages/run_folder.hpp"

#include <nlohmann/json.hpp>

#include "compiler/io/dataset.hpp"
#include "compiler/io/test_pattern.hpp"
#include "compiler/ir/model.hpp"
#include "compiler/util/files.hpp"
#include "stages/stage.hpp"

namespace yq {

namespace fs = std::filesystem;

fs::path stage_artifact(const fs::path& run, int stage, const std::string& name) { return run / stage_folder_name(stage) / name; }

bool stage_completed(const fs::path& run, int stage) { return fs::exists(stage_artifact(run, stage, "summary.json")); }

fs::path golden_detection_list(const fs::path& run) { return stage_artifact(run, 8, "golden/q_nms.txt"); }

fs::path rtl_detection_list(const fs::path& run) { return run / "rtl_bench" / "yq_top_detections.txt"; }

bool rtl_detection_list_is_current(const fs::path& run) {
  const fs::path rtl = rtl_detection_list(run), golden = golden_detection_list(run);
  return fs::is_regular_file(rtl) && (!fs::is_regular_file(golden) || fs::last_write_time(rtl) >= fs::last_write_time(golden));
}

std::vector<std::string> run_class_names(const fs::path& run) {
  for (int stage : {2, 1}) {
    if (stage_completed(run, stage)) return model_info_from_json(read_json_file(stage_artifact(run, stage, "model.json"))).class_names;
  }
  return {};
}

std::optional<RgbImage> golden_source_image(const nlohmann::json& config) {
  std::vector<fs::path> data;
  for (const nlohmann::json& folder : config.at("data")) data.push_back(folder.get<std::string>());
  const std::string golden_image = config.at("golden_image");
  const fs::path file = !golden_image.empty() ? fs::path(golden_image)
                        : !data.empty()       ? scan_datasets(data).images.front().image
                                              : fs::path();
  if (file.empty()) return test_pattern_image(640, 480, 0);
  if (!fs::is_regular_file(file)) return std::nullopt;
  return decode_image(file);
}

}  // namespace yq
