// The layering of compiler/: every include of a project header points to the
// same floor or a lower one (util < detect < io < ir < metrics < float <
// quant, ref < emit, inspect, report < stages < cli), so no concern depends on one above it.
#include "testing.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>

#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

const std::map<std::string, int>& floors() {
  static const std::map<std::string, int> floor_of = {
      {"compiler/util", 0},  {"compiler/detect", 1}, {"compiler/io", 2},    {"compiler/ir", 3},
      {"compiler/metrics", 4}, {"compiler/float", 5}, {"compiler/quant", 6}, {"compiler/ref", 6},
      {"compiler/emit", 7},  {"compiler/inspect", 7}, {"compiler/report", 7}, {"stages", 8},
      {"compiler/cli", 9}};
  return floor_of;
}

// The floor of a path relative to the source root ("compiler/io/image.hpp").
int floor_of(const std::string& relative) {
  for (const auto& [folder, floor] : floors()) {
    if (relative.rfind(folder + "/", 0) == 0) return floor;
  }
  FAIL("no floor for " << relative << " (add its folder to the layering)");
  return -1;
}

// "stages/x.cpp includes compiler/quant/y.hpp" for every include running up.
std::vector<std::string> upward_includes(const fs::path& root) {
  static const std::regex include_line(R"(^\s*#\s*include\s+"((?:compiler|stages)/[^"]+)\")");
  std::vector<std::string> violations;
  for (const char* top : {"compiler", "stages"}) {
    for (const auto& entry : fs::recursive_directory_iterator(root / top)) {
      const std::string extension = entry.path().extension().string();
      if (extension != ".cpp" && extension != ".hpp") continue;
      const std::string file = fs::relative(entry.path(), root).generic_string();
      std::ifstream in(entry.path());
      std::smatch match;
      for (std::string line; std::getline(in, line);) {
        if (std::regex_search(line, match, include_line) && floor_of(match[1]) > floor_of(file)) {
          violations.push_back(file + " includes " + match[1].str());
        }
      }
    }
  }
  return violations;
}

}  // namespace

TEST_CASE("layering: no include runs back up the floors of compiler/") {
  const std::vector<std::string> violations = upward_includes(YQ_SOURCE_DIR);
  for (const std::string& v : violations) MESSAGE(v);
  CHECK(violations.empty());
}

TEST_CASE("layering: the check sees an upward include") {
  const fs::path root = yq::test::fresh_temp_dir("layering");
  fs::create_directories(root / "compiler/io");
  fs::create_directories(root / "stages");
  std::ofstream(root / "compiler/io/reader.cpp") << "#include \"compiler/quant/quant_model.hpp\"\n";
  CHECK(upward_includes(root) == std::vector<std::string>{"compiler/io/reader.cpp includes compiler/quant/quant_model.hpp"});
}
