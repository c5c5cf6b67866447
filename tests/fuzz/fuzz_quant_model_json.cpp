// libFuzzer target: any bytes as stage_6's quant_model.json (JSON parsing,
// the model description and graph, settings, nodes, tables).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "compiler/quant/quant_model_io.hpp"
#include "compiler/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nlohmann::json json = nlohmann::json::parse(data, data + size, nullptr, false);
  if (json.is_discarded()) return 0;
  try {
    yq::quant_model_from_json(json, "fuzz");
  } catch (const yq::Error&) {
  }
  return 0;
}
