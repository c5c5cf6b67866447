// Helpers shared by the tests: where ../shared is, and skipping politely
// when it is absent (but failing when CI=true).
#pragma once
#include "testing.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace yq::test {

inline std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("YQ_SHARED")) return env;
  return std::filesystem::path(YQ_SOURCE_DIR) / ".." / "shared";
}

inline std::filesystem::path shared_file(const std::string& relative) { return shared_dir() / relative; }

inline bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

// Returns true when the shared test data is present. Otherwise fails the
// test under CI=true, or prints why the test is skipped and returns false.
inline bool have_shared_data() {
  if (std::filesystem::exists(shared_file("models/yolov8n/yolov8n.pt"))) return true;
  if (running_in_ci()) {
    FAIL("shared test data not found at " << shared_dir() << " (required when CI=true)");
  }
  MESSAGE("skipping: shared test data not found at " << shared_dir());
  return false;
}

inline bool have_program(const std::string& name) {
  return std::system(("command -v " + name + " > /dev/null 2>&1").c_str()) == 0;
}

// True when every program is on PATH. Otherwise fails the test under CI=true
// (scripts/setup.sh installs them all), or says what is skipped and why.
inline bool require_programs(std::initializer_list<const char*> names, const std::string& what) {
  for (const char* name : names) {
    if (have_program(name)) continue;
    if (running_in_ci()) FAIL(name << " not found: required when CI=true (" << what << ")");
    MESSAGE("skipping " << what << ": " << name << " is not installed");
    return false;
  }
  return true;
}

// Runs a shell command, appends its output, returns its exit status (-1 if it did not exit).
inline int run_command(const std::string& command, std::string& output) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return -1;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A python3 that has numpy (tests/coco_map_reference.py needs it), if any.
inline std::optional<std::string> python_with_numpy() {
  for (const std::string python : {"python3", "/usr/bin/python3"}) {
    if (std::system((python + " -c 'import numpy' >/dev/null 2>&1").c_str()) == 0) return python;
  }
  return std::nullopt;
}

// A fresh, empty temporary folder for one test, apart from those of the same
// test run from another checkout at the same time.
inline std::filesystem::path fresh_temp_dir(const std::string& name) {
  const std::size_t checkout = std::hash<std::string>{}(YQ_SOURCE_DIR) % 1000000;
  auto dir = std::filesystem::temp_directory_path() / ("yq-hw-test-" + std::to_string(checkout)) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace yq::test
