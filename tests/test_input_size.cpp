// The input size: `640` or `384x640` (height x width) on the command line,
// [height, width] in JSON, each side a multiple of 32.
#include "testing.hpp"

#include <string>

#include "compiler/util/error.hpp"
#include "compiler/util/input_size.hpp"

using yq::InputSize;

namespace {

std::string refusal(const std::string& text) {
  try {
    yq::parse_input_size(text, "--imgsz");
  } catch (const yq::Error& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST_CASE("input size: a number is square, HxW is height then width") {
  CHECK(yq::parse_input_size("640", "--imgsz") == InputSize{640, 640});
  const InputSize wide = yq::parse_input_size("384x640", "--imgsz");
  CHECK(wide.height == 384);
  CHECK(wide.width == 640);
  CHECK(wide.pixels() == 384 * 640);
  CHECK(wide.text() == "384x640");
  CHECK(InputSize{160, 160}.text() == "160");
  CHECK(yq::input_size_json(wide) == nlohmann::json::array({384, 640}));
  CHECK(yq::input_size_at(nlohmann::json{{"image_size", {384, 640}}}, "image_size") == wide);
}

TEST_CASE("input size: malformed text and sides that are not multiples of 32 are refused") {
  CHECK(refusal("96x100") == "--imgsz 96x100: each side must be a multiple of 32 from 32 to 8192");
  CHECK(refusal("0") == "--imgsz 0: each side must be a multiple of 32 from 32 to 8192");
  CHECK(refusal("-32x64") == "--imgsz -32x64: each side must be a multiple of 32 from 32 to 8192");
  CHECK(refusal("8224") == "--imgsz 8224: each side must be a multiple of 32 from 32 to 8192");
  for (const char* text : {"", "x", "96x", "x96", "96x96x96", "64 ", "6.4e1", "96X160"}) {
    CAPTURE(text);
    CHECK(refusal(text) == std::string("--imgsz ") + text + ": expected a size such as 640 or 384x640 (height x width)");
  }
  CHECK_THROWS_AS(yq::input_size_at(nlohmann::json{{"image_size", 640}}, "image_size"), yq::Error);
  CHECK_THROWS_AS(yq::input_size_at(nlohmann::json{{"image_size", {640}}}, "image_size"), yq::Error);
}
