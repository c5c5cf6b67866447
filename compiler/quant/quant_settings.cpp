#include "compiler/quant/quant_settings.hpp"

#include <nlohmann/json.hpp>

#include "compiler/util/error.hpp"

namespace yq {

namespace {

void check_bits(int bits, const char* what) {
  if (bits < 4 || bits > 16) throw Error(std::string(what) + " " + std::to_string(bits) + " is outside the supported 4..16");
}

}  // namespace

void throw_bad_enum(const char* option, std::string_view text, const std::string& choices) {
  throw Error(std::string(option) + " " + std::string(text) + " is not " + choices);
}

void check_quant_settings(const QuantSettings& q) {
  check_bits(q.weight_bits, "weight bits");
  check_bits(q.activation_bits, "activation bits");
  for (const LayerOverride& o : q.overrides) {
    if (o.weight_bits) check_bits(o.weight_bits, "override weight bits");
    if (o.activation_bits) check_bits(o.activation_bits, "override activation bits");
  }
  if (q.multiplier_bits < 2 || q.multiplier_bits > 31) throw Error("--mult-bits must be within 2..31");
  if (!(q.percentile > 0 && q.percentile <= 100)) throw Error("--percentile must be within (0, 100]");
  if (q.acc_bits_limit < 8 || q.acc_bits_limit > 48) throw Error("--acc-bits-limit must be within 8..48");
}

nlohmann::json quant_settings_to_json(const QuantSettings& s) {
  nlohmann::json overrides = nlohmann::json::array();
  for (const LayerOverride& o : s.overrides) {
    overrides.push_back({{"pattern", o.pattern}, {"weight_bits", o.weight_bits}, {"activation_bits", o.activation_bits}});
  }
  return {{"weight_bits", s.weight_bits},
          {"activation_bits", s.activation_bits},
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
          {"overrides", overrides}};
}

QuantSettings quant_settings_from_json(const nlohmann::json& j) {
  QuantSettings s;
  s.weight_bits = j.at("weight_bits");
  s.activation_bits = j.at("activation_bits");
  s.range_method = parse_enum<RangeMethod>(j.at("range_method").get<std::string>());
  s.percentile = j.at("percentile");
  s.per_channel = j.at("per_channel");
  s.scale_form = parse_enum<ScaleForm>(j.at("scale_form").get<std::string>());
  s.concat_scales = parse_enum<ConcatScales>(j.at("concat_scales").get<std::string>());
  s.multiplier_bits = j.at("multiplier_bits");
  s.head = parse_enum<HeadMode>(j.at("head").get<std::string>());
  s.acc_bits_limit = j.at("acc_bits_limit");
  s.rounding = parse_enum<WeightRounding>(j.at("rounding").get<std::string>());
  s.bias_correction = j.at("bias_correction");
  for (const nlohmann::json& o : j.at("overrides")) {
    s.overrides.push_back({o.at("pattern"), o.at("weight_bits"), o.at("activation_bits")});
  }
  return s;
}

}  // namespace yq
