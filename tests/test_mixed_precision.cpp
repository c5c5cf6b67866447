// Mixed precision of weights on a synthetic run: --weight-budget chooses
// each convolution's bits within the budget, and the config file it writes
// gives the same bits without the search.
#include "testing.hpp"

#include <nlohmann/json.hpp>
#include <set>

#include "cli_support.hpp"
#include "compiler/ir/model.hpp"
#include "compiler/quant/sensitivity.hpp"
#include "compiler/util/files.hpp"

TEST_SUITE_BEGIN("pipeline");

using namespace yq;
namespace fs = std::filesystem;

TEST_CASE("pipeline: --weight-budget 5 on the synthetic model, and its mixed_precision.toml passed back") {
  const fs::path dir = test::fresh_temp_dir("mixed-precision");
  const std::string common = "run --imgsz 96 --through stage_5 --sensitivity-images 2";
  const test::CliResult budget = test::run_cli("--threads 2 " + common + " --weight-budget 5 --out " + (dir / "out").string(), dir);
  CAPTURE(budget.err);
  REQUIRE(budget.exit_code == 0);

  // Average bits of the weights in bits.json, from the model's own weight tensors.
  const Model fused = load_model(dir / "out/stage_2");
  const nlohmann::json bits = read_json_file(dir / "out/stage_5/bits.json");
  double weights = 0, total_bits = 0;
  std::set<int> widths;
  for (int index : fused.graph.conv_nodes()) {
    const auto count = static_cast<double>(fused.weight(fused.graph.nodes[index].name + ".weight").numel());
    const int width = bits["weight"][index].get<int>();
    weights += count;
    total_bits += count * width;
    widths.insert(width);
  }
  CHECK(total_bits / weights <= 5.0);
  CHECK(total_bits / weights > 4.5);  // the budget is used, not just met
  CHECK(widths.size() > 1);           // mixed
  const nlohmann::json summary = read_json_file(dir / "out/stage_5/summary.json")["result"];
  CHECK(summary["average_weight_bits"].get<double>() == doctest::Approx(total_bits / weights).epsilon(1e-12));

  // The quantization error of one layer alone is larger at 4 bits than at 8, for every layer.
  const nlohmann::json sensitivity = read_json_file(dir / "out/stage_5/sensitivity.json");
  REQUIRE(sensitivity["layers"].size() == fused.graph.conv_nodes().size());
  CHECK(sensitivity["images"] == 2);
  for (const nlohmann::json& layer : sensitivity["layers"]) {
    CAPTURE(layer.dump());
    CHECK(layer["errors"]["4"].get<double>() > layer["errors"]["8"].get<double>());
    CHECK(layer["errors"]["8"].get<double>() > 0);
  }

  // The same measurement with one thread: the same bytes.
  const test::CliResult one_thread =
      test::run_cli("--threads 1 " + common + " --weight-budget 5 --out " + (dir / "one").string(), dir);
  REQUIRE(one_thread.exit_code == 0);
  CHECK(sha256_file(dir / "one/stage_5/sensitivity.json") == sha256_file(dir / "out/stage_5/sensitivity.json"));

  // The written config, without a budget, reproduces bits.json.
  const test::CliResult again = test::run_cli(common + " --config " + (dir / "out/stage_5/mixed_precision.toml").string() +
                                                  " --out " + (dir / "again").string(),
                                              dir);
  CAPTURE(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK_FALSE(fs::exists(dir / "again/stage_5/sensitivity.json"));
  CHECK(test::read_text(dir / "again/stage_5/bits.json") == test::read_text(dir / "out/stage_5/bits.json"));
}

TEST_SUITE_END();
