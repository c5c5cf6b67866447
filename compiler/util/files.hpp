// File helpers: whole-file reads, atomic writes (write "<file>.tmp", then
// rename, so a failure never leaves a half-written file), JSON files, and
// SHA-256 digests (OpenSSL).
#pragma once
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace yq {

std::string read_file_bytes(const std::filesystem::path& file);  // throws yq::Error
void write_file_atomic(const std::filesystem::path& file, std::string_view bytes);  // throws yq::Error

// Pretty-printed (2 spaces), keys in insertion order of the json object, newline-terminated.
void write_json_file(const std::filesystem::path& file, const nlohmann::json& json);
nlohmann::json read_json_file(const std::filesystem::path& file);

std::string sha256_hex(std::string_view bytes);
std::string sha256_file(const std::filesystem::path& file);

// Creates the folder (and parents) and checks a file can be written in it;
// throws yq::Error "cannot write to output folder ...".
void ensure_writable_folder(const std::filesystem::path& folder);

}  // namespace yq
