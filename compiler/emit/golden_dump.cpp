#include "compiler/emit/golden_dump.hpp"

#include <nlohmann/json.hpp>

#include "compiler/util/files.hpp"

namespace yq {

std::string hex_codes(const std::vector<std::int32_t>& codes, int bits) {
  static const char* digits = "0123456789abcdef";
  const int width = (bits + 3) / 4;
  const std::uint32_t mask = bits >= 32 ? 0xffffffffu : ((1u << bits) - 1);
  std::string text(codes.size() * (width + 1), '\n');
  char* out = text.data();
  for (std::int32_t code : codes) {
    const std::uint32_t value = static_cast<std::uint32_t>(code) & mask;
    for (int d = width - 1; d >= 0; --d) *out++ = digits[(value >> (4 * d)) & 15];
    ++out;  // the newline already in place
  }
  return text;
}

nlohmann::json write_golden_dump(const std::filesystem::path& folder, const std::vector<GoldenEntry>& entries,
                                 const nlohmann::json& extra) {
  std::filesystem::create_directories(folder);
  nlohmann::json files = nlohmann::json::array();
  for (const GoldenEntry& entry : entries) {
    const std::string text = hex_codes(entry.codes->codes, entry.format.bits);
    write_file_atomic(folder / entry.file, text);
    files.push_back({{"file", entry.file},
                     {"tensor", entry.tensor},
                     {"shape", {1, entry.codes->channels, entry.codes->height, entry.codes->width}},
                     {"bits", entry.format.bits},
                     {"scale", entry.format.scale},
                     {"zero", entry.format.zero},
                     {"sha256", sha256_hex(text)}});
  }
  nlohmann::json manifest = extra;
  manifest["format"] = "one two's-complement code per line, ceil(bits/4) lowercase hex digits, NCHW order";
  manifest["files"] = files;
  write_json_file(folder / "manifest.json", manifest);
  return manifest;
}

}  // namespace yq
