#include <stb_image.h>

#include <limits>
#include <string>

#include "compiler/io/image.hpp"
#include "compiler/io/jpeg_decoder.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"

namespace yq {

ImageSize probe_image(const std::filesystem::path& file) { return probe_image_bytes(read_file_bytes(file), file); }

ImageSize probe_image_bytes(std::string_view bytes, const std::filesystem::path& origin) {
  const std::string where = "cannot decode image " + origin.string() + ": ";
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) throw Error(where + "file too large");
  ImageSize size;
  if (is_jpeg(bytes)) {
    size = probe_jpeg(bytes, origin);
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
