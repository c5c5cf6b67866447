// stage_3: float validation. Runs the fused float model over --data (one or
// more folders, measured as one set; letterbox, forward, DFL decode,
// class-aware NMS at the validation thresholds) and measures COCO-style box
// mAP50-95, mAP50, precision and recall against the YOLO labels, on the
// union and per folder. Writes metrics.json and predictions.json (COCO
// results format, compiler/metrics/predictions.hpp); prints a table.
#include <cstdio>

#include "compiler/float/float_detector.hpp"
#include "compiler/io/dataset.hpp"
#include "compiler/metrics/dataset_evaluation.hpp"
#include "compiler/metrics/metrics_report.hpp"
#include "compiler/metrics/predictions.hpp"
#include "compiler/util/files.hpp"
#include "stages/stage.hpp"

namespace yq {

nlohmann::json run_stage_3_float_validation(StageContext& context) {
  const RunConfig& config = context.config;
  if (config.data.empty()) return {{"skipped", "no --data folder given, nothing to measure"}};
  const Model model = load_model(context.stage_dir(2));
  const Dataset dataset = scan_datasets(config.data);
  for (const auto& orphan : dataset.orphan_labels) {
    std::printf("         note: label file without an image, skipped: %s\n", orphan.string().c_str());
  }
  DetectOptions options;
  options.image_size = config.image_size;
  options.nms = {config.val_score_threshold, config.val_iou_threshold, config.max_detections};
  const FloatDetector detector(model, options);
  const auto results = run_on_dataset(
      dataset, config.max_images, config.batch,
      [&](const std::vector<RgbImage>& images) { return detector.detect_batch(images); }, "         float");
  const int classes = model.info.arch.num_classes;
  const DetectionMetrics metrics = evaluate_detections(results, classes);
  std::vector<std::pair<std::string, DetectionMetrics>> rows = {{"float", metrics}};
  nlohmann::json json = metrics_to_json(metrics, model.info.class_names);
  json["data"] = nlohmann::json::array();
  json["folders"] = nlohmann::json::array();
  for (size_t folder = 0; folder < dataset.roots.size(); ++folder) {
    json["data"].push_back(dataset.roots[folder].string());
    const DetectionMetrics part = evaluate_detections(results_of_folder(results, static_cast<int>(folder)), classes);
    nlohmann::json entry = metrics_to_json(part, model.info.class_names);
    entry.erase("ap50_95_per_class");
    entry["data"] = dataset.roots[folder].string();
    json["folders"].push_back(entry);
    if (dataset.roots.size() > 1) rows.push_back({" " + dataset.roots[folder].filename().string(), part});
  }
  std::printf("%s", metrics_table(rows).c_str());
  json["orphan_labels"] = dataset.orphan_labels.size();
  write_json_file(context.output_dir / "metrics.json", json);
  write_file_atomic(context.output_dir / "predictions.json", coco_predictions_text(results));
  json.erase("ap50_95_per_class");
  return json;
}

}  // namespace yq
