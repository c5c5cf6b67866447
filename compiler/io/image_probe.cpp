#include <stb_image.h>

#include "compiler/io/image.hpp"
#include "compiler/io/jpeg_decoder.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"

namespace yq {

ImageSize probe_image(const std::filesystem::path& file) {
  const std::string bytes = read_file_bytes(file);
  if (is_jpeg(bytes)) return probe_jpeg(bytes, file);
  ImageSize size;
  int channels = 0;
  if (!stbi_info_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), static_cast<int>(bytes.size()),
                             &size.width, &size.height, &channels)) {
    throw Error("cannot decode image " + file.string() + ": " + stbi_failure_reason());
  }
  return size;
}

}  // namespace yq
