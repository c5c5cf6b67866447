// Running the yq-hw binary from tests and comparing its error text with
// golden files (tests/golden_errors/<case>.txt). Regenerate the golden files
// with UPDATE_GOLDEN=1; never edit them by hand.
#pragma once
#include "testing.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "test_support.hpp"

namespace yq::test {

struct CliResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};

inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs `yq-hw <arguments>` with stdout/stderr captured in files under work_dir.
inline CliResult run_cli(const std::string& arguments, const std::filesystem::path& work_dir) {
  const auto out_file = work_dir / "cli.stdout", err_file = work_dir / "cli.stderr";
  const std::string command = std::string(YQ_CLI) + " " + arguments + " >" + out_file.string() + " 2>" +
                              err_file.string() + " </dev/null";
  const int status = std::system(command.c_str());
  CliResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_text(out_file);
  result.err = read_text(err_file);
  return result;
}

inline void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); !from.empty() && at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// Compares text (with work_dir written as <tmp>) to tests/golden_errors/<name>.txt.
inline void check_golden_error(const std::string& name, std::string text, const std::filesystem::path& work_dir) {
  replace_all(text, work_dir.string(), "<tmp>");
  const auto golden = std::filesystem::path(YQ_SOURCE_DIR) / "tests" / "golden_errors" / (name + ".txt");
  const char* update = std::getenv("UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    std::filesystem::create_directories(golden.parent_path());
    std::ofstream(golden, std::ios::binary) << text;
    MESSAGE("updated " << golden);
    return;
  }
  REQUIRE_MESSAGE(std::filesystem::exists(golden), "missing golden file " << golden << " (run with UPDATE_GOLDEN=1)");
  CHECK(text == read_text(golden));
}

}  // namespace yq::test
