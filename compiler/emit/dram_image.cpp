// The DRAM image (compiler/emit/dram_image.hpp). Regions are laid end to
// end, each rounded up to the alignment. Words move between `$readmemh`
// text and bytes one hex digit (nibble) at a time: slots are at least a byte
// and a multiple of 8 bits, so word n's digit d (d = 0 the least significant)
// is nibble n * slot_bits/4 + d of the region, byte b holding nibbles 2b
// (low) and 2b + 1 (high).
#include "compiler/emit/dram_image.hpp"

#include <algorithm>
#include <bit>

#include "compiler/util/error.hpp"

namespace yq {

namespace {

constexpr char kDigits[] = "0123456789abcdef";

std::int64_t round_up(std::int64_t value, std::int64_t multiple) { return (value + multiple - 1) / multiple * multiple; }

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

int nibble_at(std::string_view image, std::int64_t nibble) {
  const auto byte = static_cast<unsigned char>(image[static_cast<size_t>(nibble / 2)]);
  return nibble % 2 == 0 ? byte & 15 : byte >> 4;
}

void set_nibble(std::string& image, std::int64_t nibble, int value) {
  auto byte = static_cast<unsigned char>(image[static_cast<size_t>(nibble / 2)]);
  byte = nibble % 2 == 0 ? static_cast<unsigned char>((byte & 0xf0) | value)
                         : static_cast<unsigned char>((byte & 0x0f) | (value << 4));
  image[static_cast<size_t>(nibble / 2)] = static_cast<char>(byte);
}

}  // namespace

int dram_slot_bits(int word_bits) {
  if (word_bits < 1) throw Error("a DRAM word needs at least one bit");
  return std::max(8, static_cast<int>(std::bit_ceil(static_cast<unsigned>(word_bits))));
}

void check_axi_data_bits(int axi_bits) {
  if (axi_bits < 32 || axi_bits > 1024 || !std::has_single_bit(static_cast<unsigned>(axi_bits))) {
    throw Error("--axi-bits " + std::to_string(axi_bits) + " is not an AXI4 data width (32, 64, ..., 1024)");
  }
}

DramMap::DramMap(int axi_bits, const std::vector<DramRegionSpec>& specs) : axi_bits_(axi_bits) {
  check_axi_data_bits(axi_bits);
  std::int64_t next = 0;
  for (const DramRegionSpec& spec : specs) {
    if (spec.in_file && next != file_bytes_) throw Error("DRAM region " + spec.name + ": constant regions come first");
    DramRegion region{spec.name, next, 0, spec.word_bits, dram_slot_bits(spec.word_bits), spec.words, spec.in_file};
    region.bytes = round_up(spec.words * region.slot_bits / 8, alignment());
    next += region.bytes;
    if (spec.in_file) file_bytes_ = next;
    regions_.push_back(region);
  }
  total_bytes_ = next;
}

const DramRegion& DramMap::region(const std::string& name) const {
  for (const DramRegion& region : regions_) {
    if (region.name == name) return region;
  }
  throw Error("no DRAM region " + name);
}

std::int64_t DramMap::address(const std::string& name, std::int64_t word) const {
  if (word < 0) return -1;
  const DramRegion& r = region(name);
  return r.base + word * (r.slot_bits / 8);
}

void place_words(std::string& image, const DramRegion& region, std::string_view hex_text) {
  const size_t digits = static_cast<size_t>((region.word_bits + 3) / 4);
  const std::int64_t slot_nibbles = region.slot_bits / 4;
  std::int64_t word = 0;
  size_t begin = 0;
  while (begin < hex_text.size()) {
    const size_t end = hex_text.find('\n', begin);
    const std::string_view line = hex_text.substr(begin, end - begin);
    if (end == std::string_view::npos || line.size() != digits || word >= region.words) {
      throw Error("DRAM region " + region.name + ": word " + std::to_string(word) + " is not a " +
                  std::to_string(region.word_bits) + "-bit $readmemh line");
    }
    const std::int64_t first = 2 * region.base + word * slot_nibbles;
    for (size_t d = 0; d < digits; ++d) {
      const int value = digit_value(line[digits - 1 - d]);
      if (value < 0) throw Error("DRAM region " + region.name + ": '" + std::string(line) + "' is not lowercase hex");
      set_nibble(image, first + static_cast<std::int64_t>(d), value);
    }
    ++word;
    begin = end + 1;
  }
  if (word != region.words) {
    throw Error("DRAM region " + region.name + " holds " + std::to_string(region.words) + " words, given " +
                std::to_string(word));
  }
}

std::string word_at(std::string_view image, const DramRegion& region, std::int64_t word) {
  const int digits = (region.word_bits + 3) / 4;
  const std::int64_t first = 2 * region.base + word * (region.slot_bits / 4);
  std::string text(static_cast<size_t>(digits), '0');
  for (int d = 0; d < region.slot_bits / 4; ++d) {
    int value = nibble_at(image, first + d);
    const int bits_here = region.word_bits - 4 * d;  // bits of the word in this nibble (<= 0: padding)
    const int padding = bits_here >= 4 ? 0 : bits_here <= 0 ? value : value >> bits_here;
    if (padding != 0) {
      throw Error("DRAM region " + region.name + ": word " + std::to_string(word) + " has bits above its " +
                  std::to_string(region.word_bits));
    }
    if (d < digits) text[static_cast<size_t>(digits - 1 - d)] = kDigits[value];
  }
  return text;
}

std::string dram_beats_hex(std::string_view image, int axi_bits) {
  const size_t beat_bytes = static_cast<size_t>(axi_bits / 8);
  if (image.size() % beat_bytes != 0) throw Error("the DRAM image is not a whole number of AXI beats");
  std::string text;
  text.reserve(image.size() * 2 + image.size() / beat_bytes);
  for (size_t beat = 0; beat < image.size(); beat += beat_bytes) {
    for (size_t b = beat_bytes; b-- > 0;) {
      const auto byte = static_cast<unsigned char>(image[beat + b]);
      text += kDigits[byte >> 4];
      text += kDigits[byte & 15];
    }
    text += '\n';
  }
  return text;
}

}  // namespace yq
