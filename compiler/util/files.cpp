#include "compiler/util/files.hpp"

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "compiler/util/error.hpp"

namespace yq {

namespace fs = std::filesystem;

std::string read_file_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot read " + file.string() + ": " + std::strerror(errno));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void write_file_atomic(const fs::path& file, std::string_view bytes) {
  const fs::path temporary = file.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write " + file.string() + ": " + std::strerror(errno));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) {
      fs::remove(temporary);
      throw Error("cannot write " + file.string() + ": write failed");
    }
  }
  std::error_code error;
  fs::rename(temporary, file, error);
  if (error) {
    fs::remove(temporary);
    throw Error("cannot write " + file.string() + ": " + error.message());
  }
}

void write_json_file(const fs::path& file, const nlohmann::json& json) {
  write_file_atomic(file, json.dump(2) + "\n");
}

nlohmann::json read_json_file(const fs::path& file) {
  const std::string text = read_file_bytes(file);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(file.string() + ": malformed JSON (" + e.what() + ")");
  }
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string text;
  for (unsigned int i = 0; i < length; ++i) {
    text += hex[digest[i] >> 4];
    text += hex[digest[i] & 15];
  }
  return text;
}

std::string sha256_file(const fs::path& file) { return sha256_hex(read_file_bytes(file)); }

void ensure_writable_folder(const fs::path& folder) {
  std::error_code error;
  fs::create_directories(folder, error);
  if (error || !fs::is_directory(folder)) {
    throw Error("cannot write to output folder " + folder.string() + ": " +
                (error ? error.message() : std::string("not a folder")));
  }
  const fs::path probe = folder / ".yq-hw-write-probe";
  std::ofstream out(probe);
  if (!out) throw Error("cannot write to output folder " + folder.string() + ": " + std::strerror(errno));
  out.close();
  fs::remove(probe);
}

}  // namespace yq
