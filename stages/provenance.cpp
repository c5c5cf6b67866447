// Provenance of stage outputs, so that a resumed run never mixes outputs made
// from different inputs or settings. A stage's provenance is: the version of
// the stage outputs' formats and of the integer arithmetic, the settings of
// the run configuration its outputs depend on (StageInfo::settings), and the
// SHA-256 of the provenance of each earlier stage it reads. A change of any
// input thus changes the provenance of every stage downstream of it; the
// runner stores each stage's provenance in its summary.json and, on --from,
// compares the stored one with the one this run would make.
#include <nlohmann/json.hpp>

#include "compiler/ref/arithmetic.hpp"
#include "compiler/util/files.hpp"
#include "stages/stage.hpp"

namespace yq {

namespace {

// Bumped whenever a stage output's layout changes.
constexpr int kStageFormatVersion = 2;

void describe_differences(const nlohmann::json& stored, const nlohmann::json& expected, const std::string& path,
                          std::vector<std::string>& differences) {
  if (stored.is_object() && expected.is_object()) {
    for (const auto& [key, value] : expected.items()) {
      const std::string name = path.empty() ? key : path + "." + key;
      describe_differences(stored.contains(key) ? stored[key] : nlohmann::json(), value, name, differences);
    }
    return;
  }
  if (stored != expected) {
    differences.push_back(path + " " + (stored.is_null() ? "(not recorded)" : stored.dump()) + " -> " + expected.dump());
  }
}

}  // namespace

nlohmann::json stage_provenance(const StageInfo& stage, const RunConfig& config) {
  nlohmann::json inputs = nlohmann::json::object();
  for (const StageInfo& other : pipeline_stages()) {
    for (int read : stage.reads) {
      if (other.number == read) inputs[stage_folder_name(read)] = sha256_hex(stage_provenance(other, config).dump());
    }
  }
  return {{"format_version", kStageFormatVersion},
          {"arithmetic_version", arith::kArithmeticVersion},
          {"settings", stage.settings ? stage.settings(config) : nlohmann::json::object()},
          {"inputs", inputs}};
}

std::string compare_provenance(const nlohmann::json& stored, const nlohmann::json& expected) {
  if (!stored.is_object()) return "made by an earlier yq-hw that recorded no provenance";
  std::vector<std::string> differences;
  for (const char* version : {"format_version", "arithmetic_version"}) {
    if (stored.value(version, nlohmann::json()) != expected[version]) {
      differences.push_back(std::string(version) + " " + stored.value(version, nlohmann::json()).dump() + " -> " +
                            expected[version].dump());
    }
  }
  describe_differences(stored.value("settings", nlohmann::json::object()), expected["settings"], "", differences);
  if (differences.empty() && stored.value("inputs", nlohmann::json()) != expected["inputs"]) {
    differences.push_back("made from other outputs of the stages it reads");
  }
  std::string text;
  for (const std::string& d : differences) text += (text.empty() ? "" : ", ") + d;
  return text;
}

}  // namespace yq
