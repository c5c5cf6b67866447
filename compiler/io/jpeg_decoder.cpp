// libjpeg-turbo decoding through its classic API. libjpeg reports errors by
// calling error_exit, which must not return: it longjmps back to the one
// setjmp in run_guarded, whose frame holds no C++ objects, and the caller
// turns the saved message into a yq::Error. Data-losing warnings take the
// same path; the other warnings (extraneous bytes, unknown JFIF revision)
// leave the pixels intact and are ignored silently.
#include "compiler/io/jpeg_decoder.hpp"

// jpeglib.h needs size_t and FILE declared first.
#include <cstddef>
#include <cstdio>
#include <csetjmp>

#include <jerror.h>
#include <jpeglib.h>

#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/util/error.hpp"

namespace yq {
namespace {

struct ErrorManager {
  jpeg_error_mgr library;  // first member: libjpeg sees a jpeg_error_mgr*
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void on_error(j_common_ptr info) {
  auto* manager = reinterpret_cast<ErrorManager*>(info->err);
  (*info->err->format_message)(info, manager->message);
  std::longjmp(manager->jump, 1);
}

bool loses_data(int message_code) {
  switch (message_code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_MUST_RESYNC:
      return true;
    default:
      return false;
  }
}

// msg_level -1 is a warning, 0 and up are trace messages.
void on_message(j_common_ptr info, int msg_level) {
  if (msg_level < 0 && loses_data(info->err->msg_code)) on_error(info);
}

// The decompressor with its error manager; destroyed on every path.
class Decompressor {
 public:
  Decompressor(std::string_view bytes) {
    info_.err = jpeg_std_error(&errors_.library);
    errors_.library.error_exit = on_error;
    errors_.library.emit_message = on_message;
    errors_.message[0] = '\0';
    jpeg_create_decompress(&info_);  // allocates only small fixed tables; cannot fail on the input
    jpeg_mem_src(&info_, reinterpret_cast<const unsigned char*>(bytes.data()),
                 static_cast<unsigned long>(bytes.size()));
  }
  ~Decompressor() { jpeg_destroy_decompress(&info_); }
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;

  jpeg_decompress_struct& info() { return info_; }
  std::jmp_buf& jump() { return errors_.jump; }
  const char* message() const { return errors_.message; }

 private:
  jpeg_decompress_struct info_{};
  ErrorManager errors_{};
};

// Runs step(info) with libjpeg errors caught; false (and the message in the
// decompressor) when libjpeg failed. Nothing with a destructor lives in this
// frame, so the longjmp skips no cleanup.
template <typename Step>
bool run_guarded(Decompressor& decompressor, Step& step) {
  if (setjmp(decompressor.jump()) != 0) return false;
  step(decompressor.info());
  return true;
}

[[noreturn]] void throw_decode_error(const std::filesystem::path& file, const Decompressor& decompressor) {
  throw Error("cannot decode image " + file.string() + ": " + decompressor.message());
}

void read_header(jpeg_decompress_struct& info) { jpeg_read_header(&info, TRUE); }

// 4-channel (Adobe CMYK or YCCK) files: libjpeg outputs CMYK as stored
// (Adobe writes it inverted); converted like OpenCV's imread, which
// Ultralytics uses: channel = k - ((255 - stored) * k >> 8).
void cmyk_to_rgb(const JSAMPLE* cmyk, int width, std::uint8_t* rgb) {
  for (int x = 0; x < width; ++x, cmyk += 4, rgb += 3) {
    const int k = cmyk[3];
    for (int c = 0; c < 3; ++c) rgb[c] = static_cast<std::uint8_t>(k - (((255 - cmyk[c]) * k) >> 8));
  }
}

// The reference decoders' settings, spelled out although they are libjpeg's
// defaults. `cmyk_row` is caller-owned scratch for 4-channel files.
void decode_into(jpeg_decompress_struct& info, RgbImage& image, std::vector<JSAMPLE>& cmyk_row) {
  jpeg_read_header(&info, TRUE);
  const bool four_channels = info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK;
  info.out_color_space = four_channels ? JCS_CMYK : JCS_RGB;
  info.dct_method = JDCT_ISLOW;
  info.do_fancy_upsampling = TRUE;
  info.do_block_smoothing = TRUE;
  info.scale_num = info.scale_denom = 1;
  jpeg_start_decompress(&info);
  image.width = static_cast<int>(info.output_width);
  image.height = static_cast<int>(info.output_height);
  image.pixels.resize(static_cast<size_t>(image.width) * image.height * 3);
  if (four_channels) cmyk_row.resize(static_cast<size_t>(image.width) * 4);
  while (info.output_scanline < info.output_height) {
    std::uint8_t* out = image.at(0, static_cast<int>(info.output_scanline));
    JSAMPROW row = four_channels ? cmyk_row.data() : out;
    jpeg_read_scanlines(&info, &row, 1);
    if (four_channels) cmyk_to_rgb(row, image.width, out);
  }
  jpeg_finish_decompress(&info);
}

void check_size(std::string_view bytes, const std::filesystem::path& file) {
  if (bytes.size() > ULONG_MAX) throw Error("cannot decode image " + file.string() + ": file too large");
}

}  // namespace

bool is_jpeg(std::string_view bytes) {
  return bytes.size() >= 3 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
         static_cast<unsigned char>(bytes[1]) == 0xD8 && static_cast<unsigned char>(bytes[2]) == 0xFF;
}

RgbImage decode_jpeg(std::string_view bytes, const std::filesystem::path& file) {
  check_size(bytes, file);
  Decompressor decompressor(bytes);
  RgbImage image;
  std::vector<JSAMPLE> cmyk_row;
  auto step = [&](jpeg_decompress_struct& info) { decode_into(info, image, cmyk_row); };
  if (!run_guarded(decompressor, step)) throw_decode_error(file, decompressor);
  return image;
}

ImageSize probe_jpeg(std::string_view bytes, const std::filesystem::path& file) {
  check_size(bytes, file);
  Decompressor decompressor(bytes);
  if (!run_guarded(decompressor, read_header)) throw_decode_error(file, decompressor);
  return {static_cast<int>(decompressor.info().image_width), static_cast<int>(decompressor.info().image_height)};
}

}  // namespace yq
