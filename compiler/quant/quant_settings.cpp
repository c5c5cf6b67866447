#include "compiler/quant/quant_settings.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "compiler/util/error.hpp"
#include "compiler/util/json_integer.hpp"

namespace yq {

namespace {

void check_bits(int bits, const char* what) {
  if (bits < 4 || bits > 16) throw Error(std::string(what) + " " + std::to_string(bits) + " is outside the supported 4..16");
}

// null, {"average_bits": 5} or {"bytes": 2000000}.
nlohmann::json weight_budget_to_json(const WeightBudget& budget) {
  if (budget.kind == WeightBudget::Kind::AverageBits) return {{"average_bits", budget.value}};
  if (budget.kind == WeightBudget::Kind::Bytes) return {{"bytes", budget.value}};
  return nullptr;
}

WeightBudget weight_budget_from_json(const nlohmann::json& j) {
  if (j.is_null()) return {};
  if (j.contains("average_bits")) return {WeightBudget::Kind::AverageBits, j.at("average_bits").get<double>()};
  return {WeightBudget::Kind::Bytes, j.at("bytes").get<double>()};
}

}  // namespace

bool QuantSettings::narrow_weights_possible() const {
  if (weight_bits < 8 || weight_budget.is_set()) return true;
  return std::any_of(overrides.begin(), overrides.end(), [](const LayerOverride& o) { return o.weight_bits > 0 && o.weight_bits < 8; });
}

double WeightBudget::bits_for(std::int64_t weights) const {
  if (kind == Kind::AverageBits) return value * static_cast<double>(weights);
  if (kind == Kind::Bytes) return value * 8;
  throw Error("no weight budget is set");
}

std::string WeightBudget::description() const {
  if (kind == Kind::Bytes) return std::to_string(static_cast<long long>(value)) + " bytes";
  std::ostringstream text;
  text << value << " bits per weight";
  return text.str();
}

WeightBudget parse_weight_budget(std::string_view text) {
  static const std::regex pattern(R"(([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(B|KB|MB|KiB|MiB)?)");
  const std::string given(text);
  std::smatch match;
  if (!std::regex_match(given, match, pattern)) {
    throw Error("--weight-budget '" + given +
                "' is not a number of bits per weight (e.g. 5 or 4.5) or a size with a unit B, KB, MB, KiB or MiB (e.g. 2MB)");
  }
  const double number = std::stod(match[1]);
  const std::string unit = match[2];
  if (unit.empty()) {
    if (!(number > 0 && number <= 16)) {
      throw Error("--weight-budget " + given + " is not an average within (0, 16] bits per weight (a size needs a unit, e.g. " +
                  given + "KB)");
    }
    return {WeightBudget::Kind::AverageBits, number};
  }
  const double unit_bytes = unit == "B" ? 1 : unit == "KB" ? 1e3 : unit == "MB" ? 1e6 : unit == "KiB" ? 1024 : 1048576;
  if (!(number > 0)) throw Error("--weight-budget " + given + " is not a positive size");
  return {WeightBudget::Kind::Bytes, std::floor(number * unit_bytes)};
}

void throw_bad_enum(const char* option, std::string_view text, const std::string& choices) {
  throw Error(std::string(option) + " " + std::string(text) + " is not " + choices);
}

void check_quant_settings(const QuantSettings& q) {
  check_bits(q.weight_bits, "weight bits");
  check_bits(q.activation_bits, "activation bits");
  if (q.pre_activation_bits) check_bits(q.pre_activation_bits, "pre-activation bits");
  for (const LayerOverride& o : q.overrides) {
    if (o.weight_bits) check_bits(o.weight_bits, "override weight bits");
    if (o.activation_bits) check_bits(o.activation_bits, "override activation bits");
  }
  if (q.multiplier_bits < 2 || q.multiplier_bits > 31) throw Error("--mult-bits must be within 2..31");
  if (!(q.percentile > 0 && q.percentile <= 100)) throw Error("--percentile must be within (0, 100]");
  if (q.acc_bits_limit < 8 || q.acc_bits_limit > 48) throw Error("--acc-bits-limit must be within 8..48");
  if (q.sensitivity_images < 1) throw Error("--sensitivity-images must be at least 1");
  if (q.weight_clip == WeightClip::Mse && (!q.per_channel || q.scale_form != ScaleForm::Multiplier)) {
    throw Error("--weight-clip mse needs per-channel multiplier scales (not --per-tensor or --scales pow2)");
  }
  if (q.reconstruction != Reconstruction::FloatInputs && !q.needs_layer_inputs()) {
    throw Error(std::string("--reconstruction ") + enum_name(q.reconstruction) + " needs --rounding gptq, weights narrower than 8 bits (--rounding auto) or --bias-correction");
  }
}

nlohmann::json quant_settings_to_json(const QuantSettings& s) {
  nlohmann::json overrides = nlohmann::json::array();
  for (const LayerOverride& o : s.overrides) {
    overrides.push_back({{"pattern", o.pattern}, {"weight_bits", o.weight_bits}, {"activation_bits", o.activation_bits}});
  }
  return {{"weight_bits", s.weight_bits},
          {"activation_bits", s.activation_bits},
          {"pre_activation_bits", s.pre_activation_bits},
          {"range_method", enum_name(s.range_method)},
          {"percentile", s.percentile},
          {"per_channel", s.per_channel},
          {"scale_form", enum_name(s.scale_form)},
          {"concat_scales", enum_name(s.concat_scales)},
          {"multiplier_bits", s.multiplier_bits},
          {"head", enum_name(s.head)},
          {"acc_bits_limit", s.acc_bits_limit},
          {"rounding", enum_name(s.rounding)},
          {"bias_correction", s.bias_correction},
          {"reconstruction", enum_name(s.reconstruction)},
          {"weight_clip", enum_name(s.weight_clip)},
          {"overrides", overrides},
          {"weight_budget", weight_budget_to_json(s.weight_budget)},
          {"sensitivity_images", s.sensitivity_images}};
}

QuantSettings quant_settings_from_json(const nlohmann::json& j) {
  QuantSettings s;
  s.weight_bits = json_integer_at<int>(j, "weight_bits");
  s.activation_bits = json_integer_at<int>(j, "activation_bits");
  s.pre_activation_bits = json_integer_at<int>(j, "pre_activation_bits");
  s.range_method = parse_enum<RangeMethod>(j.at("range_method").get<std::string>());
  s.percentile = j.at("percentile");
  s.per_channel = j.at("per_channel");
  s.scale_form = parse_enum<ScaleForm>(j.at("scale_form").get<std::string>());
  s.concat_scales = parse_enum<ConcatScales>(j.at("concat_scales").get<std::string>());
  s.multiplier_bits = json_integer_at<int>(j, "multiplier_bits");
  s.head = parse_enum<HeadMode>(j.at("head").get<std::string>());
  s.acc_bits_limit = json_integer_at<int>(j, "acc_bits_limit");
  s.rounding = parse_enum<WeightRounding>(j.at("rounding").get<std::string>());
  s.bias_correction = j.at("bias_correction");
  // Absent from the records made before sequential reconstruction: float inputs.
  if (j.contains("reconstruction")) s.reconstruction = parse_enum<Reconstruction>(j.at("reconstruction").get<std::string>());
  // Absent from the records made before the clip search: max.
  if (j.contains("weight_clip")) s.weight_clip = parse_enum<WeightClip>(j.at("weight_clip").get<std::string>());
  for (const nlohmann::json& o : j.at("overrides")) {
    s.overrides.push_back({o.at("pattern"), json_integer_at<int>(o, "weight_bits"), json_integer_at<int>(o, "activation_bits")});
  }
  s.weight_budget = weight_budget_from_json(j.at("weight_budget"));
  s.sensitivity_images = json_integer_at<int>(j, "sensitivity_images");
  return s;
}

}  // namespace yq
