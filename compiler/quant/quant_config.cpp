#include "compiler/quant/quant_config.hpp"

#include <cpptoml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
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
             {"wbits", "abits", "calibration", "percentile", "per_channel", "scales", "mult_bits", "head", "concat_scales",
              "rounding", "bias_correction", "override"},
             where);
  read_int(*root, "wbits", settings.weight_bits, where);
  read_int(*root, "abits", settings.activation_bits, where);
  read_enum(*root, "calibration", settings.range_method, where);
  read_value(*root, "percentile", settings.percentile, where);
  read_value(*root, "per_channel", settings.per_channel, where);
  read_enum(*root, "scales", settings.scale_form, where);
  read_int(*root, "mult_bits", settings.multiplier_bits, where);
  read_enum(*root, "head", settings.head, where);
  read_enum(*root, "concat_scales", settings.concat_scales, where);
  read_enum(*root, "rounding", settings.rounding, where);
  read_value(*root, "bias_correction", settings.bias_correction, where);
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

}  // namespace yq
