// Quantization settings from a TOML file (cpptoml), for mixed precision:
//
//   wbits = 8                 # optional defaults, same meaning as the flags
//   abits = 8
//   pre_bits = 12             # SiLU pre-activation codes at least this wide
//   calibration = "mse"
//   [[override]]              # any number; `layers` is a regular expression
//   layers = "conv0|conv1|c2f2\\..*"   # over the compiler's layer names
//   abits = 16
//   wbits = 8
//   weight_budget = 5         # or "2MB": stage_5 chooses each layer's weight bits
//   sensitivity_images = 8
//
// Flags given on the command line take precedence over the file's values.
#pragma once
#include <filesystem>
#include <string>

#include "compiler/quant/quant_settings.hpp"

namespace yq {

// Updates settings from the file; throws yq::Error on unreadable TOML, an
// unknown key, or a value of the wrong type.
void read_quant_config(const std::filesystem::path& file, QuantSettings& settings);
// The same for the text of a config file; `where` names it in errors.
void parse_quant_config(const std::string& text, const std::string& where, QuantSettings& settings);

// The settings as a config file that parse_quant_config reads back to the
// same settings (acc_bits_limit, which has no key, excepted), each line
// preceded by `header` (comment lines).
std::string quant_config_text(const QuantSettings& settings, const std::string& header);

}  // namespace yq
