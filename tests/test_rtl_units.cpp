// The RTL unit benches: `make -C rtl_tb units` lints every rtl/ module
// (verilator -Wall, iverilog and yosys when installed), builds each
// Verilator bench and runs it; every bench compares each output of its
// module with compiler/ref/arithmetic.hpp (docs/ARITHMETIC.md) and exits
// non-zero on the first mismatch. Every rtl/ module must be linted and every
// harness rtl_tb/tb_<module>.cpp must run (print its PASS line), so a bench
// cannot sit unbuilt. Skipped when verilator is not installed, failing instead
// when CI=true.
#include "testing.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/wait.h>

#include "test_support.hpp"

TEST_SUITE_BEGIN("rtl");

TEST_CASE("rtl: every unit bench matches arithmetic.hpp bit for bit (make -C rtl_tb units)") {
  if (!yq::test::require_programs({"verilator", "make"}, "the RTL unit benches")) return;
  const std::string dir = std::string(YQ_SOURCE_DIR) + "/rtl_tb";
  // A make job server of a calling make (ctest under make -j) must not leak in.
  const std::string command =
      "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C '" + dir + "' units 2>&1";
  std::string output;
  const int status = yq::test::run_command(command, output);
  INFO("command: " << command << "\n" << output);
  CHECK(status == 0);
  CHECK(output.find("SIM PASS") != std::string::npos);
  CHECK(output.find("FAIL") == std::string::npos);

  namespace fs = std::filesystem;
  // yq_top and yq_detect_head include a run's yq_params.vh: their -Wall lint
  // is their builds in `make top` and `make head` (tests/test_rtl_layers.cpp),
  // not `make lint`.
  int modules = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(YQ_SOURCE_DIR) / "rtl")) {
    const auto name = entry.path().filename();
    if (entry.path().extension() == ".v" && name != "yq_top.v" && name != "yq_detect_head.v") ++modules;
  }
  CHECK(output.find("LINT verilator -Wall: " + std::to_string(modules) + " modules clean") != std::string::npos);
  int harnesses = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("tb_") || entry.path().extension() != ".cpp") continue;
    ++harnesses;
    const std::string module = entry.path().stem().string().substr(3);
    INFO("harness " << name);
    CHECK(fs::exists(fs::path(YQ_SOURCE_DIR) / "rtl" / (module + ".v")));
    CHECK(output.find("PASS " + module + " ") != std::string::npos);
  }
  CHECK(harnesses > 0);
}

TEST_SUITE_END();
