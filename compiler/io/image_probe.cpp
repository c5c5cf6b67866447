#include <stb_image.h>

#include <limits>
#include <string>
#include <string_view>

#include "compiler/io/image.hpp"
#include "compiler/io/jpeg_decoder.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"

namespace yq {

namespace {

// PNG and BMP by their signatures (JPEG is is_jpeg's). stb_image would also
// take TGA, PSD, GIF, HDR, PIC and PNM; TGA has no signature, so any bytes
// could be read as one (a 20-byte "TGA" can claim 8192 x 8192 pixels): only
// the formats yq-hw documents reach a decoder.
bool is_png_or_bmp(std::string_view bytes) {
  return bytes.starts_with("\x89PNG\r\n\x1a\n") || bytes.starts_with("BM");
}

}  // namespace

ImageSize probe_image(const std::filesystem::path& file) { return probe_image_bytes(read_file_bytes(file), file); }

ImageSize probe_image_bytes(std::string_view bytes, const std::filesystem::path& origin) {
  const std::string where = "cannot decode image " + origin.string() + ": ";
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) throw Error(where + "file too large");
  ImageSize size;
  if (is_jpeg(bytes)) {
    size = probe_jpeg(bytes, origin);
  } else if (!is_png_or_bmp(bytes)) {
    throw Error(where + "not a JPEG, PNG or BMP file");
  } else {
    int channels = 0;
    if (!stbi_info_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), static_cast<int>(bytes.size()),
                               &size.width, &size.height, &channels)) {
      throw Error(where + stbi_failure_reason());
    }
  }
  if (static_cast<std::int64_t>(size.width) * size.height > kMaxImagePixels) {
    throw Error(where + std::to_string(size.width) + " x " + std::to_string(size.height) + " pixels, more than the " +
                std::to_string(kMaxImagePixels) + " allowed");
  }
  return size;
}

}  // namespace yq
