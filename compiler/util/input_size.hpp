// The network's input size: height x width of the letterboxed canvas, both
// multiples of 32 (the largest stride of YOLOv8). One definition of how it is
// written: on the command line `640` (square) or `384x640` (height x width,
// Ultralytics' imgsz=(h, w) order), in JSON the array [height, width].
#pragma once
#include <charconv>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "compiler/util/error.hpp"
#include "compiler/util/json_integer.hpp"

namespace yq {

struct InputSize {
  int height = 640;
  int width = 640;

  // Constructors (not an aggregate): a lone number never fills only the height.
  constexpr InputSize() = default;
  constexpr InputSize(int height_pixels, int width_pixels) : height(height_pixels), width(width_pixels) {}
  bool operator==(const InputSize&) const = default;
  bool square() const { return height == width; }
  long long pixels() const { return static_cast<long long>(height) * width; }
  // "640" for a square input, else "384x640".
  std::string text() const {
    return square() ? std::to_string(height) : std::to_string(height) + "x" + std::to_string(width);
  }
};

constexpr int kInputSizeMultiple = 32;
constexpr int kMaxInputSide = 8192;

// Throws yq::Error naming `what` unless both sides are multiples of 32 in 32..8192.
inline void check_input_size(const InputSize& size, const std::string& what) {
  for (const int side : {size.height, size.width}) {
    if (side <= 0 || side % kInputSizeMultiple != 0 || side > kMaxInputSide) {
      throw Error(what + " " + size.text() + ": each side must be a multiple of 32 from 32 to " +
                  std::to_string(kMaxInputSide));
    }
  }
}

namespace input_size_detail {
inline bool parse_side(std::string_view text, int& side) {
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, side);
  return !text.empty() && error == std::errc() && stop == end;
}
}  // namespace input_size_detail

// "640" or "384x640" (height x width), checked; `what` names the setting in errors.
inline InputSize parse_input_size(std::string_view text, const std::string& what) {
  InputSize size;
  const size_t cross = text.find('x');
  const bool parsed = cross == std::string_view::npos
                          ? input_size_detail::parse_side(text, size.height) && (size.width = size.height, true)
                          : input_size_detail::parse_side(text.substr(0, cross), size.height) &&
                                input_size_detail::parse_side(text.substr(cross + 1), size.width);
  if (!parsed) {
    throw Error(what + " " + std::string(text) + ": expected a size such as 640 or 384x640 (height x width)");
  }
  check_input_size(size, what);
  return size;
}

inline nlohmann::json input_size_json(const InputSize& size) { return nlohmann::json::array({size.height, size.width}); }

// object[key], an array [height, width] of integers.
inline InputSize input_size_at(const nlohmann::json& object, const std::string& key) {
  const nlohmann::json& value = object.at(key);
  if (!value.is_array() || value.size() != 2) {
    throw Error(key + ": expected [height, width], found " + value.dump().substr(0, 40));
  }
  return {json_integer<int>(value[0], key + "[0]"), json_integer<int>(value[1], key + "[1]")};
}

}  // namespace yq
