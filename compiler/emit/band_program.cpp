// The band program (compiler/emit/band_program.hpp): bands are chosen per
// node, turned into jobs (loads, one Run or Head, a store), and the jobs are
// emitted in pipelined order (a job's Run, the next job's loads, the job's
// Store) with the halves alternating from job to job.
#include "compiler/emit/band_program.hpp"

#include <algorithm>
#include <bit>
#include <optional>

#include "compiler/emit/dram_image.hpp"
#include "compiler/emit/hw_format.hpp"
#include "compiler/emit/layer_program.hpp"
#include "compiler/quant/quant_model.hpp"
#include "compiler/util/error.hpp"

namespace yq {

namespace {

constexpr unsigned input_half_bit(int half) { return half == 0 ? kInputHalf0 : kInputHalf1; }
constexpr unsigned output_half_bit(int half) { return half == 0 ? kOutputHalf0 : kOutputHalf1; }
constexpr unsigned constant_half_bit(int half) { return half == 0 ? kConstantHalf0 : kConstantHalf1; }

// Rows [first, last] of an input; first may be negative and last past the
// input before clipping.
struct RowRange {
  int first = 0, last = -1;
  int count() const { return last - first + 1; }
};

RowRange unclipped_input_rows(const Node& node, int first, int last) {
  switch (node.op) {
    case OpKind::Conv: return {first * node.stride - node.pad, last * node.stride - node.pad + node.kernel - 1};
    case OpKind::MaxPool: return {first - node.pad, last - node.pad + node.kernel - 1};
    case OpKind::Upsample: return {first / 2, last / 2};
    default: return {first, last};
  }
}

RowRange clip(RowRange rows, int height) { return {std::max(rows.first, 0), std::min(rows.last, height - 1)}; }

// Channels [first, first + count) of a tensor that are a folded upsample's
// output: the tensor itself, or an input of a concat view.
struct FoldedPart {
  int upsample = 0, first = 0, count = 0;
};

std::vector<FoldedPart> folded_parts(const Graph& graph, const MemoryMap& map, const std::vector<bool>& folded,
                                     int tensor) {
  if (folded[tensor]) return {{tensor, 0, map.nodes[tensor].shape.channels}};
  std::vector<FoldedPart> parts;
  if (graph.nodes[tensor].op != OpKind::Concat || !map.nodes[tensor].view) return parts;
  int first = 0;
  for (int input : graph.nodes[tensor].inputs) {
    const int count = map.nodes[input].shape.channels;
    if (folded[input]) parts.push_back({input, first, count});
    first += count;
  }
  return parts;
}

// The rows a node's bands come in whole multiples of (but its last band):
// 2 for an upsample, which reads whole input rows from each band's first,
// and for a reader of a folded one, whose loads write each input row twice.
int row_step(const Graph& graph, const MemoryMap& map, const std::vector<bool>& folded, int node) {
  if (graph.nodes[node].op == OpKind::Upsample) return 2;
  for (int input : graph.nodes[node].inputs) {
    if (!folded_parts(graph, map, folded, input).empty()) return 2;
  }
  return 1;
}

// The nodes whose bands are cut together: one node, or a pair (a node and
// the node after it, which reads each band of the first's output where the
// first's Run wrote it: `forwarded`, not loaded, so not in its input half).
struct BandMember {
  int node = 0;
  int forwarded = -1;  // the input read in the output half of the job before (-1: none)
};

// The feature-map words a band of output rows [first, first + rows) reads
// (every loaded input's clipped rows, all channels) and writes.
struct BandWords {
  std::int64_t input = 0, output = 0;
  bool fits(const BandBuffers& buffers) const { return input <= buffers.input_words && output <= buffers.output_words; }
};

BandWords band_words(const Graph& graph, const MemoryMap& map, BandMember member, int first, int rows) {
  const Node& node = graph.nodes[member.node];
  const TensorShape& out = map.nodes[member.node].shape;
  BandWords words{0, std::int64_t{out.channels} * rows * out.width};
  for (int input : node.inputs) {
    if (input == member.forwarded) continue;
    const TensorShape& in = map.nodes[input].shape;
    const RowRange range = clip(unclipped_input_rows(node, first, first + rows - 1), in.height);
    words.input += std::int64_t{in.channels} * range.count() * in.width;
  }
  return words;
}

// The words a band of the members' output rows [first, first + rows) reads
// and writes: a pair loads both nodes' inputs into one input half, and
// writes each node's output into an output half of its own.
BandWords group_words(const Graph& graph, const MemoryMap& map, const std::vector<BandMember>& members, int first,
                      int rows) {
  BandWords total;
  for (const BandMember& member : members) {
    const BandWords words = band_words(graph, map, member, first, rows);
    total.input += words.input;
    total.output = std::max(total.output, words.output);
  }
  return total;
}

// The most words any band of `rows` output rows reads and writes.
BandWords largest_band(const Graph& graph, const MemoryMap& map, const std::vector<BandMember>& members, int rows) {
  const int height = map.nodes[members.front().node].shape.height;
  BandWords largest;
  for (int first = 0; first < height; first += rows) {
    const BandWords words = group_words(graph, map, members, first, std::min(rows, height - first));
    largest = {std::max(largest.input, words.input), std::max(largest.output, words.output)};
  }
  return largest;
}

// The members' row step: the largest of theirs.
int members_row_step(const Graph& graph, const MemoryMap& map, const std::vector<bool>& folded,
                     const std::vector<BandMember>& members) {
  int step = 1;
  for (const BandMember& member : members) step = std::max(step, row_step(graph, map, folded, member.node));
  return step;
}

// The largest band, in whole row steps, that fits both halves.
int choose_band_rows(const Graph& graph, const MemoryMap& map, const std::vector<bool>& folded,
                     const std::vector<BandMember>& members, const BandBuffers& buffers) {
  const int step = members_row_step(graph, map, folded, members);
  const int height = map.nodes[members.front().node].shape.height;
  for (int rows = height; rows > 0; --rows) {
    if (rows % step != 0 && rows != height) continue;
    if (largest_band(graph, map, members, rows).fits(buffers)) return rows;
  }
  const BandWords one = largest_band(graph, map, members, step);
  const bool input_overflows = one.input > buffers.input_words;
  std::string layer = graph.nodes[members.front().node].name;
  for (size_t m = 1; m < members.size(); ++m) layer += " (with " + graph.nodes[members[m].node].name + ", which reads its bands on chip)";
  throw Error("layer " + layer + ": one band of output rows needs " + std::to_string(input_overflows ? one.input : one.output) +
              " feature-map words of the " + (input_overflows ? "input band buffer" : "output staging buffer") +
              ", whose half holds " + std::to_string(input_overflows ? buffers.input_words : buffers.output_words));
}

// Band heights: `head` rows, then the rest of `height` in as few bands of
// at most `rows` as hold it, in whole steps, spread evenly (the later ones
// the longer) when `even`, else full bands and a remainder.
std::vector<int> band_heights(int height, int head, int rows, int step, bool even) {
  std::vector<int> heights{std::min(head, height)};
  int rest = height - heights.front();
  if (!even || rest % step != 0) {
    for (; rest > 0; rest -= heights.back()) heights.push_back(std::min(rows, rest));
    return heights;
  }
  const int units = rest / step, max_units = rows / step;
  const int bands = (units + max_units - 1) / max_units;
  for (int b = 0; b < bands; ++b) heights.push_back((units / bands + (b >= bands - units % bands ? 1 : 0)) * step);
  return heights;
}

// The members' bands as [first, first + rows) ranges: when there are
// several, the first has about half of band_rows (in whole row steps), so
// that the node starts on a short load, which overlaps the node before's
// last band and needs only rows of its first bands; the rest
// are spread evenly over as few bands of at most band_rows as hold them, so
// that the last is no stub (the node after it loads its constants and
// first rows while it runs). Full bands after the first, then uniform
// bands, when a band would not fit the halves.
std::vector<RowRange> node_bands(const Graph& graph, const MemoryMap& map, const std::vector<bool>& folded,
                                 const std::vector<BandMember>& members, int band_rows, const BandBuffers& buffers) {
  const int height = map.nodes[members.front().node].shape.height;
  const int step = members_row_step(graph, map, folded, members);
  const int first_rows = std::max(step, band_rows / 2 / step * step);
  auto ranges = [](const std::vector<int>& heights) {
    std::vector<RowRange> bands;
    int first = 0;
    for (int rows : heights) {
      bands.push_back({first, first + rows - 1});
      first += rows;
    }
    return bands;
  };
  const std::vector<RowRange> uniform = ranges(band_heights(height, band_rows, band_rows, step, false));
  if (band_rows >= height || first_rows >= band_rows) return uniform;
  for (const bool even : {true, false}) {
    const std::vector<RowRange> ramp = ranges(band_heights(height, first_rows, band_rows, step, even));
    const bool fits = std::all_of(ramp.begin(), ramp.end(), [&](const RowRange& band) {
      return group_words(graph, map, members, band.first, band.count()).fits(buffers);
    });
    if (fits) return ramp;
  }
  return uniform;
}

// One band's work: the loads, a Run or Head, and (for a Run) the store:
// the words the Run writes, as they go to DRAM; `forwarded_only` when they
// never do, the next job reading them in its output half. A pair's first
// job also holds the second's loads (one input half for both), and
// `prefetch` when the job after next is the pair's next band, whose loads
// go out right after this job's Run.
struct Job {
  std::vector<BandInstruction> loads;
  BandInstruction work;
  std::optional<BandInstruction> store;
  bool forwarded_only = false;
  bool prefetch = false;
  bool loads_emitted = false;

  const BandInstruction* emitted_store() const { return store && !forwarded_only ? &*store : nullptr; }
};

// A Load for `node` of rows of `tensor`'s output (placed at `source`).
BandInstruction block_load(int node, int tensor, const NodePlacement& source, RowRange rows, std::int64_t scratch,
                           int half) {
  const TensorShape& in = source.shape;
  const std::int64_t base = source.fmap_base;
  BandInstruction load;
  load.op = BandOp::Load;
  load.node = node;
  load.tensor = tensor;
  load.writes = input_half_bit(half);
  load.channels = in.channels;
  load.words = std::int64_t{rows.count()} * in.width;
  load.dram_word = base + std::int64_t{rows.first} * in.width;
  load.dram_stride = std::int64_t{in.height} * in.width;
  load.scratch_word = scratch;
  load.scratch_stride = load.words;
  return load;
}

// Rewrites the node's descriptor for a band: bases into the halves, the
// band's rows, the pad rows above its first loaded row.
PackedWord band_descriptor(const PackedWord& node_word, const std::vector<std::int64_t>& in_bases, int in_rows,
                           int pad_top, int rows, std::int64_t out_base, const BandBuffers& buffers, int constant_half) {
  PackedWord word = node_word;
  for (size_t k = 0; k < in_bases.size(); ++k) word["in_base" + std::to_string(k)] = in_bases[k];
  word["in_h"] = in_rows;
  word["pad_top"] = pad_top;
  word["out_h"] = rows;
  word["out_base"] = out_base;
  const std::int64_t none = all_ones(32);
  if (word["weight_base"] != none) word["weight_base"] = constant_half * buffers.weight_words;
  if (word["bias_base"] != none) word["bias_base"] = constant_half * buffers.bias_words;
  if (word["requant_base"] != none) word["requant_base"] = constant_half * buffers.requant_words;
  word["view"] = 0;
  return word;
}

// Whether a load reads any DRAM word a store writes.
bool reads_stored_words(const BandInstruction& load, const BandInstruction& store) {
  auto end_of = [](const BandInstruction& i) { return i.dram_word + (i.channels - 1) * i.dram_stride + i.words; };
  if (load.dram_word >= end_of(store) || store.dram_word >= end_of(load)) return false;
  for (int a = 0; a < load.channels; ++a) {
    const std::int64_t load_begin = load.dram_word + a * load.dram_stride, load_end = load_begin + load.words;
    for (int b = 0; b < store.channels; ++b) {
      const std::int64_t store_begin = store.dram_word + b * store.dram_stride;
      if (load_begin < store_begin + store.words && store_begin < load_end) return true;
    }
  }
  return false;
}

bool has_constants(const PackedWord& word) {
  const std::int64_t none = all_ones(32);
  return word["weight_base"] != none || word["bias_base"] != none || word["requant_base"] != none;
}

class Builder {
 public:
  Builder(const QuantModel& model, const MemoryMap& map, const std::vector<PackedWord>& program,
          const BandBuffers& buffers)
      : model_(model), map_(map), program_(program) {
    result_.buffers = buffers;
  }

  BandProgram build() {
    const std::vector<std::vector<BandMember>> groups = band_groups();
    folded_ = folded_upsamples(groups);
    for (const std::vector<BandMember>& members : groups) {
      if (!folded_[members.front().node]) add_node_jobs(members);
    }
    result_.head_pitch_modulus = head_pitch_modulus();
    for (size_t level = 0; level < model_.graph.levels.size(); ++level) add_head_jobs(static_cast<int>(level));
    emit();
    return std::move(result_);
  }

 private:
  // The computing nodes whose bands are cut together, in node order: one
  // node, or a pair (fmap_plan.hpp).
  std::vector<std::vector<BandMember>> band_groups() const {
    std::vector<std::vector<BandMember>> groups;
    const auto& nodes = model_.graph.nodes;
    for (int i = 0; i < static_cast<int>(nodes.size()); ++i) {
      if (nodes[i].op == OpKind::Input || map_.nodes[i].view) continue;
      const int consumer = map_.nodes[i].forwarded_to;
      if (consumer < 0) {
        groups.push_back({{i}});
        continue;
      }
      groups.push_back({{i}, {consumer, i}});
      i = consumer;
    }
    return groups;
  }

  // The foldable upsamples (fmap_plan.hpp) whose readers' bands of two
  // rows fit the halves; the others run as nodes of their own (fmap_plan.hpp
  // gives every upsample's output its DRAM words, folded or not).
  std::vector<bool> folded_upsamples(const std::vector<std::vector<BandMember>>& groups) const {
    std::vector<bool> folded(map_.nodes.size());
    for (size_t i = 0; i < folded.size(); ++i) folded[i] = map_.nodes[i].foldable;
    for (const std::vector<BandMember>& members : groups) {
      if (largest_band(model_.graph, map_, members, 2).fits(result_.buffers)) continue;
      for (const BandMember& member : members) {
        for (int input : model_.graph.nodes[member.node].inputs) {
          for (const FoldedPart& part : folded_parts(model_.graph, map_, folded, input)) folded[part.upsample] = false;
        }
      }
    }
    return folded;
  }

  // One node's bands, or a pair's (alternating, the second reading the
  // first's bands forwarded). When each node of a pair fits the halves
  // whole, each takes one band in an input half of its own (the second's
  // loads overlap the first's Run, as for two nodes); else the pair's bands
  // share an input half, the second's loads going out with the first's, and
  // the next band's right after the first's Run. A pair holds both constant
  // halves until its last band: the node after it loads its constants after
  // that band's Run.
  void add_node_jobs(const std::vector<BandMember>& members) {
    const Graph& graph = model_.graph;
    const int height = map_.nodes[members.front().node].shape.height;
    const bool whole = std::all_of(members.begin(), members.end(), [&](BandMember m) {
      return band_words(graph, map_, m, 0, height).fits(result_.buffers);
    });
    const bool shared_half = members.size() > 1 && !whole;
    const int band_rows = whole ? height : choose_band_rows(graph, map_, folded_, members, result_.buffers);
    const int first_job = static_cast<int>(jobs_.size());
    std::vector<int> constant_halves;
    for (size_t m = 0; m < members.size(); ++m) {
      const int index = members[m].node;
      const int half = has_constants(program_[index]) ? next_constant_half_++ % 2 : -1;
      constant_halves.push_back(half);
      if (half >= 0) constant_nodes_.push_back({index, half, m == 0 ? constants_after_job_ : first_job});
    }
    std::vector<NodeBands> bands;
    for (const BandMember& member : members) bands.push_back({member.node, band_rows, {}, 0, 0, 0});
    const std::vector<RowRange> cuts = node_bands(graph, map_, folded_, members, band_rows, result_.buffers);
    for (size_t b = 0; b < cuts.size(); ++b) {
      int input_half = next_input_half();
      std::int64_t scratch = result_.buffers.input_half(input_half);
      for (size_t m = 0; m < members.size(); ++m) {
        if (m > 0 && !shared_half) {
          input_half = next_input_half();
          scratch = result_.buffers.input_half(input_half);
        }
        add_band_job(members[m].node, cuts[b].first, cuts[b].count(), constant_halves[m], input_half, scratch);
        Job& job = jobs_.back();
        job.forwarded_only = m + 1 < members.size();
        if (m > 0) check_forwarded(job, members[m]);
        bands[m].band_heights.push_back(cuts[b].count());
        std::int64_t band_words = 0;
        for (const BandInstruction& load : job.loads) {
          band_words += scratch_words(load);
          bands[m].read_bytes += dram_bytes(load, map_);
          scratch += load.channels * load.scratch_stride;
        }
        bands[m].largest_band_words = std::max(bands[m].largest_band_words, band_words);
        if (const BandInstruction* store = job.emitted_store()) bands[m].written_bytes += dram_bytes(*store, map_);
      }
      if (shared_half) {
        Job& first = jobs_[jobs_.size() - 2];
        Job& second = jobs_.back();
        first.loads.insert(first.loads.end(), second.loads.begin(), second.loads.end());
        second.loads.clear();
        first.prefetch = b + 1 < cuts.size();
      }
    }
    bands.front().stored = members.size() == 1;
    result_.nodes.insert(result_.nodes.end(), bands.begin(), bands.end());
    constants_after_job_ = members.size() == 1 ? first_job + tallest_band(cuts) : static_cast<int>(jobs_.size()) - 1;
  }

  // The band with the most rows, the first of them: the next node's
  // constants load under its Run, the longest, where they delay the next
  // band's loads least (not under a node's short first band).
  static int tallest_band(const std::vector<RowRange>& cuts) {
    const auto tallest = std::max_element(cuts.begin(), cuts.end(),
                                          [](const RowRange& a, const RowRange& b) { return a.count() < b.count(); });
    return static_cast<int>(tallest - cuts.begin());
  }

  // A pair's second node must read the first's band where it is: its store
  // is never emitted.
  void check_forwarded(const Job& job, const BandMember& member) const {
    for (const BandInstruction& load : job.loads) {
      if (load.tensor == member.forwarded) {
        throw Error("band program: layer " + model_.graph.nodes[member.node].name + " loads the band of " +
                    model_.graph.nodes[member.forwarded].name + " it should read forwarded");
      }
    }
  }

  // Input halves alternate from band to band (a pair's two jobs share one);
  // output halves from job to job.
  int next_input_half() { return input_half_ ^= 1; }

  // A job whose loads go into input half `input_half` from scratch word
  // `scratch` on.
  void add_band_job(int index, int first, int rows, int constant_half, int input_half, std::int64_t scratch) {
    const Node& node = model_.graph.nodes[index];
    const TensorShape& out = map_.nodes[index].shape;
    const int half = static_cast<int>(jobs_.size() % 2);
    Job job;
    std::vector<std::int64_t> in_bases;
    const RowRange wanted = unclipped_input_rows(node, first, first + rows - 1);
    int in_rows = 0;
    unsigned reads = 0;
    for (int input : node.inputs) {
      const TensorShape& in = map_.nodes[input].shape;
      const RowRange range = clip(wanted, in.height);
      const BandInstruction load = block_load(index, input, map_.nodes[input], range, scratch, input_half);
      const std::vector<BandInstruction> parts = unfolded(load, range);
      if (parts.size() == 1 && parts.front().op == BandOp::Load) {
        in_bases.push_back(place_input(job, load, reads, scratch));
      } else {
        in_bases.push_back(scratch);
        for (const BandInstruction& part : parts) place_load(job, part, reads, scratch);
      }
      in_rows = range.count();
    }
    const std::int64_t out_base = result_.buffers.output_half(half);
    result_.descriptors.push_back(band_descriptor(program_[index], in_bases, in_rows, std::max(0, -wanted.first), rows,
                                                  out_base, result_.buffers, std::max(constant_half, 0)));
    job.work.op = BandOp::Run;
    job.work.node = index;
    job.work.descriptor = static_cast<int>(result_.descriptors.size()) - 1;
    job.work.reads = reads | (constant_half >= 0 ? constant_half_bit(constant_half) : 0u);
    job.work.writes = output_half_bit(half);
    BandInstruction store;
    store.op = BandOp::Store;
    store.node = index;
    store.tensor = index;
    store.reads = output_half_bit(half);
    store.channels = out.channels;
    store.words = std::int64_t{rows} * out.width;
    store.dram_word = map_.nodes[index].fmap_base + std::int64_t{first} * out.width;
    store.dram_stride = std::int64_t{out.height} * out.width;
    store.scratch_word = out_base;
    store.scratch_stride = store.words;
    job.store = store;
    jobs_.push_back(std::move(job));
  }

  // A load of `rows` of a tensor as loads of its channels in order, those
  // of a folded upsample as UpsampleLoads of its input's rows (whole input
  // rows: `rows` start on an even row and count an even number).
  std::vector<BandInstruction> unfolded(const BandInstruction& load, RowRange rows) const {
    const std::vector<FoldedPart> folded = folded_parts(model_.graph, map_, folded_, load.tensor);
    if (folded.empty()) return {load};
    if (rows.first % 2 != 0 || rows.count() % 2 != 0) {
      throw Error("band program: layer " + model_.graph.nodes[load.node].name + " reads rows " +
                  std::to_string(rows.first) + ".." + std::to_string(rows.last) + " of the folded upsample in " +
                  model_.graph.nodes[load.tensor].name + ", not whole input rows");
    }
    std::vector<BandInstruction> parts;
    int channel = 0;
    for (const FoldedPart& part : folded) {
      if (part.first > channel) parts.push_back(channel_range(load, channel, part.first - channel));
      const int source = model_.graph.nodes[part.upsample].inputs.at(0);
      const TensorShape& in = map_.nodes[source].shape;
      BandInstruction up = channel_range(load, part.first, part.count);
      up.op = BandOp::UpsampleLoad;
      up.tensor = source;
      up.row_words = in.width;
      up.words = std::int64_t{rows.count() / 2} * in.width;
      up.dram_word = map_.nodes[source].fmap_base + std::int64_t{rows.first / 2} * in.width;
      up.dram_stride = std::int64_t{in.height} * in.width;
      parts.push_back(up);
      channel = part.first + part.count;
    }
    if (channel < load.channels) parts.push_back(channel_range(load, channel, load.channels - channel));
    return parts;
  }

  void add_head_jobs(int level) {
    const DetectLevel& detect = model_.graph.levels[level];
    const TensorShape& box = map_.nodes[detect.box_node].shape;
    const int band_rows = head_band_rows(level);
    result_.head_band_rows.push_back(band_rows);
    for (int first = 0; first < box.height; first += band_rows) {
      const int rows = std::min(band_rows, box.height - first);
      const int half = next_input_half();
      const RowRange range{first, first + rows - 1};
      const std::int64_t pitch = head_channel_pitch(std::int64_t{rows} * box.width, result_.head_pitch_modulus);
      std::int64_t scratch = result_.buffers.input_half(half);
      unsigned reads = 0;
      Job job;
      const std::int64_t box_word = place_load(
          job, pitched(block_load(detect.box_node, detect.box_node, map_.nodes[detect.box_node], range, scratch, half), pitch),
          reads, scratch);
      const std::int64_t class_word = place_load(
          job, pitched(block_load(detect.class_node, detect.class_node, map_.nodes[detect.class_node], range, scratch, half),
                  pitch),
          reads, scratch);
      job.work.op = BandOp::Head;
      job.work.node = detect.class_node;
      job.work.reads = reads;
      job.work.level = level;
      job.work.first_row = first;
      job.work.rows = rows;
      job.work.scratch_word = box_word;
      job.work.scratch_stride = pitch;
      job.work.class_word = class_word;
      for (const BandInstruction& load : job.loads) result_.head_read_bytes += dram_bytes(load, map_);
      jobs_.push_back(std::move(job));
    }
  }

  // The words of a detect level's band of `rows` rows: its box and class
  // channels, each at the head's channel pitch of 1 modulo `modulus`.
  std::int64_t head_band_words(const DetectLevel& detect, int rows, std::int64_t modulus) const {
    const TensorShape& box = map_.nodes[detect.box_node].shape;
    const TensorShape& cls = map_.nodes[detect.class_node].shape;
    return (box.channels + cls.channels) * head_channel_pitch(std::int64_t{rows} * box.width, modulus);
  }

  // The largest modulus, kScratchBankRowWords down to 2, at which one row of
  // every detect level fits an input half (2 when none does: then
  // head_band_rows names the level).
  std::int64_t head_pitch_modulus() const {
    std::int64_t modulus = kScratchBankRowWords;
    const auto fits = [&](std::int64_t m) {
      for (const DetectLevel& detect : model_.graph.levels) {
        if (head_band_words(detect, 1, m) > result_.buffers.input_words) return false;
      }
      return true;
    };
    while (modulus > 2 && !fits(modulus)) modulus /= 2;
    return modulus;
  }

  // The most rows of a detect level whose box and class channels, each at
  // the head's channel pitch, fit an input half.
  int head_band_rows(int level) const {
    const DetectLevel& detect = model_.graph.levels[level];
    const TensorShape& box = map_.nodes[detect.box_node].shape;
    const auto band_words = [&](int rows) { return head_band_words(detect, rows, result_.head_pitch_modulus); };
    int rows = box.height;
    while (rows > 0 && band_words(rows) > result_.buffers.input_words) --rows;
    if (rows == 0) {
      throw Error("detect level " + std::to_string(level) + ": one row of its box and class outputs is " +
                  std::to_string(band_words(1)) + " feature-map words at the head's channel pitch, more than the input band buffer's half of " +
                  std::to_string(result_.buffers.input_words));
    }
    return rows;
  }

  static BandInstruction pitched(BandInstruction load, std::int64_t pitch) {
    load.scratch_stride = pitch;
    return load;
  }

  // Loads into the band's input half at `scratch`, which moves past it; adds
  // the half to `reads`.
  std::int64_t place_load(Job& job, const BandInstruction& load, unsigned& reads, std::int64_t& scratch) {
    job.loads.push_back(load);
    reads |= load.writes;
    scratch += load.channels * load.scratch_stride;
    return load.scratch_word;
  }

  // Where a band reads one input: in the output half of the job before it
  // when that job's store holds every word of it (forwarded: no load, and
  // no DRAM round trip before the band can run), else loaded into the
  // band's input half at `scratch`, which moves past it. Adds the half to
  // `reads`.
  std::int64_t place_input(Job& job, const BandInstruction& load, unsigned& reads, std::int64_t& scratch) {
    if (const std::optional<std::int64_t> word = forwarded_word(load)) {
      reads |= jobs_.back().work.writes;
      result_.forwarded_bytes += dram_bytes(load, map_);
      return *word;
    }
    return place_load(job, load, reads, scratch);
  }

  // The scratch word of a load's first word in the previous job's output
  // half, if the load takes exactly that job's band (every channel, the
  // same rows), or that job wrote its node's whole output (one band) and
  // the load takes whole channels of it.
  std::optional<std::int64_t> forwarded_word(const BandInstruction& load) const {
    if (jobs_.empty() || !jobs_.back().store) return std::nullopt;
    const BandInstruction& store = *jobs_.back().store;
    const bool same_band = load.dram_word == store.dram_word && load.dram_stride == store.dram_stride &&
                           load.words == store.words && load.channels == store.channels;
    if (same_band) return store.scratch_word;
    const bool whole_channels = load.dram_stride == load.words && store.dram_stride == store.words;
    const std::int64_t offset = load.dram_word - store.dram_word;
    if (!whole_channels || offset < 0 || offset + load.channels * load.words > store.channels * store.words) {
      return std::nullopt;
    }
    return store.scratch_word + offset;
  }

  // A load waits for the store unit only when it reads words of the store
  // emitted last: stores run one at a time, so every earlier one is over.
  // The leading and trailing channels of such a load that read none of
  // them (a concat's other inputs) go first, without the barrier.
  void emit_loads(const std::vector<BandInstruction>& loads) {
    for (const BandInstruction& load : loads) {
      if (!last_store_ || !reads_stored_words(load, *last_store_)) {
        result_.instructions.push_back(load);
        continue;
      }
      const auto [free_parts, reading] = split_channels(load, *last_store_);
      for (const BandInstruction& part : free_parts) result_.instructions.push_back(part);
      result_.instructions.push_back(reading);
      result_.instructions.back().barrier = true;
    }
  }

  // Channels [first, first + count) of a load.
  static BandInstruction channel_range(BandInstruction load, int first, int count) {
    load.dram_word += first * load.dram_stride;
    load.scratch_word += first * load.scratch_stride;
    load.channels = count;
    return load;
  }

  // A load that reads `store`'s words cut by channels: its leading and
  // trailing channels that read none of them, and the channels between.
  std::pair<std::vector<BandInstruction>, BandInstruction> split_channels(const BandInstruction& load,
                                                                          const BandInstruction& store) const {
    const auto reads = [&](int channel) { return reads_stored_words(channel_range(load, channel, 1), store); };
    int first = 0, last = load.channels;  // the channels [first, last) read the store's words
    while (first < last && !reads(first)) ++first;
    while (last > first && !reads(last - 1)) --last;
    std::vector<BandInstruction> free_parts;
    if (first > 0) free_parts.push_back(channel_range(load, 0, first));
    if (last < load.channels) free_parts.push_back(channel_range(load, last, load.channels - last));
    return {free_parts, channel_range(load, first, last - first)};
  }

  // A load cut after its first `rows` rows: the rows before, the rows after
  // (each channel's run shortened, the scratch channel pitch kept).
  std::pair<BandInstruction, BandInstruction> cut_rows(const BandInstruction& load, std::int64_t rows) const {
    const std::int64_t words = rows * map_.nodes[load.tensor].shape.width;
    BandInstruction before = load, after = load;
    before.words = words;
    after.words = load.words - words;
    after.dram_word += words;
    after.scratch_word += run_scratch_words(before);
    return {before, after};
  }

  // The next job's loads split around `store` (which they may read): the
  // loads, leading and trailing channels and leading rows that read none of
  // its words, which can go out before it and overlap the band that
  // computes them, and the rest.
  std::pair<std::vector<BandInstruction>, std::vector<BandInstruction>> split_by_store(
      const std::vector<BandInstruction>& loads, const BandInstruction& store) const {
    std::vector<BandInstruction> early, late;
    for (const BandInstruction& whole : loads) {
      if (!reads_stored_words(whole, store)) {
        early.push_back(whole);
        continue;
      }
      const auto [free_channels, load] = split_channels(whole, store);
      early.insert(early.end(), free_channels.begin(), free_channels.end());
      const std::int64_t width = map_.nodes[load.tensor].shape.width, rows = load.words / width;
      std::int64_t free_rows = 0;  // leading rows that read none of the store's words
      while (free_rows + 1 < rows && !reads_stored_words(cut_rows(load, free_rows + 1).first, store)) ++free_rows;
      if (free_rows == 0) {
        late.push_back(load);
        continue;
      }
      const auto [before, after] = cut_rows(load, free_rows);
      early.push_back(before);
      late.push_back(after);
    }
    return {early, late};
  }

  // The loads of `store`'s words (split_by_store's late parts) as copies
  // from the output half it stores. Each lies within the store's words,
  // channel for channel: its leading rows and outer channels outside them
  // went early, and the rows after the store's are not written yet (a view's
  // load reads its tensor's words, at the same channel stride).
  std::vector<BandInstruction> copies_from(const std::vector<BandInstruction>& loads, const BandInstruction& store) const {
    std::vector<BandInstruction> copies;
    for (const BandInstruction& load : loads) {
      const std::int64_t offset = load.dram_word - store.dram_word;
      const std::int64_t first_channel = offset / store.dram_stride, within = offset % store.dram_stride;
      if (load.dram_stride != store.dram_stride || offset < 0 || within + load.words > store.words ||
          first_channel + load.channels > store.channels) {
        throw Error("band program: layer " + model_.graph.nodes[load.node].name +
                    " reads words around the store it copies from (a band plan the copies do not cover)");
      }
      BandInstruction copy = load;
      copy.op = BandOp::Copy;
      copy.reads = store.reads;
      copy.barrier = false;
      copy.source_word = store.scratch_word + first_channel * store.scratch_stride + within;
      copy.source_stride = store.scratch_stride;
      copies.push_back(copy);
    }
    return copies;
  }

  // Copies replace loads: their bytes are read on chip, not from DRAM.
  void emit_copies(const std::vector<BandInstruction>& copies) {
    for (const BandInstruction& copy : copies) {
      result_.instructions.push_back(copy);
      const std::int64_t bytes = dram_bytes(copy, map_);
      for (NodeBands& node : result_.nodes) {
        if (node.node == copy.node) node.read_bytes -= bytes;
      }
      result_.forwarded_bytes += bytes;
    }
  }

  void emit_store(const BandInstruction& store) {
    result_.instructions.push_back(store);
    last_store_ = store;
  }

  void emit_constants(size_t constant) {
    BandInstruction load;
    load.op = BandOp::Constants;
    load.node = constant_nodes_[constant].node;
    load.half = constant_nodes_[constant].half;
    load.writes = constant_half_bit(load.half);
    result_.instructions.push_back(load);
  }

  // Each job's Run goes out, then the store of the job before it (deferred
  // to here), then the next job's loads (into the other input half, so
  // they overlap the Run); the job's own Store waits for the next job's
  // Run, so the issuer reaches that Run (and fetches its descriptor) while
  // this one computes. When the next job reads words of this job's Store
  // (a node's first band reading the node before it), the Store goes out
  // right after the Run and the loads of those words become copies from
  // its output half after it; the loads (and a load's leading rows and
  // outer channels) that read none of them go before the Store. The loads
  // of the job after next may go out under a convolution's Run
  // (hoist_loads). A pair's first
  // job with `prefetch` sends the loads of the job after next (its next
  // band, into the other input half) right after its Run. A node's
  // Constants go out right after the Run of the tallest band of the
  // computing node before it (after the last Run of a pair; at the start
  // for the first), so that they load while that node computes.
  void emit() {
    size_t next_constant = 0;
    auto constants_due = [&](int after_job) {
      while (next_constant < constant_nodes_.size() && constant_nodes_[next_constant].after_job == after_job) {
        emit_constants(next_constant++);
      }
    };
    std::optional<BandInstruction> deferred_store;
    auto flush_store = [&] {
      if (deferred_store) emit_store(*deferred_store);
      deferred_store.reset();
    };
    constants_due(-1);
    if (!jobs_.empty()) emit_loads(jobs_[0].loads);
    for (size_t j = 0; j < jobs_.size(); ++j) {
      result_.instructions.push_back(jobs_[j].work);
      constants_due(static_cast<int>(j));
      flush_store();
      if (jobs_[j].prefetch) {  // after the store before: they may read its words
        emit_loads(jobs_[j + 2].loads);
        jobs_[j + 2].loads_emitted = true;
      }
      const bool has_next = j + 1 < jobs_.size();
      const BandInstruction* store = jobs_[j].emitted_store();
      const std::vector<BandInstruction> no_loads;
      const std::vector<BandInstruction>& next_loads = has_next && !jobs_[j + 1].loads_emitted ? jobs_[j + 1].loads : no_loads;
      const bool next_reads_store = store && std::any_of(next_loads.begin(), next_loads.end(), [&](const BandInstruction& l) {
                                      return reads_stored_words(l, *store);
                                    });
      if (next_reads_store) {
        const auto [early, late] = split_by_store(next_loads, *store);
        std::vector<BandInstruction> copied, upsampled;
        for (const BandInstruction& load : late) (load.op == BandOp::UpsampleLoad ? upsampled : copied).push_back(load);
        emit_loads(early);
        emit_store(*store);
        emit_copies(copies_from(copied, *store));
        emit_loads(upsampled);  // no copy upsamples: they wait for the store
      } else if (!has_next) {
        if (store) emit_store(*store);
      } else {
        emit_loads(next_loads);
        if (store) deferred_store = *store;
        hoist_loads(j, next_loads);
      }
    }
    flush_store();
    BandInstruction end;
    end.op = BandOp::End;
    result_.instructions.push_back(end);
  }

  // Multiply-accumulates a convolution's band takes per byte of loads that
  // may go out under it (a 32x32 array does 1,024 multiply-accumulates a
  // cycle, a load moves 5 to 25 bytes a cycle: 100 hid the 640x640 frame's
  // hoistable loads best of 20, 60, 100 and 200 on both arrays).
  static constexpr std::int64_t kHoistMacsPerByte = 100;

  // A band's multiply-accumulates (0 for the element-wise ops and the head).
  std::int64_t band_macs(const Job& job) const {
    if (job.work.op != BandOp::Run) return 0;
    const PackedWord& band = result_.descriptors.at(static_cast<size_t>(job.work.descriptor));
    if (band["op"] != static_cast<std::int64_t>(ProgramOp::Conv)) return 0;
    return band["out_c"] * band["out_h"] * band["out_w"] * band["in_c"] * band["kernel"] * band["kernel"];
  }

  // The loads of the job after next go out right after job j's (the next
  // job's) loads, while job j's Run computes (nothing before them waits for
  // it: its Store is deferred), when they can overlap that Run instead of
  // the next job's, which may be short (a pair's residual add, a one-band
  // node): those
  // into an input half neither Run touches, reading no words of a store not
  // yet emitted or still running, when job j is a convolution long enough
  // to hide them. The rest keep their place.
  void hoist_loads(size_t j, const std::vector<BandInstruction>& next_loads) {
    if (j + 2 >= jobs_.size() || jobs_[j + 2].loads_emitted || jobs_[j + 1].prefetch) return;
    const Job &job = jobs_[j], &next = jobs_[j + 1];
    Job& after = jobs_[j + 2];
    const unsigned busy = job.work.reads | job.work.writes | next.work.reads | next.work.writes;
    std::vector<const BandInstruction*> pending_stores = {job.emitted_store(), next.emitted_store()};
    if (last_store_) pending_stores.push_back(&*last_store_);
    std::int64_t bytes = 0;
    for (const BandInstruction& load : next_loads) bytes += dram_bytes(load, map_);
    std::vector<BandInstruction> hoisted, kept;
    for (const BandInstruction& load : after.loads) {
      if ((load.writes & busy) != 0) {
        kept.push_back(load);
        continue;
      }
      // Cut off, store by store, the channels that read its words.
      std::vector<BandInstruction> free = {load};
      for (const BandInstruction* store : pending_stores) {
        if (store == nullptr) continue;
        std::vector<BandInstruction> still_free;
        for (const BandInstruction& part : free) {
          if (!reads_stored_words(part, *store)) {
            still_free.push_back(part);
            continue;
          }
          const auto [free_parts, reading] = split_channels(part, *store);
          still_free.insert(still_free.end(), free_parts.begin(), free_parts.end());
          kept.push_back(reading);
        }
        free = still_free;
      }
      for (const BandInstruction& part : free) bytes += dram_bytes(part, map_);
      hoisted.insert(hoisted.end(), free.begin(), free.end());
    }
    if (hoisted.empty() || band_macs(job) < kHoistMacsPerByte * bytes) return;
    for (const BandInstruction& load : hoisted) result_.instructions.push_back(load);
    after.loads = kept;
  }

  struct ConstantNode {
    int node = 0, half = 0;
    int after_job = -1;  // emitted after this job's Run (-1: first of all)
  };

  const QuantModel& model_;
  const MemoryMap& map_;
  const std::vector<PackedWord>& program_;
  BandProgram result_;
  std::vector<Job> jobs_;
  std::vector<ConstantNode> constant_nodes_;
  std::vector<bool> folded_;  // per node: an upsample its readers' loads perform
  int next_constant_half_ = 0;
  int input_half_ = 1;  // the input half of the last band (the first takes half 0)
  // The job after whose Run the next node's constants load: the tallest
  // band's of the last node added, the last job of a pair.
  int constants_after_job_ = -1;
  std::optional<BandInstruction> last_store_;  // the store emitted last
};

}  // namespace

const char* band_op_name(BandOp op) {
  switch (op) {
    case BandOp::Load: return "load";
    case BandOp::Store: return "store";
    case BandOp::Constants: return "constants";
    case BandOp::Run: return "run";
    case BandOp::Head: return "head";
    case BandOp::End: return "end";
    case BandOp::Copy: return "copy";
    case BandOp::UpsampleLoad: return "upsample_load";
  }
  throw Error("unknown band instruction");
}

std::int64_t dram_bytes(const BandInstruction& ins, const MemoryMap& map) {
  return ins.channels * ins.words * map.nodes.at(static_cast<size_t>(ins.tensor)).fmap_slot_bytes;
}

std::int64_t run_scratch_words(const BandInstruction& ins) {
  return ins.words * (ins.op == BandOp::UpsampleLoad ? 4 : 1);
}

std::int64_t scratch_words(const BandInstruction& ins) { return ins.channels * run_scratch_words(ins); }

std::int64_t head_channel_pitch(std::int64_t words, std::int64_t modulus) {
  return (words - 1 + modulus - 1) / modulus * modulus + 1;
}

BandProgram band_program(const QuantModel& model, const MemoryMap& map, const std::vector<PackedWord>& program,
                         const BandBuffers& buffers) {
  if (buffers.input_words < 1 || buffers.output_words < 1) throw Error("the band buffers need at least one word");
  return Builder(model, map, program, buffers).build();
}

std::vector<PackedWord> pack_band_program(const BandProgram& program, const MemoryMap& map, const DramMap& dram) {
  std::vector<PackedWord> words;
  for (const BandInstruction& ins : program.instructions) {
    PackedWord word(band_instruction_layout());
    word["op"] = static_cast<int>(ins.op);
    word["reads"] = ins.reads;
    word["writes"] = ins.writes;
    word["barrier"] = ins.barrier ? 1 : 0;
    word["node"] = ins.node;
    // A Load's, Store's or Copy's runs: their count, length and scratch words.
    auto runs = [&] {
      word["channels"] = ins.channels;
      word["words"] = ins.words;
      word["scratch_word"] = ins.scratch_word;
      word["scratch_stride"] = ins.scratch_stride;
    };
    switch (ins.op) {
      case BandOp::Load:
      case BandOp::UpsampleLoad:
      case BandOp::Store: {
        const NodePlacement& tensor = map.nodes.at(static_cast<size_t>(ins.tensor));
        const std::int64_t first_byte = tensor.fmap_dram_offset + (ins.dram_word - tensor.fmap_base) * tensor.fmap_slot_bytes;
        runs();
        word["slot_log2"] = std::countr_zero(static_cast<unsigned>(8 * tensor.fmap_slot_bytes));
        word["dram_address"] = dram.region("fmap").base + first_byte;
        word["dram_stride"] = ins.dram_stride * tensor.fmap_slot_bytes;
        word["row_words"] = ins.row_words;
        break;
      }
      case BandOp::Constants:
        word["half"] = ins.half;
        word["dram_address"] = dram.address("program", ins.node);
        break;
      case BandOp::Copy:
        runs();
        word["dram_address"] = ins.source_word;
        word["dram_stride"] = ins.source_stride;
        break;
      case BandOp::Run: word["dram_address"] = dram.address("band_descriptors", ins.descriptor); break;
      case BandOp::Head:
        word["level"] = ins.level;
        word["first_row"] = ins.first_row;
        word["rows"] = ins.rows;
        word["scratch_word"] = ins.scratch_word;
        word["scratch_stride"] = ins.scratch_stride;
        word["class_word"] = ins.class_word;
        break;
      case BandOp::End: break;
    }
    words.push_back(word);
  }
  return words;
}

}  // namespace yq
