// The band program (compiler/emit/band_program.hpp) and its reference
// executor (compiler/emit/band_executor.hpp) on a 64 x 64 run of the
// synthetic model through stage_6: bit-exact through buffers small enough to
// cut layers into many bands and through buffers holding whole layers; the
// traffic against the tensors' sizes; the order an in-order issuer needs,
// barriers only where a load reads the last store's words and loads cut
// where their rows start to;
// a pair's bands alternating, the second reading the first's on chip;
// upsamples folded into their readers' loads (and run as nodes when two
// rows of a reader do not fit);
// the executor catching a missing barrier, a load before the store of its
// words, a wrong address, a wrong pad,
// constants in the wrong half and a band forwarded from the half it writes
// (each named); the detect head's bands at an odd channel pitch; a buffer
// too small for one row.
#include "testing.hpp"

#include <algorithm>
#include <map>

#include "cli_support.hpp"
#include "compiler/emit/band_executor.hpp"
#include "compiler/emit/band_program.hpp"
#include "compiler/emit/layer_program.hpp"
#include "compiler/io/test_pattern.hpp"
#include "compiler/quant/quant_model_io.hpp"
#include "compiler/ref/int_model.hpp"
#include "compiler/util/error.hpp"

TEST_SUITE_BEGIN("pipeline");

using namespace yq;
namespace fs = std::filesystem;

namespace {

// A fresh run in its own folder (one per test case: CTest may run the cases in parallel).
QuantModel quantized_64(const std::string& test_name) {
  const fs::path dir = test::fresh_temp_dir("band-program-" + test_name);
  const test::CliResult result = test::run_cli("run --imgsz 64 --through stage_6 --out " + (dir / "run").string(), dir);
  REQUIRE_MESSAGE(result.exit_code == 0, result.err);
  return load_quant_model(dir / "run" / "stage_6");
}

struct Fixture {
  explicit Fixture(const std::string& test_name) : model(quantized_64(test_name)) {}

  QuantModel model;
  MemoryMap map = plan_memories(model, InputSize(64, 64));
  std::vector<PackedWord> program = layer_program(model, map);
  IntegerModel integer{model, 1};
  std::vector<CodeTensor> reference = integer.run_all(test_pattern_image(64, 64, 0));

  BandBuffers buffers(std::int64_t input_words, std::int64_t output_words) const {
    BandBuffers b{input_words, output_words, 0, 0, 0};
    for (const NodePlacement& place : map.nodes) {
      b.weight_words = std::max(b.weight_words, place.weight_count);
      b.bias_words = std::max(b.bias_words, place.bias_count);
      b.requant_words = std::max(b.requant_words, place.requant_count);
    }
    return b;
  }

  // Words of every computed output that goes to DRAM (not a view, not
  // handed to the node after it, no upsample the program folds into its
  // readers' loads).
  std::int64_t stored_words(const BandProgram& program) const {
    std::int64_t words = 0;
    for (size_t i = 0; i < map.nodes.size(); ++i) {
      const OpKind op = model.graph.nodes[i].op;
      if (op == OpKind::Input || map.nodes[i].view || map.nodes[i].forwarded_to >= 0) continue;
      const bool runs = std::any_of(program.nodes.begin(), program.nodes.end(),
                                    [&](const NodeBands& node) { return node.node == static_cast<int>(i); });
      if (map.nodes[i].foldable && !runs) continue;
      const TensorShape& s = map.nodes[i].shape;
      words += std::int64_t{s.channels} * s.height * s.width;
    }
    return words;
  }
};

size_t first_of(const BandProgram& program, BandOp op, size_t from = 0) {
  for (size_t i = from; i < program.instructions.size(); ++i) {
    if (program.instructions[i].op == op) return i;
  }
  FAIL("no " << band_op_name(op) << " instruction");
  return 0;
}

}  // namespace

TEST_CASE("band program: bit-exact through small buffers, many bands per layer") {
  const Fixture f("many");
  const BandProgram program = band_program(f.model, f.map, f.program, f.buffers(2048, 2048));
  int multi_band_layers = 0;
  std::int64_t runs = 0;
  for (const NodeBands& node : program.nodes) {
    runs += node.bands();
    if (node.bands() > 1) ++multi_band_layers;
  }
  CHECK(multi_band_layers >= 10);
  const BandTraffic traffic = execute_band_program(f.integer, f.map, program, f.reference);
  CHECK(traffic.runs == runs);
  CHECK(traffic.stored_words == f.stored_words(program));
  CHECK(traffic.head_bands >= static_cast<std::int64_t>(f.model.graph.levels.size()));
}

TEST_CASE("band program: buffers that hold whole layers give one band each, each tensor read once") {
  const Fixture f("whole");
  const BandProgram program = band_program(f.model, f.map, f.program, f.buffers(1 << 20, 1 << 20));
  std::int64_t input_words = 0;
  for (const NodeBands& node : program.nodes) {
    CHECK(node.bands() == 1);
    for (int input : f.model.graph.nodes[node.node].inputs) {
      const TensorShape& s = f.map.nodes[input].shape;
      input_words += std::int64_t{s.channels} * s.height * s.width;
      // A folded upsample's channels are read as its input: a quarter of the words.
      for (int part : f.model.graph.nodes[input].inputs) {
        const TensorShape& p = f.map.nodes[part].shape;
        if (f.map.nodes[input].view && f.map.nodes[part].foldable) input_words -= 3 * std::int64_t{p.channels} * p.height * p.width / 4;
      }
      if (f.map.nodes[input].foldable) input_words -= 3 * std::int64_t{s.channels} * s.height * s.width / 4;
    }
  }
  std::int64_t head_words = 0;
  for (const DetectLevel& level : f.model.graph.levels) {
    for (int node : {level.box_node, level.class_node}) {
      const TensorShape& s = f.map.nodes[node].shape;
      head_words += std::int64_t{s.channels} * s.height * s.width;
    }
  }
  // Loaded from DRAM, or forwarded: read in the previous band's output half
  // (every code one byte in DRAM at A8).
  for (const NodePlacement& place : f.map.nodes) REQUIRE(place.fmap_slot_bytes == 1);
  const BandTraffic traffic = execute_band_program(f.integer, f.map, program, f.reference);
  CHECK(program.forwarded_bytes > 0);
  CHECK(traffic.loaded_words + program.forwarded_bytes == input_words + head_words);
  int forwarding_runs = 0;
  for (const BandInstruction& ins : program.instructions) {
    forwarding_runs += ins.op == BandOp::Run && (ins.reads & (kOutputHalf0 | kOutputHalf1)) != 0;
  }
  CHECK(forwarding_runs > 0);
  CHECK(traffic.stored_words == f.stored_words(program));
}

TEST_CASE("band program: the order an in-order issuer needs") {
  const Fixture f("order");
  const BandProgram program = band_program(f.model, f.map, f.program, f.buffers(2048, 2048));
  REQUIRE(program.instructions.back().op == BandOp::End);
  // The first instruction loads the first convolution's constants; the first
  // Run comes right after its band's load, then the next band's load into
  // the other half (it overlaps the Run), then the next band's Run, and only
  // then the first Run's Store (so the issuer reaches the second Run while
  // the first computes), unless the second band reads the Store's words.
  CHECK(program.instructions.front().op == BandOp::Constants);
  const size_t run = first_of(program, BandOp::Run);
  const size_t store = first_of(program, BandOp::Store);
  const BandInstruction& first_run = program.instructions[run];
  CHECK(program.instructions[run - 1].op == BandOp::Load);
  CHECK((program.instructions[run - 1].writes & first_run.reads) != 0);
  REQUIRE(store > run);
  int overlapping_loads = 0, runs_before_store = 0;
  for (size_t i = run + 1; i < store; ++i) {
    const BandInstruction& ins = program.instructions[i];
    REQUIRE((ins.op == BandOp::Constants || ins.op == BandOp::Load || ins.op == BandOp::Run));
    CHECK((ins.writes & (first_run.reads | first_run.writes)) == 0);
    overlapping_loads += ins.op == BandOp::Load;
    runs_before_store += ins.op == BandOp::Run;
  }
  CHECK(overlapping_loads > 0);
  CHECK(runs_before_store == 1);
  // Every Store reads the output half of a Run before it, and no Run between
  // them writes that half.
  for (size_t i = 0; i < program.instructions.size(); ++i) {
    if (program.instructions[i].op != BandOp::Store) continue;
    size_t producer = i;
    while (producer > 0 && !(program.instructions[--producer].writes & program.instructions[i].reads)) {
    }
    INFO("store " << i);
    CHECK(program.instructions[producer].op == BandOp::Run);
    CHECK(program.instructions[producer].node == program.instructions[i].node);
  }
  // Barriers only where a load reads the last store's words: a node whose
  // input was stored in several bands starts without waiting for the last.
  int barriers = 0;
  for (const BandInstruction& ins : program.instructions) barriers += ins.op == BandOp::Load && ins.barrier;
  CHECK(barriers > 0);
  CHECK(barriers < static_cast<int>(program.nodes.size()));
  // A node's first band loads the rows and channels the last band before it
  // did not store ahead of that Store (no barrier), and copies the rest from
  // the output half that Store reads (the word the Store takes to a DRAM
  // word is the word the Copy takes for it): the same input's runs cut at a
  // row (the second part right after the first's end in DRAM and in
  // scratch) or at a channel (a concat's other inputs: the same rows, the
  // second part's channels next to the first's), at the same scratch
  // channel pitch.
  int row_cuts = 0, channel_cuts = 0;
  for (size_t i = 0; i + 2 < program.instructions.size(); ++i) {
    const BandInstruction& early = program.instructions[i];
    const BandInstruction& store = program.instructions[i + 1];
    if (early.op != BandOp::Load || store.op != BandOp::Store) continue;
    for (size_t k = i + 2; k < program.instructions.size() && program.instructions[k].op == BandOp::Copy; ++k) {
      const BandInstruction& late = program.instructions[k];
      if (late.node != early.node || late.dram_stride != early.dram_stride) continue;
      CHECK_FALSE(late.barrier);
      CHECK((late.reads & store.reads) != 0);
      const std::int64_t offset = late.dram_word - store.dram_word;
      CHECK(late.source_word ==
            store.scratch_word + offset / store.dram_stride * store.scratch_stride + offset % store.dram_stride);
      CHECK(late.source_stride == store.scratch_stride);
      CHECK(late.scratch_stride == early.scratch_stride);
      if (late.channels == early.channels && late.dram_word == early.dram_word + early.words) {
        CHECK(late.scratch_word == early.scratch_word + early.words);
        ++row_cuts;
        continue;
      }
      CHECK(late.words == early.words);
      CHECK(late.dram_stride == early.dram_stride);
      const bool early_leads = early.dram_word < late.dram_word;
      const BandInstruction& lower = early_leads ? early : late;
      const BandInstruction& upper = early_leads ? late : early;
      CHECK(upper.dram_word == lower.dram_word + lower.channels * lower.dram_stride);
      CHECK(upper.scratch_word == lower.scratch_word + lower.channels * lower.scratch_stride);
      ++channel_cuts;
    }
  }
  CHECK(row_cuts > 0);
  CHECK(channel_cuts > 0);
  const BandTraffic traffic = execute_band_program(f.integer, f.map, program, f.reference);
  CHECK(traffic.runs > 0);
  CHECK(traffic.copied_words > 0);
}

// The upsample nodes the program runs as nodes of their own.
int upsample_nodes(const Fixture& f, const BandProgram& program) {
  return static_cast<int>(std::count_if(program.nodes.begin(), program.nodes.end(), [&](const NodeBands& node) {
    return f.model.graph.nodes[node.node].op == OpKind::Upsample;
  }));
}

TEST_CASE("band program: an upsample read row for row is folded into its readers' loads, each word written four times") {
  const Fixture f("folded");
  int upsamples = 0;
  for (size_t i = 0; i < f.map.nodes.size(); ++i) {
    if (f.model.graph.nodes[i].op != OpKind::Upsample) continue;
    ++upsamples;
    CHECK(f.map.nodes[i].foldable);
  }
  REQUIRE(upsamples > 0);
  const BandProgram program = band_program(f.model, f.map, f.program, f.buffers(6144, 6144));
  CHECK(upsample_nodes(f, program) == 0);
  int upsample_loads = 0;
  for (const BandInstruction& ins : program.instructions) {
    if (ins.op != BandOp::UpsampleLoad) continue;
    ++upsample_loads;
    const int source = ins.tensor;
    CHECK(ins.row_words == f.map.nodes[source].shape.width);
    CHECK(ins.words % ins.row_words == 0);
    CHECK(ins.scratch_stride == 4 * ins.words);  // two rows of twice the width per input row
    CHECK(scratch_words(ins) == 4 * ins.channels * ins.words);
  }
  CHECK(upsample_loads > static_cast<int>(upsamples));  // several bands a reader
  // The readers' bands start on even rows.
  for (const NodeBands& node : program.nodes) {
    const Node& reader = f.model.graph.nodes[node.node];
    const bool reads_folded = std::any_of(reader.inputs.begin(), reader.inputs.end(), [&](int input) {
      const std::vector<int>& parts = f.model.graph.nodes[input].inputs;
      return f.map.nodes[input].foldable ||
             std::any_of(parts.begin(), parts.end(), [&](int part) { return f.map.nodes[part].foldable; });
    });
    if (!reads_folded) continue;
    for (int height : node.band_heights) CHECK(height % 2 == 0);
  }
  const BandTraffic traffic = execute_band_program(f.integer, f.map, program, f.reference);
  CHECK(traffic.stored_words == f.stored_words(program));

  SUBCASE("its rows taken at the wrong width: the first divergence") {
    BandProgram bad = program;
    BandInstruction& load = bad.instructions[first_of(bad, BandOp::UpsampleLoad)];
    load.row_words /= 2;
    try {
      execute_band_program(f.integer, f.map, bad, f.reference);
      FAIL("the executor accepted it");
    } catch (const Error& e) {
      CHECK_MESSAGE(std::string(e.what()).find(": expected ") != std::string::npos, std::string(e.what()));
    }
  }
  SUBCASE("halves too small for two rows of a reader: the upsamples run as nodes") {
    const BandProgram small = band_program(f.model, f.map, f.program, f.buffers(2048, 2048));
    CHECK(upsample_nodes(f, small) == upsamples);
    CHECK(first_of(small, BandOp::Run) < small.instructions.size());
    for (const BandInstruction& ins : small.instructions) CHECK(ins.op != BandOp::UpsampleLoad);
  }
}

TEST_CASE("band program: the executor names what a wrong program does") {
  const Fixture f("wrong");
  const BandProgram good = band_program(f.model, f.map, f.program, f.buffers(2048, 2048));
  auto fails_with = [&](const BandProgram& bad, const std::string& message) {
    try {
      execute_band_program(f.integer, f.map, bad, f.reference);
      FAIL("the executor accepted it; expected: " << message);
    } catch (const Error& e) {
      CHECK_MESSAGE(std::string(e.what()).find(message) != std::string::npos, std::string(e.what()));
    }
  };

  SUBCASE("a load of the last store's words without its barrier") {
    BandProgram bad = good;
    const size_t store = first_of(bad, BandOp::Store);
    size_t load = store;
    while (!(bad.instructions[load].op == BandOp::Load && bad.instructions[load].barrier)) ++load;
    bad.instructions[load].barrier = false;
    fails_with(bad, "without a barrier after it");
  }
  SUBCASE("a copy from the other output half: the first divergence") {
    BandProgram bad = good;
    BandInstruction& copy = bad.instructions[first_of(bad, BandOp::Copy)];
    const std::int64_t other = copy.reads & kOutputHalf0 ? bad.buffers.output_words : -bad.buffers.output_words;
    copy.source_word += other;
    copy.reads ^= kOutputHalf0 | kOutputHalf1;
    fails_with(bad, ": expected ");
  }
  SUBCASE("a copy reading outside the half it declares") {
    BandProgram bad = good;
    bad.instructions[first_of(bad, BandOp::Copy)].reads ^= kOutputHalf0 | kOutputHalf1;
    fails_with(bad, "lie outside the halves it declares");
  }
  SUBCASE("a run reading another half") {
    BandProgram bad = good;
    BandInstruction& run = bad.instructions[first_of(bad, BandOp::Run)];
    run.reads ^= kInputHalf0 | kInputHalf1;
    fails_with(bad, "lie outside the halves it declares");
  }
  SUBCASE("a band's pad rows wrong: the first divergence") {
    BandProgram bad = good;
    const BandInstruction& run = bad.instructions[first_of(bad, BandOp::Run)];
    PackedWord& word = bad.descriptors[run.descriptor];
    REQUIRE(word["pad_top"] == 1);
    word["pad_top"] = 0;
    fails_with(bad, "band program: layer conv0 channel 0 y 0 x 0: expected ");
  }
  SUBCASE("constants in the other half") {
    BandProgram bad = good;
    BandInstruction& constants = bad.instructions[first_of(bad, BandOp::Constants)];
    constants.half ^= 1;
    constants.writes = constants.half == 0 ? kConstantHalf0 : kConstantHalf1;
    fails_with(bad, "its constant half holds another layer's constants");
  }
  SUBCASE("a band forwarded from the half it writes") {
    BandProgram bad = good;
    auto forwarding = std::find_if(bad.instructions.begin(), bad.instructions.end(), [](const BandInstruction& ins) {
      return ins.op == BandOp::Run && (ins.reads & (kOutputHalf0 | kOutputHalf1)) != 0;
    });
    REQUIRE(forwarding != bad.instructions.end());
    PackedWord& word = bad.descriptors[forwarding->descriptor];
    const bool from_half1 = (forwarding->reads & kOutputHalf1) != 0;
    word["in_base0"] = word["in_base0"] + (from_half1 ? -1 : 1) * bad.buffers.output_words;
    forwarding->reads |= forwarding->writes;
    fails_with(bad, "reads a half it writes");
  }
  SUBCASE("a load before the store of its words, reading what an earlier layer left there") {
    BandProgram bad = good;
    // The first barrier load whose words a store of another layer wrote
    // earlier (the region reused), moved before the Store it waits for.
    auto overlaps = [](const BandInstruction& a, const BandInstruction& b) {
      for (int x = 0; x < a.channels; ++x) {
        for (int y = 0; y < b.channels; ++y) {
          const std::int64_t a0 = a.dram_word + x * a.dram_stride, b0 = b.dram_word + y * b.dram_stride;
          if (a0 < b0 + b.words && b0 < a0 + a.words) return true;
        }
      }
      return false;
    };
    bool moved = false;
    for (size_t i = 0; i < bad.instructions.size() && !moved; ++i) {
      if (bad.instructions[i].op != BandOp::Load || !bad.instructions[i].barrier) continue;
      size_t store = i;
      while (bad.instructions[store].op != BandOp::Store) --store;
      bool reused = false;
      for (size_t k = 0; k < store; ++k) {
        const BandInstruction& earlier = bad.instructions[k];
        reused = reused || (earlier.op == BandOp::Store && earlier.tensor != bad.instructions[i].tensor &&
                            overlaps(earlier, bad.instructions[i]));
      }
      if (!reused) continue;
      const BandInstruction load = bad.instructions[i];
      bad.instructions.erase(bad.instructions.begin() + static_cast<std::ptrdiff_t>(i));
      bad.instructions.insert(bad.instructions.begin() + static_cast<std::ptrdiff_t>(store), load);
      moved = true;
    }
    REQUIRE(moved);
    fails_with(bad, "before it was stored there (it holds layer ");
  }
  SUBCASE("a store that skips a band") {
    BandProgram bad = good;
    bad.instructions.erase(bad.instructions.begin() + static_cast<std::ptrdiff_t>(first_of(bad, BandOp::Store)));
    fails_with(bad, "band program instruction");
  }
}

// A banked scratch memory serves the head's lanes, which read one anchor's
// channels at once, in one cycle only when those words fall in distinct
// banks, and rotates the lanes' rows onto the banks when they fall in
// consecutive ones: so each head band's channels lie one word more than a
// multiple of the program's modulus apart, 64 words where a row fits.
TEST_CASE("band program: the detect head's bands put their channels 1 modulo the head pitch modulus apart") {
  CHECK(head_channel_pitch(1, 64) == 1);
  CHECK(head_channel_pitch(2, 64) == 65);
  CHECK(head_channel_pitch(65, 64) == 65);
  CHECK(head_channel_pitch(66, 64) == 129);
  CHECK(head_channel_pitch(4, 2) == 5);
  CHECK(head_channel_pitch(5, 2) == 5);
  const Fixture f("head-pitch");
  // The largest modulus at which one row of every level fits a half: 64 in
  // large halves, smaller in small ones.
  const auto one_row_words = [&](std::int64_t modulus) {
    std::int64_t most = 0;
    for (const DetectLevel& level : f.model.graph.levels) {
      const TensorShape& box = f.map.nodes[level.box_node].shape;
      const TensorShape& cls = f.map.nodes[level.class_node].shape;
      most = std::max(most, (box.channels + cls.channels) * head_channel_pitch(box.width, modulus));
    }
    return most;
  };
  CHECK(band_program(f.model, f.map, f.program, f.buffers(1 << 20, 1 << 20)).head_pitch_modulus == kScratchBankRowWords);
  const BandProgram program = band_program(f.model, f.map, f.program, f.buffers(2048, 2048));
  REQUIRE(program.head_pitch_modulus >= 2);
  CHECK(one_row_words(program.head_pitch_modulus) <= 2048);
  if (program.head_pitch_modulus < kScratchBankRowWords) CHECK(one_row_words(2 * program.head_pitch_modulus) > 2048);
  int heads = 0;
  std::map<int, const BandInstruction*> last_load;  // per node
  for (const BandInstruction& head : program.instructions) {
    if (head.op == BandOp::Load) last_load[head.node] = &head;
    if (head.op != BandOp::Head) continue;
    ++heads;
    const DetectLevel& level = f.model.graph.levels[static_cast<size_t>(head.level)];
    const std::int64_t band_plane = std::int64_t{head.rows} * f.map.nodes[level.box_node].shape.width;
    CHECK(head.scratch_stride % program.head_pitch_modulus == 1);
    CHECK(head.scratch_stride >= band_plane);
    CHECK(head.scratch_stride < band_plane + program.head_pitch_modulus);
    // Its loads of the level's box and class outputs place every channel at that pitch.
    for (int node : {level.box_node, level.class_node}) {
      REQUIRE(last_load.count(node) == 1);
      const BandInstruction* load = last_load[node];
      CHECK(load->scratch_stride == head.scratch_stride);
      CHECK(load->words == band_plane);
      CHECK((load->writes & head.reads) != 0);
    }
  }
  CHECK(heads > static_cast<int>(f.model.graph.levels.size()));  // several bands a level at these buffers

  BandProgram bad = program;
  BandInstruction& head = bad.instructions[first_of(bad, BandOp::Head)];
  head.scratch_stride = std::int64_t{head.rows} * f.map.nodes[f.model.graph.levels[0].box_node].shape.width - 1;
  try {
    execute_band_program(f.integer, f.map, bad, f.reference);
    FAIL("the executor accepted a head band whose channels overlap");
  } catch (const Error& e) {
    CHECK_MESSAGE(std::string(e.what()).find("channel pitch is shorter than its rows") != std::string::npos, e.what());
  }
}

TEST_CASE("band program: a buffer too small for one row names the layer and the buffer") {
  const Fixture f("small");
  try {
    band_program(f.model, f.map, f.program, f.buffers(100, 1 << 20));
    FAIL("accepted a 100-word input band buffer");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) ==
          "layer conv0: one band of output rows needs 576 feature-map words of the input band buffer, whose half holds 100");
  }
  try {
    band_program(f.model, f.map, f.program, f.buffers(1 << 20, 300));
    FAIL("accepted a 300-word output staging buffer");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("of the output staging buffer, whose half holds 300") != std::string::npos);
  }
}
TEST_CASE("band program: a pair's bands alternate, the second reading each band of the first on chip") {
  const Fixture f("pairs");
  const BandProgram program = band_program(f.model, f.map, f.program, f.buffers(2048, 2048));
  std::map<int, const NodeBands*> bands_of;
  for (const NodeBands& node : program.nodes) bands_of[node.node] = &node;
  int pairs = 0, multi_band_pairs = 0;
  for (size_t first = 0; first < f.map.nodes.size(); ++first) {
    const int second = f.map.nodes[first].forwarded_to;
    if (second < 0) continue;
    ++pairs;
    INFO("pair " << f.model.graph.nodes[first].name << " -> " << f.model.graph.nodes[second].name);
    REQUIRE(bands_of.count(static_cast<int>(first)) == 1);
    const NodeBands& a = *bands_of[static_cast<int>(first)];
    const NodeBands& b = *bands_of[second];
    CHECK(!a.stored);
    CHECK(a.written_bytes == 0);
    CHECK(b.stored);
    CHECK(a.band_heights == b.band_heights);
    multi_band_pairs += a.bands() > 1;
    // The pair's Runs alternate first, second; each second Run reads the
    // output half the first Run before it wrote; the first node has no Store
    // and the second loads nothing of it.
    std::vector<const BandInstruction*> runs;
    for (const BandInstruction& ins : program.instructions) {
      const bool of_pair = ins.node == static_cast<int>(first) || ins.node == second;
      if (ins.op == BandOp::Store) CHECK(ins.node != static_cast<int>(first));
      if (ins.op == BandOp::Load && ins.node == second) CHECK(ins.tensor != static_cast<int>(first));
      if (ins.op == BandOp::Run && of_pair) runs.push_back(&ins);
    }
    REQUIRE(runs.size() == 2 * a.band_heights.size());
    for (size_t r = 0; r < runs.size(); r += 2) {
      CHECK(runs[r]->node == static_cast<int>(first));
      CHECK(runs[r + 1]->node == second);
      CHECK((runs[r + 1]->reads & runs[r]->writes) != 0);
      CHECK((runs[r]->writes & (kOutputHalf0 | kOutputHalf1)) != 0);
    }
  }
  CHECK(pairs >= 5);
  CHECK(multi_band_pairs > 0);
  const BandTraffic traffic = execute_band_program(f.integer, f.map, program, f.reference);
  CHECK(traffic.stored_words == f.stored_words(program));
}
