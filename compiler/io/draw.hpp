// Drawing detections on an image: a per-class coloured rectangle per box and
// a filled label "<name> <score>" in stb_easy_font's bitmap font.
#pragma once
#include <string>
#include <vector>

#include "compiler/detect/detection.hpp"
#include "compiler/io/image.hpp"

namespace yq {

// Draws every detection (boxes in image pixels) in place; class ids without a
// name are labelled with their number. Everything is clipped to the image.
void draw_detections(RgbImage& image, const std::vector<Detection>& detections,
                     const std::vector<std::string>& class_names);

}  // namespace yq
