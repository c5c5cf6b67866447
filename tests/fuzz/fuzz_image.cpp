// libFuzzer target: any bytes as an image file (header probe, then decoding).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "compiler/io/image.hpp"
#include "compiler/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    yq::probe_image_bytes(bytes, "fuzz");
    const yq::RgbImage image = yq::decode_image_bytes(bytes, "fuzz");
    if (image.pixels.size() != static_cast<std::size_t>(image.width) * image.height * 3) __builtin_trap();
  } catch (const yq::Error&) {
  }
  return 0;
}
