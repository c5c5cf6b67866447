#include <stb_image.h>

#include <cstdint>
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
constexpr std::string_view kPngSignature = "\x89PNG\r\n\x1a\n";

bool is_png_or_bmp(std::string_view bytes) { return bytes.starts_with(kPngSignature) || bytes.starts_with("BM"); }

std::uint32_t big_endian_u32(std::string_view bytes, size_t at) {
  std::uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

// Every PNG chunk up to IEND must fit in the file: stb_image grows its buffer
// of compressed data to a chunk's declared length before reading it, so a
// 100-byte file declaring a 1.3 GB IDAT chunk would allocate 2 GiB.
void check_png_chunks_fit(std::string_view bytes, const std::string& where) {
  constexpr size_t kChunkOverhead = 12;  // length, type, CRC
  size_t at = kPngSignature.size();
  while (at + 8 <= bytes.size()) {
    const std::uint64_t length = big_endian_u32(bytes, at);
    const std::string_view type = bytes.substr(at + 4, 4);
    const size_t left = bytes.size() - at;
    if (length + kChunkOverhead > left) {
      throw Error(where + "PNG chunk " + std::string(type) + " at byte " + std::to_string(at) + " declares " +
                  std::to_string(length) + " bytes of data, the file has " +
                  std::to_string(left < kChunkOverhead ? 0 : left - kChunkOverhead) + " left");
    }
    if (type == "IEND") return;
    at += kChunkOverhead + length;
  }
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
    if (bytes.starts_with(kPngSignature)) check_png_chunks_fit(bytes, where);
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
