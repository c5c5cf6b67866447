#include "compiler/metrics/metrics_report.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "compiler/util/json_integer.hpp"

namespace yq {

nlohmann::json metrics_to_json(const DetectionMetrics& metrics, const std::vector<std::string>& class_names) {
  nlohmann::json per_class = nlohmann::json::object();
  for (size_t c = 0; c < metrics.ap50_95_per_class.size(); ++c) {
    if (metrics.ap50_95_per_class[c] < 0) continue;
    const std::string name = c < class_names.size() ? class_names[c] : std::to_string(c);
    per_class[name] = metrics.ap50_95_per_class[c];
  }
  return {{"images", metrics.images},
          {"instances", metrics.instances},
          {"classes_with_truth", metrics.classes_with_truth},
          {"precision", metrics.precision},
          {"recall", metrics.recall},
          {"map50", metrics.map50},
          {"map50_95", metrics.map50_95},
          {"ap50_95_per_class", per_class}};
}

DetectionMetrics metrics_from_json(const nlohmann::json& j, const std::vector<std::string>& class_names) {
  DetectionMetrics metrics;
  metrics.images = json_integer_at<int>(j, "images");
  metrics.instances = json_integer_at<int>(j, "instances");
  metrics.classes_with_truth = json_integer_at<int>(j, "classes_with_truth");
  metrics.precision = j.at("precision");
  metrics.recall = j.at("recall");
  metrics.map50 = j.at("map50");
  metrics.map50_95 = j.at("map50_95");
  if (!j.contains("ap50_95_per_class")) return metrics;  // per-folder entries hold the totals only
  const nlohmann::json& per_class = j.at("ap50_95_per_class");
  for (const std::string& name : class_names) metrics.ap50_95_per_class.push_back(per_class.value(name, -1.0));
  return metrics;
}

std::string metrics_table(const std::vector<std::pair<std::string, DetectionMetrics>>& rows) {
  std::string table;
  char line[256];
  std::snprintf(line, sizeof line, "  %-14s %7s %10s %8s %8s %8s %9s\n", "model", "images", "instances", "P", "R",
                "mAP50", "mAP50-95");
  table += line;
  for (const auto& [label, m] : rows) {
    std::snprintf(line, sizeof line, "  %-14s %7d %10d %8.4f %8.4f %8.4f %9.4f\n", label.c_str(), m.images,
                  m.instances, m.precision, m.recall, m.map50, m.map50_95);
    table += line;
  }
  return table;
}

}  // namespace yq
