#include "compiler/float/float_detector.hpp"

#include <ATen/ATen.h>

#include "compiler/detect/head_decode.hpp"

namespace yq {

FloatDetector::FloatDetector(const Model& model, DetectOptions options)
    : float_model_(model), options_(std::move(options)) {}

std::vector<at::Tensor> FloatDetector::head_outputs(const std::vector<RgbImage>& canvases) const {
  return float_model_.run_heads(images_to_input(canvases));
}

std::vector<std::vector<Detection>> FloatDetector::detect_canvases(const std::vector<RgbImage>& canvases) const {
  const std::vector<at::Tensor> heads = head_outputs(canvases);
  const Model& model = float_model_.model();
  std::vector<std::vector<Detection>> detections;
  for (size_t n = 0; n < canvases.size(); ++n) {
    std::vector<at::Tensor> planes;  // image n's [C, H, W] box and class outputs per level
    for (const at::Tensor& head : heads) planes.push_back(head[static_cast<std::int64_t>(n)].contiguous());
    std::vector<HeadLevelOutput> levels;
    for (size_t l = 0; l < model.graph.levels.size(); ++l) {
      const at::Tensor& box = planes[2 * l];
      levels.push_back({box.data_ptr<float>(), planes[2 * l + 1].data_ptr<float>(), static_cast<int>(box.size(1)),
                        static_cast<int>(box.size(2)), model.graph.levels[l].stride});
    }
    auto candidates = decode_detect_head(levels, model.info.arch.num_classes, model.info.arch.reg_max,
                                         options_.nms.score_threshold);
    detections.push_back(non_max_suppression(std::move(candidates), options_.nms));
  }
  return detections;
}

std::vector<Detection> FloatDetector::detect_canvas(const RgbImage& canvas) const {
  return detect_canvases({canvas}).front();
}

std::vector<std::vector<Detection>> FloatDetector::detect_batch(const std::vector<RgbImage>& images) const {
  const LetterboxedBatch boxed = letterbox_batch(images, options_.image_size);
  std::vector<std::vector<Detection>> detections = detect_canvases(boxed.canvases);
  for (size_t n = 0; n < images.size(); ++n) {
    for (Detection& d : detections[n]) d = to_image_coordinates(d, boxed.geometries[n], images[n].width, images[n].height);
  }
  return detections;
}

std::vector<Detection> FloatDetector::detect(const RgbImage& image) const { return detect_batch({image}).front(); }

}  // namespace yq
