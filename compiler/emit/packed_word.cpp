// Packed words (compiler/emit/packed_word.hpp): a word is assembled as a bit
// vector, least significant bit first, each field's two's-complement bits
// placed at its offset, then printed four bits per hex digit from the top;
// parsing runs the same steps backwards and sign-extends signed fields.
#include "compiler/emit/packed_word.hpp"

#include "compiler/util/error.hpp"

namespace yq {

namespace {

constexpr char kDigits[] = "0123456789abcdef";

int hex_digits(int bits) { return (bits + 3) / 4; }

bool fits(std::int64_t value, int width, bool is_signed) {
  if (is_signed) return value >= -(std::int64_t{1} << (width - 1)) && value < (std::int64_t{1} << (width - 1));
  return value >= 0 && value < (std::int64_t{1} << width);
}

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The word's bits, least significant first, from fixed-width hex text.
std::vector<bool> bits_of(std::string_view text, int width, const std::string& what) {
  if (static_cast<int>(text.size()) != hex_digits(width)) {
    throw Error(what + ": expected " + std::to_string(hex_digits(width)) + " hex digits, found '" + std::string(text) +
                "'");
  }
  std::vector<bool> bits(4 * text.size());
  for (size_t d = 0; d < text.size(); ++d) {
    const int nibble = digit_value(text[text.size() - 1 - d]);
    if (nibble < 0) throw Error(what + ": '" + std::string(text) + "' is not lowercase hex");
    for (int b = 0; b < 4; ++b) bits[4 * d + b] = (nibble >> b) & 1;
  }
  for (size_t b = width; b < bits.size(); ++b) {
    if (bits[b]) throw Error(what + ": '" + std::string(text) + "' does not fit " + std::to_string(width) + " bits");
  }
  return bits;
}

std::int64_t field_value(const std::vector<bool>& bits, int lsb, int width, bool is_signed) {
  std::uint64_t value = 0;
  for (int b = 0; b < width; ++b) value |= static_cast<std::uint64_t>(bits[lsb + b]) << b;
  if (is_signed && width < 64 && bits[lsb + width - 1]) value |= ~std::uint64_t{0} << width;
  return static_cast<std::int64_t>(value);
}

}  // namespace

WordLayout::WordLayout(const std::string& name, std::vector<WordField> fields)
    : name_(name), fields_(std::move(fields)) {
  for (WordField& field : fields_) {
    if (field.width < 1 || field.width > 63) throw Error(name_ + "." + field.name + ": field width must be 1..63");
    field.lsb = width_;
    width_ += field.width;
  }
}

int WordLayout::index_of(std::string_view field) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == field) return static_cast<int>(i);
  }
  throw Error(name_ + " has no field '" + std::string(field) + "'");
}

PackedWord::PackedWord(const WordLayout& layout) : layout_(&layout), values_(layout.fields().size(), 0) {}

std::int64_t& PackedWord::operator[](std::string_view field) { return values_[layout_->index_of(field)]; }

std::int64_t PackedWord::operator[](std::string_view field) const { return values_[layout_->index_of(field)]; }

std::string PackedWord::hex() const {
  std::vector<bool> bits(4 * hex_digits(layout_->width()));
  for (size_t i = 0; i < values_.size(); ++i) {
    const WordField& field = layout_->fields()[i];
    if (!fits(values_[i], field.width, field.is_signed)) {
      throw Error(layout_->name() + "." + field.name + " = " + std::to_string(values_[i]) + " does not fit " +
                  std::to_string(field.width) + (field.is_signed ? " signed" : " unsigned") + " bits");
    }
    const auto value = static_cast<std::uint64_t>(values_[i]);
    for (int b = 0; b < field.width; ++b) bits[field.lsb + b] = (value >> b) & 1;
  }
  std::string text(bits.size() / 4, '0');
  for (size_t d = 0; d < text.size(); ++d) {
    int nibble = 0;
    for (int b = 0; b < 4; ++b) nibble |= bits[4 * d + b] << b;
    text[text.size() - 1 - d] = kDigits[nibble];
  }
  return text;
}

PackedWord PackedWord::parse(const WordLayout& layout, std::string_view text) {
  const std::vector<bool> bits = bits_of(text, layout.width(), layout.name());
  PackedWord word(layout);
  for (size_t i = 0; i < layout.fields().size(); ++i) {
    const WordField& field = layout.fields()[i];
    word.values_[i] = field_value(bits, field.lsb, field.width, field.is_signed);
  }
  return word;
}

std::string hex_word(std::int64_t value, int bits) {
  const auto word = static_cast<std::uint64_t>(value);
  std::string text(hex_digits(bits), '0');
  for (size_t d = 0; d < text.size(); ++d) {
    const int shift = 4 * static_cast<int>(d);
    int nibble = static_cast<int>((word >> shift) & 15);
    if (shift + 4 > bits) nibble &= (1 << (bits - shift)) - 1;
    text[text.size() - 1 - d] = kDigits[nibble];
  }
  return text;
}

std::int64_t parse_hex_word(std::string_view text, int bits) {
  return field_value(bits_of(text, bits, "hex word"), 0, bits, true);
}

}  // namespace yq
