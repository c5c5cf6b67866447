// Reading a run folder after the fact (`yq-hw inspect`, `report`, `draw`): a
// stage counts as completed when its folder holds summary.json (the runner
// writes it last, just before the rename from stage_N.partial).
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "compiler/io/image.hpp"

namespace yq {

std::filesystem::path stage_artifact(const std::filesystem::path& run, int stage, const std::string& name);
bool stage_completed(const std::filesystem::path& run, int stage);

// The integer detection lists of the golden image (compiler/detect/
// detection_list_file.hpp): stage_8's q_NMS result, and yq_top's own, written
// by rtl_tb's frame bench.
std::filesystem::path golden_detection_list(const std::filesystem::path& run);
std::filesystem::path rtl_detection_list(const std::filesystem::path& run);

// True when the RTL's list is there and stage_8 has not rewritten its golden
// dumps since (else the list may be of another image or model).
bool rtl_detection_list_is_current(const std::filesystem::path& run);

// The model's class names (stage_2's model.json, else stage_1's); empty when neither stage completed.
std::vector<std::string> run_class_names(const std::filesystem::path& run);

// stage_8's golden image, chosen as stage_8 chooses it from stage_0's
// config.json: the --golden-image file, else the first image of --data, else
// the built-in test pattern 0. Nothing when the file is not readable from
// here (a relative path given in another folder, a moved file).
std::optional<RgbImage> golden_source_image(const nlohmann::json& config);

}  // namespace yq
