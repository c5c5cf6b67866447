// stage_3: float validation. Runs the fused float model over --data
// (letterbox, forward, DFL decode, class-aware NMS at the validation
// thresholds) and measures COCO-style box mAP50-95, mAP50, precision and
// recall against the YOLO labels. Writes metrics.json; prints a table.
#include <cstdio>

#include "compiler/float/float_detector.hpp"
#include "compiler/io/dataset.hpp"
#include "compiler/metrics/dataset_evaluation.hpp"
#include "compiler/metrics/metrics_report.hpp"
#include "compiler/util/files.hpp"
#include "stages/stage.hpp"

namespace yq {

nlohmann::json run_stage_3_float_validation(StageContext& context) {
  const RunConfig& config = context.config;
  if (!config.data) return {{"skipped", "no --data folder given, nothing to measure"}};
  const Model model = load_model(context.stage_dir(2));
  const Dataset dataset = scan_dataset(*config.data);
  for (const auto& orphan : dataset.orphan_labels) {
    std::printf("         note: label file without an image, skipped: %s\n", orphan.string().c_str());
  }
  DetectOptions options;
  options.image_size = config.image_size;
  options.nms = {config.val_score_threshold, config.val_iou_threshold, config.max_detections};
  const FloatDetector detector(model, options);
  const auto results = run_on_dataset(
      dataset, config.max_images, [&](const RgbImage& image) { return detector.detect(image); }, "         float");
  const DetectionMetrics metrics = evaluate_detections(results, model.info.arch.num_classes);
  std::printf("%s", metrics_table({{"float", metrics}}).c_str());
  nlohmann::json json = metrics_to_json(metrics, model.info.class_names);
  json["orphan_labels"] = dataset.orphan_labels.size();
  write_json_file(context.output_dir / "metrics.json", json);
  json.erase("ap50_95_per_class");
  return json;
}

}  // namespace yq
