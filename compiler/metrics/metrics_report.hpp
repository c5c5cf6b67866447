// Presenting detection metrics: a JSON object and a readable table.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "compiler/metrics/detection_metrics.hpp"

namespace yq {

nlohmann::json metrics_to_json(const DetectionMetrics& metrics, const std::vector<std::string>& class_names);
// The inverse of metrics_to_json (per-class APs by class name order; none
// when the object has no "ap50_95_per_class", as per-folder entries).
DetectionMetrics metrics_from_json(const nlohmann::json& json, const std::vector<std::string>& class_names);

// One header line and one row per (label, metrics) pair.
std::string metrics_table(const std::vector<std::pair<std::string, DetectionMetrics>>& rows);

}  // namespace yq
