#include "compiler/quant/int_detector.hpp"

#include "compiler/detect/head_decode.hpp"
#include "compiler/quant/lut_builder.hpp"

namespace yq {

namespace {

std::vector<float> dequantize(const CodeTensor& t, const CodeFormat& format) {
  std::vector<float> values(t.codes.size());
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>((t.codes[i] - format.zero) * format.scale);
  return values;
}

std::vector<Detection> float_head_candidates(const QuantModel& model, const std::vector<CodeTensor>& outputs,
                                             float score_threshold) {
  std::vector<std::vector<float>> planes;
  std::vector<HeadLevelOutput> levels;
  for (const DetectLevel& level : model.graph.levels) {
    planes.push_back(dequantize(outputs[level.box_node], model.nodes[level.box_node].out));
    planes.push_back(dequantize(outputs[level.class_node], model.nodes[level.class_node].out));
  }
  for (size_t l = 0; l < model.graph.levels.size(); ++l) {
    const CodeTensor& box = outputs[model.graph.levels[l].box_node];
    levels.push_back({planes[2 * l].data(), planes[2 * l + 1].data(), box.height, box.width, model.graph.levels[l].stride});
  }
  return decode_detect_head(levels, model.info.arch.num_classes, model.info.arch.reg_max, score_threshold);
}

}  // namespace

IntegerDetector::IntegerDetector(const QuantModel& model, DetectOptions options, int threads)
    : integer_model_(model, threads), options_(std::move(options)) {}

std::vector<Detection> IntegerDetector::head_candidates(const std::vector<CodeTensor>& outputs) const {
  const QuantModel& model = integer_model_.model();
  if (model.settings.head == "float") return float_head_candidates(model, outputs, options_.nms.score_threshold);
  std::vector<Detection> candidates;
  const float box_unit = 1.0f / (1 << kBoxFractionBits), score_unit = 1.0f / (1 << kScoreFractionBits);
  for (const IntDetection& d : decode_int_head(model, outputs, score_threshold_code(options_.nms.score_threshold))) {
    candidates.push_back({{d.x1 * box_unit, d.y1 * box_unit, d.x2 * box_unit, d.y2 * box_unit}, d.score * score_unit, d.class_id});
  }
  return candidates;
}

std::vector<Detection> IntegerDetector::detect_canvas(const RgbImage& canvas) const {
  return non_max_suppression(head_candidates(integer_model_.run_all(canvas)), options_.nms);
}

std::vector<Detection> IntegerDetector::detect(const RgbImage& image) const {
  const Letterboxed boxed = letterbox(image, options_.image_size);
  std::vector<Detection> detections = detect_canvas(boxed.canvas);
  for (Detection& d : detections) d = to_image_coordinates(d, boxed.geometry, image.width, image.height);
  return detections;
}

}  // namespace yq
