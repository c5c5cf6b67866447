// Image decoding, the letterbox (geometry, exact resize arithmetic, and the
// reference canvases) and PNG writing; detection drawing.
#include "testing.hpp"

#include <cstdio>  // before jpeglib.h, which needs FILE
#include <jpeglib.h>
#include <stb_image.h>
#include <stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "compiler/io/draw.hpp"
#include "compiler/io/image.hpp"
#include "compiler/io/test_pattern.hpp"
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

// "equal" or where the first sample differs: "(x, y) channel c: ours A, reference B".
std::string first_difference(const RgbImage& ours, const RgbImage& reference) {
  if (ours.width != reference.width || ours.height != reference.height) return "sizes differ";
  for (int y = 0; y < ours.height; ++y) {
    for (int x = 0; x < ours.width; ++x) {
      for (int c = 0; c < 3; ++c) {
        if (ours.at(x, y)[c] != reference.at(x, y)[c]) {
          return "(" + std::to_string(x) + ", " + std::to_string(y) + ") channel " + std::to_string(c) + ": ours " +
                 std::to_string(ours.at(x, y)[c]) + ", reference " + std::to_string(reference.at(x, y)[c]);
        }
      }
    }
  }
  return "equal";
}

// A baseline JPEG (quality 80, so 4:2:0 chroma) of an image, written by stb_image_write.
std::string encode_jpeg(const RgbImage& image) {
  std::string encoded;
  const auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), size);
  };
  REQUIRE(stbi_write_jpg_to_func(append, &encoded, image.width, image.height, 3, image.pixels.data(), 80));
  return encoded;
}

// A quality-100 JPEG of `components`-channel samples in `color_space`, written by libjpeg
// (CMYK files get an Adobe marker).
std::string encode_with_libjpeg(const std::vector<std::uint8_t>& samples, int width, int height, int components,
                                J_COLOR_SPACE color_space) {
  jpeg_compress_struct info{};
  jpeg_error_mgr errors{};
  info.err = jpeg_std_error(&errors);
  jpeg_create_compress(&info);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&info, &buffer, &size);
  info.image_width = width;
  info.image_height = height;
  info.input_components = components;
  info.in_color_space = color_space;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, 100, TRUE);
  jpeg_start_compress(&info, TRUE);
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(samples.data() + static_cast<size_t>(info.next_scanline) * width * components);
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  std::string encoded(reinterpret_cast<const char*>(buffer), size);
  std::free(buffer);
  jpeg_destroy_compress(&info);
  return encoded;
}

void write_bytes(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary) << bytes;
}

// Expects decode_image(file) to fail with "cannot decode image <file>: <reason>" on one line.
void check_decode_error(const std::filesystem::path& file, const std::string& reason) {
  try {
    yq::decode_image(file);
    FAIL("decoding " << file << " should fail");
  } catch (const yq::Error& error) {
    CHECK(std::string(error.what()) == "cannot decode image " + file.string() + ": " + reason);
  }
}

}  // namespace

TEST_CASE("image: decode the sample JPEGs and letterbox geometry") {
  if (!yq::test::have_shared_data()) return;
  const auto bus = yq::decode_image(yq::test::shared_file("data/samples/bus.jpg"));
  CHECK(bus.width == 810);
  CHECK(bus.height == 1080);
  CHECK(bus.pixels.size() == 810u * 1080 * 3);
  const auto bus_box = yq::letterbox(bus, {640, 640}).geometry;
  CHECK(bus_box.resized_width == 480);
  CHECK(bus_box.resized_height == 640);
  CHECK(bus_box.pad_left == 80);
  CHECK(bus_box.pad_top == 0);
  CHECK(bus_box.ratio == doctest::Approx(640.0 / 1080));

  const auto zidane = yq::decode_image(yq::test::shared_file("data/samples/zidane.jpg"));
  CHECK(zidane.width == 1280);
  CHECK(zidane.height == 720);
  const auto zidane_box = yq::letterbox(zidane, {640, 640});
  CHECK(zidane_box.canvas.width == 640);
  CHECK(zidane_box.canvas.height == 640);
  CHECK(zidane_box.geometry.resized_width == 640);
  CHECK(zidane_box.geometry.resized_height == 360);
  CHECK(zidane_box.geometry.pad_left == 0);
  CHECK(zidane_box.geometry.pad_top == 140);
}

// The reference decoded with libjpeg-turbo 2.1.5 (through PIL) and resized in
// double precision: the same decoder and settings give the same bytes.
TEST_CASE("image: letterbox of the sample JPEGs equals the reference canvases byte for byte") {
  if (!yq::test::have_shared_data()) return;
  for (const std::string name : {"bus", "zidane"}) {
    CAPTURE(name);
    const auto ours = yq::letterbox(yq::decode_image(yq::test::shared_file("data/samples/" + name + ".jpg")), {640, 640});
    const auto reference = yq::decode_image(yq::test::shared_file("data/samples/" + name + "_letterbox640.png"));
    CHECK(first_difference(ours.canvas, reference) == "equal");
  }
}

TEST_CASE("image: letterbox of a 640x640 reference canvas is the identity") {
  if (!yq::test::have_shared_data()) return;
  for (const char* name : {"data/samples/bus_letterbox640.png", "data/samples/zidane_letterbox640.png"}) {
    const auto canvas = yq::decode_image(yq::test::shared_file(name));
    const auto boxed = yq::letterbox(canvas, {640, 640});
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
  const auto boxed = yq::letterbox(two, {4, 4});
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
  const auto upscaled = yq::letterbox(columns, {8, 8});
  const int expected_upscaled[8] = {10, 10, 10, 10, 11, 11, 11, 11};
  for (int x = 0; x < 8; ++x) CHECK(upscaled.canvas.at(x, 3)[1] == expected_upscaled[x]);
  const auto downscaled = yq::letterbox(columns, {1, 1});
  CHECK(downscaled.canvas.at(0, 0)[0] == 11);
}

TEST_CASE("image: letterbox padding rounds like Ultralytics") {
  // 100x97 on 100: resized 100x97, dh = 3 -> top = round(1.4) = 1 (round(1.5) would be 2).
  const auto odd = yq::letterbox_geometry(100, 97, {100, 100});
  CHECK(odd.resized_height == 97);
  CHECK(odd.pad_top == 1);
  // 5x2 on 4: r = 0.8, resized (4, round(1.6) = 2), dh = 2 -> top = round(0.9) = 1.
  const auto small = yq::letterbox_geometry(5, 2, {4, 4});
  CHECK(small.resized_width == 4);
  CHECK(small.resized_height == 2);
  CHECK(small.pad_top == 1);
  // 8x5 on 4: r = 0.5, height round(2.5) = 2 (half to even).
  const auto even = yq::letterbox_geometry(8, 5, {4, 4});
  CHECK(even.resized_height == 2);
  CHECK(yq::letterbox(solid_image(8, 5, 0), {4, 4}).geometry.pad_top == even.pad_top);
  CHECK_THROWS_AS(yq::letterbox_geometry(0, 5, {4, 4}), yq::Error);
  CHECK_THROWS_AS(yq::letterbox_geometry(8, 5, {0, 0}), yq::Error);
}

TEST_CASE("image: a rectangular canvas (height x width) scales by the tighter side and pads the other") {
  // bus.jpg (810x1080) on 384x640: r = 384/1080, resized 288x384, pad left round(176 - 0.1) = 176.
  const auto bus = yq::letterbox_geometry(810, 1080, {384, 640});
  CHECK(bus.resized_width == 288);
  CHECK(bus.resized_height == 384);
  CHECK(bus.pad_left == 176);
  CHECK(bus.pad_top == 0);
  const auto boxed = yq::letterbox(solid_image(810, 1080, 7), {384, 640});
  CHECK(boxed.canvas.width == 640);
  CHECK(boxed.canvas.height == 384);
  CHECK(boxed.canvas.at(175, 100)[0] == 114);
  CHECK(boxed.canvas.at(176, 100)[0] == 7);
  CHECK(boxed.canvas.at(463, 383)[2] == 7);
  CHECK(boxed.canvas.at(464, 383)[2] == 114);
}

// zidane.jpg (1280x720) scales by 0.5 on 640x640 and on 384x640 alike: only
// the padding differs, so the rectangular canvas is the reference square
// canvas with 128 fewer gray rows (pad top 12 instead of 140).
TEST_CASE("image: zidane's 384x640 canvas is the reference 640x640 canvas without the extra padding rows") {
  if (!yq::test::have_shared_data()) return;
  const RgbImage square = yq::decode_image(yq::test::shared_file("data/samples/zidane_letterbox640.png"));
  const auto rect = yq::letterbox(yq::decode_image(yq::test::shared_file("data/samples/zidane.jpg")), {384, 640});
  CHECK(rect.geometry.pad_top == 12);
  RgbImage cropped{640, 384, {}};
  const size_t row_bytes = 640 * 3;
  cropped.pixels.assign(square.pixels.begin() + 128 * row_bytes, square.pixels.begin() + (128 + 384) * row_bytes);
  CHECK(first_difference(rect.canvas, cropped) == "equal");
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

TEST_CASE("image: JPEGs decode with libjpeg-turbo, truncated or garbled ones are errors naming the file") {
  const auto dir = yq::test::fresh_temp_dir("image-jpeg");
  const RgbImage pattern = yq::test_pattern_image(96, 64, 1);
  const std::string jpeg = encode_jpeg(pattern);
  write_bytes(dir / "whole.jpg", jpeg);
  const RgbImage decoded = yq::decode_image(dir / "whole.jpg");
  REQUIRE(decoded.width == 96);
  REQUIRE(decoded.height == 64);
  // Another decoder (stb_image) of the same file agrees up to IDCT and upsampling rounding.
  int width = 0, height = 0, channels = 0;
  stbi_uc* other = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(jpeg.data()), static_cast<int>(jpeg.size()),
                                         &width, &height, &channels, 3);
  REQUIRE(other != nullptr);
  long total_difference = 0;
  int max_difference = 0;
  for (size_t i = 0; i < decoded.pixels.size(); ++i) {
    const int difference = std::abs(decoded.pixels[i] - other[i]);
    total_difference += difference;
    max_difference = std::max(max_difference, difference);
  }
  stbi_image_free(other);
  const double mean_difference = static_cast<double>(total_difference) / decoded.pixels.size();
  MESSAGE("libjpeg-turbo vs stb_image on a 4:2:0 JPEG: mean " << mean_difference << ", max " << max_difference);
  CHECK(mean_difference < 1.0);
  CHECK(max_difference <= 8);

  // Cut in the entropy-coded data: the header still probes, the pixels do not decode
  // (libjpeg would fill the rest with grey and only warn).
  write_bytes(dir / "cut.jpg", jpeg.substr(0, jpeg.size() * 2 / 3));
  CHECK(yq::probe_image(dir / "cut.jpg").width == 96);
  CHECK(yq::probe_image(dir / "cut.jpg").height == 64);
  check_decode_error(dir / "cut.jpg", "Premature end of JPEG file");

  // Cut inside the header: neither probes nor decodes.
  write_bytes(dir / "stub.jpg", jpeg.substr(0, 40));
  CHECK_THROWS_WITH_AS(yq::probe_image(dir / "stub.jpg"),
                       ("cannot decode image " + (dir / "stub.jpg").string() + ": Premature end of JPEG file").c_str(),
                       yq::Error);
  check_decode_error(dir / "stub.jpg", "Premature end of JPEG file");

  // A JPEG start-of-image marker followed by garbage.
  std::string garbage = "\xFF\xD8\xFF";
  for (int i = 0; i < 200; ++i) garbage += static_cast<char>((i * 37 + 11) % 251);
  write_bytes(dir / "garbage.jpg", garbage);
  CHECK_THROWS_AS(yq::probe_image(dir / "garbage.jpg"), yq::Error);
  check_decode_error(dir / "garbage.jpg", "Unsupported marker type 0x0b");
}

TEST_CASE("image: grayscale JPEGs give three equal channels, CMYK JPEGs convert as OpenCV does") {
  const auto dir = yq::test::fresh_temp_dir("image-jpeg-spaces");
  // Flat 8x8 blocks at quality 100 survive the DCT exactly.
  std::vector<std::uint8_t> gray(16 * 8);
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 16; ++x) gray[y * 16 + x] = x < 8 ? 40 : 200;
  }
  write_bytes(dir / "gray.jpg", encode_with_libjpeg(gray, 16, 8, 1, JCS_GRAYSCALE));
  const RgbImage decoded_gray = yq::decode_image(dir / "gray.jpg");
  REQUIRE(decoded_gray.width == 16);
  for (int x : {0, 7, 8, 15}) {
    const std::uint8_t* pixel = decoded_gray.at(x, 3);
    CHECK(pixel[0] == gray[3 * 16 + x]);
    CHECK(pixel[1] == pixel[0]);
    CHECK(pixel[2] == pixel[0]);
  }

  // Stored (Adobe-inverted) C, M, Y, K = 255, 0, 128, 200: each channel is
  // k - ((255 - stored) * k >> 8) = 200, 200 - 199 = 1, 200 - 99 = 101.
  std::vector<std::uint8_t> cmyk;
  for (int i = 0; i < 8 * 8; ++i) cmyk.insert(cmyk.end(), {255, 0, 128, 200});
  write_bytes(dir / "cmyk.jpg", encode_with_libjpeg(cmyk, 8, 8, 4, JCS_CMYK));
  const RgbImage decoded_cmyk = yq::decode_image(dir / "cmyk.jpg");
  REQUIRE(decoded_cmyk.width == 8);
  CHECK(decoded_cmyk.at(5, 2)[0] == 200);
  CHECK(decoded_cmyk.at(5, 2)[1] == 1);
  CHECK(decoded_cmyk.at(5, 2)[2] == 101);
  CHECK(yq::probe_image(dir / "cmyk.jpg").height == 8);
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

// Both readers of image bytes, the header probe and the decoder, refuse `bytes` with `message`.
void check_refused(const std::string& bytes, const std::string& name, const std::string& message) {
  for (const auto& read : {std::function<void()>([&] { yq::probe_image_bytes(bytes, name); }),
                           std::function<void()>([&] { yq::decode_image_bytes(bytes, name); })}) {
    try {
      read();
      FAIL("should be refused: " << message);
    } catch (const yq::Error& error) {
      CHECK(std::string(error.what()) == message);
    }
  }
}

}  // namespace

TEST_CASE("image: a header declaring more than kMaxImagePixels is refused before decoding") {
  CHECK(yq::probe_image_bytes(png_header(8192, 8192), "ok.png").width == 8192);
  check_refused(png_header(9000, 9000), "big.png",
                "cannot decode image big.png: 9000 x 9000 pixels, more than the 67108864 allowed");
}

// The image fuzz target's out-of-memory input: a 7 x 5 PNG whose second IDAT
// chunk declares 1,364,672,537 bytes; stb_image grew its buffer to 2 GiB for it.
TEST_CASE("image: a PNG chunk longer than the file is refused before decoding") {
  std::string bytes = png_header(7, 5);
  const size_t idat_at = bytes.size();
  bytes += std::string("\x51\x57\x40\x19IDAT", 8) + std::string(51, '\0');
  check_refused(bytes, "long.png",
                "cannot decode image long.png: PNG chunk IDAT at byte " + std::to_string(idat_at) +
                    " declares 1364672537 bytes of data, the file has 47 left");
  // The same chunk declaring the 47 bytes it has passes the probe.
  bytes.replace(idat_at, 4, std::string("\x00\x00\x00\x2f", 4));
  CHECK(yq::probe_image_bytes(bytes, "fits.png").height == 5);
}

// The image fuzz target's slow inputs: 18 to 24 bytes that stb_image reads as
// a TGA (a format without a signature) of up to 8192 x 8192 pixels, decoded
// for seconds. yq-hw reads only JPEG, PNG and BMP, told by their signatures.
TEST_CASE("image: bytes that are not a JPEG, PNG or BMP are refused before any decoder sees them") {
  // A TGA header: no colour map, type 3 (grey), origin 0 0, 5375 x 8192, 32 bits, descriptor 0x20.
  const std::string tga("\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\x14\x00\x20\x20\x20\x20\x20\x20", 21);
  check_refused(tga, "tiny.png", "cannot decode image tiny.png: not a JPEG, PNG or BMP file");
  // The three formats still decode: PNG and BMP through stb_image.
  const yq::RgbImage pattern = yq::test_pattern_image(5, 3, 0);
  CHECK(yq::decode_image_bytes(yq::encode_png(pattern), "pattern.png").pixels == pattern.pixels);
  std::string bmp;
  auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
  };
  REQUIRE(stbi_write_bmp_to_func(append, &bmp, pattern.width, pattern.height, 3, pattern.pixels.data()));
  CHECK(yq::decode_image_bytes(bmp, "pattern.bmp").pixels == pattern.pixels);
}
