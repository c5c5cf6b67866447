// The band program's reference executor (compiler/emit/band_executor.hpp).
// Words nothing wrote hold a poison value outside every code, so reading
// one is caught where it happens; words are poisoned again once consumed
// (a Run's input words in an input half by the Run, a head band's input
// half by its Head, an output half by the next Run writing it).
#include "compiler/emit/band_executor.hpp"

#include <algorithm>
#include <string>

#include "compiler/emit/byte_planes.hpp"
#include "compiler/emit/layer_program.hpp"
#include "compiler/quant/quant_model.hpp"
#include "compiler/ref/int_model.hpp"
#include "compiler/util/error.hpp"

namespace yq {

namespace {

constexpr std::int32_t kPoison = 0x40000000;     // no code is this wide
constexpr std::int32_t kMaxPoolFill = -32768;    // the least 16-bit code: a max-pool's padding never wins

struct WordRange {
  std::int64_t begin = 0, end = 0;  // [begin, end)
  int node = 0;
};

std::string divergence(const std::string& layer, const TensorShape& shape, std::int64_t index, std::int64_t expected,
                       std::int64_t got) {
  const std::int64_t plane = std::int64_t{shape.height} * shape.width;
  return "band program: layer " + layer + " channel " + std::to_string(index / plane) + " y " +
         std::to_string(index % plane / shape.width) + " x " + std::to_string(index % shape.width) + ": expected " +
         std::to_string(expected) + " got " + std::to_string(got);
}

class Executor {
 public:
  Executor(const IntegerModel& model, const MemoryMap& map, const BandProgram& program,
           const std::vector<CodeTensor>& reference)
      : model_(model),
        graph_(model.model().graph),
        map_(map),
        program_(program),
        reference_(reference),
        dram_(static_cast<size_t>(map.fmap_depth), kPoison),
        scratch_(static_cast<size_t>(program.buffers.scratch_words()), kPoison),
        dram_writer_(static_cast<size_t>(map.fmap_depth), -1),
        words_left_(graph_.nodes.size(), 0),
        constant_node_{-1, -1} {
    const CodeTensor& image = reference.at(0);
    std::copy(image.codes.begin(), image.codes.end(), dram_.begin() + map.nodes[0].fmap_base);
    std::fill_n(dram_writer_.begin() + map.nodes[0].fmap_base, image.codes.size(), 0);
    for (const NodeBands& node : program.nodes) {
      const TensorShape& shape = map.nodes[node.node].shape;
      if (node.stored) words_left_[node.node] = std::int64_t{shape.channels} * shape.height * shape.width;
    }
    for (const DetectLevel& level : graph_.levels) {
      head_inputs_.push_back({empty_like(level.box_node), empty_like(level.class_node), 0});
    }
  }

  BandTraffic run() {
    for (index_ = 0; index_ < program_.instructions.size(); ++index_) {
      const BandInstruction& ins = program_.instructions[index_];
      switch (ins.op) {
        case BandOp::Load:
        case BandOp::UpsampleLoad: load(ins); break;
        case BandOp::Store: store(ins); break;
        case BandOp::Constants: constants(ins); break;
        case BandOp::Run: run_band(ins); break;
        case BandOp::Head: head_band(ins); break;
        case BandOp::End: end(); return traffic_;
        case BandOp::Copy: copy(ins); break;
      }
    }
    throw Error("band program: no end instruction");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    const BandInstruction& ins = program_.instructions[index_];
    throw Error("band program instruction " + std::to_string(index_) + " (" + band_op_name(ins.op) + ", layer " +
                graph_.nodes[ins.node].name + "): " + what);
  }

  CodeTensor empty_like(int node) const {
    const TensorShape& shape = map_.nodes[node].shape;
    return {shape.channels, shape.height, shape.width,
            std::vector<std::int32_t>(static_cast<size_t>(shape.channels) * shape.height * shape.width, kPoison)};
  }

  // The half of `mask` that holds scratch words [begin, begin + count); fails when none does.
  unsigned half_holding(unsigned mask, std::int64_t begin, std::int64_t count) const {
    const BandBuffers& b = program_.buffers;
    const struct {
      unsigned bit;
      std::int64_t base, words;
    } halves[] = {{kInputHalf0, b.input_half(0), b.input_words},
                  {kInputHalf1, b.input_half(1), b.input_words},
                  {kOutputHalf0, b.output_half(0), b.output_words},
                  {kOutputHalf1, b.output_half(1), b.output_words}};
    for (const auto& half : halves) {
      if ((mask & half.bit) && begin >= half.base && begin + count <= half.base + half.words) return half.bit;
    }
    fail("scratch words " + std::to_string(begin) + ".." + std::to_string(begin + count - 1) +
         " lie outside the halves it declares");
  }

  // Makes a half's words unreadable (bit 0: none).
  void poison_half(unsigned bit) {
    if (bit == 0) return;
    const BandBuffers& b = program_.buffers;
    const bool input = bit == kInputHalf0 || bit == kInputHalf1;
    const std::int64_t base = input ? b.input_half(bit == kInputHalf1) : b.output_half(bit == kOutputHalf1);
    const std::int64_t words = input ? b.input_words : b.output_words;
    std::fill(scratch_.begin() + base, scratch_.begin() + base + words, kPoison);
  }

  void load(const BandInstruction& ins) {
    if (ins.op == BandOp::UpsampleLoad && (ins.row_words < 1 || ins.words % ins.row_words != 0)) {
      fail("runs are not whole rows of row_words words");
    }
    if (ins.barrier) last_store_words_.clear();  // the last store is over
    const std::vector<int> writers = writers_of(ins.tensor);
    for (int c = 0; c < ins.channels; ++c) {
      const std::int64_t from = ins.dram_word + c * ins.dram_stride, to = ins.scratch_word + c * ins.scratch_stride;
      for (const WordRange& stored : last_store_words_) {
        if (from < stored.end && stored.begin < from + ins.words) {
          fail("reads DRAM words the store of layer " + graph_.nodes[stored.node].name +
               " may still be writing, without a barrier after it");
        }
      }
      half_holding(ins.writes, to, run_scratch_words(ins));
      for (std::int64_t w = 0; w < ins.words; ++w) {
        const std::int32_t code = dram_.at(from + w);
        if (code == kPoison) fail("reads DRAM word " + std::to_string(from + w) + ", which nothing wrote");
        const int writer = dram_writer_[from + w];
        if (std::find(writers.begin(), writers.end(), writer) == writers.end()) {
          fail("reads DRAM word " + std::to_string(from + w) + " of layer " + graph_.nodes[ins.tensor].name +
               " before it was stored there (it holds layer " + graph_.nodes[writer].name + "'s)");
        }
        if (ins.op == BandOp::UpsampleLoad) {
          upsample_word(ins, to, w, code);
        } else {
          scratch_[to + w] = code;
        }
      }
    }
    traffic_.loaded_words += ins.channels * ins.words;
    traffic_.loaded_bytes += dram_bytes(ins, map_);
  }

  // An UpsampleLoad's word w of a run: row j, column x of rows of
  // row_words, into words 2x and 2x + 1 of the run's rows 2j and 2j + 1.
  void upsample_word(const BandInstruction& ins, std::int64_t run_word, std::int64_t w, std::int32_t code) {
    const std::int64_t row = w / ins.row_words, x = w % ins.row_words, width = 2 * ins.row_words;
    for (std::int64_t t = 0; t < 2; ++t) {
      const std::int64_t at = run_word + (2 * row + t) * width + 2 * x;
      scratch_[at] = scratch_[at + 1] = code;
    }
  }

  // Scratch to scratch: an output half's words (a Run wrote them) into an
  // input half.
  void copy(const BandInstruction& ins) {
    for (int c = 0; c < ins.channels; ++c) {
      const std::int64_t from = ins.source_word + c * ins.source_stride, to = ins.scratch_word + c * ins.scratch_stride;
      half_holding(ins.reads, from, ins.words);
      half_holding(ins.writes, to, ins.words);
      for (std::int64_t w = 0; w < ins.words; ++w) {
        const std::int32_t code = scratch_[from + w];
        if (code == kPoison) fail("copies scratch word " + std::to_string(from + w) + ", which no run wrote");
        scratch_[to + w] = code;
      }
    }
    traffic_.copied_words += ins.channels * ins.words;
  }

  void store(const BandInstruction& ins) {
    for (int c = 0; c < ins.channels; ++c) {
      const std::int64_t from = ins.scratch_word + c * ins.scratch_stride, to = ins.dram_word + c * ins.dram_stride;
      half_holding(ins.reads, from, ins.words);
      if (c == 0) last_store_words_.clear();  // stores run one at a time: the ones before this are over
      for (std::int64_t w = 0; w < ins.words; ++w) {
        const std::int32_t code = scratch_[from + w];
        if (code == kPoison) fail("stores scratch word " + std::to_string(from + w) + ", which no run wrote");
        dram_.at(to + w) = code;
        dram_writer_[to + w] = ins.tensor;
      }
      last_store_words_.push_back({to, to + ins.words, ins.node});
    }
    traffic_.stored_words += ins.channels * ins.words;
    traffic_.stored_bytes += dram_bytes(ins, map_);
    words_left_[ins.node] -= ins.channels * ins.words;
    if (words_left_[ins.node] == 0) check_node(ins.node);
  }

  void constants(const BandInstruction& ins) {
    const unsigned bit = ins.half == 0 ? kConstantHalf0 : kConstantHalf1;
    if (ins.writes != bit) fail("writes halves other than its constant half");
    constant_node_[ins.half] = ins.node;
    ++traffic_.constant_loads;
  }

  // Input k of a Run's descriptor as a tensor of the band's rows.
  CodeTensor gather_input(const PackedWord& word, int node, int k, unsigned reads) const {
    const int producer = graph_.nodes[node].inputs.at(k);
    const int channels = map_.nodes[producer].shape.channels;
    const int rows = static_cast<int>(word["in_h"]);
    const int width = static_cast<int>(word["in_w"]);
    const std::int64_t base = word["in_base" + std::to_string(k)];
    const std::int64_t count = std::int64_t{channels} * rows * width;
    half_holding(reads, base, count);
    CodeTensor band{channels, rows, width, std::vector<std::int32_t>(scratch_.begin() + base, scratch_.begin() + base + count)};
    if (std::find(band.codes.begin(), band.codes.end(), kPoison) != band.codes.end()) {
      fail("reads scratch words of input " + std::to_string(k) + " that no load wrote");
    }
    if (map_.nodes[producer].planes == 1) return band;
    return {channels / 2, rows, width, from_planes(band.codes, std::int64_t{rows} * width)};
  }

  // The nodes whose stores write the words of `node`'s output: itself, or
  // for a view the nodes it names words of.
  std::vector<int> writers_of(int node) const {
    if (!map_.nodes[node].view) return {node};
    std::vector<int> writers;
    for (int input : graph_.nodes[node].inputs) {
      const std::vector<int> more = writers_of(input);
      writers.insert(writers.end(), more.begin(), more.end());
    }
    return writers;
  }

  // Input k's words, when they lie in an input half (not forwarded), made
  // unreadable: the next band must load its own.
  void poison_loaded_input(const PackedWord& word, int node, int k) {
    const int producer = graph_.nodes[node].inputs.at(k);
    const std::int64_t base = word["in_base" + std::to_string(k)];
    const std::int64_t count = std::int64_t{map_.nodes[producer].shape.channels} * word["in_h"] * word["in_w"];
    if (base >= program_.buffers.output_half(0)) return;  // forwarded from an output half
    std::fill(scratch_.begin() + base, scratch_.begin() + base + count, kPoison);
  }

  // The band with its pad rows (pad_top above, as many below as the window
  // needs) and pad columns made explicit.
  static CodeTensor with_padding(const CodeTensor& band, const PackedWord& word, std::int32_t fill) {
    const int pad = static_cast<int>(word["pad"]), pad_top = static_cast<int>(word["pad_top"]);
    const int kernel = static_cast<int>(word["kernel"]), stride = static_cast<int>(word["stride"]);
    const int rows = std::max(pad_top + band.height, (static_cast<int>(word["out_h"]) - 1) * stride + kernel);
    const int width = band.width + 2 * pad;
    CodeTensor padded{band.channels, rows, width,
                      std::vector<std::int32_t>(static_cast<size_t>(band.channels) * rows * width, fill)};
    for (int c = 0; c < band.channels; ++c) {
      for (int y = 0; y < band.height; ++y) {
        const auto src = band.codes.begin() + (static_cast<std::int64_t>(c) * band.height + y) * band.width;
        std::copy(src, src + band.width,
                  padded.codes.begin() + (static_cast<std::int64_t>(c) * rows + pad_top + y) * width + pad);
      }
    }
    return padded;
  }

  void check_constants(const PackedWord& word, int node, unsigned reads) const {
    const std::int64_t none = all_ones(32);
    if (word["weight_base"] == none && word["bias_base"] == none && word["requant_base"] == none) return;
    const BandBuffers& b = program_.buffers;
    const int half = (reads & kConstantHalf1) ? 1 : 0;
    if (!(reads & (kConstantHalf0 | kConstantHalf1))) fail("uses constants but declares no constant half");
    if (constant_node_[half] != node) fail("its constant half holds another layer's constants");
    const bool bases_in_half = (word["weight_base"] == none || word["weight_base"] == half * b.weight_words) &&
                               (word["bias_base"] == none || word["bias_base"] == half * b.bias_words) &&
                               (word["requant_base"] == none || word["requant_base"] == half * b.requant_words);
    if (!bases_in_half) fail("its constant bases are not those of its constant half");
  }

  void run_band(const BandInstruction& ins) {
    const PackedWord& word = program_.descriptors.at(ins.descriptor);
    const int node = static_cast<int>(word["node"]);
    if (node != ins.node) fail("its descriptor is layer " + graph_.nodes[node].name + "'s");
    check_constants(word, node, ins.reads);
    if (ins.reads & ins.writes) fail("reads a half it writes");
    const OpKind op = graph_.nodes[node].op;
    std::vector<CodeTensor> bands;
    for (int k = 0; k < static_cast<int>(word["num_inputs"]); ++k) bands.push_back(gather_input(word, node, k, ins.reads));
    if (op == OpKind::Conv || op == OpKind::MaxPool) {
      bands[0] = with_padding(bands[0], word, op == OpKind::Conv ? static_cast<std::int32_t>(word["pad_code"]) : kMaxPoolFill);
    }
    std::vector<const CodeTensor*> inputs;
    for (const CodeTensor& band : bands) inputs.push_back(&band);
    const CodeTensor out = model_.run_node(node, inputs, /*padded_input=*/true);
    const int out_c = static_cast<int>(word["out_c"]), out_h = static_cast<int>(word["out_h"]);
    const int out_w = static_cast<int>(word["out_w"]);
    if (out.channels != out_c || out.width != out_w || out.height < out_h) fail("its output shape is not the descriptor's");
    // The output half holds this band only (a later band may read it there).
    const std::int64_t base = word["out_base"], plane_size = std::int64_t{out_h} * out_w;
    const int planes = map_.nodes[node].planes;
    poison_half(half_holding(ins.writes, base, std::int64_t{out_c} * planes * plane_size));
    for (int c = 0; c < out_c; ++c) {
      const auto src = out.codes.begin() + static_cast<std::int64_t>(c) * out.height * out_w;
      if (planes == 1) {
        std::copy(src, src + plane_size, scratch_.begin() + base + std::int64_t{c} * plane_size);
        continue;
      }
      for (int plane = 0; plane < 2; ++plane) {
        std::transform(src, src + plane_size, scratch_.begin() + base + (2 * std::int64_t{c} + plane) * plane_size,
                       [plane](std::int32_t code) { return plane_word(code, plane); });
      }
    }
    for (int k = 0; k < static_cast<int>(word["num_inputs"]); ++k) poison_loaded_input(word, node, k);
    ++traffic_.runs;
  }

  // Copies rows of a level's box or class band into the assembled outputs.
  void take_head_rows(CodeTensor& level_output, std::int64_t scratch_word, const BandInstruction& ins) {
    const std::int64_t band_plane = std::int64_t{ins.rows} * level_output.width;
    if (ins.scratch_stride < band_plane) fail("a head band's channel pitch is shorter than its rows");
    half_holding(ins.reads, scratch_word, (level_output.channels - 1) * ins.scratch_stride + band_plane);
    for (int c = 0; c < level_output.channels; ++c) {
      const auto src = scratch_.begin() + scratch_word + c * ins.scratch_stride;
      std::copy(src, src + band_plane,
                level_output.codes.begin() + (std::int64_t{c} * level_output.height + ins.first_row) * level_output.width);
    }
  }

  void head_band(const BandInstruction& ins) {
    if (ins.level != current_level_ && ins.level != current_level_ + 1) fail("visits the detect levels out of order");
    current_level_ = ins.level;
    HeadInputs& level = head_inputs_.at(ins.level);
    if (ins.first_row != level.next_row) {
      fail("reads rows from " + std::to_string(ins.first_row) + " of level " + std::to_string(ins.level) +
           ", whose next row is " + std::to_string(level.next_row));
    }
    take_head_rows(level.box, ins.scratch_word, ins);
    take_head_rows(level.classes, ins.class_word, ins);
    level.next_row += ins.rows;
    poison_half(ins.reads & (kInputHalf0 | kInputHalf1));
    ++traffic_.head_bands;
  }

  void check_equal(const CodeTensor& got, int node, const std::string& what) const {
    const std::vector<std::int32_t>& expected = reference_.at(node).codes;
    for (size_t n = 0; n < expected.size(); ++n) {
      if (got.codes[n] != expected[n]) {
        throw Error(divergence(what, map_.nodes[node].shape, static_cast<std::int64_t>(n), expected[n], got.codes[n]));
      }
    }
  }

  void check_node(int node) const {
    const TensorShape& shape = map_.nodes[node].shape;
    const auto begin = dram_.begin() + map_.nodes[node].fmap_base;
    const std::int64_t plane_size = std::int64_t{shape.height} * shape.width;
    const std::vector<std::int32_t> words(begin, begin + shape.channels * plane_size);
    const int planes = map_.nodes[node].planes;
    const CodeTensor stored{shape.channels / planes, shape.height, shape.width,
                            planes == 1 ? words : from_planes(words, plane_size)};
    check_equal(stored, node, graph_.nodes[node].name);
  }

  void end() {
    for (size_t n = 0; n < words_left_.size(); ++n) {
      if (words_left_[n] != 0) fail("layer " + graph_.nodes[n].name + " has words never stored");
    }
    for (size_t l = 0; l < head_inputs_.size(); ++l) {
      const DetectLevel& level = graph_.levels[l];
      if (head_inputs_[l].next_row != map_.nodes[level.box_node].shape.height) {
        fail("the detect head never read all rows of level " + std::to_string(l));
      }
      check_equal(head_inputs_[l].box, level.box_node, "detect head input " + graph_.nodes[level.box_node].name);
      check_equal(head_inputs_[l].classes, level.class_node, "detect head input " + graph_.nodes[level.class_node].name);
    }
  }

  struct HeadInputs {
    CodeTensor box, classes;
    int next_row = 0;
  };

  const IntegerModel& model_;
  const Graph& graph_;
  const MemoryMap& map_;
  const BandProgram& program_;
  const std::vector<CodeTensor>& reference_;
  std::vector<std::int32_t> dram_, scratch_;
  std::vector<int> dram_writer_;  // per DRAM word, the node whose store wrote it last (-1: none)
  std::vector<std::int64_t> words_left_;  // per node, output words its stores have yet to write
  int constant_node_[2];
  std::vector<WordRange> last_store_words_;
  std::vector<HeadInputs> head_inputs_;
  int current_level_ = 0;
  size_t index_ = 0;
  BandTraffic traffic_;
};

}  // namespace

BandTraffic execute_band_program(const IntegerModel& model, const MemoryMap& map, const BandProgram& program,
                                 const std::vector<CodeTensor>& reference) {
  return Executor(model, map, program, reference).run();
}

}  // namespace yq
