// The band schedule with feature maps in DRAM
// (compiler/emit/band_schedule.hpp, the band program's figures), on a 64 x 64 run of the synthetic model
// through stage_6: one layer's bands, bytes and cycles worked out by hand,
// the frame's totals against the tensors' own sizes when every layer fits in
// one band, the bands always fitting the buffer, twin tiles, the bandwidth bound, the
// error for a buffer too small, and `yq-hw inspect --json`.
#include "testing.hpp"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "compiler/emit/band_schedule.hpp"
#include "compiler/emit/layer_program.hpp"
#include "compiler/quant/quant_model_io.hpp"
#include "compiler/util/error.hpp"

TEST_SUITE_BEGIN("pipeline");

using namespace yq;
namespace fs = std::filesystem;

namespace {

// A fresh run in its own folder (one per test case: CTest may run the cases in parallel).
fs::path quantized_run_64(const std::string& test_name) {
  const fs::path dir = test::fresh_temp_dir("band-schedule-" + test_name);
  const test::CliResult result = test::run_cli("run --imgsz 64 --through stage_6 --out " + (dir / "run").string(), dir);
  REQUIRE_MESSAGE(result.exit_code == 0, result.err);
  return dir / "run";
}

const LayerBands& layer_named(const BandSchedule& schedule, const std::string& name) {
  for (const LayerBands& layer : schedule.layers) {
    if (layer.name == name) return layer;
  }
  FAIL("no layer " << name);
  return schedule.layers.front();
}

}  // namespace

TEST_CASE("band schedule: bands, bytes and cycles of a quantized 64x64 run") {
  static const QuantModel model = load_quant_model(quantized_run_64("plan") / "stage_6");

  SUBCASE("conv0's, worked out by hand") {
    // conv0: 3 x 64 x 64 codes (1 byte each at 8 bits) -> 16 x 32 x 32, kernel 3,
    // stride 2, pad 1. A 4,096-byte output half holds 8 output rows of 16 x 32
    // bytes (the input half would hold 21 input rows of 3 x 64 bytes, enough
    // for 10 output rows): R = 8, the first band half as tall and the other
    // 28 rows spread over four bands, so bands of output rows 0-3, 4-10,
    // 11-17, 18-24, 25-31 reading input rows 0-7, 7-21, 21-35, 35-49, 49-63
    // (8 + 4 x 15 = 68 rows of 192 bytes).
    const BandSchedule schedule = plan_bands(model, InputSize(64, 64), ArrayShape{8, 8}, 4096);
    const LayerBands& conv0 = layer_named(schedule, "conv0");
    CHECK(conv0.band_rows == 8);
    CHECK(conv0.bands == 5);
    CHECK(conv0.band_bytes == 15 * 192);
    CHECK(conv0.read_bytes == 68 * 192);
    CHECK(conv0.write_bytes == 16 * 32 * 32);
    CHECK(conv0.macs == std::int64_t{16} * 32 * 32 * 27);
    // 2 channel tiles x (16 + 4 x 28) tiles of 8 pixels (bands of 4 and 7
    // rows of 32 pixels) x 27 taps.
    CHECK(conv0.cycles == 2 * (16 + 4 * 28) * 27);
    for (const LayerBands& layer : schedule.layers) {
      CAPTURE(layer.name);
      CHECK(layer.band_bytes <= 4096);
      CHECK(layer.bands >= 1);
    }
  }

  SUBCASE("twin tiles: 16 output channels of a stride-1 convolution on 32 columns take 16 pixels a tile") {
    // c2f2.m0.cv1: 16 -> 16 channels, kernel 3, stride 1, 16 x 16 outputs in
    // one band: 256 / 8 = 32 tiles of 144 taps, or 16 twin tiles of 16
    // pixels; conv0 (stride 2) never twins.
    const ArrayShape plain{8, 32, false}, twin{8, 32, true};
    const BandSchedule without = plan_bands(model, InputSize(64, 64), plain, std::int64_t{1} << 30);
    const BandSchedule with = plan_bands(model, InputSize(64, 64), twin, std::int64_t{1} << 30);
    CHECK(layer_named(without, "c2f2.m0.cv1").cycles == 32 * 144);
    CHECK(layer_named(with, "c2f2.m0.cv1").cycles == 16 * 144);
    CHECK(layer_named(with, "conv0").cycles == layer_named(without, "conv0").cycles);
  }

  SUBCASE("with one band per layer each tensor is read once and written once, unless handed over on chip or a folded upsample") {
    const InputSize size(64, 64);
    const BandSchedule schedule = plan_bands(model, size, ArrayShape{8, 8}, std::int64_t{1} << 30);
    const MemoryMap map = plan_memories(model, size);
    std::int64_t read = 0, written = 0, constants = 0, macs = 0;
    for (size_t i = 0; i < model.graph.nodes.size(); ++i) {
      const Node& node = model.graph.nodes[i];
      const NodePlacement& place = map.nodes[i];
      if (node.op == OpKind::Input || place.view || place.foldable) continue;
      auto words = [&](int tensor) {
        const TensorShape& s = map.nodes[tensor].shape;
        return std::int64_t{s.channels} * s.height * s.width;
      };
      for (int input : node.inputs) {
        read += words(input);  // 8-bit codes: one byte each
        // A folded upsample's channels are read as its input: a quarter of the bytes.
        if (map.nodes[input].foldable) read -= 3 * words(input) / 4;
        for (int part : model.graph.nodes[input].inputs) {
          if (map.nodes[input].view && map.nodes[part].foldable) read -= 3 * words(part) / 4;
        }
      }
      if (place.forwarded_to < 0) written += std::int64_t{place.shape.channels} * place.shape.height * place.shape.width;
      if (node.op == OpKind::Conv) {
        macs += std::int64_t{place.shape.channels} * place.shape.height * place.shape.width * node.in_channels * node.kernel *
                node.kernel;
      }
      constants += place.weight_count + place.bias_count + place.requant_count;  // words; bytes checked below
    }
    for (const LayerBands& layer : schedule.layers) CHECK(layer.bands == 1);
    // Every input is read once: from DRAM, or on chip from the band before.
    std::int64_t head = 0;
    for (const DetectLevel& level : model.graph.levels) {
      for (int node : {level.box_node, level.class_node}) {
        const TensorShape& s = map.nodes[node].shape;
        head += std::int64_t{s.channels} * s.height * s.width;
      }
    }
    CHECK(schedule.forwarded_bytes > 0);
    CHECK(schedule.read_bytes() + schedule.head_read_bytes + schedule.forwarded_bytes == read + head);
    CHECK(schedule.write_bytes() == written);
    CHECK(schedule.macs() == macs);
    CHECK(schedule.constant_bytes() > constants);  // biases and requant words take more than a byte
    // Unlimited bandwidth: the engines' cycles; a trickle: the bytes.
    CHECK(schedule.frame_cycles(std::numeric_limits<double>::infinity()) == static_cast<double>(schedule.engine_cycles()));
    CHECK(schedule.frame_cycles(1e-3) == doctest::Approx(schedule.dram_bytes() / 1e-3));
    // Smaller halves cut more bands, whose shared rows are read again.
    const BandSchedule small = plan_bands(model, size, ArrayShape{8, 8}, 4096);
    CHECK(small.read_bytes() > schedule.read_bytes());
    CHECK(small.write_bytes() == schedule.write_bytes());
  }

  SUBCASE("a band buffer smaller than one output row's input is an error naming the layer and the buffer") {
    // conv0's output rows each read up to 3 input rows of 3 x 64 bytes; 300
    // bytes make a half of 256 words (whole 64-word rows of the banks).
    CHECK_THROWS_WITH_AS(plan_bands(model, InputSize(64, 64), ArrayShape{8, 8}, 300),
                         "layer conv0: one band of output rows needs 576 feature-map words of the input band buffer, "
                         "whose half holds 256",
                         Error);
  }
}

TEST_CASE("band schedule: yq-hw inspect reports it for a quantized run") {
  const fs::path run = quantized_run_64("inspect");
  const test::CliResult result = test::run_cli("inspect --json --band-buffer 4096 " + run.string(), run.parent_path());
  REQUIRE_MESSAGE(result.exit_code == 0, result.err);
  const nlohmann::json report = nlohmann::json::parse(result.out);
  const nlohmann::json& schedule = report.at("dram_schedule");
  CHECK(schedule["band_buffer_bytes"] == 4096);
  const BandSchedule expected =
      plan_bands(load_quant_model(run / "stage_6"), InputSize(64, 64), ArrayShape{16, 16}, 4096);
  CHECK(schedule["read_bytes"] == expected.read_bytes());
  REQUIRE(schedule["arrays"].size() == 2);
  CHECK(schedule["arrays"][0]["array"] == "16x16");
  CHECK(schedule["arrays"][0]["engine_cycles"] == expected.engine_cycles());
  CHECK(schedule["arrays"][0]["bandwidths"][0]["bytes_per_cycle"] == 12.8);
  CHECK(schedule["arrays"][0]["bandwidths"][0]["frame_cycles"] == std::llround(expected.frame_cycles(12.8)));
  CHECK(schedule["layers"].size() == expected.layers.size());

  const test::CliResult refused = test::run_cli("inspect --band-buffer 300 " + run.string(), run.parent_path());
  CHECK(refused.exit_code != 0);
  CHECK(refused.err.find("layer conv0: one band of output rows needs 576 feature-map words") != std::string::npos);
}
