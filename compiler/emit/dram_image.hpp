// The accelerator's DRAM: one byte address space holding every large memory
// (docs/ARTIFACTS.md section 3.1).
//
// Regions are placed in the order given, each at the next address that is a
// multiple of the AXI data width in bytes, and each padded to a multiple of
// it. A region is an array of words of word_bits bits; word n occupies the
// slot_bits bits from bit n * slot_bits of the region (the region's bytes
// read little-endian: byte b holds bits 8b .. 8b + 7), where slot_bits is the
// smallest power of two >= word_bits and >= 8, so a word never straddles an
// AXI beat unless it is wider than one. A word's own bits are exactly its
// `$readmemh` line (the unified *_mem.hex word); the slot's upper bits are 0.
// Regions marked in_file (program, tables, weights, ...) have constant
// contents, written to dram.bin from address 0 to the end of the last such
// region; the others (feature maps, detections) are written at run time and
// follow them.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace yq {

constexpr int kDefaultAxiDataBits = 128;  // the AXI4 data width a run targets unless --axi-bits says otherwise

struct DramRegionSpec {
  std::string name;
  int word_bits = 0;
  std::int64_t words = 0;
  bool in_file = false;  // constant contents, in dram.bin
};

struct DramRegion {
  std::string name;
  std::int64_t base = 0;   // byte address
  std::int64_t bytes = 0;  // a multiple of the alignment
  int word_bits = 0;
  int slot_bits = 0;
  std::int64_t words = 0;
  bool in_file = false;
};

// Bits a word of word_bits bits occupies in DRAM.
int dram_slot_bits(int word_bits);
// Throws yq::Error unless axi_bits is a power of two within 32..1024 (the AXI4 data widths).
void check_axi_data_bits(int axi_bits);

class DramMap {
 public:
  DramMap(int axi_bits, const std::vector<DramRegionSpec>& specs);

  int axi_bits() const { return axi_bits_; }
  std::int64_t alignment() const { return axi_bits_ / 8; }
  const std::vector<DramRegion>& regions() const { return regions_; }
  const DramRegion& region(const std::string& name) const;  // throws yq::Error if absent
  // Byte address of word `word` of a region; -1 stays -1 (none).
  std::int64_t address(const std::string& name, std::int64_t word) const;
  std::int64_t file_bytes() const { return file_bytes_; }    // dram.bin: the in_file regions
  std::int64_t total_bytes() const { return total_bytes_; }  // every region

 private:
  int axi_bits_;
  std::vector<DramRegion> regions_;
  std::int64_t file_bytes_ = 0, total_bytes_ = 0;
};

// Writes the words of hex_text (`$readmemh` lines of region.word_bits bits)
// into image (file_bytes long) at the region. Throws yq::Error when the
// text does not hold region.words words of that width.
void place_words(std::string& image, const DramRegion& region, std::string_view hex_text);

// Reads word `word` of a region back from image as its `$readmemh` line;
// throws yq::Error when the slot's bits above word_bits are not 0.
std::string word_at(std::string_view image, const DramRegion& region, std::int64_t word);

// image as `$readmemh` text: one AXI beat (axi_bits bits) per line, beat n
// = bytes [n * axi_bits/8, (n + 1) * axi_bits/8), byte 0 the least significant.
std::string dram_beats_hex(std::string_view image, int axi_bits);

}  // namespace yq
