// Image decoding, the letterbox (geometry, exact resize arithmetic, and the
// reference canvases) and PNG writing; detection drawing.
#include "testing.hpp"
#include <stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "compiler/io/draw.hpp"
#include "compiler/io/image.hpp"
#include "compiler/util/error.hpp"
#include "tests/test_support.hpp"

namespace {

using yq::RgbImage;

RgbImage solid_image(int width, int height, std::uint8_t value) {
  RgbImage image;
  image.width = width;
  image.height = height;
  image.pixels.assign(static_cast<size_t>(width) * height * 3, value);
  return image;
}

bool in_resized_area(const yq::LetterboxGeometry& geometry, int x, int y) {
  return x >= geometry.pad_left && x < geometry.pad_left + geometry.resized_width && y >= geometry.pad_top &&
         y < geometry.pad_top + geometry.resized_height;
}

struct CanvasDifference {
  double mean = 0;         // mean |ours - reference| over the resized area, in levels
  int max = 0;
  double identical = 0;    // fraction of equal samples in the resized area
};

// Compares our letterbox of a sample JPEG with the reference canvas: the
// padding must match exactly, the picture only up to JPEG decoder differences.
CanvasDifference difference_to_reference(const std::string& sample, const std::string& reference_png) {
  const auto ours = yq::letterbox(yq::decode_image(yq::test::shared_file(sample)), 640);
  const auto reference = yq::decode_image(yq::test::shared_file(reference_png));
  REQUIRE(reference.width == 640);
  REQUIRE(reference.height == 640);
  CanvasDifference result;
  long samples = 0, identical = 0, padding_mismatches = 0;
  for (int y = 0; y < 640; ++y) {
    for (int x = 0; x < 640; ++x) {
      const bool inside = in_resized_area(ours.geometry, x, y);
      for (int c = 0; c < 3; ++c) {
        const int difference = std::abs(ours.canvas.at(x, y)[c] - reference.at(x, y)[c]);
        if (!inside) {
          padding_mismatches += difference != 0;
          continue;
        }
        result.mean += difference;
        result.max = std::max(result.max, difference);
        identical += difference == 0;
        ++samples;
      }
    }
  }
  CHECK(padding_mismatches == 0);
  result.mean /= samples;
  result.identical = static_cast<double>(identical) / samples;
  return result;
}

}  // namespace

TEST_CASE("image: decode the sample JPEGs and letterbox geometry") {
  if (!yq::test::have_shared_data()) return;
  const auto bus = yq::decode_image(yq::test::shared_file("data/samples/bus.jpg"));
  CHECK(bus.width == 810);
  CHECK(bus.height == 1080);
  CHECK(bus.pixels.size() == 810u * 1080 * 3);
  const auto bus_box = yq::letterbox(bus, 640).geometry;
  CHECK(bus_box.resized_width == 480);
  CHECK(bus_box.resized_height == 640);
  CHECK(bus_box.pad_left == 80);
  CHECK(bus_box.pad_top == 0);
  CHECK(bus_box.ratio == doctest::Approx(640.0 / 1080));

  const auto zidane = yq::decode_image(yq::test::shared_file("data/samples/zidane.jpg"));
  CHECK(zidane.width == 1280);
  CHECK(zidane.height == 720);
  const auto zidane_box = yq::letterbox(zidane, 640);
  CHECK(zidane_box.canvas.width == 640);
  CHECK(zidane_box.canvas.height == 640);
  CHECK(zidane_box.geometry.resized_width == 640);
  CHECK(zidane_box.geometry.resized_height == 360);
  CHECK(zidane_box.geometry.pad_left == 0);
  CHECK(zidane_box.geometry.pad_top == 140);
}

// Measured (stb_image vs the reference's libjpeg-turbo): bus mean 0.079, max 3,
// 92.8% identical; zidane mean 0.066, max 2, 93.4% identical. For scale, an
// align-corners resize is 3.7 / 0.78 levels off and half-to-even rounding
// leaves only 82% of zidane identical (its x2 downscale hits exact halves).
TEST_CASE("image: letterbox of the sample JPEGs is close to the reference canvases") {
  if (!yq::test::have_shared_data()) return;
  for (const std::string name : {"bus", "zidane"}) {
    const auto difference =
        difference_to_reference("data/samples/" + name + ".jpg", "data/samples/" + name + "_letterbox640.png");
    MESSAGE(name << ": |ours - reference| over the resized area: mean " << difference.mean << " levels, max "
                 << difference.max << ", " << 100 * difference.identical << "% identical");
    CHECK(difference.mean < 0.25);
    CHECK(difference.max <= 6);
    CHECK(difference.identical > 0.88);
  }
}

TEST_CASE("image: letterbox of a 640x640 reference canvas is the identity") {
  if (!yq::test::have_shared_data()) return;
  for (const char* name : {"data/samples/bus_letterbox640.png", "data/samples/zidane_letterbox640.png"}) {
    const auto canvas = yq::decode_image(yq::test::shared_file(name));
    const auto boxed = yq::letterbox(canvas, 640);
    CHECK(boxed.geometry.ratio == 1.0);
    CHECK(boxed.geometry.pad_left == 0);
    CHECK(boxed.geometry.pad_top == 0);
    CHECK(boxed.canvas.pixels == canvas.pixels);
  }
}

TEST_CASE("image: letterbox resize uses half-pixel centres, clamped edges and half-up rounding") {
  // A 2x1 image (0 and 255) on a 4-pixel canvas: r = 2, resized 4x2, top pad 1.
  // Columns sample x = -0.25, 0.25, 0.75, 1.25 -> 0, 63.75, 191.25, 255.
  RgbImage two = solid_image(2, 1, 0);
  std::fill(two.at(1, 0), two.at(1, 0) + 3, 255);
  const auto boxed = yq::letterbox(two, 4);
  CHECK(boxed.geometry.resized_width == 4);
  CHECK(boxed.geometry.resized_height == 2);
  CHECK(boxed.geometry.pad_left == 0);
  CHECK(boxed.geometry.pad_top == 1);
  const int expected[4] = {0, 64, 191, 255};
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 4; ++x) {
      const int want = (y == 1 || y == 2) ? expected[x] : 114;
      CHECK(boxed.canvas.at(x, y)[0] == want);
      CHECK(boxed.canvas.at(x, y)[2] == want);
    }
  }

  // Columns of 10 and 11. Upscaled x4, columns sample x = -0.375, -0.125, 0.125, 0.375,
  // 0.625, ...: 10.375 -> 10, 10.625 -> 11. Downscaled to 1x1, x = y = 0.5 gives exactly
  // 10.5, which rounds half up to 11 (half to even would give 10).
  RgbImage columns = solid_image(2, 2, 10);
  std::fill(columns.at(1, 0), columns.at(1, 0) + 3, 11);
  std::fill(columns.at(1, 1), columns.at(1, 1) + 3, 11);
  const auto upscaled = yq::letterbox(columns, 8);
  const int expected_upscaled[8] = {10, 10, 10, 10, 11, 11, 11, 11};
  for (int x = 0; x < 8; ++x) CHECK(upscaled.canvas.at(x, 3)[1] == expected_upscaled[x]);
  const auto downscaled = yq::letterbox(columns, 1);
  CHECK(downscaled.canvas.at(0, 0)[0] == 11);
}

TEST_CASE("image: letterbox padding rounds like Ultralytics") {
  // 100x97 on 100: resized 100x97, dh = 3 -> top = round(1.4) = 1 (round(1.5) would be 2).
  const auto odd = yq::letterbox_geometry(100, 97, 100);
  CHECK(odd.resized_height == 97);
  CHECK(odd.pad_top == 1);
  // 5x2 on 4: r = 0.8, resized (4, round(1.6) = 2), dh = 2 -> top = round(0.9) = 1.
  const auto small = yq::letterbox_geometry(5, 2, 4);
  CHECK(small.resized_width == 4);
  CHECK(small.resized_height == 2);
  CHECK(small.pad_top == 1);
  // 8x5 on 4: r = 0.5, height round(2.5) = 2 (half to even).
  const auto even = yq::letterbox_geometry(8, 5, 4);
  CHECK(even.resized_height == 2);
  CHECK(yq::letterbox(solid_image(8, 5, 0), 4).geometry.pad_top == even.pad_top);
  CHECK_THROWS_AS(yq::letterbox_geometry(0, 5, 4), yq::Error);
  CHECK_THROWS_AS(yq::letterbox_geometry(8, 5, 0), yq::Error);
}

TEST_CASE("image: grayscale PNG decodes to three equal channels and RGB PNGs round-trip") {
  const auto dir = yq::test::fresh_temp_dir("image-gray");
  const std::uint8_t gray[6] = {0, 50, 100, 150, 200, 250};
  const auto gray_file = dir / "gray.png";
  REQUIRE(stbi_write_png(gray_file.c_str(), 3, 2, 1, gray, 3));
  const auto decoded = yq::decode_image(gray_file);
  REQUIRE(decoded.width == 3);
  REQUIRE(decoded.height == 2);
  for (int i = 0; i < 6; ++i) {
    CHECK(decoded.pixels[i * 3 + 0] == gray[i]);
    CHECK(decoded.pixels[i * 3 + 1] == gray[i]);
    CHECK(decoded.pixels[i * 3 + 2] == gray[i]);
  }

  const auto rgb_file = dir / "rgb.png";
  yq::write_png(rgb_file, decoded);
  CHECK(yq::decode_image(rgb_file).pixels == decoded.pixels);
  CHECK_FALSE(std::filesystem::exists(dir / "rgb.png.tmp"));
}

TEST_CASE("image: undecodable and unreadable files raise a one-line error naming the file") {
  const auto dir = yq::test::fresh_temp_dir("image-errors");
  const auto fake = dir / "x.jpg";
  std::ofstream(fake) << "this is not a JPEG\n";
  try {
    yq::decode_image(fake);
    FAIL("decoding a text file should fail");
  } catch (const yq::Error& error) {
    const std::string message = error.what();
    MESSAGE(message);
    CHECK(message.find("cannot decode image " + fake.string() + ": ") == 0);
    CHECK(message.find('\n') == std::string::npos);
  }
  CHECK_THROWS_AS(yq::decode_image(dir / "missing.png"), yq::Error);
}

TEST_CASE("image: write_png to an unwritable location fails cleanly") {
  const auto dir = yq::test::fresh_temp_dir("image-unwritable");
  const auto regular_file = dir / "file";
  std::ofstream(regular_file) << "x";
  const auto target = regular_file / "out.png";
  try {
    yq::write_png(target, solid_image(4, 4, 0));
    FAIL("writing under a regular file should fail");
  } catch (const yq::Error& error) {
    const std::string message = error.what();
    CHECK(message.find(target.string()) != std::string::npos);
  }
  CHECK_THROWS_AS(yq::write_png(dir / "empty.png", RgbImage{}), yq::Error);
}

TEST_CASE("draw: detections mark the box outline and leave far pixels alone") {
  RgbImage image = solid_image(200, 150, 0);
  yq::Detection person;
  person.box = {60, 70, 140, 130};
  person.score = 0.876f;
  person.class_id = 0;
  yq::draw_detections(image, {person}, {"person"});

  const auto changed = [&](int x, int y) {
    const auto* p = image.at(x, y);
    return p[0] != 0 || p[1] != 0 || p[2] != 0;
  };
  CHECK(changed(60, 100));   // left edge
  CHECK(changed(139, 100));  // right edge
  CHECK(changed(100, 129));  // bottom edge
  CHECK(changed(61, 60));    // label background above the box
  CHECK_FALSE(changed(100, 100));  // box interior
  CHECK_FALSE(changed(5, 145));    // far corner
}

TEST_CASE("draw: boxes partly or wholly outside the image are clipped") {
  RgbImage image = solid_image(64, 48, 0);
  std::vector<yq::Detection> detections(4);
  detections[0].box = {-30, -20, 20, 30};
  detections[1].box = {50, 40, 500, 400};
  detections[1].class_id = 123;  // no name, palette cycles
  detections[2].box = {-1e30f, -5, 1e30f, 1e9f};
  detections[3].box = {1000, 1000, 2000, 2000};
  CHECK_NOTHROW(yq::draw_detections(image, detections, {"person"}));
  CHECK(image.at(19, 28)[0] != 0);  // right edge of the first box, below its label
  CHECK(image.pixels.size() == 64u * 48 * 3);
}

namespace {

// The first bytes of a PNG: signature and an IHDR chunk (8-bit RGB) declaring
// width x height, with no pixel data (stb_image does not check chunk CRCs).
std::string png_header(std::uint32_t width, std::uint32_t height) {
  std::string bytes = "\x89PNG\r\n\x1a\n";
  const auto big_endian = [&](std::uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>((value >> shift) & 0xff);
  };
  big_endian(13);
  bytes += "IHDR";
  big_endian(width);
  big_endian(height);
  bytes += std::string("\x08\x02\x00\x00\x00", 5);
  big_endian(0);  // CRC
  return bytes;
}

}  // namespace

TEST_CASE("image: a header declaring more than kMaxImagePixels is refused before decoding") {
  CHECK(yq::probe_image_bytes(png_header(8192, 8192), "ok.png").width == 8192);
  const std::string gigantic = png_header(9000, 9000);
  for (const auto& read : {std::function<void()>([&] { yq::probe_image_bytes(gigantic, "big.png"); }),
                           std::function<void()>([&] { yq::decode_image_bytes(gigantic, "big.png"); })}) {
    try {
      read();
      FAIL("a 9000 x 9000 header should be refused");
    } catch (const yq::Error& error) {
      CHECK(std::string(error.what()) ==
            "cannot decode image big.png: 9000 x 9000 pixels, more than the 67108864 allowed");
    }
  }
}
