// Images: decoding (JPEG via libjpeg-turbo, PNG/BMP... via stb_image), the
// Ultralytics letterbox, PNG writing, and the conversion of a letterboxed
// canvas to model input.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/detect/detection.hpp"
#include "compiler/util/input_size.hpp"

namespace yq {

// 8-bit RGB, rows top to bottom, pixels interleaved (R, G, B).
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;  // width * height * 3

  std::uint8_t* at(int x, int y) { return &pixels[(static_cast<size_t>(y) * width + x) * 3]; }
  const std::uint8_t* at(int x, int y) const { return &pixels[(static_cast<size_t>(y) * width + x) * 3]; }
};

// Images may have at most this many pixels (8192 x 8192): a header cannot
// make the decoder allocate more than 192 MiB.
constexpr std::int64_t kMaxImagePixels = std::int64_t{1} << 26;

// Decodes an image file; grayscale and alpha images become RGB.
// Throws yq::Error naming the file when it cannot be read or decoded, or
// when its header declares more than kMaxImagePixels.
RgbImage decode_image(const std::filesystem::path& file);
// The same for an image held in memory; `origin` names it in errors.
RgbImage decode_image_bytes(std::string_view bytes, const std::filesystem::path& origin);

struct ImageSize {
  int width = 0;
  int height = 0;
};

// Reads only the header; throws yq::Error naming the file when it is not an
// image yq-hw can decode or is larger than kMaxImagePixels (used to check a
// data folder before any work).
ImageSize probe_image(const std::filesystem::path& file);
ImageSize probe_image_bytes(std::string_view bytes, const std::filesystem::path& origin);

// Placement of the original image on the letterbox canvas.
struct LetterboxGeometry {
  double ratio = 1.0;  // canvas pixels per original pixel
  int resized_width = 0;
  int resized_height = 0;
  int pad_left = 0;
  int pad_top = 0;
};

// The placement letterbox() uses for an image of width x height.
LetterboxGeometry letterbox_geometry(int width, int height, InputSize canvas);

struct Letterboxed {
  RgbImage canvas;  // canvas.height x canvas.width
  LetterboxGeometry geometry;
};

// Ultralytics letterbox onto a canvas of H x W: r = min(H/h, W/w); resized
// (round(w r), round(h r)) by bilinear interpolation with half-pixel centres
// and clamped edges (no antialiasing), computed in double and rounded half
// up; centred on a gray (114) canvas with left = round(dw/2 - 0.1),
// top = round(dh/2 - 0.1).
Letterboxed letterbox(const RgbImage& image, InputSize canvas);

// letterbox() of each image of a batch.
struct LetterboxedBatch {
  std::vector<RgbImage> canvases;
  std::vector<LetterboxGeometry> geometries;
};
LetterboxedBatch letterbox_batch(const std::vector<RgbImage>& images, InputSize canvas);

// The inverse placement: canvas pixels -> original-image pixels, clipped to the image.
Detection to_image_coordinates(const Detection& detection, const LetterboxGeometry& geometry, int image_width,
                               int image_height);

// The PNG file bytes of an image; throws yq::Error when it is not a valid image.
std::string encode_png(const RgbImage& image);

// Writes a PNG; throws yq::Error when the file cannot be written.
void write_png(const std::filesystem::path& file, const RgbImage& image);

}  // namespace yq
