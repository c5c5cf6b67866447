// The RTL unit benches: `make -C rtl_tb sim` lints every rtl/ module
// (verilator -Wall, iverilog and yosys when installed), builds each
// Verilator bench and runs it; every bench compares each output of its
// module with compiler/quant/arithmetic.hpp (docs/ARITHMETIC.md) and exits
// non-zero on the first mismatch. Skipped when verilator is not installed,
// failing instead when CI=true.
#include "testing.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/wait.h>

#include "test_support.hpp"

namespace {

bool have_program(const std::string& name) {
  return std::system(("command -v " + name + " > /dev/null 2>&1").c_str()) == 0;
}

// Runs a shell command, returns its exit status (-1 if it did not exit) and its output.
int run_command(const std::string& command, std::string& output) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return -1;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("rtl: every unit bench matches arithmetic.hpp bit for bit (make -C rtl_tb sim)") {
  if (!have_program("verilator") || !have_program("make")) {
    if (yq::test::running_in_ci()) FAIL("verilator (or make) not found: required when CI=true");
    MESSAGE("skipping: verilator not installed");
    return;
  }
  const std::string dir = std::string(YQ_SOURCE_DIR) + "/rtl_tb";
  // A make job server of a calling make (ctest under make -j) must not leak in.
  const std::string command =
      "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C '" + dir + "' sim 2>&1";
  std::string output;
  const int status = run_command(command, output);
  INFO("command: " << command << "\n" << output);
  CHECK(status == 0);
  CHECK(output.find("SIM PASS") != std::string::npos);
  CHECK(output.find("FAIL") == std::string::npos);
}
