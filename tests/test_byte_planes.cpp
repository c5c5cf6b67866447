// Byte planes (compiler/emit/byte_planes.hpp): the two words of every 16-bit
// code; which tensors a model stores as planes (16-bit tensors only
// convolutions write and read, on the synthetic model at 64x64) and which it
// cannot (16-bit tensors a slice or an add reads keep wide words, and
// stage_7 names the first); a plane tensor's stored channels, its reader's
// weights twice, the band program through small buffers bit-exact in the
// executor, and stage_7 and yq-hw inspect naming them.
#include "testing.hpp"

#include <algorithm>
#include <fstream>

#include "cli_support.hpp"
#include "compiler/emit/band_executor.hpp"
#include "compiler/emit/band_program.hpp"
#include "compiler/emit/byte_planes.hpp"
#include "compiler/emit/layer_program.hpp"
#include "compiler/io/test_pattern.hpp"
#include "compiler/quant/quant_model_io.hpp"
#include "compiler/ref/int_model.hpp"

using namespace yq;
namespace fs = std::filesystem;

namespace {

// A run of the synthetic model at 64x64 through stage_7 with the layers
// matching `layers` at 16-bit activations, every other at 8: its folder and
// what it printed.
struct Run {
  fs::path folder;
  std::string printed;
};

Run run_with_16_bits(const std::string& name, const std::string& layers) {
  const fs::path dir = test::fresh_temp_dir("byte-planes-" + name);
  std::ofstream(dir / "config.toml") << "[[override]]\nlayers = \"" << layers << "\"\nabits = 16\n";
  const test::CliResult result = test::run_cli(
      "run --imgsz 64 --config " + (dir / "config.toml").string() + " --through stage_7 --out " + (dir / "run").string(), dir);
  REQUIRE_MESSAGE(result.exit_code == 0, result.err);
  return {dir / "run", result.out};
}

}  // namespace

TEST_SUITE_BEGIN("unit");

TEST_CASE("byte planes: a code's high plane holds its high byte (signed), its low plane its low byte (unsigned)") {
  for (std::int32_t code = -32768; code <= 32767; ++code) {
    const std::int32_t high = plane_word(code, 0), low = plane_word(code, 1);
    REQUIRE(high >= -128);
    REQUIRE(high <= 127);
    REQUIRE(low >= 0);
    REQUIRE(low <= 255);
    REQUIRE(code_of_planes(high, low) == code);
  }
  // Two channels of two codes: channel c's planes are stored channels 2c, 2c + 1.
  const std::vector<std::int32_t> codes = {0x1234, -2, 300, -32768};
  CHECK(to_planes(codes, 2) == std::vector<std::int32_t>{0x12, -1, 0x34, 0xfe, 1, -128, 44, 0});
  CHECK(from_planes(to_planes(codes, 2), 2) == codes);
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("pipeline");

TEST_CASE("byte planes: 16-bit tensors only convolutions write and read are stored as planes, bit-exact in the band program") {
  const Run run = run_with_16_bits("conv", "^conv[01]$");
  CHECK(run.printed.find("byte planes (each code two one-byte words, docs/ARTIFACTS.md 3.2): conv0, conv1\n") !=
        std::string::npos);
  const QuantModel model = load_quant_model(run.folder / "stage_6");
  const std::vector<int> planes = byte_planes(model);
  for (size_t i = 0; i < planes.size(); ++i) {
    const std::string& name = model.graph.nodes[i].name;
    INFO(name);
    CHECK(planes[i] == (name == "conv0" || name == "conv1" ? 2 : 1));
  }
  const MemoryMap map = plan_memories(model, InputSize(64, 64));
  const int conv1 = model.graph.index_of("conv1");
  CHECK(map.nodes[conv1].shape.channels == 2 * model.graph.nodes[conv1].channels);
  CHECK(map.nodes[conv1].fmap_slot_bytes == 1);
  const WordWidths widths = word_widths(model);
  CHECK(widths.fmap == 8);
  CHECK(widths.planes);

  // conv1 reads conv0's planes: each input channel's taps twice.
  const std::vector<std::int16_t>& weights = model.nodes[conv1].conv.weights;
  const std::vector<std::int16_t> stored = stored_weights(model, map, conv1);
  REQUIRE(stored.size() == 2 * weights.size());
  const size_t taps = 9;
  for (size_t pair = 0; pair < weights.size() / taps; ++pair) {
    for (size_t t = 0; t < taps; ++t) {
      REQUIRE(stored[(2 * pair) * taps + t] == weights[pair * taps + t]);
      REQUIRE(stored[(2 * pair + 1) * taps + t] == weights[pair * taps + t]);
    }
  }

  const IntegerModel integer(model, 1);
  const std::vector<CodeTensor> reference = integer.run_all(test_pattern_image(64, 64, 0));
  BandBuffers buffers{4096, 4096, 0, 0, 0};
  for (const NodePlacement& place : map.nodes) {
    buffers.weight_words = std::max(buffers.weight_words, place.weight_count);
    buffers.bias_words = std::max(buffers.bias_words, place.bias_count);
    buffers.requant_words = std::max(buffers.requant_words, place.requant_count);
  }
  const BandProgram program = band_program(model, map, layer_program(model, map), buffers);
  CHECK(std::any_of(program.nodes.begin(), program.nodes.end(), [&](const NodeBands& node) {
    return node.node == conv1 && node.bands() > 1;
  }));
  const BandTraffic traffic = execute_band_program(integer, map, program, reference);
  CHECK(traffic.runs > 0);

  // The emission says which, and yq-hw inspect names them.
  const test::CliResult inspect = test::run_cli("inspect " + run.folder.string(), run.folder.parent_path());
  REQUIRE_MESSAGE(inspect.exit_code == 0, inspect.err);
  CHECK(inspect.out.find("byte planes (docs/ARTIFACTS.md 3.2: each code of these outputs in two one-byte words): conv0, conv1\n") !=
        std::string::npos);
}

TEST_CASE("byte planes: 16-bit tensors a slice or an add reads keep the scratch words 16 bits wide, and stage_7 says why") {
  const Run run = run_with_16_bits("stem", "^(conv[01]|c2f2\\\\..*)$");
  const std::string why = "c2f2.split0 reads c2f2.cv1 and is no convolution";
  CHECK(run.printed.find("feature-map words of 16 bits: " + why + ", so the wider codes cannot be byte planes") !=
        std::string::npos);
  const QuantModel model = load_quant_model(run.folder / "stage_6");
  CHECK(byte_planes_unfit(model) == why);
  const std::vector<int> planes = byte_planes(model);
  CHECK(std::count(planes.begin(), planes.end(), 2) == 0);
  const WordWidths widths = word_widths(model);
  CHECK(widths.fmap == 16);
  CHECK_FALSE(widths.planes);
}

TEST_SUITE_END();
