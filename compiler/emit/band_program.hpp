// The band program: one frame of a model whose feature maps live in DRAM,
// as the instruction stream of an accelerator with small on-chip buffers
// (decoupled load, compute and store, the VTA / Gemmini pattern;
// docs/ARTIFACTS.md section 14). The compiler decides everything: the band
// of each layer, every address, the order; the hardware issues in order.
//
// On chip, one scratch memory of feature-map words holds two buffers of two
// halves each: the input band buffer (the rows a band of output rows reads,
// every input channel, channel after channel) at words [0, 2 in) and the
// output staging buffer (the band's output rows, channel after channel) at
// [2 in, 2 in + 2 out); yq_top's weight, bias and requant buffers (two halves
// each) hold one layer's constants.
//
// Per computing node, in node order: its bands of R output rows, R the
// largest that fits both halves (a layer whose single row does not fit is an
// error naming it and the buffer; when there are several bands the first has
// about R/2 rows and the rest are spread evenly), each band
//   Load  every input's rows the band reads (clipped to the input), one run
//         of rows x width words per channel, into the next input half (none
//         for an input forwarded: whole channels of the output the band
//         before just wrote, read where they are in its output half; the
//         channels of a folded upsample as an UpsampleLoad of half as many
//         rows of its input, each word written four times);
//   Run   the node's descriptor rewritten for the band: in_base k and
//         out_base in the halves, in_h the loaded rows, out_h the band's
//         rows, pad_top the pad rows above the first loaded row (taps past
//         the last loaded row read the pad code, as at the input's end),
//         weight / bias / requant bases in the node's constant half;
//   Store the output band into the node's DRAM words.
// A pair (a node whose output only the next node reads row for row,
// fmap_plan.hpp) runs its two nodes' bands alternately, the second reading
// each band of the first in the output half it was written to: the first
// node has no Store. A pair too large to run whole loads both nodes' rows
// into one input half a band, the next band's loads going out right after
// the first node's Run.
// A Constants instruction loads a convolution's (add's, concat's) constants
// into the next constant half, right after the Run of the previous node's
// tallest band (its first full one, not the short first band) so that the
// load overlaps its compute. Then, per detect level, bands of rows
// of its box and class outputs: Load both (never forwarded: each channel at
// the head's channel pitch), Head (the detect head reads the band's anchors).
// End: q_NMS and the detection list.
//
// Order: each band's Run (or Head), then the band before's Store, then the
// next band's Loads; the band's own Store follows the next band's Run (when
// the next band's Loads read its words, it follows the Run at once and the
// rows and channels a load reads of them are copied from the output half
// where the Run wrote them (Copy: scratch to scratch, no DRAM; the other
// loads, rows and channels go before the Store), so that an
// in-order issuer that waits only on the halves each instruction declares
// (reads / writes) loads the next band and
// reaches its Run while the engines compute this one. The loads of the band after next go
// out under a convolution's Run when the next band's Run is short and their
// half is free. Stores run one at a time, so when a Store starts every
// earlier one is over: a Load carries the barrier (wait until the store
// unit is idle) exactly when it reads words of the Store emitted last (a
// load of a concat's channels is cut so that those that do not go first,
// without it).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/emit/packed_word.hpp"

namespace yq {

struct QuantModel;
struct MemoryMap;
class DramMap;

// One half of the input band buffer (and of the output staging buffer)
// unless the user says otherwise: 256 KiB, seven UltraRAM blocks of 36 KiB
// (or 57 RAMB36) per half.
constexpr std::int64_t kDefaultBandBufferBytes = std::int64_t{256} << 10;

// rtl/yq_scratch.v interleaves each half's words over 2 * ROWS banks (ROWS
// <= 32), so a half is a whole number of rows of this many words.
constexpr std::int64_t kScratchBankRowWords = 64;

// The detect head reads up to ROWS words of one anchor at once (classes, or
// DFL bins), words a channel apart. In a head band each channel starts one
// word more than a multiple of the run's head pitch modulus (a power of
// two, 2 to kScratchBankRowWords) after the previous one: the smallest such
// pitch of at least `words`. Any odd pitch puts the lanes in distinct banks
// of a scratch memory of any power of two of banks; a pitch of 1 modulo the
// bank count puts lane k in the bank k after lane 0's, and rtl/yq_scratch.v
// then gives each bank its lane's row by a rotation instead of a search
// over the lanes (docs/RTL.md, "The scratch memory").
std::int64_t head_channel_pitch(std::int64_t words, std::int64_t modulus);

enum class BandOp { Load = 1, Store = 2, Constants = 3, Run = 4, Head = 5, End = 6, Copy = 7, UpsampleLoad = 8 };

const char* band_op_name(BandOp op);

// The halves an instruction reads or writes, one bit each.
enum BandHalf : unsigned {
  kInputHalf0 = 1u << 0,
  kInputHalf1 = 1u << 1,
  kOutputHalf0 = 1u << 2,
  kOutputHalf1 = 1u << 3,
  kConstantHalf0 = 1u << 4,
  kConstantHalf1 = 1u << 5,
};

// Words of one half of each buffer.
struct BandBuffers {
  std::int64_t input_words = 0;     // feature-map words of an input band
  std::int64_t output_words = 0;    // feature-map words of an output band
  std::int64_t weight_words = 0;    // yq_top's YQ_WEIGHT_BUFFER_DEPTH
  std::int64_t bias_words = 0;      // YQ_BIAS_BUFFER_DEPTH
  std::int64_t requant_words = 0;   // YQ_REQUANT_BUFFER_DEPTH

  std::int64_t input_half(int half) const { return half * input_words; }
  std::int64_t output_half(int half) const { return 2 * input_words + half * output_words; }
  std::int64_t scratch_words() const { return 2 * (input_words + output_words); }
};

struct BandInstruction {
  BandOp op = BandOp::End;
  int node = 0;            // the node it serves (Head: the level's class node)
  unsigned reads = 0;      // BandHalf bits
  unsigned writes = 0;
  bool barrier = false;    // Load: wait until the store unit is idle (it reads the last Store's words)
  // Load / Store: `channels` runs of `words` consecutive feature-map words,
  // run c at feature-map word dram_word + c * dram_stride and at scratch word
  // scratch_word + c * scratch_stride; the words are of node `tensor`'s
  // output (its DRAM slots and bytes).
  int tensor = -1;
  std::int64_t dram_word = 0, dram_stride = 0;
  std::int64_t scratch_word = 0, scratch_stride = 0;
  int channels = 0;
  std::int64_t words = 0;
  // Copy: the runs come from scratch word source_word + c * source_stride
  // (an output half) instead of DRAM (docs/ARTIFACTS.md section 14).
  std::int64_t source_word = 0, source_stride = 0;
  // UpsampleLoad: a Load of a folded upsample's input (fmap_plan.hpp) whose
  // runs are rows of row_words words: source word (j, x) of run c goes to
  // the four scratch words scratch_word + c * scratch_stride +
  // (2j + t) * 2 row_words + 2x + u, t, u in {0, 1}.
  std::int64_t row_words = 0;
  int half = 0;            // Constants: the constant half
  int descriptor = -1;     // Run: index into BandProgram::descriptors
  // Head: rows [first_row, first_row + rows) of a level, its box outputs at
  // scratch_word, its class outputs at class_word, each channel
  // scratch_stride words (head_channel_pitch(rows * width)) after the
  // previous one.
  int level = 0, first_row = 0, rows = 0;
  std::int64_t class_word = 0;
};

// One computing node's bands.
struct NodeBands {
  int node = 0;
  int band_rows = 0;  // output rows per band (when several, the first has about half as many, the last may have fewer)
  std::vector<int> band_heights;        // each band's output rows, top to bottom
  std::int64_t largest_band_words = 0;  // the most input words one band loads
  std::int64_t read_bytes = 0;          // DRAM bytes its bands load (rows two bands share twice)
  std::int64_t written_bytes = 0;       // DRAM bytes its stores write
  // False when the node after it reads every band in its output half (a
  // pair): its output never goes to DRAM, and it has no Store.
  bool stored = true;

  int bands() const { return static_cast<int>(band_heights.size()); }
};

struct BandProgram {
  BandBuffers buffers;
  std::vector<BandInstruction> instructions;
  std::vector<PackedWord> descriptors;  // the Runs' rewritten descriptors
  std::vector<NodeBands> nodes;         // the computing nodes, in node order
  std::vector<int> head_band_rows;      // per detect level
  // The head bands' channel pitch is 1 modulo this: kScratchBankRowWords,
  // or the largest power of two below it at which one row of every detect
  // level fits an input half (2: any odd pitch).
  std::int64_t head_pitch_modulus = kScratchBankRowWords;
  std::int64_t head_read_bytes = 0;     // the detect head's loads of the box and class outputs
  // Input bytes a band reads in the previous band's output half instead of
  // loading them from DRAM: where they are (that band stored its node's
  // whole output), or copied into the input half (Copy).
  std::int64_t forwarded_bytes = 0;
};

// `program` is the layer program (one descriptor per node, layer_program()).
// Throws yq::Error naming the layer and the buffer when one output row of a
// layer (or one row of a detect level) does not fit a half.
BandProgram band_program(const QuantModel& model, const MemoryMap& map, const std::vector<PackedWord>& program,
                         const BandBuffers& buffers);

// DRAM bytes a Load, UpsampleLoad or Store moves: its words in slots of its tensor's width.
std::int64_t dram_bytes(const BandInstruction& ins, const MemoryMap& map);

// Scratch words one run of a Load, UpsampleLoad (four a DRAM word), Store
// or Copy moves, and all its runs.
std::int64_t run_scratch_words(const BandInstruction& ins);
std::int64_t scratch_words(const BandInstruction& ins);

// The instructions as words of band_instruction_layout() (hw_format.hpp),
// every DRAM address and stride in bytes: a Load's or Store's runs in the
// "fmap" region (the tensor's words at map's byte offset, in slots of its
// width, slot_log2 = log2 of the slot's bits), a Run's descriptor in
// "band_descriptors", the layer-program descriptor of a Constants' node in
// "program".
std::vector<PackedWord> pack_band_program(const BandProgram& program, const MemoryMap& map, const DramMap& dram);

}  // namespace yq
