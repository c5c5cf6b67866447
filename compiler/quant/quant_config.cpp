#include "compiler/quant/quant_config.hpp"

#include <cpptoml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "compiler/util/error.hpp"

namespace yq {

namespace {

template <typename T>
void read_value(const cpptoml::table& table, const std::string& key, T& target, const std::string& where) {
  if (!table.contains(key)) return;
  const auto value = table.get_as<T>(key);
  if (!value) throw Error(where + ": '" + key + "' has the wrong type");
  target = *value;
}

void read_int(const cpptoml::table& table, const std::string& key, int& target, const std::string& where) {
  std::int64_t value = target;
  read_value(table, key, value, where);
  target = static_cast<int>(value);
}

template <typename E>
void read_enum(const cpptoml::table& table, const std::string& key, E& target, const std::string& where) {
  std::string name = enum_name(target);
  read_value(table, key, name, where);
  for (const auto& [value, value_name] : EnumNames<E>::values) {
    if (name == value_name) {
      target = value;
      return;
    }
  }
  throw Error(where + ": '" + key + "' = \"" + name + "\" is not " + enum_choices<E>());
}

void check_keys(const cpptoml::table& table, const std::set<std::string>& allowed, const std::string& where) {
  for (const auto& [key, value] : table) {
    if (!allowed.count(key)) throw Error(where + ": unknown key '" + key + "'");
  }
}

void read_weight_budget(const cpptoml::table& table, WeightBudget& budget, const std::string& where) {
  if (!table.contains("weight_budget")) return;
  std::string text;
  if (const auto name = table.get_as<std::string>("weight_budget")) {
    text = *name;
  } else if (const auto integer = table.get_as<std::int64_t>("weight_budget")) {
    text = std::to_string(*integer);
  } else if (const auto number = table.get_as<double>("weight_budget")) {
    text = nlohmann::json(*number).dump();
  } else {
    throw Error(where + ": 'weight_budget' has the wrong type");
  }
  try {
    budget = parse_weight_budget(text);
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
}

// A TOML basic string.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out + "\"";
}

// A TOML float that reads back as the same double.
std::string float_text(double value) {
  std::string text = nlohmann::json(value).dump();
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

}  // namespace

void read_quant_config(const std::filesystem::path& file, QuantSettings& settings) {
  std::ifstream in(file);
  if (!in) throw Error("cannot read config " + file.string() + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  parse_quant_config(text.str(), file.string(), settings);
}

void parse_quant_config(const std::string& text, const std::string& where, QuantSettings& settings) {
  std::shared_ptr<cpptoml::table> root;
  try {
    std::istringstream in(text);
    root = cpptoml::parser(in).parse();
  } catch (const cpptoml::parse_exception& e) {
    throw Error("cannot read config " + where + ": " + e.what());
  }
  check_keys(*root,
             {"wbits", "abits", "pre_bits", "calibration", "percentile", "per_channel", "scales", "mult_bits", "head", "concat_scales",
              "rounding", "bias_correction", "reconstruction", "weight_clip", "weight_budget", "sensitivity_images", "override"},
             where);
  read_int(*root, "wbits", settings.weight_bits, where);
  read_int(*root, "abits", settings.activation_bits, where);
  read_int(*root, "pre_bits", settings.pre_activation_bits, where);
  read_enum(*root, "calibration", settings.range_method, where);
  read_value(*root, "percentile", settings.percentile, where);
  read_value(*root, "per_channel", settings.per_channel, where);
  read_enum(*root, "scales", settings.scale_form, where);
  read_int(*root, "mult_bits", settings.multiplier_bits, where);
  read_enum(*root, "head", settings.head, where);
  read_enum(*root, "concat_scales", settings.concat_scales, where);
  read_enum(*root, "rounding", settings.rounding, where);
  read_value(*root, "bias_correction", settings.bias_correction, where);
  read_enum(*root, "reconstruction", settings.reconstruction, where);
  read_enum(*root, "weight_clip", settings.weight_clip, where);
  read_weight_budget(*root, settings.weight_budget, where);
  read_int(*root, "sensitivity_images", settings.sensitivity_images, where);
  if (!root->contains("override")) return;
  const auto overrides = root->get_table_array("override");
  if (!overrides) throw Error(where + ": 'override' must be an array of tables ([[override]])");
  for (const auto& table : *overrides) {
    const std::string entry = where + " [[override]]";
    check_keys(*table, {"layers", "wbits", "abits"}, entry);
    LayerOverride override;
    read_value(*table, "layers", override.pattern, entry);
    if (override.pattern.empty()) throw Error(entry + ": 'layers' is missing");
    read_int(*table, "wbits", override.weight_bits, entry);
    read_int(*table, "abits", override.activation_bits, entry);
    settings.overrides.push_back(override);
  }
}

std::string quant_config_text(const QuantSettings& s, const std::string& header) {
  std::ostringstream text;
  text << header;
  text << "wbits = " << s.weight_bits << "\n"
       << "abits = " << s.activation_bits << "\n"
       << "calibration = " << quoted(enum_name(s.range_method)) << "\n"
       << "percentile = " << float_text(s.percentile) << "\n"
       << "per_channel = " << (s.per_channel ? "true" : "false") << "\n"
       << "scales = " << quoted(enum_name(s.scale_form)) << "\n"
       << "mult_bits = " << s.multiplier_bits << "\n"
       << "head = " << quoted(enum_name(s.head)) << "\n"
       << "concat_scales = " << quoted(enum_name(s.concat_scales)) << "\n"
       << "rounding = " << quoted(enum_name(s.rounding)) << "\n"
       << "bias_correction = " << (s.bias_correction ? "true" : "false") << "\n"
       << "reconstruction = " << quoted(enum_name(s.reconstruction)) << "\n"
       << "weight_clip = " << quoted(enum_name(s.weight_clip)) << "\n"
       << "sensitivity_images = " << s.sensitivity_images << "\n";
  if (s.pre_activation_bits) text << "pre_bits = " << s.pre_activation_bits << "\n";
  if (s.weight_budget.kind == WeightBudget::Kind::AverageBits) {
    text << "weight_budget = " << float_text(s.weight_budget.value) << "\n";
  } else if (s.weight_budget.kind == WeightBudget::Kind::Bytes) {
    text << "weight_budget = \"" << static_cast<long long>(s.weight_budget.value) << "B\"\n";
  }
  for (const LayerOverride& o : s.overrides) {
    text << "\n[[override]]\nlayers = " << quoted(o.pattern) << "\n";
    if (o.weight_bits) text << "wbits = " << o.weight_bits << "\n";
    if (o.activation_bits) text << "abits = " << o.activation_bits << "\n";
  }
  return text.str();
}

}  // namespace yq
