// The integer half of the pipeline through the command line: determinism of
// the golden dumps (two runs, 1 vs 2 threads), and its bad-input errors.
#include "testing.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "compiler/util/files.hpp"

TEST_SUITE_BEGIN("pipeline");

using namespace yq;
namespace fs = std::filesystem;

namespace {

nlohmann::json golden_hashes(const fs::path& run) {
  const nlohmann::json manifest = read_json_file(run / "stage_8/golden/manifest.json");
  nlohmann::json hashes = nlohmann::json::object();
  for (const auto& file : manifest["files"]) hashes[file["file"].get<std::string>()] = file["sha256"];
  return hashes;
}

void expect_error(const std::string& case_name, const std::string& arguments, const fs::path& dir) {
  const test::CliResult result = test::run_cli(arguments, dir);
  CAPTURE(result.err);
  CHECK(result.exit_code == 1);
  CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  CHECK_FALSE(fs::exists(dir / "out/stage_5"));
  test::check_golden_error(case_name, result.err, dir);
}

}  // namespace

TEST_CASE("integer pipeline: golden dumps are identical across runs and thread counts") {
  const fs::path dir = test::fresh_temp_dir("int-determinism");
  const std::string common = " run --imgsz 160 --through stage_8 --out ";
  const test::CliResult one = test::run_cli("--threads 1" + common + (dir / "one").string(), dir);
  REQUIRE_MESSAGE(one.exit_code == 0, one.err);
  const test::CliResult two = test::run_cli("--threads 2" + common + (dir / "two").string(), dir);
  REQUIRE_MESSAGE(two.exit_code == 0, two.err);
  const nlohmann::json a = golden_hashes(dir / "one"), b = golden_hashes(dir / "two");
  CHECK(a.size() > 100);
  CHECK(a == b);
  for (const char* file : {"stage_6/quant_tensors.pt", "stage_6/quant_model.json", "stage_5/scales.json",
                           "stage_8/golden/detections_float_nms.txt", "stage_8/golden/q_nms.txt"}) {
    CHECK(sha256_file(dir / "one" / file) == sha256_file(dir / "two" / file));
  }
  // Every golden file holds one fixed-width code per line.
  const std::string input = test::read_text(dir / "one/stage_8/golden/input.hex");
  CHECK(input.size() == 3u * 160 * 160 * 3);
  CHECK(input.substr(0, 3).back() == '\n');
  const auto certificate = read_json_file(dir / "one/stage_6/certificate.json");
  CHECK(certificate["accumulator_bits"].get<int>() <= 32);
}

TEST_CASE("integer pipeline: shared concat scales pass every concat input unchanged, own scales rescale them") {
  const fs::path dir = test::fresh_temp_dir("int-concat-scales");
  for (const std::string mode : {"shared", "own"}) {
    CAPTURE(mode);
    const fs::path run = dir / mode;
    const test::CliResult result =
        test::run_cli("run --imgsz 64 --through stage_7 --concat-scales " + mode + " --out " + run.string(), dir);
    REQUIRE_MESSAGE(result.exit_code == 0, result.err);
    int concat_inputs = 0, identity_inputs = 0;
    for (const auto& layer : read_json_file(run / "stage_5/alignment.json")) {
      if (layer["op"] != "concat") continue;
      for (const auto& input : layer["inputs"]) {
        ++concat_inputs;
        identity_inputs += input["identity"].get<bool>();
      }
    }
    CHECK(concat_inputs > 30);
    const nlohmann::json fmap = read_json_file(run / "stage_7/manifest.json")["feature_maps"];
    if (mode == "shared") {
      CHECK(identity_inputs == concat_inputs);
      CHECK(fmap["views"] == 29);  // 16 slices, 13 concats
    } else {
      CHECK(identity_inputs < concat_inputs);
      CHECK(fmap["views"].get<int>() < 29);
    }
  }
}

TEST_CASE("integer pipeline: unsupported bits and settings are refused") {
  const fs::path dir = test::fresh_temp_dir("int-bad-bits");
  expect_error("bits_3", "run --bits 3 --out " + (dir / "out").string(), dir);
  expect_error("abits_17", "run --abits 17 --out " + (dir / "out").string(), dir);
  expect_error("pre_bits_3", "run --pre-bits 3 --out " + (dir / "out").string(), dir);
  expect_error("concat_scales_bad", "run --concat-scales widest --out " + (dir / "out").string(), dir);
  expect_error("rounding_bad", "run --rounding adaround --out " + (dir / "out").string(), dir);
  expect_error("reconstruction_bad", "run --reconstruction layerwise --out " + (dir / "out").string(), dir);
  expect_error("reconstruction_without_rounding", "run --reconstruction sequential --out " + (dir / "out").string(), dir);
  expect_error("weight_clip_per_tensor", "run --weight-clip mse --per-tensor --out " + (dir / "out").string(), dir);
  CHECK_FALSE(fs::exists(dir / "out"));  // not even an empty output folder
}

TEST_CASE("integer pipeline: a calibration folder without images is refused") {
  const fs::path dir = test::fresh_temp_dir("int-bad-calib");
  fs::create_directories(dir / "calib");
  std::ofstream(dir / "calib/readme.txt") << "no images here\n";
  expect_error("empty_calibration", "run --calib " + (dir / "calib").string() + " --out " + (dir / "out").string(), dir);
}

TEST_CASE("integer pipeline: a config naming no existing layer is refused") {
  const fs::path dir = test::fresh_temp_dir("int-bad-config");
  std::ofstream(dir / "mixed.toml") << "[[override]]\nlayers = \"conv99\"\nabits = 16\n";
  expect_error("config_unknown_layer",
               "run --config " + (dir / "mixed.toml").string() + " --imgsz 64 --out " + (dir / "out").string(), dir);
  std::ofstream(dir / "typo.toml") << "abitz = 16\n";
  expect_error("config_unknown_key", "run --config " + (dir / "typo.toml").string() + " --out " + (dir / "out").string(),
               dir);
}

TEST_CASE("integer pipeline: GPTQ rounding with bias correction gives the same bytes for 1 and 2 threads") {
  const fs::path dir = test::fresh_temp_dir("int-gptq");
  const std::string common = " run --imgsz 160 --wbits 4 --abits 8 --rounding gptq --bias-correction --through stage_6 --out ";
  const test::CliResult one = test::run_cli("--threads 1" + common + (dir / "one").string(), dir);
  REQUIRE_MESSAGE(one.exit_code == 0, one.err);
  const test::CliResult two = test::run_cli("--threads 2" + common + (dir / "two").string(), dir);
  REQUIRE_MESSAGE(two.exit_code == 0, two.err);
  for (const char* file : {"stage_4/layer_inputs.pt", "stage_6/quant_tensors.pt", "stage_6/quant_model.json",
                           "stage_6/rounding.json", "stage_6/certificate.json"}) {
    CAPTURE(file);
    CHECK(sha256_file(dir / "one" / file) == sha256_file(dir / "two" / file));
  }
  const nlohmann::json layers = read_json_file(dir / "one/stage_6/rounding.json");
  CHECK(layers.size() == 63);
  const nlohmann::json weights = read_json_file(dir / "one/stage_6/summary.json")["result"]["weights"];
  CHECK(weights["output_mse_ratio_geometric_mean"].get<double>() < 0.5);

  // Nearest rounding from the same statistics gives other codes; auto, the
  // default, rounds 4-bit weights by GPTQ on the clip search's scales (the
  // codes of --rounding gptq --weight-clip mse, not those of GPTQ on max
  // scales).
  const auto stage_6_hash = [&](const std::string& rounding) {
    const test::CliResult again = test::run_cli("run --imgsz 160 --wbits 4 --abits 8" + rounding +
                                                    " --from stage_6 --through stage_6 --out " + (dir / "two").string(),
                                                dir);
    REQUIRE_MESSAGE(again.exit_code == 0, again.err);
    return sha256_file(dir / "two/stage_6/quant_tensors.pt");
  };
  const std::string nearest = stage_6_hash(" --rounding nearest");
  CHECK(sha256_file(dir / "one/stage_6/quant_tensors.pt") != nearest);
  const std::string automatic = stage_6_hash("");
  CHECK(automatic != nearest);
  CHECK(automatic == stage_6_hash(" --rounding gptq"));
  CHECK(automatic == stage_6_hash(" --rounding gptq --weight-clip mse"));
  CHECK(automatic != stage_6_hash(" --rounding gptq --weight-clip max"));

  // GPTQ resumed over a stage_4 that collected no layer inputs is refused.
  const test::CliResult plain = test::run_cli("run --imgsz 64 --through stage_5 --out " + (dir / "plain").string(), dir);
  REQUIRE_MESSAGE(plain.exit_code == 0, plain.err);
  const test::CliResult refused =
      test::run_cli("run --imgsz 64 --rounding gptq --from stage_6 --out " + (dir / "plain").string(), dir);
  CHECK(refused.exit_code == 1);
  CHECK_FALSE(fs::exists(dir / "plain/stage_6"));
  test::check_golden_error("gptq_without_layer_inputs", refused.err, dir);
}

TEST_SUITE_END();
