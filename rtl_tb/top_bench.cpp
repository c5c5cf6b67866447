// Frame bench of rtl/yq_top.v, run by `make top RUN=<run dir> ...`: the whole
// frame from the stage_7 DRAM image through the IP's AXI4 master, driven
// through its AXI4-Lite registers like a host driver would.
//
// The DRAM model (axi_dram_model.hpp) holds stage_7/dram.hex (one beat per
// line, byte 0 the least significant) in a memory of memory_map.json's
// total_bytes, plus the image: the golden input codes (stage_8/golden) at
// memory_map.json's image base, one slot of node 0's width each; the detection
// region is filled with 0xa5 bytes, so bytes the frame should not write
// show. The bench writes DRAM_BASE = 0 and CONTROL = start | irq enable,
// runs until irq, then reads STATUS, ERROR, CYCLES, STALLS, BYTES_READ,
// BYTES_WRITTEN. BYTES_READ must equal the bytes the model served,
// BYTES_WRITTEN the bytes it took. Without an error expected the status must be done
// without error, and every head output (descriptor head != none) is read
// from the DRAM model's feature-map region, where the band program's stores
// put it (memory_map.json: its byte address and slot width), and compared
// with its golden dump code for code; the first
// difference prints
//   MISMATCH layer <name> channel c y x expected E got G
// Then the detection list, read through the AXI4-Lite slave as a driver
// would (DET_COUNT, then per detection DET_INDEX and the DET_WORD window),
// is compared with stage_8/golden/q_nms.txt field for field
// (rtl_tb/detections.hpp):
//   MISMATCH count expected E got G
//   MISMATCH detection i field F expected E got G
// and the DRAM detection region byte for byte with the list q_nms.txt gives
// (rtl_tb/detections.hpp: slot 0 the count, slots 1 .. count the records,
// the slots after them untouched, so still 0xa5; BYTES_WRITTEN must be the
// band program's stores, manifest.json's band_program.feature_map_bytes_written,
// plus the 1 + count slots):
//   MISMATCH DRAM detection list byte B (slot s) expected E got G
// A watchdog (--watchdog cycles) turns a hang into
//   TOP FAIL: watchdog: no interrupt after N cycles, at layer <name> (node n)
//
// Usage: Vyq_top <absolute run dir> [--timed] [--latency L] [--bandwidth B]
//   [--outstanding N] [--stalls P] [--seed S] [--watchdog N]
//   [--slverr LAYER] [--slverr-write] [--slverr-store LAYER] [--bad-load] [--bad-slot] [--bad-half] [--bad-copy] [--bad-rows] [--bad-op LAYER] [--bad-out-c LAYER] [--bad-table LAYER] [--bad-knots LAYER] [--bad-shift LAYER] [--bad-inputs LAYER] [--bad-base LAYER] [--bad-width LAYER] [--bad-bits LAYER] [--golden DIR]
//   [--print-detections] [--detections-out FILE] [--expect-head-overflow] [--profile FILE] [--census FILE]
//   [--trace FILE]
// --timed: latency 100, 8 bytes/cycle, 4 outstanding bursts, 10 % random
// stalls (each overridable); default magic: latency 20, no cap, no stalls.
// Error cases (the frame must stop with that error code naming the layer):
// --slverr poisons the first weight byte of LAYER (SLVERR: code 1),
// --slverr-write answers writes to the detection region with SLVERR (code 6
// at node YQ_NUM_LAYERS, "the detect head", which writes the list),
// --slverr-store answers writes to the first byte of LAYER's output in the
// feature-map region with SLVERR (code 6 at LAYER, whose store writes it
// first: give a layer no earlier one stores over, e.g. conv0),
// --bad-op writes op 0xff into LAYER's layer-program descriptor in DRAM
// (code 2), --bad-out-c writes out_c 0xffff into a convolution's
// layer-program descriptor, whose weights then exceed the weight buffer
// (code 3), --bad-table makes the LUT directory entry of a convolution's
// SiLU table one entry deeper than the table lanes' half (code 3 at its
// Constants), --bad-knots gives the entry one knot bit fewer than its
// index bits, a table that interpolates, which a conv engine built for
// direct tables only refuses (code 4; a run with YQ_TABLE_INTERPOLATED = 0),
// --bad-shift gives a convolution's first requant word a shift just outside
// YQ_CONV_SHIFT_MIN .. MAX, which its requant units do not take (code 4),
// --bad-inputs writes num_inputs 1 into an add's band descriptors,
// which the element-wise engine refuses (code 4, reported rather than the
// error of a later instruction issued while it runs, e.g. with --slverr on
// the next convolution, whose constants load then), --bad-base writes an
// input base past what the conv engine's lanes address (2^FM_ADDR_W, twice
// the scratch memory rounded up) into a convolution's band descriptors
// (code 4: the engine refuses it), --bad-width writes an input width of
// 2^YQ_MAX_DIM_BITS, wider than the engines' coordinates, into LAYER's band
// descriptors (code 4: its engine refuses it), --bad-bits gives a
// convolution's band descriptors an in_bits one wider than the conv engine's
// operand (a feature-map word, 8 bits more with byte planes; code 4),
// --bad-load moves the band program's first load to end past the scratch
// memory (code 3 at its node), --bad-slot gives it 32-bit DRAM slots, a
// width yq_top does not read (code 2 at its node), --bad-half moves the first load that issues
// while a convolution's band runs into the input half that band reads,
// without changing the halves the load declares, so that the loader writes
// banks the engine reads in the same cycles (code 7 at the convolution),
// --bad-copy moves the first copy's source past the scratch memory (code 3
// at its node), --bad-rows makes the first upsample_load's rows one word
// longer than its runs, so that each run ends inside a row (code 2 at its
// node, once the loader is done),
// --expect-head-overflow
// expects q_NMS to overflow (code 5 at node YQ_NUM_LAYERS, "the detect
// head": a model built with a HEAD_MAX_CAND below the frame's candidates).
// --profile FILE polls NODE, ISSUER, STALLS, BYTES_READ and BYTES_WRITTEN
// through the AXI4-Lite slave while the frame runs (a sample every ~20
// cycles; the datapath does not see it) and charges each interval to the
// node NODE named at its start, or to the detect head's own line when the
// head alone is busy (its Head instructions name a level's class node):
// FILE gets a TSV line per node and one for the detect head (cycles,
// cycles with no engine running, bytes read, bytes written) and the bench
// prints the nodes with the most cycles without an engine, then those
// cycles by what ISSUER said the issuer was doing (rtl/yq_top.v's register
// map).
// --census FILE counts, each cycle an engine or the detect head is busy,
// how its read lanes would fall on two banked scratch memories (class
// BankCensus): 2 x ROWS word-interleaved narrow banks, and wide rows of
// 2 x ROWS words in an even-row and an odd-row bank. A collision is a lane
// set one cycle cannot serve (lanes on one address share its read; lanes
// past the scratch memory read zeros and are not counted), its cost the
// cycles a memory serving one access per bank a cycle would add. FILE gets
// a TSV line per node; the bench prints the totals and the nodes that
// collide most (docs/RTL.md, "Next steps").
// --trace FILE writes the frame's timeline: a TSV line each cycle the
// issuer's instruction (pc, its index in band_program.hex), the engines
// (a conv or element-wise band running), the detect head, the store unit or
// the loader start or stop, with the cycle and all five (the signals are
// public in rtl/yq_top.v; the datapath does not see them). An instruction
// issues when pc moves past it; what it waited for is what was busy.
// --golden DIR (absolute) replaces <run>/stage_8/golden (the image, the head
// outputs and q_nms.txt are read from it). --print-detections prints the
// list the RTL wrote, one line per detection with its class name (from the
// run's stage_6/quant_model.json) and its box in canvas pixels, before the
// comparison; --detections-out FILE writes it in q_nms.txt form (`yq-hw draw`
// draws it on the image), whether or not it matches.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "Vyq_top.h"
#include "Vyq_top___024root.h"
#include "axi_dram_model.hpp"
#include "compiler/detect/detection_list_file.hpp"
#include "detections.hpp"
#include "tb_common.hpp"

namespace fs = std::filesystem;

namespace {

constexpr int kAxiBits = P_AXI_DATA_W;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "TOP FAIL: %s\n", message.c_str());
  std::exit(2);
}

std::string read_text(const fs::path& file) {
  if (auto text = tb::file_text(file)) return *text;
  die("cannot read " + file.string());
}

std::map<std::string, long long> read_params(const fs::path& file) {
  return tb::integer_localparams(read_text(file));
}

std::vector<std::int64_t> read_codes(const fs::path& file, int bits) {
  std::ifstream in(file);
  if (!in) die("cannot read " + file.string());
  std::vector<std::int64_t> codes;
  for (std::string line; std::getline(in, line);) codes.push_back(tb::sign_extend(std::stoull(line, nullptr, 16), bits));
  return codes;
}

// dram.hex: one beat per line, most significant digit first.
void load_dram_hex(const fs::path& file, std::vector<std::uint8_t>& bytes, int beat_bytes) {
  std::ifstream in(file);
  if (!in) die("cannot read " + file.string());
  std::size_t beat = 0;
  for (std::string line; std::getline(in, line); ++beat) {
    if (static_cast<int>(line.size()) != 2 * beat_bytes) die(file.string() + ": line " + std::to_string(beat + 1) + " is not one beat");
    if ((beat + 1) * beat_bytes > bytes.size()) die(file.string() + " is larger than the memory map");
    for (int b = 0; b < beat_bytes; ++b) {
      bytes[beat * beat_bytes + b] = static_cast<std::uint8_t>(std::stoul(line.substr(line.size() - 2 * (b + 1), 2), nullptr, 16));
    }
  }
}

// Per-node totals from register samples: each sample closes the interval
// opened by the previous one and charges it to the node named then.
class NodeProfile {
 public:
  // op_names: YQ_BAND_OP_* codes -> names.
  NodeProfile(std::size_t nodes, std::map<unsigned, std::string> op_names) : rows_(nodes), op_names_(std::move(op_names)) {}

  void charge(std::uint32_t node, std::uint32_t issuer, long long cycle, std::uint32_t stalls, std::uint32_t read,
              std::uint32_t written) {
    if (started_) {
      Row& row = rows_.at(std::min<std::size_t>(open_node_, rows_.size() - 1));
      row.cycles += cycle - last_.cycle;
      row.stalls += stalls - last_.stalls;
      row.read += read - last_.read;
      row.written += written - last_.written;
      row.stalls_by_issuer[open_issuer_] += stalls - last_.stalls;
    }
    started_ = true;
    open_node_ = node;
    open_issuer_ = issuer;
    last_ = {cycle, stalls, read, written};
  }

  template <typename NameOf>
  void write(const fs::path& file, NameOf name_of) const {
    std::ofstream out(file);
    out << "node\tlayer\tcycles\tno_engine_cycles\tbytes_read\tbytes_written\n";
    for (std::size_t n = 0; n < rows_.size(); ++n) {
      const Row& row = rows_[n];
      out << n << '\t' << name_of(static_cast<int>(n)) << '\t' << row.cycles << '\t' << row.stalls << '\t' << row.read
          << '\t' << row.written << '\n';
    }
    if (!out) die("cannot write " + file.string());
    std::vector<std::size_t> order(rows_.size());
    for (std::size_t n = 0; n < order.size(); ++n) order[n] = n;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return rows_[a].stalls > rows_[b].stalls; });
    std::printf("TOP profile (%s): the nodes with the most cycles without an engine\n", file.string().c_str());
    for (std::size_t k = 0; k < std::min<std::size_t>(8, order.size()); ++k) {
      const Row& row = rows_[order[k]];
      std::printf("TOP   %-16s %10lld cycles, %9lld without an engine, %10lld bytes read, %10lld written\n",
                  name_of(static_cast<int>(order[k])).c_str(), row.cycles, row.stalls, row.read, row.written);
      const auto activities = most_cycles_first(by_activity(row.stalls_by_issuer));
      for (std::size_t a = 0; a < std::min<std::size_t>(2, activities.size()); ++a) {
        std::printf("TOP     %-50s %9lld\n", activities[a].second.c_str(), activities[a].first);
      }
    }
    std::map<std::uint32_t, long long> frame_stalls;
    for (const Row& row : rows_) {
      for (const auto& [issuer, stalls] : row.stalls_by_issuer) frame_stalls[issuer] += stalls;
    }
    const auto by_issuer = most_cycles_first(by_activity(frame_stalls));
    std::printf("TOP profile: cycles without an engine by what the issuer was doing\n");
    for (std::size_t k = 0; k < std::min<std::size_t>(8, by_issuer.size()); ++k) {
      std::printf("TOP   %-52s %9lld\n", by_issuer[k].second.c_str(), by_issuer[k].first);
    }
  }

  // Cycles by ISSUER value summed by what each value says (values that
  // differ only in a field the words leave out are one activity).
  std::map<std::string, long long> by_activity(const std::map<std::uint32_t, long long>& stalls) const {
    std::map<std::string, long long> summed;
    for (const auto& [issuer, cycles] : stalls) summed[issuer_activity(issuer)] += cycles;
    return summed;
  }

  // (cycles, activity) pairs, the most cycles first.
  static std::vector<std::pair<long long, std::string>> most_cycles_first(const std::map<std::string, long long>& stalls) {
    std::vector<std::pair<long long, std::string>> sorted;
    for (const auto& [activity, cycles] : stalls) sorted.push_back({cycles, activity});
    std::sort(sorted.rbegin(), sorted.rend());
    return sorted;
  }

  // The ISSUER register in words (its fields: rtl/yq_top.v's register map).
  std::string issuer_activity(std::uint32_t issuer) const {
    static const char* const kDestinations[] = {"a table", "a table", "a descriptor", "constants", "constants",
                                                "constants", "a band", "an instruction", "constants",
                                                "the layer program"};
    const unsigned state = issuer & 31, destination = (issuer >> 5) & 15, op = (issuer >> 16) & 255;
    if (destination >= std::size(kDestinations)) return "issuer state " + std::to_string(state);
    const std::string instruction = op_names_.count(op) ? op_names_.at(op) : "op " + std::to_string(op);
    if (state == 6) return "waiting to issue: " + instruction;
    if (state == 21) return std::string("loading ") + kDestinations[destination] + " (" + instruction + ")";
    if (state == 14) return "run: waiting for the band before, or the store of its output half";
    if (state == 26) return "copying rows from an output half (copy)";
    return "issuer state " + std::to_string(state) + " (" + instruction + ")";
  }

 private:
  struct Row {
    long long cycles = 0, stalls = 0, read = 0, written = 0;
    std::map<std::uint32_t, long long> stalls_by_issuer;  // ISSUER register value -> cycles without an engine
  };
  struct Sample {
    long long cycle = 0;
    std::uint32_t stalls = 0, read = 0, written = 0;
  };
  std::vector<Row> rows_;
  std::map<unsigned, std::string> op_names_;
  bool started_ = false;
  std::uint32_t open_node_ = 0, open_issuer_ = 0;
  Sample last_;
};

// The bank census of --census (see above), per node: for each of two
// memories, the cycles a lane set would collide and what serving it one
// bank access a cycle would add. `banks`: words interleaved over 2 x ROWS
// narrow banks (bank = address mod 2 ROWS), a set served in one cycle when
// its distinct addresses fall in distinct banks. `rows`: wide rows of
// 2 x ROWS words in two banks, even rows and odd rows (UltraRAM-shaped), a
// set served in one cycle when its addresses fall in one even and one odd row.
class BankCensus {
 public:
  BankCensus(std::size_t nodes, int lanes, std::uint32_t scratch_words)
      : rows_(nodes), lanes_(lanes), banks_(2 * lanes), scratch_words_(scratch_words) {}

  // One cycle of `node`'s reads: lane set A, and set B when it is read.
  void sample(std::size_t node, const std::uint32_t* set_a, const std::uint32_t* set_b) {
    Row& row = rows_.at(std::min(node, rows_.size() - 1));
    ++row.cycles;
    const std::vector<std::uint32_t> a = addresses(set_a);
    row.banks_a.add(bank_extra(a));
    row.rows_a.add(row_extra(a));
    if (set_b == nullptr) return;
    const std::vector<std::uint32_t> b = addresses(set_b);
    row.banks_b.add(bank_extra(b));
    row.rows_b.add(row_extra(b));
  }

  template <typename NameOf>
  void write(const fs::path& file, NameOf name_of) const {
    std::ofstream out(file);
    out << "node\tlayer\tbusy_cycles\tbanks_collisions_a\tbanks_extra_a\tbanks_collisions_b\tbanks_extra_b"
           "\trows_collisions_a\trows_extra_a\trows_collisions_b\trows_extra_b\n";
    Row total;
    for (std::size_t n = 0; n < rows_.size(); ++n) {
      const Row& row = rows_[n];
      out << n << '\t' << name_of(static_cast<int>(n)) << '\t' << row.cycles;
      for (const Tally* t : {&row.banks_a, &row.banks_b, &row.rows_a, &row.rows_b}) out << '\t' << t->collisions << '\t' << t->extra;
      out << '\n';
      total.cycles += row.cycles;
      total.banks_a += row.banks_a;
      total.banks_b += row.banks_b;
      total.rows_a += row.rows_a;
      total.rows_b += row.rows_b;
    }
    if (!out) die("cannot write " + file.string());
    std::printf("TOP census (%s): %lld busy cycles\n", file.string().c_str(), total.cycles);
    std::printf("TOP   %d narrow banks: %lld cycles with a collision on set A (%lld cycles more), %lld on set B (%lld more)\n",
                banks_, total.banks_a.collisions, total.banks_a.extra, total.banks_b.collisions, total.banks_b.extra);
    std::printf("TOP   even and odd rows of %d words: %lld cycles with a collision on set A (%lld cycles more), %lld on set B (%lld more)\n",
                banks_, total.rows_a.collisions, total.rows_a.extra, total.rows_b.collisions, total.rows_b.extra);
    std::vector<std::size_t> order(rows_.size());
    for (std::size_t n = 0; n < order.size(); ++n) order[n] = n;
    const auto cost = [&](std::size_t n) {
      const Row& r = rows_[n];
      return r.banks_a.extra + r.banks_b.extra + r.rows_a.extra + r.rows_b.extra;
    };
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return cost(a) > cost(b); });
    for (std::size_t k = 0; k < std::min<std::size_t>(12, order.size()) && cost(order[k]) > 0; ++k) {
      const Row& row = rows_[order[k]];
      std::printf("TOP   %-16s %10lld busy cycles, more with narrow banks %9lld (A) %9lld (B), with rows %9lld (A) %9lld (B)\n",
                  name_of(static_cast<int>(order[k])).c_str(), row.cycles, row.banks_a.extra, row.banks_b.extra,
                  row.rows_a.extra, row.rows_b.extra);
    }
  }

 private:
  struct Tally {
    long long collisions = 0, extra = 0;
    void add(int more) {
      collisions += more > 0;
      extra += more;
    }
    Tally& operator+=(const Tally& t) {
      collisions += t.collisions;
      extra += t.extra;
      return *this;
    }
  };
  struct Row {
    long long cycles = 0;
    Tally banks_a, banks_b, rows_a, rows_b;
  };

  // The distinct in-range addresses of a lane set.
  std::vector<std::uint32_t> addresses(const std::uint32_t* lanes) const {
    std::vector<std::uint32_t> distinct;
    for (int i = 0; i < lanes_; ++i) {
      if (lanes[i] < scratch_words_ && std::find(distinct.begin(), distinct.end(), lanes[i]) == distinct.end()) {
        distinct.push_back(lanes[i]);
      }
    }
    return distinct;
  }

  // Narrow banks: the most distinct addresses on one bank, less one.
  int bank_extra(const std::vector<std::uint32_t>& distinct) const {
    std::vector<int> on_bank(static_cast<std::size_t>(banks_), 0);
    int most = 1;
    for (std::uint32_t a : distinct) most = std::max(most, ++on_bank[a % static_cast<std::uint32_t>(banks_)]);
    return most - 1;
  }

  // Even and odd rows: the most distinct rows of one parity, less one.
  int row_extra(const std::vector<std::uint32_t>& distinct) const {
    std::vector<std::uint32_t> rows;
    for (std::uint32_t a : distinct) {
      const std::uint32_t row = a / static_cast<std::uint32_t>(banks_);
      if (std::find(rows.begin(), rows.end(), row) == rows.end()) rows.push_back(row);
    }
    const auto odd = static_cast<int>(std::count_if(rows.begin(), rows.end(), [](std::uint32_t r) { return r % 2 == 1; }));
    return std::max({1, odd, static_cast<int>(rows.size()) - odd}) - 1;
  }

  std::vector<Row> rows_;
  int lanes_, banks_;
  std::uint32_t scratch_words_;
};

// The timeline of --trace: a line whenever the issuer's pc or the busy
// state of an engine, the head, the store unit or the loader changes.
class Timeline {
 public:
  explicit Timeline(const fs::path& file) : out_(file) {
    if (!out_) die("cannot write " + file.string());
    out_ << "cycle\tpc\tengine\thead\tstore\tload\n";
  }
  void sample(long long cycle, std::uint32_t pc, bool engine, bool head, bool store, bool load) {
    const std::uint32_t state = (engine ? 1u : 0u) | (head ? 2u : 0u) | (store ? 4u : 0u) | (load ? 8u : 0u);
    if (cycle > 0 && pc == pc_ && state == state_) return;
    pc_ = pc;
    state_ = state;
    out_ << cycle << '\t' << pc << '\t' << engine << '\t' << head << '\t' << store << '\t' << load << '\n';
  }
  void close(const fs::path& file) {
    out_.close();
    if (!out_) die("cannot write " + file.string());
  }

 private:
  std::ofstream out_;
  std::uint32_t pc_ = 0, state_ = 0;
};

struct Options {
  fs::path run, golden;
  fs::path detections_out, profile, census, trace;
  bool timed = false, print_detections = false, expect_head_overflow = false, slverr_write = false, bad_load = false, bad_slot = false, bad_half = false,
       bad_copy = false, bad_rows = false;
  int latency = -1, outstanding = -1, stalls = -1;
  double bandwidth = -1;
  std::uint64_t seed = 1;
  long long watchdog = 400'000'000LL;
  std::string slverr, slverr_store, bad_op, bad_out_c, bad_table, bad_knots, bad_shift, bad_inputs, bad_base, bad_width, bad_bits;
};

Options parse(int argc, char** argv) {
  if (argc < 2) die("usage: Vyq_top <absolute run dir> [options] (see rtl_tb/top_bench.cpp)");
  Options o;
  o.run = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--timed") o.timed = true;
    else if (arg == "--latency") o.latency = std::stoi(value());
    else if (arg == "--bandwidth") o.bandwidth = std::stod(value());
    else if (arg == "--outstanding") o.outstanding = std::stoi(value());
    else if (arg == "--stalls") o.stalls = std::stoi(value());
    else if (arg == "--seed") o.seed = std::stoull(value());
    else if (arg == "--watchdog") o.watchdog = std::stoll(value());
    else if (arg == "--slverr") o.slverr = value();
    else if (arg == "--slverr-write") o.slverr_write = true;
    else if (arg == "--slverr-store") o.slverr_store = value();
    else if (arg == "--bad-op") o.bad_op = value();
    else if (arg == "--bad-out-c") o.bad_out_c = value();
    else if (arg == "--bad-table") o.bad_table = value();
    else if (arg == "--bad-knots") o.bad_knots = value();
    else if (arg == "--bad-shift") o.bad_shift = value();
    else if (arg == "--bad-inputs") o.bad_inputs = value();
    else if (arg == "--bad-base") o.bad_base = value();
    else if (arg == "--bad-width") o.bad_width = value();
    else if (arg == "--bad-bits") o.bad_bits = value();
    else if (arg == "--golden") o.golden = value();
    else if (arg == "--print-detections") o.print_detections = true;
    else if (arg == "--detections-out") o.detections_out = value();
    else if (arg == "--expect-head-overflow") o.expect_head_overflow = true;
    else if (arg == "--bad-load") o.bad_load = true;
    else if (arg == "--bad-copy") o.bad_copy = true;
    else if (arg == "--bad-rows") o.bad_rows = true;
    else if (arg == "--bad-slot") o.bad_slot = true;
    else if (arg == "--bad-half") o.bad_half = true;
    else if (arg == "--profile") o.profile = value();
    else if (arg == "--census") o.census = value();
    else if (arg == "--trace") o.trace = value();
    else die("unknown argument " + arg);
  }
  if (!o.run.is_absolute()) die("the run folder must be an absolute path: " + o.run.string());
  if (o.golden.empty()) o.golden = o.run / "stage_8" / "golden";
  if (!o.golden.is_absolute()) die("the golden folder must be an absolute path: " + o.golden.string());
  if (o.timed) {
    if (o.latency < 0) o.latency = 100;
    if (o.bandwidth < 0) o.bandwidth = 8;
    if (o.outstanding < 0) o.outstanding = 4;
    if (o.stalls < 0) o.stalls = 10;
  } else {
    if (o.latency < 0) o.latency = 20;
    if (o.stalls < 0) o.stalls = 0;
  }
  return o;
}

// Writes `width` bits of value at bit lsb of a little-endian byte array.
void poke_bits(std::vector<std::uint8_t>& bytes, std::uint64_t byte_base, int lsb, int width, std::uint64_t value) {
  for (int i = 0; i < width; ++i) {
    const std::uint64_t bit = static_cast<std::uint64_t>(lsb + i);
    std::uint8_t& byte = bytes.at(byte_base + bit / 8);
    const std::uint8_t mask = static_cast<std::uint8_t>(1u << (bit % 8));
    byte = static_cast<std::uint8_t>(((value >> i) & 1) ? (byte | mask) : (byte & ~mask));
  }
}

// A node's output in DRAM: slots of `bits`, each holding a code's low
// code_bits bits (the scratch word's FW bits, or the narrow slot's).
struct FmapSlot {
  int bits = 0, code_bits = 0;
};

FmapSlot fmap_slot(const nlohmann::json& map, int node, int fmap_bits) {
  const int bits = map.at("layers").at(static_cast<std::size_t>(node)).at("fmap_slot_bits").get<int>();
  return {bits, std::min(bits, fmap_bits)};
}

std::uint64_t peek_bits(const std::vector<std::uint8_t>& bytes, std::uint64_t byte_base, int lsb, int width) {
  std::uint64_t value = 0;
  for (int i = 0; i < width; ++i) {
    const std::uint64_t bit = static_cast<std::uint64_t>(lsb + i);
    value |= static_cast<std::uint64_t>((bytes.at(byte_base + bit / 8) >> (bit % 8)) & 1) << i;
  }
  return value;
}

// The class names of the run's model (stage_6's quant_model.json), if readable.
std::vector<std::string> class_names_of(const fs::path& run) {
  if (const auto text = tb::file_text(run / "stage_6" / "quant_model.json")) {
    const auto model = nlohmann::json::parse(*text, nullptr, false);
    if (model.contains("model") && model["model"].contains("class_names")) {
      return model["model"]["class_names"].get<std::vector<std::string>>();
    }
  }
  return {};
}

// The RTL's list in q_nms.txt form, written by the compiler's own writer
// (compiler/detect/detection_list_file.hpp) through a temporary file.
void write_detections(const fs::path& file, const std::vector<tb::DetectionFields>& detections,
                      const std::vector<std::string>& class_names) {
  std::vector<yq::IntDetection> list;
  for (const tb::DetectionFields& d : detections) list.push_back(yq::detection_from_fields(d));
  const fs::path temporary = file.string() + ".tmp";
  if (file.has_parent_path()) fs::create_directories(file.parent_path());
  {
    std::ofstream out(temporary, std::ios::binary);
    out << yq::detection_list_text(list, class_names);
    if (!out.flush()) die("cannot write " + temporary.string());
  }
  fs::rename(temporary, file);
}

// The RTL's detections with class names and boxes in canvas pixels (the
// records hold 2^-box_bits pixel, scores 2^-score_bits).
void print_detections(const std::vector<std::string>& class_names, const std::vector<tb::DetectionFields>& detections,
                      long long image_width, long long image_height, int score_bits, int box_bits) {
  std::printf("DETECTIONS of yq_top: %zu (boxes in pixels of the %lldx%lld letterboxed canvas, width x height)\n",
              detections.size(), image_width, image_height);
  for (std::size_t i = 0; i < detections.size(); ++i) {
    const tb::DetectionFields& d = detections[i];
    const auto c = static_cast<std::size_t>(d[0]);
    const std::string name = c < class_names.size() ? class_names[c] : "class " + std::to_string(c);
    std::printf("DETECTION %zu: %-14s score %.3f box %.1f %.1f %.1f %.1f (anchor %lld)\n", i, name.c_str(),
                std::ldexp(static_cast<double>(d[1]), -score_bits), std::ldexp(static_cast<double>(d[2]), -box_bits),
                std::ldexp(static_cast<double>(d[3]), -box_bits), std::ldexp(static_cast<double>(d[4]), -box_bits),
                std::ldexp(static_cast<double>(d[5]), -box_bits), d[6]);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  const fs::path stage7 = opt.run / "stage_7", golden_dir = opt.golden;
  for (const fs::path& file : {stage7 / "yq_params.vh", stage7 / "dram.hex", stage7 / "memory_map.json",
                               stage7 / "manifest.json", golden_dir / "manifest.json"}) {
    if (!fs::is_regular_file(file)) die("missing " + file.string());
  }
  auto params = read_params(stage7 / "yq_params.vh");
  params.merge(read_params(P_FORMAT_VH));
  auto param = [&](const std::string& name) {
    const auto it = params.find(name);
    if (it == params.end()) die("yq_params.vh has no " + name);
    return it->second;
  };
  if (param("YQ_AXI_DATA_BITS") != kAxiBits) die("the run's DRAM image is for another AXI width");
  const int beat_bytes = kAxiBits / 8;
  const auto map = nlohmann::json::parse(read_text(stage7 / "memory_map.json"));
  const auto manifest = nlohmann::json::parse(read_text(stage7 / "manifest.json"));
  const auto golden_manifest = nlohmann::json::parse(read_text(golden_dir / "manifest.json"));

  // Layers: name, node, DRAM address of the descriptor.
  std::vector<std::string> names;
  for (const auto& layer : manifest.at("layers")) names.push_back(layer.at("layer").get<std::string>());
  // A node's layer name; one past the last node is the detect head.
  auto name_of = [&](int node) {
    if (node >= 0 && static_cast<std::size_t>(node) < names.size()) return names[static_cast<std::size_t>(node)];
    return static_cast<std::size_t>(node) == names.size() ? std::string("detect head") : std::string("?");
  };
  auto node_of = [&](const std::string& name) {
    for (std::size_t n = 0; n < names.size(); ++n)
      if (names[n] == name) return static_cast<int>(n);
    die("no layer named " + name);
  };
  // The DRAM byte address of word `index` of memory region `region` (PROGRAM, REQUANT, ...).
  auto slot_address = [&](const std::string& region, std::uint64_t index) {
    return static_cast<std::uint64_t>(param("YQ_DRAM_" + region + "_BASE")) +
           index * (static_cast<std::uint64_t>(param("YQ_DRAM_" + region + "_SLOT_BITS")) / 8);
  };
  auto desc_address = [&](int node) { return slot_address("PROGRAM", static_cast<std::uint64_t>(node)); };
  auto desc_field = [&](const std::vector<std::uint8_t>& bytes, int node, const std::string& field) {
    return peek_bits(bytes, desc_address(node), static_cast<int>(param("YQ_PROG_" + field + "_LSB")),
                     static_cast<int>(param("YQ_PROG_" + field + "_WIDTH")));
  };

  // Golden tensors.
  struct Tensor {
    fs::path file;
    int bits = 0;
  };
  std::map<std::string, Tensor> golden;
  for (const auto& file : golden_manifest.at("files")) {
    golden[file.at("tensor").get<std::string>()] = {golden_dir / file.at("file").get<std::string>(), file.at("bits").get<int>()};
  }

  // The DRAM: the image file, then the input codes.
  std::vector<std::uint8_t> memory(static_cast<std::size_t>(map.at("total_bytes").get<long long>()));
  load_dram_hex(stage7 / "dram.hex", memory, beat_bytes);
  {
    const auto it = golden.find(names.at(0));
    if (it == golden.end()) die("no golden tensor for the input " + names.at(0));
    const auto codes = read_codes(it->second.file, it->second.bits);
    const std::uint64_t base = map.at("image").at("base").get<std::uint64_t>();
    const FmapSlot slot = fmap_slot(map, 0, static_cast<int>(param("YQ_FMAP_WIDTH")));
    if (codes.size() * static_cast<std::uint64_t>(slot.bits / 8) != map.at("image").at("bytes").get<std::uint64_t>()) {
      die("the golden input does not fill the image region");
    }
    for (std::size_t n = 0; n < codes.size(); ++n) {
      poke_bits(memory, base, static_cast<int>(n) * slot.bits, slot.code_bits,
                static_cast<std::uint64_t>(codes[n]) & tb::low_mask(slot.code_bits));
    }
  }

  // Error injection.
  int expect_code = 0, expect_node = -1;
  tb::AxiDramModel dram(std::move(memory), kAxiBits, opt.latency, opt.stalls, opt.seed);
  if (opt.timed) {
    dram.set_bandwidth(opt.bandwidth);
    dram.set_max_outstanding(opt.outstanding);
  }
  if (!opt.slverr.empty()) {
    expect_node = node_of(opt.slverr);
    const long long address = map.at("layers").at(static_cast<std::size_t>(expect_node)).at("weights").get<long long>();
    if (address < 0) die(opt.slverr + " has no weights");
    dram.poison(static_cast<std::uint64_t>(address), static_cast<std::uint64_t>(address) + 1);
    expect_code = 1;
  }
  const std::uint64_t detections_base = static_cast<std::uint64_t>(param("YQ_DRAM_DETECTIONS_BASE"));
  const std::uint64_t detections_bytes = static_cast<std::uint64_t>(param("YQ_DRAM_DETECTIONS_BYTES"));
  const int detection_slot_bytes = static_cast<int>(param("YQ_DRAM_DETECTIONS_SLOT_BITS")) / 8;
  constexpr std::uint8_t kUnwritten = 0xa5;
  std::fill_n(dram.bytes().begin() + static_cast<std::ptrdiff_t>(detections_base), detections_bytes, kUnwritten);
  if (opt.slverr_write) {
    dram.poison_writes(detections_base, detections_base + detections_bytes);
    expect_node = static_cast<int>(names.size());
    expect_code = 6;
  }
  if (!opt.slverr_store.empty()) {
    expect_node = node_of(opt.slverr_store);
    const auto address = map.at("layers").at(static_cast<std::size_t>(expect_node)).at("fmap").get<std::uint64_t>();
    dram.poison_writes(address, address + 1);
    expect_code = 6;
  }
  if (!opt.bad_op.empty()) {
    expect_node = node_of(opt.bad_op);
    poke_bits(dram.bytes(), desc_address(expect_node), static_cast<int>(param("YQ_PROG_OP_LSB")),
              static_cast<int>(param("YQ_PROG_OP_WIDTH")), 0xff);
    expect_code = 2;
  }
  if (!opt.bad_out_c.empty()) {
    expect_node = node_of(opt.bad_out_c);
    if (static_cast<long long>(desc_field(dram.bytes(), expect_node, "OP")) != param("YQ_OP_CONV")) die(opt.bad_out_c + " is not a convolution");
    poke_bits(dram.bytes(), desc_address(expect_node), static_cast<int>(param("YQ_PROG_OUT_C_LSB")),
              static_cast<int>(param("YQ_PROG_OUT_C_WIDTH")), 0xffff);
    expect_code = 3;
  }
  // The DRAM address of the LUT directory entry of convolution `layer`'s SiLU table.
  auto silu_table_entry = [&](const std::string& layer) {
    const int node = node_of(layer);
    const auto table = static_cast<long long>(desc_field(dram.bytes(), node, "ACT_LUT"));
    if (static_cast<long long>(desc_field(dram.bytes(), node, "OP")) != param("YQ_OP_CONV") || table >= param("YQ_LUT_DIR_DEPTH")) {
      die(layer + " is not a convolution with a SiLU table");
    }
    return slot_address("LUT_DIR", static_cast<std::uint64_t>(table));
  };
  if (!opt.bad_table.empty()) {
    expect_node = node_of(opt.bad_table);
    poke_bits(dram.bytes(), silu_table_entry(opt.bad_table), static_cast<int>(param("YQ_LUTDIR_DEPTH_LSB")),
              static_cast<int>(param("YQ_LUTDIR_DEPTH_WIDTH")), static_cast<std::uint64_t>(param("YQ_TABLE_BUFFER_DEPTH")) + 1);
    expect_code = 3;
  }
  if (!opt.bad_knots.empty()) {
    if (param("YQ_TABLE_INTERPOLATED") != 0) die("--bad-knots needs a run whose tables are all direct (YQ_TABLE_INTERPOLATED = 0)");
    expect_node = node_of(opt.bad_knots);
    const std::uint64_t entry = silu_table_entry(opt.bad_knots);
    const int knot_lsb = static_cast<int>(param("YQ_LUTDIR_KNOT_BITS_LSB")), knot_width = static_cast<int>(param("YQ_LUTDIR_KNOT_BITS_WIDTH"));
    const std::uint64_t knots = peek_bits(dram.bytes(), entry, knot_lsb, knot_width);
    poke_bits(dram.bytes(), entry, knot_lsb, knot_width, knots - 1);
    expect_code = 4;
  }
  if (!opt.bad_shift.empty()) {
    expect_node = node_of(opt.bad_shift);
    if (static_cast<long long>(desc_field(dram.bytes(), expect_node, "OP")) != param("YQ_OP_CONV")) die(opt.bad_shift + " is not a convolution");
    const long long shift_max = param("YQ_CONV_SHIFT_MAX"), shift_min = param("YQ_CONV_SHIFT_MIN");
    const long long field_max = (1LL << param("YQ_REQUANT_SHIFT_WIDTH")) - 1;
    if (shift_min == 0 && shift_max == field_max) die("--bad-shift needs a run whose requant shifts leave a value of the field out");
    const std::uint64_t word = slot_address("REQUANT", desc_field(dram.bytes(), expect_node, "REQUANT_BASE"));
    poke_bits(dram.bytes(), word, static_cast<int>(param("YQ_REQUANT_SHIFT_LSB")), static_cast<int>(param("YQ_REQUANT_SHIFT_WIDTH")),
              static_cast<std::uint64_t>(shift_max < field_max ? shift_max + 1 : shift_min - 1));
    expect_code = 4;
  }
  // Writes FIELD = value into every band descriptor (a Run's copy of the
  // layer's descriptor) of node; returns how many.
  auto patch_band_descriptors = [&](int node, const std::string& field, std::uint64_t value) {
    int patched = 0;
    for (long long d = 0; d < param("YQ_BAND_DESCRIPTORS_DEPTH"); ++d) {
      const std::uint64_t address = slot_address("BAND_DESCRIPTORS", static_cast<std::uint64_t>(d));
      const auto owner = peek_bits(dram.bytes(), address, static_cast<int>(param("YQ_PROG_NODE_LSB")),
                                   static_cast<int>(param("YQ_PROG_NODE_WIDTH")));
      if (static_cast<int>(owner) != node) continue;
      poke_bits(dram.bytes(), address, static_cast<int>(param("YQ_PROG_" + field + "_LSB")),
                static_cast<int>(param("YQ_PROG_" + field + "_WIDTH")), value);
      ++patched;
    }
    return patched;
  };
  if (!opt.bad_inputs.empty()) {
    expect_node = node_of(opt.bad_inputs);
    if (static_cast<long long>(desc_field(dram.bytes(), expect_node, "OP")) != param("YQ_OP_ADD")) die(opt.bad_inputs + " is not an add");
    if (patch_band_descriptors(expect_node, "NUM_INPUTS", 1) == 0) die(opt.bad_inputs + " has no band descriptor");
    expect_code = 4;
  }
  if (!opt.bad_width.empty()) {
    expect_node = node_of(opt.bad_width);
    if (param("YQ_MAX_DIM_BITS") >= param("YQ_PROG_IN_W_WIDTH")) die("--bad-width needs YQ_MAX_DIM_BITS below the in_w field's width");
    if (patch_band_descriptors(expect_node, "IN_W", 1ULL << param("YQ_MAX_DIM_BITS")) == 0) die(opt.bad_width + " has no band descriptor");
    expect_code = 4;
  }
  if (!opt.bad_bits.empty()) {
    expect_node = node_of(opt.bad_bits);
    if (static_cast<long long>(desc_field(dram.bytes(), expect_node, "OP")) != param("YQ_OP_CONV")) die(opt.bad_bits + " is not a convolution");
    const long long operand_bits = param("YQ_FMAP_WIDTH") + 8 * param("YQ_FMAP_PLANES");
    if (patch_band_descriptors(expect_node, "IN_BITS", static_cast<std::uint64_t>(operand_bits + 1)) == 0) {
      die(opt.bad_bits + " has no band descriptor");
    }
    expect_code = 4;
  }
  if (!opt.bad_base.empty()) {
    expect_node = node_of(opt.bad_base);
    if (static_cast<long long>(desc_field(dram.bytes(), expect_node, "OP")) != param("YQ_OP_CONV")) die(opt.bad_base + " is not a convolution");
    // yq_top's FM_ADDR_W: the bits of the scratch memory's last word, and one more.
    int address_bits = 1;
    while ((1LL << address_bits) < param("YQ_SCRATCH_WORDS")) ++address_bits;
    if (patch_band_descriptors(expect_node, "IN_BASE0", 1ULL << (address_bits + 1)) == 0) die(opt.bad_base + " has no band descriptor");
    expect_code = 4;
  }
  if (opt.bad_load || opt.bad_slot || opt.bad_copy || opt.bad_rows) {
    // The band program's first load, moved to end past the scratch memory
    // (code 3), or given 32-bit DRAM slots, neither of the two widths
    // yq_top reads (code 2); or its first copy's source moved to end past
    // the scratch memory (code 3); or its first upsample_load's rows made
    // longer than its runs (code 2).
    struct Corruption {
      std::string op, name, field;  // YQ_BAND_OP_<op> (called `name`), its field YQ_BAND_<field>
      int code;
    };
    const Corruption bad = opt.bad_copy   ? Corruption{"COPY", "copy", "DRAM_ADDRESS", 3}
                           : opt.bad_rows ? Corruption{"UPSAMPLE_LOAD", "upsample_load", "ROW_WORDS", 2}
                           : opt.bad_load ? Corruption{"LOAD", "load", "SCRATCH_WORD", 3}
                                          : Corruption{"LOAD", "load", "SLOT_LOG2", 2};
    auto field = [&](const std::string& name) {
      return std::pair<int, int>(static_cast<int>(param("YQ_BAND_" + name + "_LSB")), static_cast<int>(param("YQ_BAND_" + name + "_WIDTH")));
    };
    for (long long i = 0; i < param("YQ_BAND_INSTRUCTIONS"); ++i) {
      const std::uint64_t address = slot_address("BAND_PROGRAM", static_cast<std::uint64_t>(i));
      const auto [op_lsb, op_width] = field("OP");
      const long long op = static_cast<long long>(peek_bits(dram.bytes(), address, op_lsb, op_width));
      if (op != param("YQ_BAND_OP_" + bad.op)) continue;
      const auto [node_lsb, node_width] = field("NODE");
      expect_node = static_cast<int>(peek_bits(dram.bytes(), address, node_lsb, node_width));
      const auto [words_lsb, words_width] = field("WORDS");
      const std::uint64_t value = opt.bad_slot   ? 5
                                  : opt.bad_rows ? peek_bits(dram.bytes(), address, words_lsb, words_width) + 1
                                                 : static_cast<std::uint64_t>(param("YQ_SCRATCH_WORDS")) - 1;
      const auto [lsb, width] = field(bad.field);
      poke_bits(dram.bytes(), address, lsb, width, value);
      break;
    }
    if (expect_node < 0) die("no instruction to corrupt: the band program has no " + bad.name);
    expect_code = bad.code;
  }
  if (opt.bad_half) {
    // The issuer lets a load go while a band runs when its declared halves
    // differ from the band's; this one then writes the half the band reads.
    auto get = [&](std::uint64_t address, const std::string& name) {
      return static_cast<long long>(peek_bits(dram.bytes(), address, static_cast<int>(param("YQ_BAND_" + name + "_LSB")),
                                              static_cast<int>(param("YQ_BAND_" + name + "_WIDTH"))));
    };
    int running = -1;           // the node of the conv band the issuer would still be running
    long long running_half = -1;
    for (long long i = 0; i < param("YQ_BAND_INSTRUCTIONS") && expect_code == 0; ++i) {
      const std::uint64_t address = slot_address("BAND_PROGRAM", static_cast<std::uint64_t>(i));
      const long long op = get(address, "OP");
      if (op == param("YQ_BAND_OP_RUN") || op == param("YQ_BAND_OP_HEAD")) {
        const int node = static_cast<int>(get(address, "NODE"));
        const long long reads = get(address, "READS");
        const bool conv = op == param("YQ_BAND_OP_RUN") &&
                          desc_field(dram.bytes(), node, "OP") == static_cast<std::uint64_t>(param("YQ_OP_CONV"));
        running = conv && (reads & 3) != 0 ? node : -1;
        running_half = (reads & 1) != 0 ? 0 : 1;
      } else if (op == param("YQ_BAND_OP_LOAD") && running >= 0) {
        poke_bits(dram.bytes(), address, static_cast<int>(param("YQ_BAND_SCRATCH_WORD_LSB")),
                  static_cast<int>(param("YQ_BAND_SCRATCH_WORD_WIDTH")),
                  static_cast<std::uint64_t>(running_half * param("YQ_BAND_INPUT_WORDS")));
        expect_node = running;
        expect_code = 7;
      }
    }
    if (expect_code != 7) die("--bad-half: no load issues while a convolution's band runs");
  }
  if (opt.expect_head_overflow) {
    expect_node = static_cast<int>(names.size());
    expect_code = 5;
  }
  const std::vector<std::uint8_t>& bytes = dram.bytes();
  // Head outputs to compare (read before the frame: --bad-op may change a descriptor).
  std::vector<int> heads;
  for (std::size_t n = 0; n < names.size(); ++n) {
    if (desc_field(bytes, static_cast<int>(n), "HEAD") != static_cast<std::uint64_t>(param("YQ_HEAD_NONE"))) heads.push_back(static_cast<int>(n));
  }
  struct Head {
    int node;
    std::uint64_t c, h, w;
  };
  std::vector<Head> head_info;
  for (int n : heads) {
    head_info.push_back({n, desc_field(bytes, n, "OUT_C"), desc_field(bytes, n, "OUT_H"), desc_field(bytes, n, "OUT_W")});
  }

  // The model and the register interface.
  auto context = std::make_unique<VerilatedContext>();
  auto top = std::make_unique<Vyq_top>(context.get());
  long long cycle = 0;
  BankCensus census(names.size() + 1, P_ROWS, static_cast<std::uint32_t>(param("YQ_SCRATCH_WORDS")));
  const auto* root = top->rootp;
  std::unique_ptr<Timeline> timeline;
  if (!opt.trace.empty()) timeline = std::make_unique<Timeline>(opt.trace);
  // One clock cycle; `ready` (an AXI-Lite ready) is sampled before the edge.
  auto step = [&](const std::uint8_t* ready = nullptr, bool* fired = nullptr) {
    dram.drive(*top);
    if (ready != nullptr) *fired = *ready;
    tb::tick(*top);
    dram.after_edge();
    ++cycle;
    if (!opt.census.empty() && (root->yq_top__DOT__conv_busy || root->yq_top__DOT__elt_busy || root->yq_top__DOT__head_busy)) {
      census.sample(root->yq_top__DOT__head_busy ? names.size() : root->yq_top__DOT__run_node,
                    root->yq_top__DOT__lane_addr_a.data(),
                    root->yq_top__DOT__lane_addr_b.data());
    }
    if (timeline) {
      timeline->sample(cycle, root->yq_top__DOT__pc, root->yq_top__DOT__conv_busy || root->yq_top__DOT__elt_busy,
                       root->yq_top__DOT__head_busy, root->yq_top__DOT__su_busy, root->yq_top__DOT__ld_active);
    }
  };
  auto write_reg = [&](unsigned address, std::uint32_t value) {
    top->s_awvalid = 1;
    top->s_wvalid = 1;
    top->s_awaddr = address;
    top->s_wdata = value;
    top->s_bready = 1;
    for (int wait = 0;; ++wait) {
      bool fire = false;
      step(&top->s_awready, &fire);
      if (fire) break;
      if (wait > 100) die("AXI-Lite write not accepted");
    }
    top->s_awvalid = 0;
    top->s_wvalid = 0;
    for (int wait = 0; !top->s_bvalid; ++wait) {
      step();
      if (wait > 100) die("no AXI-Lite write response");
    }
    step();
    top->s_bready = 0;
  };
  auto read_reg = [&](unsigned address) {
    top->s_arvalid = 1;
    top->s_araddr = address;
    top->s_rready = 0;
    for (int wait = 0;; ++wait) {
      bool fire = false;
      step(&top->s_arready, &fire);
      if (fire) break;
      if (wait > 100) die("AXI-Lite read not accepted");
    }
    top->s_arvalid = 0;
    for (int wait = 0; !top->s_rvalid; ++wait) {
      step();
      if (wait > 100) die("no AXI-Lite read data");
    }
    const std::uint32_t value = top->s_rdata;
    top->s_rready = 1;
    step();
    top->s_rready = 0;
    return value;
  };

  top->clk = 0;
  top->rst = 1;
  top->s_awvalid = top->s_wvalid = top->s_bready = top->s_arvalid = top->s_rready = 0;
  top->m_rvalid = 0;
  top->m_arready = 0;
  top->m_awready = 0;
  top->m_wready = 0;
  top->m_bvalid = 0;
  top->eval();
  step();
  step();
  top->rst = 0;
  step();

  enum : unsigned { kControl = 0x00, kStatus = 0x04, kError = 0x08, kDramBase = 0x0C, kCycles = 0x10, kStalls = 0x14,
                    kBytesRead = 0x18, kNode = 0x1C, kDetCount = 0x20, kDetIndex = 0x24, kHeadCycles = 0x28,
                    kBytesWritten = 0x2C, kIssuer = 0x30, kDetWord = 0x40 };
  write_reg(kDramBase, 0);
  const long long begin = cycle;
  write_reg(kControl, 0x3);  // start, irq enable
  std::map<unsigned, std::string> op_names;
  for (const auto& [name, value] : params) {
    if (name.rfind("YQ_BAND_OP_", 0) == 0 && name.find("_LSB") == std::string::npos && name.find("_WIDTH") == std::string::npos) {
      std::string op = name.substr(11);
      std::transform(op.begin(), op.end(), op.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      op_names[static_cast<unsigned>(value)] = op;
    }
  }
  NodeProfile profile(names.size() + 1, op_names);
  while (!top->irq) {
    if (opt.profile.empty()) {
      step();
    } else {
      const long long at = cycle;
      // The detect head's cycles (its bands, q_NMS) to its own row, not to
      // the class node its Head instructions name.
      const bool head_only = root->yq_top__DOT__head_busy && !root->yq_top__DOT__conv_busy && !root->yq_top__DOT__elt_busy;
      const std::uint32_t node = head_only ? static_cast<std::uint32_t>(names.size()) : read_reg(kNode);
      const std::uint32_t issuer = read_reg(kIssuer);
      profile.charge(node, issuer, at, read_reg(kStalls), read_reg(kBytesRead), read_reg(kBytesWritten));
    }
    if (cycle - begin > opt.watchdog) {
      const std::uint32_t node = read_reg(kNode);
      die("watchdog: no interrupt after " + std::to_string(opt.watchdog) + " cycles, at layer " +
          (node < names.size() ? names[node] : std::string("?")) + " (node " + std::to_string(node) + ")");
    }
  }
  const std::uint32_t status = read_reg(kStatus), error = read_reg(kError);
  const std::uint32_t cycles = read_reg(kCycles), stalls = read_reg(kStalls), bytes_read = read_reg(kBytesRead);
  const std::uint32_t bytes_written = read_reg(kBytesWritten);
  const int code = static_cast<int>(error & 0xff), failed = static_cast<int>(error >> 16);
  const bool done = status & 2, errored = status & 4;
  std::printf("TOP %s dram: latency %d, %s, stalls %d%%; status done %d error %d code %d node %d\n",
              opt.timed ? "timed" : "magic", opt.latency,
              opt.timed ? (std::to_string(opt.bandwidth) + " bytes/cycle, " + std::to_string(opt.outstanding) + " outstanding").c_str()
                        : "no bandwidth cap",
              opt.stalls, done, errored, code, failed);
  std::printf("TOP cycles %u, no engine running %u (%.1f%%), bytes read %u, bytes written %u, model: bytes read %lld, "
              "written %lld, stall cycles %ld\n",
              cycles, stalls, 100.0 * stalls / std::max(1u, cycles), bytes_read, bytes_written, dram.bytes_read(),
              dram.bytes_written(), dram.stall_cycles());
  if (!opt.profile.empty()) {
    profile.charge(0, 0, cycle, stalls, bytes_read, bytes_written);
    profile.write(opt.profile, name_of);
  }
  if (!opt.census.empty()) census.write(opt.census, name_of);
  if (timeline) timeline->close(opt.trace);
  if (static_cast<long long>(bytes_read) != dram.bytes_read()) die("BYTES_READ differs from the bytes the DRAM served");
  if (static_cast<long long>(bytes_written) != dram.bytes_written()) die("BYTES_WRITTEN differs from the bytes the DRAM took");
  write_reg(kStatus, 0x2);  // clear done / error: irq must fall
  if (top->irq || (read_reg(kStatus) & 6)) die("writing STATUS bit 1 did not clear done, error and irq");

  if (expect_code != 0) {
    if (!errored || code != expect_code || failed != expect_node) {
      die("expected error code " + std::to_string(expect_code) + " at layer " + name_of(expect_node) +
          ", got status " + std::to_string(status) + " code " + std::to_string(code) + " node " + std::to_string(failed));
    }
    std::printf("TOP ERROR PASS: code %d at layer %s (node %d)\n", code, name_of(failed).c_str(), failed);
    return 0;
  }
  if (errored) {
    die("the frame stopped with error code " + std::to_string(code) + " at layer " + name_of(failed));
  }

  // The head outputs, code for code, from the DRAM feature-map region.
  long long compared = 0;
  for (const Head& head : head_info) {
    const auto address = map.at("layers").at(static_cast<std::size_t>(head.node)).at("fmap").get<std::uint64_t>();
    const FmapSlot slot = fmap_slot(map, head.node, static_cast<int>(param("YQ_FMAP_WIDTH")));
    const std::string& name = names.at(static_cast<std::size_t>(head.node));
    const auto it = golden.find(name);
    if (it == golden.end()) die("no golden tensor for " + name);
    const auto expected = read_codes(it->second.file, it->second.bits);
    const std::uint64_t size = head.c * head.h * head.w;
    if (expected.size() != size) die("golden shape differs for " + name);
    const std::uint64_t mask = tb::low_mask(it->second.bits);
    for (std::uint64_t n = 0; n < size; ++n) {
      const std::uint64_t word =
          tb::sign_extend(peek_bits(dram.bytes(), address, static_cast<int>(n) * slot.bits, slot.code_bits), slot.code_bits);
      if ((word & mask) != (static_cast<std::uint64_t>(expected[n]) & mask)) {
        const std::uint64_t hw = head.h * head.w;
        std::printf("MISMATCH layer %s channel %llu y %llu x %llu expected %lld got %lld\n", name.c_str(),
                    static_cast<unsigned long long>(n / hw), static_cast<unsigned long long>((n % hw) / head.w),
                    static_cast<unsigned long long>(n % head.w), static_cast<long long>(expected[n]),
                    static_cast<long long>(tb::sign_extend(word, it->second.bits)));
        return 1;
      }
    }
    compared += static_cast<long long>(size);
  }

  // The detection list through the register window.
  std::string bad_line;
  const auto expected = tb::read_q_nms(golden_dir / "q_nms.txt", &bad_line);
  if (!expected) die("cannot read " + (golden_dir / "q_nms.txt").string() + (bad_line.empty() ? "" : ": bad line " + bad_line));
  const std::uint32_t count = read_reg(kDetCount), head_cycles = read_reg(kHeadCycles);
  if (count > static_cast<std::uint32_t>(param("YQ_MAX_DETECTIONS"))) die("DET_COUNT " + std::to_string(count) + " exceeds max_det");
  std::vector<tb::DetectionFields> detections;
  for (std::uint32_t i = 0; i < count; ++i) {
    write_reg(kDetIndex, i);
    std::vector<std::uint32_t> words;
    for (int w = 0; w < static_cast<int>(param("YQ_DET_WORD_BITS")) / 32; ++w) words.push_back(read_reg(kDetWord + 4u * static_cast<unsigned>(w)));
    detections.push_back(tb::decode_detection(words, param));
  }
  std::printf("TOP head cycles %u (%.2f%% of the frame): detect head and q_NMS, %u detections\n", head_cycles,
              100.0 * head_cycles / std::max(1u, cycles), count);
  const std::vector<std::string> class_names = class_names_of(opt.run);
  if (opt.print_detections) {
    print_detections(class_names, detections, param("YQ_IMAGE_WIDTH"), param("YQ_IMAGE_HEIGHT"), static_cast<int>(param("YQ_SCORE_FRACTION_BITS")),
                     static_cast<int>(param("YQ_BOX_FRACTION_BITS")));
  }
  if (!opt.detections_out.empty()) write_detections(opt.detections_out, detections, class_names);
  if (!tb::same_detections(*expected, count, detections)) return 1;
  // The DRAM detection list, byte for byte: the list's slots, then the
  // region's other slots untouched.
  std::vector<std::uint8_t> expected_region = tb::detection_list_bytes(*expected, detection_slot_bytes, param);
  const auto stored = manifest.at("band_program").at("feature_map_bytes_written").get<std::uint64_t>();
  if (bytes_written != stored + expected_region.size()) {
    die("BYTES_WRITTEN " + std::to_string(bytes_written) + ", the band program stores " + std::to_string(stored) +
        " bytes and the list of " + std::to_string(count) + " detections has " + std::to_string(expected_region.size()));
  }
  const std::size_t list_bytes = expected_region.size();
  expected_region.resize(detections_bytes, kUnwritten);
  for (std::uint64_t b = 0; b < detections_bytes; ++b) {
    if (bytes[detections_base + b] != expected_region[b]) {
      std::printf("MISMATCH DRAM detection list byte %llu (slot %llu) expected 0x%02x got 0x%02x\n",
                  static_cast<unsigned long long>(b), static_cast<unsigned long long>(b / detection_slot_bytes),
                  expected_region[b], bytes[detections_base + b]);
      return 1;
    }
  }
  std::printf("TOP PASS: whole frame from DRAM bit-exact (%zu head outputs, %lld codes; %u detections, q_nms.txt; "
              "%zu bytes of the DRAM detection list; %llu bytes of band stores)\n",
              head_info.size(), compared, count, list_bytes, static_cast<unsigned long long>(stored));
  top->final();
  return 0;
}
