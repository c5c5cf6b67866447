// JPEG decoding with libjpeg-turbo, set up as the reference decodes (PIL and
// OpenCV both call libjpeg with its defaults): accurate integer IDCT
// (JDCT_ISLOW), fancy (triangle-filter) chroma upsampling, RGB output.
#pragma once
#include <filesystem>
#include <string_view>

#include "compiler/io/image.hpp"

namespace yq {

// True when the bytes start with a JPEG start-of-image marker (FF D8 FF).
bool is_jpeg(std::string_view bytes);

// Decodes to RGB (grayscale becomes three equal channels, CMYK is converted
// as OpenCV does). Throws yq::Error
// "cannot decode image <file>: <libjpeg's message>" on a corrupt or truncated
// file: libjpeg's warnings that mean lost image data (premature end of file or
// of a data segment, bad Huffman codes, lost restart markers) are errors here, not grey filler.
RgbImage decode_jpeg(std::string_view bytes, const std::filesystem::path& file);

// Reads the markers up to the frame header only.
ImageSize probe_jpeg(std::string_view bytes, const std::filesystem::path& file);

}  // namespace yq
