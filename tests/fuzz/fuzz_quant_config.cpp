// libFuzzer target: any bytes as a mixed-precision TOML config file.
#include <cstddef>
#include <cstdint>
#include <string>

#include "compiler/quant/quant_config.hpp"
#include "compiler/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  yq::QuantSettings settings;
  try {
    yq::parse_quant_config(std::string(reinterpret_cast<const char*>(data), size), "fuzz.toml", settings);
  } catch (const yq::Error&) {
  }
  return 0;
}
