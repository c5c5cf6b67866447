#include "compiler/ref/int_detector.hpp"

#include "compiler/detect/head_decode.hpp"
#include "compiler/ref/int_head.hpp"

namespace yq {

namespace {

std::vector<float> dequantize(const CodeTensor& t, const CodeFormat& format) {
  std::vector<float> values(t.codes.size());
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>((t.codes[i] - format.zero) * format.scale);
  return values;
}

std::vector<Detection> dequantized_head_candidates(const QuantModel& model, const std::vector<CodeTensor>& outputs,
                                                   float score_threshold) {
  std::vector<std::vector<float>> planes;
  for (const DetectLevel& level : model.graph.levels) {
    planes.push_back(dequantize(outputs[level.box_node], model.nodes[level.box_node].out));
    planes.push_back(dequantize(outputs[level.class_node], model.nodes[level.class_node].out));
  }
  std::vector<HeadLevelOutput> levels;
  for (size_t l = 0; l < model.graph.levels.size(); ++l) {
    const CodeTensor& box = outputs[model.graph.levels[l].box_node];
    levels.push_back({planes[2 * l].data(), planes[2 * l + 1].data(), box.height, box.width, model.graph.levels[l].stride});
  }
  return decode_detect_head(levels, model.info.arch.num_classes, model.info.arch.reg_max, score_threshold);
}

}  // namespace

IntegerDetector::IntegerDetector(const QuantModel& model, DetectOptions options, int threads)
    : integer_model_(model, threads), options_(std::move(options)) {}

std::vector<Detection> IntegerDetector::float_candidates(const std::vector<CodeTensor>& outputs) const {
  const QuantModel& model = integer_model_.model();
  if (model.settings.head == HeadMode::Float) return dequantized_head_candidates(model, outputs, options_.nms.score_threshold);
  return to_float_detections(decode_int_head(model, outputs, score_threshold_code(options_.nms.score_threshold)));
}

std::vector<IntDetection> IntegerDetector::int_nms(const std::vector<CodeTensor>& outputs) const {
  const IntNmsOptions nms = int_nms_options(options_.nms);
  return int_non_max_suppression(decode_int_head(integer_model_.model(), outputs, nms.score_threshold), nms);
}

NmsPair IntegerDetector::suppress(const std::vector<CodeTensor>& outputs) const {
  NmsPair pair;
  pair.float_nms = non_max_suppression(float_candidates(outputs), options_.nms);
  if (integer_model_.model().settings.head == HeadMode::Int) pair.int_nms = to_float_detections(int_nms(outputs));
  return pair;
}

NmsPair IntegerDetector::detect_canvas(const RgbImage& canvas) const { return suppress(integer_model_.run_heads(canvas)); }

NmsPair IntegerDetector::detect(const RgbImage& image) const { return detect_batch({image}).front(); }

std::vector<NmsPair> IntegerDetector::detect_batch(const std::vector<RgbImage>& images) const {
  const LetterboxedBatch boxed = letterbox_batch(images, options_.image_size);
  const std::vector<std::vector<CodeTensor>> outputs = integer_model_.run_heads_batch(boxed.canvases);
  std::vector<NmsPair> pairs;
  for (size_t n = 0; n < images.size(); ++n) {
    NmsPair pair = suppress(outputs[n]);
    for (auto* list : {&pair.float_nms, &pair.int_nms}) {
      for (Detection& d : *list) d = to_image_coordinates(d, boxed.geometries[n], images[n].width, images[n].height);
    }
    pairs.push_back(std::move(pair));
  }
  return pairs;
}

}  // namespace yq
