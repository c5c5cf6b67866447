// The RTL unit benches: `make -C rtl_tb units` lints every rtl/ module
// (verilator -Wall, iverilog and yosys when installed), builds each
// Verilator bench and runs it; every bench compares each output of its
// module with compiler/ref/arithmetic.hpp (docs/ARITHMETIC.md) and exits
// non-zero on the first mismatch. Skipped when verilator is not installed,
// failing instead when CI=true.
#include "testing.hpp"

#include <cstdio>
#include <cstdlib>
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
}

TEST_SUITE_END();
