// Detection drawing. Each box becomes a rectangle outline (2 px, 3 px on
// large images) in its class's palette colour (Ultralytics' 20 colours,
// cycled by class id). Its label is stb_easy_font text: the font's quads are
// rasterised as filled rectangles scaled x2, in black or white (whichever
// contrasts with the colour) on a filled background placed above the box,
// or inside it when there is no room above. All filling clips to the image.
#include "compiler/io/draw.hpp"

#include <stb_easy_font.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace yq {
namespace {

using Colour = std::array<std::uint8_t, 3>;

constexpr std::array<Colour, 20> kPalette = {{
    {255, 56, 56},  {255, 157, 151}, {255, 112, 31}, {255, 178, 29}, {207, 210, 49},
    {72, 249, 10},  {146, 204, 23},  {61, 219, 134}, {26, 147, 52},  {0, 212, 187},
    {44, 153, 168}, {0, 194, 255},   {52, 69, 147},  {100, 115, 255}, {0, 24, 236},
    {132, 56, 255}, {82, 0, 133},    {203, 56, 255}, {255, 149, 200}, {255, 55, 199},
}};

constexpr int kFontScale = 2;
constexpr int kGlyphHeight = 9;   // font units covered by stb_easy_font glyphs (incl. descenders)
constexpr int kLabelMargin = 1;   // font units around the text
constexpr int kVerticesPerQuad = 4;
constexpr int kBytesPerVertex = 16;      // x, y, z floats + 4 colour bytes
constexpr int kVertexBytesPerChar = 1024;  // stb_easy_font needs ~270 on average

// Pixel rectangle [x0, x1) x [y0, y1).
struct Rect {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

void fill_rect(RgbImage& image, Rect rect, const Colour& colour) {
  const int x0 = std::max(rect.x0, 0), x1 = std::min(rect.x1, image.width);
  const int y0 = std::max(rect.y0, 0), y1 = std::min(rect.y1, image.height);
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) std::copy(colour.begin(), colour.end(), image.at(x, y));
  }
}

Colour class_colour(int class_id) {
  const int count = static_cast<int>(kPalette.size());
  return kPalette[((class_id % count) + count) % count];
}

Colour contrasting_text_colour(const Colour& background) {
  const double luminance = 0.299 * background[0] + 0.587 * background[1] + 0.114 * background[2];
  return luminance > 150 ? Colour{0, 0, 0} : Colour{255, 255, 255};
}

int line_thickness(const RgbImage& image) {
  return std::clamp(static_cast<int>(std::lround((image.width + image.height) / 2.0 * 0.003)), 2, 3);
}

std::string label_text(const Detection& detection, const std::vector<std::string>& class_names) {
  const bool named = detection.class_id >= 0 && detection.class_id < static_cast<int>(class_names.size());
  std::string text = named ? class_names[detection.class_id] : std::to_string(detection.class_id);
  char score[32];
  std::snprintf(score, sizeof score, " %.2f", detection.score);
  text += score;
  // stb_easy_font only has glyphs for printable ASCII.
  for (char& c : text) {
    if (c < 32 || c > 126) c = '?';
  }
  return text;
}

// Box rounded to pixels; false when a coordinate is not finite.
bool box_rect(const Box& box, const RgbImage& image, Rect& rect) {
  if (!std::isfinite(box.x1) || !std::isfinite(box.y1) || !std::isfinite(box.x2) || !std::isfinite(box.y2)) {
    return false;
  }
  // Clamp to a band around the image before converting, so huge values stay in int range.
  const auto to_pixel = [](float value, int size) {
    return static_cast<int>(std::lround(std::clamp(value, -8.0f, size + 8.0f)));
  };
  rect = {to_pixel(box.x1, image.width), to_pixel(box.y1, image.height), to_pixel(box.x2, image.width),
          to_pixel(box.y2, image.height)};
  return rect.x1 > rect.x0 && rect.y1 > rect.y0;
}

void draw_outline(RgbImage& image, const Rect& rect, int thickness, const Colour& colour) {
  fill_rect(image, {rect.x0, rect.y0, rect.x1, rect.y0 + thickness}, colour);
  fill_rect(image, {rect.x0, rect.y1 - thickness, rect.x1, rect.y1}, colour);
  fill_rect(image, {rect.x0, rect.y0, rect.x0 + thickness, rect.y1}, colour);
  fill_rect(image, {rect.x1 - thickness, rect.y0, rect.x1, rect.y1}, colour);
}

// Rasterises the text's font quads with their top-left font origin at (left, top).
void draw_text(RgbImage& image, std::string text, int left, int top, const Colour& colour) {
  std::vector<char> vertices(text.size() * kVertexBytesPerChar);
  const int quads = stb_easy_font_print(0, 0, text.data(), nullptr, vertices.data(), static_cast<int>(vertices.size()));
  for (int q = 0; q < quads; ++q) {
    float min_x = 1e9f, min_y = 1e9f, max_x = -1e9f, max_y = -1e9f;
    for (int v = 0; v < kVerticesPerQuad; ++v) {
      const char* vertex = vertices.data() + (q * kVerticesPerQuad + v) * kBytesPerVertex;
      float x, y;
      std::memcpy(&x, vertex, sizeof x);
      std::memcpy(&y, vertex + sizeof x, sizeof y);
      min_x = std::min(min_x, x), max_x = std::max(max_x, x);
      min_y = std::min(min_y, y), max_y = std::max(max_y, y);
    }
    fill_rect(image,
              {left + static_cast<int>(min_x) * kFontScale, top + static_cast<int>(min_y) * kFontScale,
               left + static_cast<int>(max_x) * kFontScale, top + static_cast<int>(max_y) * kFontScale},
              colour);
  }
}

void draw_label(RgbImage& image, const Rect& box, const std::string& text, const Colour& background) {
  const int width = (stb_easy_font_width(const_cast<char*>(text.c_str())) + 2 * kLabelMargin) * kFontScale;
  const int height = (kGlyphHeight + 2 * kLabelMargin) * kFontScale;
  const int left = std::max(0, std::min(box.x0, image.width - width));
  const int top = box.y0 - height >= 0 ? box.y0 - height : std::max(box.y0, 0);
  fill_rect(image, {left, top, left + width, top + height}, background);
  draw_text(image, text, left + kLabelMargin * kFontScale, top + kLabelMargin * kFontScale,
            contrasting_text_colour(background));
}

}  // namespace

void draw_detections(RgbImage& image, const std::vector<Detection>& detections,
                     const std::vector<std::string>& class_names) {
  const int thickness = line_thickness(image);
  for (const Detection& detection : detections) {
    Rect rect;
    if (!box_rect(detection.box, image, rect)) continue;
    const Colour colour = class_colour(detection.class_id);
    draw_outline(image, rect, thickness, colour);
    draw_label(image, rect, label_text(detection, class_names), colour);
  }
}

}  // namespace yq
