// Zip reading (see zip_archive.hpp). libzip opens the archive from a memory
// source with ZIP_CHECKCONS; a record is read in full through
// zip_fopen_index (inflating if needed), and its size and its CRC-32
// (zlib's crc32) are compared with the central directory's. The sum of the
// declared uncompressed sizes is bounded before any record is read.
#include "compiler/io/zip_archive.hpp"

#include <zip.h>
#include <zlib.h>

#include <cstdio>

#include "compiler/util/error.hpp"

namespace yq {

struct ZipArchive::Handle {
  zip_t* archive = nullptr;
  ~Handle() {
    if (archive) zip_discard(archive);
  }
};

namespace {

std::string libzip_message(zip_error_t& error) {
  std::string message;
  switch (zip_error_code_zip(&error)) {
    case ZIP_ER_NOZIP: message = "no zip directory at its end (not a zip file, or cut short)"; break;
    case ZIP_ER_INCONS: message = std::string("zip structure is inconsistent (") + zip_error_strerror(&error) + ")"; break;
    default: message = zip_error_strerror(&error);
  }
  zip_error_fini(&error);
  return message;
}

std::string hex32(std::uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

zip_stat_t stat_record(zip_t* archive, zip_uint64_t index) {
  zip_stat_t stat;
  zip_stat_init(&stat);
  if (zip_stat_index(archive, index, 0, &stat) != 0) {
    throw Error(std::string("cannot read the zip directory: ") + zip_strerror(archive));
  }
  constexpr zip_uint64_t kNeeded = ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_CRC;
  if ((stat.valid & kNeeded) != kNeeded) throw Error("zip directory entry " + std::to_string(index) + " is incomplete");
  return stat;
}

}  // namespace

ZipArchive::ZipArchive(std::string bytes) : bytes_(std::move(bytes)), handle_(std::make_unique<Handle>()) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes_.data(), bytes_.size(), 0, &error);
  if (!source) throw Error(libzip_message(error));
  handle_->archive = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (!handle_->archive) {
    zip_source_free(source);
    throw Error(libzip_message(error));
  }
  const zip_int64_t count = zip_get_num_entries(handle_->archive, 0);
  std::uint64_t declared = 0;
  for (zip_int64_t index = 0; index < count; ++index) {
    const zip_stat_t stat = stat_record(handle_->archive, static_cast<zip_uint64_t>(index));
    names_.emplace_back(stat.name);
    declared += stat.size;  // a wrapped sum implies a record size over the bound, refused below
    if (stat.size > kMaxExpansion * bytes_.size() || declared > kMaxExpansion * bytes_.size()) {
      throw Error("zip records declare more than " + std::to_string(kMaxExpansion) + "x the archive's " +
                  std::to_string(bytes_.size()) + " bytes (record " + names_.back() + " alone " +
                  std::to_string(stat.size) + ")");
    }
  }
}

ZipArchive::~ZipArchive() = default;

bool ZipArchive::has_record(const std::string& name) const {
  return zip_name_locate(handle_->archive, name.c_str(), ZIP_FL_ENC_RAW) >= 0;
}

ZipArchive::Record ZipArchive::read_record(const std::string& name) const {
  const zip_int64_t index = zip_name_locate(handle_->archive, name.c_str(), ZIP_FL_ENC_RAW);
  if (index < 0) throw Error("archive has no record " + name);
  const zip_stat_t stat = stat_record(handle_->archive, static_cast<zip_uint64_t>(index));
  zip_file_t* file = zip_fopen_index(handle_->archive, static_cast<zip_uint64_t>(index), 0);
  if (!file) throw Error("cannot read record " + name + ": " + zip_strerror(handle_->archive));
  Record record;
  record.bytes.resize(stat.size);  // bounded by kMaxExpansion x the archive size (constructor)
  const zip_int64_t got = zip_fread(file, record.bytes.data(), stat.size);
  std::string read_error = got < 0 ? std::string(zip_file_strerror(file)) : std::string();
  zip_fclose(file);
  if (got < 0) throw Error("cannot read record " + name + ": " + read_error);
  if (static_cast<zip_uint64_t>(got) != stat.size) {
    record.bytes.resize(static_cast<std::size_t>(got));
    record.damage = "holds " + std::to_string(got) + " bytes, the zip directory says " + std::to_string(stat.size);
    return record;
  }
  std::uint32_t crc = static_cast<std::uint32_t>(crc32_z(0, nullptr, 0));
  crc = static_cast<std::uint32_t>(
      crc32_z(crc, reinterpret_cast<const Bytef*>(record.bytes.data()), record.bytes.size()));
  if (crc != stat.crc) {
    record.damage = "its CRC-32 is " + hex32(crc) + ", the zip directory says " + hex32(stat.crc);
  }
  return record;
}

}  // namespace yq
