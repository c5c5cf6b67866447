// The Verilog parameter header writer (compiler/emit/verilog_header.hpp):
// declarations are appended line by line, comments aligned at one column,
// every name checked for uniqueness and every value for what the three
// tools (Verilator, Icarus, yosys) accept.
#include "compiler/emit/verilog_header.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include "compiler/util/error.hpp"

namespace yq {

namespace {

constexpr size_t kCommentColumn = 56;

void check_comment(const std::string& text) {
  for (char c : text) {
    if (c == '\n' || static_cast<unsigned char>(c) >= 128) {
      throw Error("Verilog header comment is not one ASCII line: " + text);
    }
  }
}

}  // namespace

VerilogHeader::VerilogHeader(const std::string& preamble) {
  size_t begin = 0;
  while (begin <= preamble.size()) {
    const size_t end = std::min(preamble.find('\n', begin), preamble.size());
    const std::string comment = preamble.substr(begin, end - begin);
    check_comment(comment);
    text_ += comment.empty() ? "//\n" : "// " + comment + "\n";
    begin = end + 1;
  }
}

void VerilogHeader::section(const std::string& title) {
  check_comment(title);
  text_ += "\n// " + title + "\n";
}

void VerilogHeader::declare(const std::string& name, const std::string& declaration, const std::string& comment) {
  if (!names_.insert(name).second) throw Error("Verilog parameter " + name + " declared twice");
  check_comment(comment);
  text_ += declaration;
  if (!comment.empty()) {
    const size_t padding = declaration.size() < kCommentColumn ? kCommentColumn - declaration.size() : 1;
    text_ += std::string(padding, ' ') + "// " + comment;
  }
  text_ += "\n";
}

void VerilogHeader::integer(const std::string& name, std::int64_t value, const std::string& comment) {
  if (value < std::numeric_limits<std::int32_t>::min() || value > std::numeric_limits<std::int32_t>::max()) {
    throw Error("Verilog parameter " + name + " = " + std::to_string(value) + " does not fit a 32-bit integer");
  }
  declare(name, "localparam integer " + name + " = " + std::to_string(value) + ";", comment);
}

void VerilogHeader::string(const std::string& name, const std::string& value, const std::string& comment) {
  for (char c : value) {
    if (c == '"' || c == '\\' || !std::isprint(static_cast<unsigned char>(c))) {
      throw Error("Verilog string parameter " + name + " cannot hold '" + value + "'");
    }
  }
  declare(name, "localparam " + name + " = \"" + value + "\";", comment);
}

void VerilogHeader::packed(const std::string& name, int element_bits, const std::vector<std::int64_t>& values,
                           const std::string& comment) {
  if (element_bits < 1 || element_bits > 63 || values.empty()) {
    throw Error("Verilog packed parameter " + name + ": elements of 1..63 bits, at least one");
  }
  const std::int64_t lo = -(std::int64_t{1} << (element_bits - 1)), hi = (std::int64_t{1} << element_bits) - 1;
  const size_t total = values.size() * static_cast<size_t>(element_bits);
  std::vector<bool> bits(total);
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] < lo || values[i] > hi) {
      throw Error("Verilog packed parameter " + name + ": " + std::to_string(values[i]) + " does not fit " +
                  std::to_string(element_bits) + " bits");
    }
    const auto raw = static_cast<std::uint64_t>(values[i]);
    for (int b = 0; b < element_bits; ++b) bits[i * element_bits + b] = (raw >> b) & 1;
  }
  std::string hex;
  for (size_t digit = (total + 3) / 4; digit-- > 0;) {
    int nibble = 0;
    for (int b = 0; b < 4; ++b) {
      if (digit * 4 + b < total && bits[digit * 4 + b]) nibble |= 1 << b;
    }
    hex += "0123456789abcdef"[nibble];
  }
  declare(name, "localparam [" + std::to_string(total - 1) + ":0] " + name + " = " + std::to_string(total) + "'h" + hex + ";",
          comment);
}

void VerilogHeader::word_layout(const std::string& prefix, const WordLayout& layout) {
  for (const WordField& field : layout.fields()) {
    const std::string name = prefix + "_" + verilog_identifier(field.name);
    integer(name + "_LSB", field.lsb);
    integer(name + "_WIDTH", field.width, field.is_signed ? "two's complement" : "");
  }
}

std::string verilog_identifier(const std::string& name) {
  std::string id;
  for (char c : name) {
    const auto letter = static_cast<unsigned char>(c);
    id += std::isalnum(letter) ? static_cast<char>(std::toupper(letter)) : '_';
  }
  return id;
}

}  // namespace yq
