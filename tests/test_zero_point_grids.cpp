// Asymmetric (zero-point) activation grids for the float simulation
// (compiler/quant/zero_point_grids.hpp, measured by tests/bench/bench_activation_grids.cpp).
#include "testing.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <random>

#include "cli_support.hpp"
#include "compiler/float/fake_quant_model.hpp"
#include "compiler/io/test_pattern.hpp"
#include "compiler/quant/attribution.hpp"
#include "compiler/quant/quant_model_io.hpp"
#include "compiler/quant/range_selection.hpp"
#include "compiler/quant/zero_point_grids.hpp"

using namespace yq;
namespace fs = std::filesystem;

namespace {

double largest_value(const Grid& g) { return (std::exp2(g.bits - 1) - 1 - g.zero) * g.scale; }
double smallest_value(const Grid& g) { return (-std::exp2(g.bits - 1) - g.zero) * g.scale; }

double quantization_error(const at::Tensor& x, const Grid& grid) {
  return (fake_quantize(x, grid) - x).pow(2).mean().item<double>();
}

// The mean squared distance of two runs' values of one tensor.
double squared_distance(const at::Tensor& a, const at::Tensor& b) { return (a - b).pow(2).mean().item<double>(); }

}  // namespace

TEST_CASE("zero points: an asymmetric grid spends all 2^bits codes on [lower, upper] and keeps 0 exact") {
  const Grid grid = asymmetric_grid(kSiluMinimum, 6.0, 4);
  CHECK(std::abs(smallest_value(grid) - kSiluMinimum) <= grid.scale / 2);
  CHECK(std::abs(largest_value(grid) - 6.0) <= grid.scale / 2);
  const at::Tensor q = fake_quantize(at::tensor({0.0f, -1.0f, 7.0f}), grid);
  CHECK(q[0].item<float>() == 0.0f);
  CHECK(q[1].item<double>() == doctest::Approx(smallest_value(grid)));
  CHECK(q[2].item<double>() == doctest::Approx(largest_value(grid)));
  // Over SiLU's range, the asymmetric grid takes 16 values where the symmetric
  // one of the same clip takes 8 (codes 0..7 at 4 bits: -0.28 rounds to 0).
  const at::Tensor ramp = at::linspace(kSiluMinimum, 6.0, 4000);
  const auto distinct = [](const at::Tensor& t) { return std::get<0>(at::_unique(t)).numel(); };
  CHECK(distinct(fake_quantize(ramp, grid)) == 16);
  CHECK(distinct(fake_quantize(ramp, {4, 6.0 / 7, 0})) == 8);
  CHECK_THROWS_WITH(asymmetric_grid(0.5, 6.0, 4), "an asymmetric grid needs lower <= 0 < upper");
}

TEST_CASE("zero points: the mse upper end of an asymmetric grid lowers the real quantization error") {
  // A long-tailed SiLU-like tensor: negatives in [kSiluMinimum, 0], an exponential tail.
  std::mt19937 rng(7);
  std::exponential_distribution<float> tail(1.0f);
  std::uniform_real_distribution<float> negative(static_cast<float>(kSiluMinimum), 0.0f);
  std::vector<float> values(200000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = i % 4 == 0 ? negative(rng) : tail(rng);
  AbsHistogram histogram;
  histogram.add(values.data(), values.size());
  const at::Tensor x = at::from_blob(values.data(), {static_cast<long>(values.size())}, at::kFloat).clone();
  for (int bits : {4, 6}) {
    CAPTURE(bits);
    const double clip = select_asymmetric_clip(histogram, kSiluMinimum, bits);
    CHECK(clip > -kSiluMinimum);
    CHECK(clip < histogram.max);
    const double best = quantization_error(x, asymmetric_grid(kSiluMinimum, clip, bits));
    CHECK(best < quantization_error(x, asymmetric_grid(kSiluMinimum, histogram.max, bits)));
    CHECK(best < quantization_error(x, asymmetric_grid(kSiluMinimum, 0.7 * clip, bits)));
    CHECK(best < quantization_error(x, asymmetric_grid(kSiluMinimum, 1.4 * clip, bits)));
    // and below the symmetric grid of the symmetric mse clip
    const double symmetric_clip = select_clip(histogram, bits, {RangeMethod::Mse, 99.99});
    CHECK(best < quantization_error(x, {bits, symmetric_clip / (std::exp2(bits - 1) - 1), 0}));
  }
  CHECK_THROWS_WITH(select_asymmetric_clip(histogram, 0.1, 4), "the lower end of an asymmetric grid must be at most 0");
}

TEST_CASE("zero points: SiLU-bounded tensors get asymmetric grids, the rest keep theirs") {
  const fs::path dir = test::fresh_temp_dir("zero-points");
  const test::CliResult run = test::run_cli("run --imgsz 160 --abits 4 --through stage_6 --out " + (dir / "out").string(), dir);
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  const Model fused = load_model(dir / "out/stage_2");
  const QuantModel quant = load_quant_model(dir / "out/stage_6");
  const Graph& graph = quant.graph;
  const CalibrationStatistics statistics = load_calibration(dir / "out/stage_4/statistics.pt", graph.nodes.size());
  const std::vector<std::optional<double>> bounds = silu_lower_bounds(graph);
  const std::vector<FakeQuantGrids> symmetric = activation_grids(quant, kActivationComponents);
  const std::vector<FakeQuantGrids> kept = zero_point_grids(quant, statistics, ZeroPointLower::SiluBound, ZeroPointUpper::Kept);
  const std::vector<FakeQuantGrids> observed = zero_point_grids(quant, statistics, ZeroPointLower::Observed, ZeroPointUpper::Mse);

  int asymmetric = 0;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    CAPTURE(node.name);
    if (node.op == OpKind::Conv) CHECK(bounds[i].has_value() == node.silu);
    if (node.op == OpKind::Add) {  // a C2f bottleneck's shortcut: its input plus a SiLU output
      REQUIRE(bounds[node.inputs[0]]);
      CHECK(bounds[i] == *bounds[node.inputs[0]] + kSiluMinimum);
    }
    if (node.op == OpKind::Input) CHECK(!bounds[i]);
    CHECK(kept[i].pre.bits == symmetric[i].pre.bits);
    CHECK(kept[i].pre.scale == symmetric[i].pre.scale);
    if (!bounds[i]) {
      CHECK(kept[i].out.scale == symmetric[i].out.scale);
      CHECK(kept[i].out.zero == symmetric[i].out.zero);
      continue;
    }
    ++asymmetric;
    CHECK(statistics.outputs[i].min >= *bounds[i] - 1e-6);  // the bound holds on the calibration data (float32 values)
    const Grid& g = kept[i].out;
    CHECK(smallest_value(g) <= *bounds[i] + g.scale / 2);
    CHECK(std::abs(largest_value(g) - largest_value(symmetric[i].out)) <= g.scale / 2);  // the same clipping
    CHECK(smallest_value(observed[i].out) <= statistics.outputs[i].min + observed[i].out.scale / 2);
    if (node.op == OpKind::Concat) {  // a concat with shared scales stays a pass-through
      for (int input : node.inputs) {
        if (quant.nodes[input].out.scale != quant.nodes[i].out.scale) continue;
        CHECK(kept[input].out.scale == g.scale);
        CHECK(kept[input].out.zero == g.zero);
      }
    }
  }
  CHECK(asymmetric > 40);

  // In the simulation the finer step shows: with its pre-activation left in
  // float, the first convolution's output (its input is exact) is nearer the
  // float model on the asymmetric grid (15 steps over [lower, c] in place of 7 over [0, c]).
  const int first_conv = graph.conv_nodes().front();
  std::vector<FakeQuantGrids> only_symmetric(graph.nodes.size()), only_kept(graph.nodes.size());
  only_symmetric[first_conv].out = symmetric[first_conv].out;
  only_kept[first_conv].out = kept[first_conv].out;
  CHECK(only_kept[first_conv].out.scale < only_symmetric[first_conv].out.scale);
  const at::Tensor input = image_to_input(letterbox(test_pattern_image(200, 150, 3), {160, 160}).canvas);
  const at::Tensor real = FloatModel(fused).run_all(input)[first_conv];
  CHECK(squared_distance(FakeQuantModel(fused, only_kept).run_all(input)[first_conv], real) <
        0.8 * squared_distance(FakeQuantModel(fused, only_symmetric).run_all(input)[first_conv], real));
}
