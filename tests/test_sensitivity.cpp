// Mixed precision of weights under a budget: the budget's text, the exact
// choice of widths, and the config file that records a choice.
#include "testing.hpp"

#include <nlohmann/json.hpp>

#include "compiler/quant/quant_config.hpp"
#include "compiler/quant/sensitivity.hpp"
#include "compiler/util/error.hpp"

using namespace yq;

namespace {

LayerSensitivity layer(const std::string& name, std::int64_t weights, std::vector<int> widths, std::vector<double> errors) {
  return {-1, name, weights, std::move(widths), std::move(errors)};
}

WeightBudget bytes(double value) { return {WeightBudget::Kind::Bytes, value}; }

}  // namespace

TEST_CASE("weight budget: average bits or a size with a unit") {
  CHECK(parse_weight_budget("5").kind == WeightBudget::Kind::AverageBits);
  CHECK(parse_weight_budget("5").value == 5);
  CHECK(parse_weight_budget("4.5").value == 4.5);
  CHECK(parse_weight_budget("16").bits_for(10) == 160);
  const WeightBudget mb = parse_weight_budget("2MB");
  CHECK(mb.kind == WeightBudget::Kind::Bytes);
  CHECK(mb.value == 2e6);
  CHECK(mb.bits_for(123) == 16e6);
  CHECK(parse_weight_budget("3KB").value == 3000);
  CHECK(parse_weight_budget("1.5KiB").value == 1536);
  CHECK(parse_weight_budget("1MiB").value == 1048576);
  CHECK(parse_weight_budget("100B").value == 100);
  for (const char* bad : {"", "5 bits", "17", "0", "-1", "MB", "2mb", "2 MB", "1e3", "0KB", "five"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_weight_budget(bad), Error);
  }
  CHECK_THROWS_WITH(parse_weight_budget("5bits"),
                    "--weight-budget '5bits' is not a number of bits per weight (e.g. 5 or 4.5) or a size with a unit "
                    "B, KB, MB, KiB or MiB (e.g. 2MB)");
}

TEST_CASE("mixed precision: the exact choice where the greedy one is worse") {
  // Greedy by error saved per bit upgrades "small" first (1.5 for 40 bits),
  // after which "large" (10 for 400 bits) no longer fits: total error 10.
  // The optimum upgrades "large" alone: total error 1.5.
  const std::vector<LayerSensitivity> layers = {layer("large", 100, {4, 8}, {10, 0}), layer("small", 10, {4, 8}, {1.5, 0})};
  const double budget_bytes = (110 * 4 + 400) / 8.0;  // 105: 400 bits above everything at 4
  CHECK(choose_weight_widths(layers, bytes(budget_bytes)) == std::vector<int>{8, 4});
  // A bit less and only "small" fits.
  CHECK(choose_weight_widths(layers, bytes(budget_bytes - 1)) == std::vector<int>{4, 8});
}

TEST_CASE("mixed precision: three widths, a middle width, the bounds of the budget") {
  // Everything at 4 bits: 1000 bits, error 20. Extra bits for 6 and 8:
  // a 200 and 400, b 200 and 400, c 100 and 200.
  const std::vector<LayerSensitivity> layers = {layer("a", 100, {4, 6, 8}, {9, 1, 0}),
                                                layer("b", 100, {4, 6, 8}, {5, 4, 0}),
                                                layer("c", 50, {4, 6, 8}, {6, 2, 0})};
  // +300: a6 c6 (error 1 + 5 + 2 = 8) beats c8 alone (14) and a6 alone (11).
  CHECK(choose_weight_widths(layers, bytes(1300 / 8.0)) == std::vector<int>{6, 4, 6});
  // +500: a6 c8 (1 + 5 + 0 = 6) beats a8 c6 (7) and a6 b6 c6 (7).
  CHECK(choose_weight_widths(layers, bytes(1500 / 8.0)) == std::vector<int>{6, 4, 8});
  // Exactly everything at 4.
  CHECK(choose_weight_widths(layers, bytes(1000 / 8.0)) == std::vector<int>{4, 4, 4});
  // At or above everything at 8: the widest, even where 6 measured lower.
  std::vector<LayerSensitivity> noisy = layers;
  noisy[1].errors = {5, 0.5, 0.75};
  CHECK(choose_weight_widths(noisy, bytes(2000 / 8.0)) == std::vector<int>{8, 8, 8});
  CHECK(choose_weight_widths(noisy, WeightBudget{WeightBudget::Kind::AverageBits, 16}) == std::vector<int>{8, 8, 8});
}

TEST_CASE("mixed precision: a budget below every layer at its smallest width names the smallest") {
  const std::vector<LayerSensitivity> layers = {layer("a", 100, {4, 6, 8}, {9, 1, 0}), layer("b", 60, {6}, {0})};
  // Smallest: 100*4 + 60*6 = 760 bits, 4.75 bits per weight, 95 bytes.
  CHECK_THROWS_WITH(choose_weight_widths(layers, WeightBudget{WeightBudget::Kind::AverageBits, 4.5}),
                    "--weight-budget of 4.5 bits per weight cannot be met: the smallest weight widths take 4.750 bits "
                    "per weight on average (95 bytes)");
  CHECK(choose_weight_widths(layers, bytes(95)) == std::vector<int>{4, 6});
}

TEST_CASE("mixed precision: candidate widths never exceed the layer's own") {
  CHECK(candidate_widths(8) == std::vector<int>{4, 6, 8});
  CHECK(candidate_widths(16) == std::vector<int>{4, 6, 8, 16});
  CHECK(candidate_widths(5) == std::vector<int>{4, 5});
  CHECK(candidate_widths(4) == std::vector<int>{4});
}

TEST_CASE("quant config: the written text reads back to the same settings") {
  QuantSettings settings;
  settings.weight_bits = 6;
  settings.activation_bits = 10;
  settings.range_method = RangeMethod::Percentile;
  settings.percentile = 99.99;
  settings.per_channel = false;
  settings.rounding = WeightRounding::Gptq;
  settings.weight_clip = WeightClip::Mse;
  settings.sensitivity_images = 3;
  settings.overrides = {{"^(conv0|c2f2\\.cv1)$", 8, 0}, {"head\\..*", 0, 16}, {"a\"b", 4, 4}};
  for (const WeightBudget& budget : {WeightBudget{}, WeightBudget{WeightBudget::Kind::AverageBits, 4.1},
                                     WeightBudget{WeightBudget::Kind::Bytes, 2000000}}) {
    settings.weight_budget = budget;
    settings.pre_activation_bits = budget.is_set() ? 12 : 0;
    const std::string text = quant_config_text(settings, "# header\n");
    CAPTURE(text);
    QuantSettings read;
    parse_quant_config(text, "written", read);
    CHECK(quant_settings_to_json(read) == quant_settings_to_json(settings));
  }
}
