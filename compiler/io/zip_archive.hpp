// A zip archive held in memory and read with libzip, record by record, with
// every record checked: the local headers must agree with the central
// directory (libzip's consistency check), and a record's bytes must have the
// size and the CRC-32 the central directory gives for it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace yq {

class ZipArchive {
 public:
  // The records of an archive may declare at most this many times the
  // archive's own size in uncompressed bytes (a zip bomb is refused before
  // anything is inflated).
  static constexpr std::uint64_t kMaxExpansion = 4;

  // Throws yq::Error "<why>" when `bytes` is not a consistent zip archive or
  // its records declare too many bytes.
  explicit ZipArchive(std::string bytes);
  ~ZipArchive();
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;

  struct Record {
    std::string bytes;
    std::string damage;  // why the bytes are not the ones stored ("" when intact)
  };

  std::uint64_t size() const { return bytes_.size(); }
  const std::vector<std::string>& record_names() const { return names_; }  // archive order
  bool has_record(const std::string& name) const;
  // The bytes of one record; throws yq::Error when it is absent or cannot be
  // read at all, and reports a CRC-32 or size mismatch in Record::damage.
  Record read_record(const std::string& name) const;

 private:
  struct Handle;
  std::string bytes_;
  std::unique_ptr<Handle> handle_;
  std::vector<std::string> names_;
};

}  // namespace yq
