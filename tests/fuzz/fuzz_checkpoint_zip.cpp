// libFuzzer target: any bytes as a checkpoint file (zip layer, CRC-32 and
// size checks, then the pickle). Only yq::Error and c10::Error may escape the
// reader; anything else (a crash, a sanitizer report, a leak) is a finding.
#include <c10/util/Exception.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "compiler/io/checkpoint.hpp"
#include "compiler/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    yq::parse_checkpoint(std::string(reinterpret_cast<const char*>(data), size));
  } catch (const yq::Error&) {
  } catch (const c10::Error&) {
  }
  return 0;
}
