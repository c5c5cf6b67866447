// Image decoding from an in-memory copy of the file, always 3 channels, after
// the header's size is checked: JPEG with libjpeg-turbo (jpeg_decoder.cpp, the
// reference's decoder and settings), everything else with stb_image; the
// Ultralytics letterbox; and PNG writing (stb_image_write into memory, then
// write_file_atomic: "<file>.tmp" and a rename).
//
// Letterbox resize follows the cv2.INTER_LINEAR rule in double precision:
// destination pixel d samples source coordinate (d + 0.5) * src/dst - 0.5;
// its two neighbours are clamped to the image and weighted by the fractional
// part. Rows are first interpolated horizontally, then blended vertically,
// and the result is rounded half up. Column and row taps are precomputed.
#include "compiler/io/image.hpp"

#include <stb_image.h>
#include <stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "compiler/io/jpeg_decoder.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"

namespace yq {
namespace {

constexpr std::uint8_t kPadValue = 114;

// The two source samples and the weight of the second for one output index.
struct Tap {
  int first = 0;
  int second = 0;
  double weight = 0.0;
};

std::vector<Tap> linear_taps(int source_size, int target_size) {
  const double scale = static_cast<double>(source_size) / target_size;
  std::vector<Tap> taps(target_size);
  for (int d = 0; d < target_size; ++d) {
    const double position = (d + 0.5) * scale - 0.5;
    const double floor_position = std::floor(position);
    const int index = static_cast<int>(floor_position);
    taps[d].first = std::clamp(index, 0, source_size - 1);
    taps[d].second = std::clamp(index + 1, 0, source_size - 1);
    taps[d].weight = position - floor_position;
  }
  return taps;
}

// One source row interpolated horizontally at every output column (x 3 channels).
void interpolate_row(const RgbImage& image, int row, const std::vector<Tap>& column_taps,
                     std::vector<double>& out) {
  for (size_t x = 0; x < column_taps.size(); ++x) {
    const Tap& tap = column_taps[x];
    const std::uint8_t* left = image.at(tap.first, row);
    const std::uint8_t* right = image.at(tap.second, row);
    for (int c = 0; c < 3; ++c) out[x * 3 + c] = (1.0 - tap.weight) * left[c] + tap.weight * right[c];
  }
}

std::uint8_t round_half_up(double value) {
  return static_cast<std::uint8_t>(std::clamp(std::floor(value + 0.5), 0.0, 255.0));
}

// Bilinear resize written straight into the canvas at (left, top).
void resize_into(const RgbImage& image, const LetterboxGeometry& geometry, RgbImage& canvas) {
  const auto column_taps = linear_taps(image.width, geometry.resized_width);
  const auto row_taps = linear_taps(image.height, geometry.resized_height);
  std::vector<double> upper(geometry.resized_width * 3);
  std::vector<double> lower(geometry.resized_width * 3);
  for (int y = 0; y < geometry.resized_height; ++y) {
    const Tap& tap = row_taps[y];
    interpolate_row(image, tap.first, column_taps, upper);
    interpolate_row(image, tap.second, column_taps, lower);
    std::uint8_t* out = canvas.at(geometry.pad_left, geometry.pad_top + y);
    for (size_t i = 0; i < upper.size(); ++i) {
      out[i] = round_half_up((1.0 - tap.weight) * upper[i] + tap.weight * lower[i]);
    }
  }
}

// Python's round(): to nearest, ties to even (the default FP rounding mode).
int round_half_even(double value) { return static_cast<int>(std::nearbyint(value)); }

}  // namespace

LetterboxGeometry letterbox_geometry(int width, int height, InputSize canvas) {
  if (canvas.height <= 0 || canvas.width <= 0) throw Error("letterbox canvas size must be positive, got " + canvas.text());
  if (width <= 0 || height <= 0) throw Error("cannot letterbox an empty image");
  LetterboxGeometry geometry;
  geometry.ratio = std::min(static_cast<double>(canvas.height) / height, static_cast<double>(canvas.width) / width);
  geometry.resized_width = std::clamp(round_half_even(width * geometry.ratio), 1, canvas.width);
  geometry.resized_height = std::clamp(round_half_even(height * geometry.ratio), 1, canvas.height);
  const double half_dw = (canvas.width - geometry.resized_width) / 2.0;
  const double half_dh = (canvas.height - geometry.resized_height) / 2.0;
  geometry.pad_left = round_half_even(half_dw - 0.1);
  geometry.pad_top = round_half_even(half_dh - 0.1);
  return geometry;
}

RgbImage decode_image(const std::filesystem::path& file) { return decode_image_bytes(read_file_bytes(file), file); }

RgbImage decode_image_bytes(std::string_view bytes, const std::filesystem::path& origin) {
  probe_image_bytes(bytes, origin);  // refuses gigantic headers (and files over 2 GiB) before any allocation
  if (is_jpeg(bytes)) return decode_jpeg(bytes, origin);
  int width = 0, height = 0, channels_in_file = 0;
  std::unique_ptr<stbi_uc, decltype(&stbi_image_free)> decoded(
      stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), static_cast<int>(bytes.size()), &width,
                            &height, &channels_in_file, 3),
      &stbi_image_free);
  if (!decoded) {
    const char* reason = stbi_failure_reason();
    throw Error("cannot decode image " + origin.string() + ": " + (reason ? reason : "unknown error"));
  }
  RgbImage image;
  image.width = width;
  image.height = height;
  image.pixels.assign(decoded.get(), decoded.get() + static_cast<size_t>(width) * height * 3);
  return image;
}

Letterboxed letterbox(const RgbImage& image, InputSize canvas) {
  Letterboxed result;
  result.geometry = letterbox_geometry(image.width, image.height, canvas);
  result.canvas.width = canvas.width;
  result.canvas.height = canvas.height;
  result.canvas.pixels.assign(static_cast<size_t>(canvas.pixels()) * 3, kPadValue);
  resize_into(image, result.geometry, result.canvas);
  return result;
}

LetterboxedBatch letterbox_batch(const std::vector<RgbImage>& images, InputSize canvas) {
  LetterboxedBatch batch;
  for (const RgbImage& image : images) {
    Letterboxed boxed = letterbox(image, canvas);
    batch.canvases.push_back(std::move(boxed.canvas));
    batch.geometries.push_back(boxed.geometry);
  }
  return batch;
}

std::string encode_png(const RgbImage& image) {
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3) {
    throw Error("not a valid RGB image");
  }
  std::string encoded;
  const auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), size);
  };
  if (!stbi_write_png_to_func(append, &encoded, image.width, image.height, 3, image.pixels.data(), image.width * 3)) {
    throw Error("PNG encoding failed");
  }
  return encoded;
}

void write_png(const std::filesystem::path& file, const RgbImage& image) {
  std::string encoded;
  try {
    encoded = encode_png(image);
  } catch (const Error& e) {
    throw Error("cannot write " + file.string() + ": " + e.what());
  }
  write_file_atomic(file, encoded);
}

Detection to_image_coordinates(const Detection& detection, const LetterboxGeometry& geometry, int image_width,
                               int image_height) {
  auto map_x = [&](float v) {
    return std::clamp(static_cast<float>((v - geometry.pad_left) / geometry.ratio), 0.0f,
                      static_cast<float>(image_width));
  };
  auto map_y = [&](float v) {
    return std::clamp(static_cast<float>((v - geometry.pad_top) / geometry.ratio), 0.0f,
                      static_cast<float>(image_height));
  };
  Detection mapped = detection;
  mapped.box = {map_x(detection.box.x1), map_y(detection.box.y1), map_x(detection.box.x2), map_y(detection.box.y2)};
  return mapped;
}

}  // namespace yq
