// Fixed-width hardware words and their `$readmemh` text.
//
// A WordLayout is an ordered list of named bit fields packed from bit 0 up:
// the first field occupies bits [w0-1:0], the next [w0+w1-1:w0], and so on.
// A field is unsigned (0 .. 2^w - 1) or signed (two's complement,
// -2^(w-1) .. 2^(w-1) - 1). A PackedWord holds one value per field; its text
// is the whole word as ceil(width/4) lowercase hex digits, most significant
// digit first, the form `$readmemh` reads. Encoding a value that does not fit
// its field is an error, never a silent truncation.
//
// hex_word() is the one-field case: a two's-complement value of `bits` bits
// (its low `bits` bits), fixed width, used for weights, biases and tables.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace yq {

struct WordField {
  std::string name;
  int width = 0;
  bool is_signed = false;
  int lsb = 0;  // assigned by WordLayout
};

class WordLayout {
 public:
  WordLayout(const std::string& name, std::vector<WordField> fields);

  const std::string& name() const { return name_; }
  int width() const { return width_; }
  const std::vector<WordField>& fields() const { return fields_; }
  int index_of(std::string_view field) const;  // throws yq::Error if absent

 private:
  std::string name_;
  std::vector<WordField> fields_;
  int width_ = 0;
};

class PackedWord {
 public:
  explicit PackedWord(const WordLayout& layout);  // every field 0

  std::int64_t& operator[](std::string_view field);
  std::int64_t operator[](std::string_view field) const;

  // The word as fixed-width hex (no newline); throws yq::Error when a value does not fit its field.
  std::string hex() const;
  // Parses hex() text back (sign-extending signed fields); throws yq::Error on malformed text.
  static PackedWord parse(const WordLayout& layout, std::string_view text);

 private:
  const WordLayout* layout_;
  std::vector<std::int64_t> values_;
};

// The all-ones value of an unsigned field: "none" in ids, indices and addresses.
constexpr std::int64_t all_ones(int width) { return (std::int64_t{1} << width) - 1; }

// `value` as a two's-complement word of `bits` bits (1..64): ceil(bits/4) lowercase hex digits.
std::string hex_word(std::int64_t value, int bits);
// Inverse of hex_word: the digits read as a two's-complement value of `bits` bits.
std::int64_t parse_hex_word(std::string_view text, int bits);

}  // namespace yq
