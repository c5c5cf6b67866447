// The integer detection list file, q_nms.txt: what stage_8 writes for the
// golden image (the C++ reference's q_NMS) and what rtl_tb's frame bench
// writes for yq_top's own list (rtl_bench/yq_top_detections.txt). A `#`
// header line, then one detection per line:
//   class_id score x1 y1 x2 y2 anchor class_name
// score in 2^-kScoreFractionBits, boxes in 1/2^kBoxFractionBits pixel of the
// letterboxed canvas, anchor the position in anchor order.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "compiler/detect/detection.hpp"

namespace yq {

// The seven fields of a line, in file order (class_id score x1 y1 x2 y2 anchor).
using DetectionFields = std::array<long long, 7>;

// A detection from its fields; inline for rtl_tb's frame bench, which holds
// the RTL's records as fields. Values must fit their 32-bit members.
inline IntDetection detection_from_fields(const DetectionFields& f) {
  IntDetection d;
  d.class_id = static_cast<int>(f[0]);
  d.score = static_cast<std::int32_t>(f[1]);
  d.x1 = static_cast<std::int32_t>(f[2]);
  d.y1 = static_cast<std::int32_t>(f[3]);
  d.x2 = static_cast<std::int32_t>(f[4]);
  d.y2 = static_cast<std::int32_t>(f[5]);
  d.anchor = static_cast<int>(f[6]);
  return d;
}

// The file's text; class ids without a name are written as "class<N>".
// Inline so that rtl_tb's frame bench writes the RTL's list with this very
// code: a bit-exact list gives a byte-identical file.
inline std::string detection_list_text(const std::vector<IntDetection>& detections,
                                       const std::vector<std::string>& class_names) {
  static_assert(kScoreFractionBits == 16 && kBoxFractionBits == 4, "the header names the units");
  std::string text = "# q_NMS result, integers: class_id score(2^-16) x1 y1 x2 y2 (1/16 canvas pixel) anchor class_name\n";
  char line[256];
  for (const IntDetection& d : detections) {
    const auto id = static_cast<std::size_t>(d.class_id);
    const std::string name = id < class_names.size() ? class_names[id] : "class" + std::to_string(d.class_id);
    std::snprintf(line, sizeof line, "%d %d %d %d %d %d %d %s\n", d.class_id, d.score, d.x1, d.y1, d.x2, d.y2, d.anchor,
                  name.c_str());
    text += line;
  }
  return text;
}

// Reads a list; throws yq::Error naming the file and the line that is not a
// detection (seven integers within 32 bits, a non-negative class id and
// score, x1 <= x2 and y1 <= y2, an optional name).
std::vector<IntDetection> read_detection_list(const std::filesystem::path& file);

}  // namespace yq
