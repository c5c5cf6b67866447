// Golden dumps: every tensor of the integer model for one image, one file per
// tensor, in the hex format of docs/ARTIFACTS.md: one code per line, two's
// complement, ceil(bits/4) lowercase hex digits, NCHW order (N = 1). A
// manifest lists each file with its tensor, shape, bits, scale, zero point
// and SHA-256.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "compiler/ref/int_kernels.hpp"
#include "compiler/quant/quant_model.hpp"

namespace yq {

// The text of one tensor's codes.
std::string hex_codes(const std::vector<std::int32_t>& codes, int bits);

struct GoldenEntry {
  std::string file;     // relative to the dump folder
  std::string tensor;   // layer name, or "<layer>.pre" for a pre-activation
  const CodeTensor* codes = nullptr;
  CodeFormat format;
};

// Writes each entry and manifest.json into folder; returns the manifest.
nlohmann::json write_golden_dump(const std::filesystem::path& folder, const std::vector<GoldenEntry>& entries,
                                 const nlohmann::json& extra);

}  // namespace yq
