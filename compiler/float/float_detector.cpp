#include "compiler/float/float_detector.hpp"

#include <ATen/ATen.h>

#include "compiler/detect/head_decode.hpp"

namespace yq {

FloatDetector::FloatDetector(const Model& model, DetectOptions options)
    : float_model_(model), options_(std::move(options)) {}

std::vector<at::Tensor> FloatDetector::head_outputs(const RgbImage& canvas) const {
  return float_model_.run_heads(image_to_input(canvas));
}

std::vector<Detection> FloatDetector::detect_canvas(const RgbImage& canvas) const {
  const std::vector<at::Tensor> heads = head_outputs(canvas);
  const Model& model = float_model_.model();
  std::vector<HeadLevelOutput> levels;
  for (size_t l = 0; l < model.graph.levels.size(); ++l) {
    const at::Tensor& box = heads[2 * l];
    levels.push_back({box.data_ptr<float>(), heads[2 * l + 1].data_ptr<float>(), static_cast<int>(box.size(2)),
                      static_cast<int>(box.size(3)), model.graph.levels[l].stride});
  }
  auto candidates = decode_detect_head(levels, model.info.arch.num_classes, model.info.arch.reg_max,
                                       options_.nms.score_threshold);
  return non_max_suppression(std::move(candidates), options_.nms);
}

std::vector<Detection> FloatDetector::detect(const RgbImage& image) const {
  const Letterboxed boxed = letterbox(image, options_.image_size);
  std::vector<Detection> detections = detect_canvas(boxed.canvas);
  for (Detection& d : detections) d = to_image_coordinates(d, boxed.geometry, image.width, image.height);
  return detections;
}

}  // namespace yq
