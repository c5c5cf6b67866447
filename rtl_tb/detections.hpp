// The detection list check shared by the head and frame benches: stage_8's
// golden q_nms.txt (the C++ reference's q_NMS, compiler/ref/int_detector.cpp)
// against the records the RTL wrote (yq_format.vh YQ_DET_* layout), field
// for field, and the bytes of the DRAM detection list a list gives (the
// frame bench compares them with the DRAM region yq_top wrote); the first
// difference prints
//   MISMATCH count expected E got G
//   MISMATCH detection i field F expected E got G
#pragma once
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tb_common.hpp"

namespace tb {

inline constexpr int kDetectionFields = 7;
inline constexpr std::array<const char*, kDetectionFields> kDetectionFieldNames = {"class_id", "score", "x1", "y1",
                                                                                  "x2",       "y2",    "anchor"};
using DetectionFields = std::array<long long, kDetectionFields>;

// q_nms.txt: a `#` header, then `class_id score x1 y1 x2 y2 anchor class_name`
// per line; nothing when the file cannot be read or a line is malformed
// (*bad_line names it).
inline std::optional<std::vector<DetectionFields>> read_q_nms(const std::filesystem::path& file, std::string* bad_line) {
  const auto text = file_text(file);
  if (!text) return std::nullopt;
  std::istringstream lines(*text);
  std::vector<DetectionFields> detections;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    DetectionFields values{};
    for (long long& v : values) in >> v;
    if (!in) {
      if (bad_line) *bad_line = line;
      return std::nullopt;
    }
    detections.push_back(values);
  }
  return detections;
}

// The fields of one record (32-bit words, word 0 the least significant);
// param(name) looks a yq_format.vh localparam up.
inline DetectionFields decode_detection(const std::vector<std::uint32_t>& words,
                                        const std::function<long long(const std::string&)>& param) {
  auto get = [&](const char* name, bool is_signed) {
    const std::string prefix = std::string("YQ_DET_") + name;
    const int lsb = static_cast<int>(param(prefix + "_LSB")), width = static_cast<int>(param(prefix + "_WIDTH"));
    std::uint64_t value = 0;
    for (int b = 0; b < width; ++b) {
      value |= static_cast<std::uint64_t>((words.at(static_cast<std::size_t>((lsb + b) / 32)) >> ((lsb + b) % 32)) & 1) << b;
    }
    return is_signed ? sign_extend(value, width) : static_cast<std::int64_t>(value);
  };
  return {get("CLASS_ID", false), get("SCORE", false), get("X1", true), get("Y1", true),
          get("X2", true),        get("Y2", true),     get("ANCHOR", false)};
}

// The DRAM detection list (docs/ARTIFACTS.md section 3.1) of a list:
// `slots` slots of slot_bytes bytes, little-endian, slot 0 the count
// (YQ_DET_LIST_COUNT_*), slot i + 1 detection i (YQ_DET_*, signed fields in
// two's complement), every other bit 0; slots past the count are absent
// (the result holds 1 + count slots).
inline std::vector<std::uint8_t> detection_list_bytes(const std::vector<DetectionFields>& detections, int slot_bytes,
                                                      const std::function<long long(const std::string&)>& param) {
  std::vector<std::uint8_t> bytes((detections.size() + 1) * static_cast<std::size_t>(slot_bytes), 0);
  auto put = [&](std::size_t slot, const std::string& prefix, long long value) {
    const int lsb = static_cast<int>(param(prefix + "_LSB")), width = static_cast<int>(param(prefix + "_WIDTH"));
    for (int b = 0; b < width; ++b) {
      const std::size_t bit = slot * 8 * static_cast<std::size_t>(slot_bytes) + static_cast<std::size_t>(lsb + b);
      if ((static_cast<unsigned long long>(value) >> b) & 1) bytes.at(bit / 8) |= static_cast<std::uint8_t>(1u << (bit % 8));
    }
  };
  put(0, "YQ_DET_LIST_COUNT", static_cast<long long>(detections.size()));
  for (std::size_t f = 0; f < kDetectionFieldNames.size(); ++f) {
    std::string prefix = "YQ_DET_";
    for (const char* c = kDetectionFieldNames[f]; *c; ++c) prefix += static_cast<char>(std::toupper(static_cast<unsigned char>(*c)));
    for (std::size_t i = 0; i < detections.size(); ++i) put(i + 1, prefix, detections[i][f]);
  }
  return bytes;
}

// True when the RTL's count and records equal the expected list; otherwise
// prints the first difference.
inline bool same_detections(const std::vector<DetectionFields>& expected, std::size_t count,
                            const std::vector<DetectionFields>& got) {
  if (count != expected.size()) {
    std::printf("MISMATCH count expected %zu got %zu\n", expected.size(), count);
    return false;
  }
  for (std::size_t i = 0; i < count; ++i) {
    for (int f = 0; f < kDetectionFields; ++f) {
      const auto field = static_cast<std::size_t>(f);
      if (got.at(i)[field] != expected[i][field]) {
        std::printf("MISMATCH detection %zu field %s expected %lld got %lld\n", i, kDetectionFieldNames[field],
                    expected[i][field], got[i][field]);
        return false;
      }
    }
  }
  return true;
}

}  // namespace tb
