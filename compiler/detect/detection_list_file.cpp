#include "compiler/detect/detection_list_file.hpp"

#include <optional>
#include <sstream>
#include <utility>

#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"

namespace yq {

namespace {

// One line as a detection, or nothing when it is not one.
std::optional<IntDetection> parse_detection(const std::string& line) {
  std::istringstream in(line);
  DetectionFields fields;
  for (long long& v : fields) {
    if (!(in >> v) || !std::in_range<std::int32_t>(v)) return std::nullopt;
  }
  const IntDetection d = detection_from_fields(fields);
  if (d.class_id < 0 || d.score < 0 || d.anchor < 0 || d.x1 > d.x2 || d.y1 > d.y2) return std::nullopt;
  return d;
}

}  // namespace

std::vector<IntDetection> read_detection_list(const std::filesystem::path& file) {
  std::istringstream text(read_file_bytes(file));
  std::vector<IntDetection> detections;
  int number = 0;
  for (std::string line; std::getline(text, line);) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    const std::optional<IntDetection> detection = parse_detection(line);
    if (!detection) {
      throw Error(file.string() + " line " + std::to_string(number) +
                  " is not a detection (class_id score x1 y1 x2 y2 anchor [name]): " + line.substr(0, 80));
    }
    detections.push_back(*detection);
  }
  return detections;
}

}  // namespace yq
