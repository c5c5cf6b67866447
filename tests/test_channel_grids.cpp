// Per-channel activation grids of the float simulation
// (compiler/quant/channel_grids.hpp): each channel quantized on its own
// scale, the eligible convolutions, and clips chosen per channel.
#include "testing.hpp"

#include <ATen/ATen.h>

#include "cli_support.hpp"
#include "compiler/io/test_pattern.hpp"
#include "compiler/quant/attribution.hpp"
#include "compiler/quant/channel_grids.hpp"
#include "compiler/quant/quant_model_io.hpp"
#include "compiler/util/error.hpp"

using namespace yq;
namespace fs = std::filesystem;

TEST_CASE("channel grids: each channel of each image is rounded on its own scale") {
  // [2, 3, 1, 2]: image n, channel c holds {c + 0.3, -(c + 0.3)} * (n + 1).
  at::Tensor x = at::empty({2, 3, 1, 2});
  for (int n = 0; n < 2; ++n) {
    for (int c = 0; c < 3; ++c) {
      x[n][c][0][0] = (c + 0.3f) * (n + 1);
      x[n][c][0][1] = -(c + 0.3f) * (n + 1);
    }
  }
  Grid grid{8, 1.0, 0};
  grid.channel_scales = {0.25, 1.0, 4.0};
  const at::Tensor q = fake_quantize(x, grid);
  for (int n = 0; n < 2; ++n) {
    for (int c = 0; c < 3; ++c) {
      const double scale = grid.channel_scales[static_cast<size_t>(c)];
      const float value = x[n][c][0][0].item<float>();
      CHECK(q[n][c][0][0].item<float>() == static_cast<float>(std::floor(value / scale + 0.5) * scale));
      CHECK(q[n][c][0][1].item<float>() == static_cast<float>(std::floor(-value / scale + 0.5) * scale));
    }
  }
  grid.channel_scales = {0.25, 1.0};
  CHECK_THROWS_AS(fake_quantize(x, grid), Error);
}

TEST_CASE("channel grids: only SiLU convolutions that only convolutions read are eligible, and each channel gets its own clip") {
  const fs::path dir = test::fresh_temp_dir("channel-grids");
  const test::CliResult run = test::run_cli("run --imgsz 160 --through stage_6 --out " + (dir / "out").string(), dir);
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  const Model fused = load_model(dir / "out/stage_2");
  const QuantModel quant = load_quant_model(dir / "out/stage_6");

  const std::vector<size_t> nodes = channel_grid_nodes(quant.graph, {"conv0", "conv1"});
  CHECK(nodes == std::vector<size_t>{static_cast<size_t>(quant.graph.index_of("conv0")),
                                     static_cast<size_t>(quant.graph.index_of("conv1"))});
  CHECK_THROWS_WITH_AS(channel_grid_nodes(quant.graph, {"c2f2.cv1"}), doctest::Contains("not a convolution"), Error);
  CHECK_THROWS_WITH_AS(channel_grid_nodes(quant.graph, {"c2f2.cat"}), doctest::Contains("is not a SiLU convolution"), Error);

  const auto image_at = [](int i) { return test_pattern_image(200, 150, i); };
  const std::vector<ChannelStatistics> statistics = collect_channel_statistics(fused, nodes, 2, image_at, quant.image_size);
  REQUIRE(statistics.size() == 2);
  const RangeOptions range{RangeMethod::Mse, 99.99};
  const std::vector<FakeQuantGrids> tensor_grids = activation_grids(quant, kActivationComponents);
  const std::vector<FakeQuantGrids> grids = with_channel_grids(tensor_grids, quant, statistics, range);
  const size_t conv0 = nodes[0];
  const Grid& out = grids[conv0].out;
  REQUIRE(out.channel_scales.size() == static_cast<size_t>(quant.graph.nodes[conv0].channels));
  CHECK(out.bits == quant.nodes[conv0].out.bits);
  for (size_t c = 0; c < out.channel_scales.size(); ++c) {
    CHECK(out.channel_scales[c] == select_clip(statistics[0].out[c], out.bits, range) / 127);
  }
  CHECK(grids[conv0].pre.channel_scales.size() == out.channel_scales.size());
  CHECK(grids[quant.graph.index_of("conv3")].out.channel_scales.empty());

  // On the images the clips were chosen on, conv0's output is nearer the
  // float one on per-channel grids than on the tensor's grid.
  const at::Tensor input = image_to_input(letterbox(image_at(0), quant.image_size).canvas);
  const at::Tensor exact = FloatModel(fused).run_all(input)[conv0];
  const auto error = [&](const Grid& g) { return (fake_quantize(exact, g) - exact).pow(2).mean().item<double>(); };
  CHECK(error(out) < error(tensor_grids[conv0].out));
}
