// Sequential reconstruction (--reconstruction sequential) through the command
// line on the synthetic model at 160x160 and its four built-in calibration
// patterns: the same bytes for 1 and 2 threads, other codes than rounding
// from the float inputs, a resume that reruns only stage_6, and, in the
// fake-quant simulation of the integer model on the calibration images, the
// convolutions' mean pre-activations closer to the float model's than bias
// correction from the float inputs leaves them; asymmetric reconstruction
// (--reconstruction asymmetric) the same bytes for any thread count and
// codes of its own.
#include "testing.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "compiler/float/fake_quant_model.hpp"
#include "compiler/float/float_model.hpp"
#include "compiler/io/test_pattern.hpp"
#include "compiler/quant/attribution.hpp"
#include "compiler/quant/quant_model_io.hpp"
#include "compiler/util/files.hpp"

TEST_SUITE_BEGIN("pipeline");

using namespace yq;
namespace fs = std::filesystem;

namespace {

// Over every convolution's output channels on stage_4's four calibration
// patterns: |mean pre-activation in the simulation - mean in the float model|
// (what bias correction aligns), relative to the float pre-activation's RMS,
// averaged over channels and convolutions.
double mean_shift(const Model& fused, const QuantModel& quant) {
  const ComponentMask network = component_bit(QuantComponent::BackboneActivations) |
                                component_bit(QuantComponent::HeadActivations) | component_bit(QuantComponent::Weights);
  const Model dequantized = dequantized_model(fused, quant);
  const std::vector<FakeQuantGrids> grids = activation_grids(quant, network);
  const TensorTransform on_grid = [&](size_t node, bool pre, const at::Tensor& x) {
    return fake_quantize(x, pre ? grids[node].pre : grids[node].out);
  };
  const std::vector<int> convs = fused.graph.conv_nodes();
  std::vector<at::Tensor> difference(fused.graph.nodes.size()), float_square(fused.graph.nodes.size());
  for (int image = 0; image < 4; ++image) {
    const at::Tensor input = image_to_input(letterbox(test_pattern_image(640, 480, image), {160, 160}).canvas);
    std::vector<at::Tensor> simulated_pre, float_pre;
    const std::vector<at::Tensor> simulated = FloatModel(dequantized).run_all(input, &simulated_pre, &on_grid);
    const std::vector<at::Tensor> floats = FloatModel(fused).run_all(input, &float_pre);
    for (int i : convs) {
      const bool silu = fused.graph.nodes[i].silu;
      const at::Tensor& s = silu ? simulated_pre[i] : simulated[i];
      const at::Tensor& f = silu ? float_pre[i] : floats[i];
      const at::Tensor d = (s - f).mean({0, 2, 3}).to(at::kDouble), square = f.square().mean().to(at::kDouble);
      difference[i] = image == 0 ? d : difference[i] + d;
      float_square[i] = image == 0 ? square : float_square[i] + square;
    }
  }
  double total = 0;
  for (int i : convs) total += (difference[i] / 4).abs().mean().item<double>() / std::sqrt(float_square[i].item<double>() / 4);
  return total / convs.size();
}

// Stage_6 again into `out`, a copy of a run through stage_6 (stages 0-5
// are reused: stage_5 does not depend on the reconstruction).
void rerun_stage_6(const std::string& arguments, const fs::path& out, const fs::path& dir) {
  const test::CliResult again = test::run_cli(arguments + " --from stage_6 --through stage_6 --out " + out.string(), dir);
  REQUIRE_MESSAGE(again.exit_code == 0, again.err);
}

void check_same_stage_6(const fs::path& a, const fs::path& b) {
  for (const char* file : {"stage_6/quant_tensors.pt", "stage_6/quant_model.json", "stage_6/rounding.json",
                           "stage_6/certificate.json"}) {
    CAPTURE(file);
    CHECK(sha256_file(a / file) == sha256_file(b / file));
  }
}

}  // namespace

TEST_CASE("sequential reconstruction: same bytes for 1 and 2 threads, and a smaller mean shift than from float inputs") {
  const fs::path dir = test::fresh_temp_dir("seq-gptq");
  const std::string settings = " --imgsz 160 --wbits 4 --abits 8 --rounding gptq --bias-correction";
  const test::CliResult one = test::run_cli(
      "--threads 1 run" + settings + " --reconstruction sequential --through stage_6 --out " + (dir / "one").string(), dir);
  REQUIRE_MESSAGE(one.exit_code == 0, one.err);
  // Stage_6 again with 2 threads, and from the float inputs.
  fs::copy(dir / "one", dir / "two", fs::copy_options::recursive);
  fs::copy(dir / "one", dir / "float", fs::copy_options::recursive);
  rerun_stage_6("--threads 2 run" + settings + " --reconstruction sequential", dir / "two", dir);
  rerun_stage_6("run" + settings, dir / "float", dir);
  check_same_stage_6(dir / "one", dir / "two");
  // GPTQ lowers the output error on the quantized inputs too.
  const nlohmann::json weights = read_json_file(dir / "one/stage_6/summary.json")["result"]["weights"];
  CHECK(weights["reconstruction"] == "sequential");
  CHECK(weights["output_mse_ratio_geometric_mean"].get<double>() < 0.5);

  CHECK(sha256_file(dir / "one/stage_6/quant_tensors.pt") != sha256_file(dir / "float/stage_6/quant_tensors.pt"));

  const Model fused = load_model(dir / "one/stage_2");
  const double sequential_shift = mean_shift(fused, load_quant_model(dir / "one/stage_6"));
  const double float_inputs_shift = mean_shift(fused, load_quant_model(dir / "float/stage_6"));
  MESSAGE("mean shift of the conv pre-activations (of their RMS): sequential " << sequential_shift << ", float inputs "
                                                                        << float_inputs_shift);
  CHECK(sequential_shift < 0.5 * float_inputs_shift);
}

TEST_CASE("asymmetric reconstruction: same bytes for 1 and 2 threads, other codes than sequential") {
  const fs::path dir = test::fresh_temp_dir("asym-gptq");
  const std::string settings = " --imgsz 96 --wbits 4 --abits 8 --weight-clip max";
  const test::CliResult one = test::run_cli(
      "--threads 1 run" + settings + " --reconstruction asymmetric --through stage_6 --out " + (dir / "one").string(), dir);
  REQUIRE_MESSAGE(one.exit_code == 0, one.err);
  fs::copy(dir / "one", dir / "two", fs::copy_options::recursive);
  fs::copy(dir / "one", dir / "sequential", fs::copy_options::recursive);
  rerun_stage_6("--threads 2 run" + settings + " --reconstruction asymmetric", dir / "two", dir);
  rerun_stage_6("run" + settings + " --reconstruction sequential", dir / "sequential", dir);
  check_same_stage_6(dir / "one", dir / "two");
  const nlohmann::json weights = read_json_file(dir / "one/stage_6/summary.json")["result"]["weights"];
  CHECK(weights["reconstruction"] == "asymmetric");
  CHECK(sha256_file(dir / "one/stage_6/quant_tensors.pt") != sha256_file(dir / "sequential/stage_6/quant_tensors.pt"));
}

TEST_SUITE_END();
