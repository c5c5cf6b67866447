// Integers read from JSON files a user can edit (the stage artifacts).
// nlohmann-json converts a floating-point number to an integer type with a
// static_cast, which is undefined behaviour when the value does not fit, and
// silently wraps an integer that does not fit; every integer field of a stage
// artifact is read through json_integer instead, which accepts only an
// integer within the type's range and otherwise throws yq::Error naming the
// field and the value found.
#pragma once
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "compiler/util/error.hpp"

namespace yq {

namespace json_detail {

template <typename Int>
bool fits(const nlohmann::json& value) {
  if (value.is_number_unsigned()) return std::in_range<Int>(value.get<std::uint64_t>());
  return value.is_number_integer() && std::in_range<Int>(value.get<std::int64_t>());
}

template <typename Int>
[[noreturn]] void refuse(const std::string& field, const nlohmann::json& value) {
  std::string found = value.dump();
  if (found.size() > 40) found = found.substr(0, 37) + "...";
  throw Error(field + ": expected an integer from " + std::to_string(std::numeric_limits<Int>::min()) + " to " +
              std::to_string(std::numeric_limits<Int>::max()) + ", found " + found);
}

}  // namespace json_detail

// `value` as an Int; `field` names it in the error.
template <typename Int>
Int json_integer(const nlohmann::json& value, const std::string& field) {
  if (!json_detail::fits<Int>(value)) json_detail::refuse<Int>(field, value);
  return value.is_number_unsigned() ? static_cast<Int>(value.get<std::uint64_t>())
                                    : static_cast<Int>(value.get<std::int64_t>());
}

// object[key] as an Int (nlohmann's out_of_range when the key is missing).
template <typename Int>
Int json_integer_at(const nlohmann::json& object, const std::string& key) {
  return json_integer<Int>(object.at(key), key);
}

// object[key], an array of integers, as a std::vector<Int>.
template <typename Int>
std::vector<Int> json_integers_at(const nlohmann::json& object, const std::string& key) {
  const nlohmann::json& array = object.at(key);
  if (!array.is_array()) throw Error(key + ": expected an array of integers, found " + std::string(array.type_name()));
  std::vector<Int> values;
  values.reserve(array.size());
  for (size_t i = 0; i < array.size(); ++i) values.push_back(json_integer<Int>(array[i], key + "[" + std::to_string(i) + "]"));
  return values;
}

}  // namespace yq
