// Writing a Verilog parameter header: `localparam`s only, no module, no
// include guard (the parameters belong to the module that includes the
// file, so every module that needs them includes it). Integers are
// `localparam integer` (32-bit signed: a value outside that range is an
// error); packed vectors are sized hex literals; strings are untyped (`localparam NAME = "text";`) because yosys 0.23
// rejects `parameter string`. Every parameter may carry a trailing comment;
// sections are separated by a blank line and a comment title. Plain ASCII;
// a name declared twice is an error.
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "compiler/emit/packed_word.hpp"

namespace yq {

class VerilogHeader {
 public:
  explicit VerilogHeader(const std::string& preamble);  // comment lines, written first (without "// ")

  void section(const std::string& title);
  void integer(const std::string& name, std::int64_t value, const std::string& comment = "");
  void string(const std::string& name, const std::string& value, const std::string& comment = "");
  // A packed vector `localparam [N*W-1:0] NAME = <N*W>'h...;` of N elements of
  // W bits (two's complement), element i at bits [i*W +: W]: a per-index
  // table a module indexes with a variable.
  void packed(const std::string& name, int element_bits, const std::vector<std::int64_t>& values,
              const std::string& comment = "");
  // <prefix>_<FIELD>_LSB and <prefix>_<FIELD>_WIDTH of every field.
  void word_layout(const std::string& prefix, const WordLayout& layout);

  const std::string& text() const { return text_; }

 private:
  void declare(const std::string& name, const std::string& declaration, const std::string& comment);

  std::string text_;
  std::set<std::string> names_;
};

// NAME_LIKE_THIS from any name ("c2f2.m0" -> "C2F2_M0").
std::string verilog_identifier(const std::string& name);

}  // namespace yq
