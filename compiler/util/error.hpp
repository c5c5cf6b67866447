// One exception type for every user-facing failure: bad input, bad options,
// unwritable output. Its message is a single line that names the problem;
// the command line prints it after "yq-hw: error: " and exits non-zero.
#pragma once
#include <stdexcept>
#include <string>

namespace yq {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace yq
