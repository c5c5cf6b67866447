// libFuzzer target: any bytes as the data.pkl of a torch.save zip. Each input
// is packed (libzip, in memory, with correct CRC-32s) into archive/data.pkl
// beside four 64-byte storage records data/0..data/3, so mutations reach the
// unpickler and the checkpoint interpretation instead of the CRC check.
#include <c10/util/Exception.h>
#include <zip.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "compiler/io/checkpoint.hpp"
#include "compiler/util/error.hpp"

namespace {

void add_record(zip_t* archive, const std::string& name, const std::string& bytes) {
  zip_source_t* source = zip_source_buffer(archive, bytes.data(), bytes.size(), 0);
  if (!source || zip_file_add(archive, name.c_str(), source, 0) < 0) std::abort();
  zip_set_file_compression(archive, zip_name_locate(archive, name.c_str(), 0), ZIP_CM_STORE, 0);
}

// A stored (uncompressed) zip of the records, as torch.save writes.
std::string torch_zip(const std::string& program) {
  static const std::string storage_bytes = [] {
    std::string bytes(64, '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 37);
    return bytes;
  }();
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* memory = zip_source_buffer_create(nullptr, 0, 0, &error);
  zip_source_keep(memory);
  zip_t* archive = zip_open_from_source(memory, ZIP_TRUNCATE, &error);
  if (!archive) std::abort();
  add_record(archive, "archive/data.pkl", program);
  for (int key = 0; key < 4; ++key) add_record(archive, "archive/data/" + std::to_string(key), storage_bytes);
  if (zip_close(archive) != 0) std::abort();
  zip_stat_t stat;
  std::string bytes;
  if (zip_source_stat(memory, &stat) == 0 && zip_source_open(memory) == 0) {
    bytes.resize(stat.size);
    if (zip_source_read(memory, bytes.data(), stat.size) != static_cast<zip_int64_t>(stat.size)) std::abort();
    zip_source_close(memory);
  }
  zip_source_free(memory);
  zip_error_fini(&error);
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string zip = torch_zip(std::string(reinterpret_cast<const char*>(data), size));
  try {
    yq::parse_checkpoint(zip);
  } catch (const yq::Error&) {
  } catch (const c10::Error&) {
  }
  return 0;
}
