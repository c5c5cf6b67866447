#include "compiler/io/test_pattern.hpp"

#include <cstdint>

namespace yq {

RgbImage test_pattern_image(int width, int height, int variant) {
  RgbImage image;
  image.width = width;
  image.height = height;
  image.pixels.resize(static_cast<size_t>(width) * height * 3);
  const int bar = 8 + 4 * (variant % 5);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      std::uint8_t* p = image.at(x, y);
      const int dx = x - width / 2 - 17 * variant, dy = y - height / 3;
      const bool disc = dx * dx + dy * dy < (width / 6) * (width / 6);
      const bool stripe = ((x + variant * 5) / bar + y / (2 * bar)) % 2 == 0;
      p[0] = static_cast<std::uint8_t>(disc ? 230 : (255 * x) / width);
      p[1] = static_cast<std::uint8_t>(stripe ? 200 : (255 * y) / height);
      p[2] = static_cast<std::uint8_t>((37 * variant + x * y / 64) % 256);
    }
  }
  return image;
}

}  // namespace yq
