// Image in, detections out, with the float model: letterbox, forward pass,
// head decode, class-aware NMS, and mapping back to original pixels.
#pragma once
#include <vector>

#include "compiler/detect/detection.hpp"
#include "compiler/float/float_model.hpp"
#include "compiler/io/image.hpp"

namespace yq {

struct DetectOptions {
  InputSize image_size;
  NmsOptions nms;
};

class FloatDetector {
 public:
  FloatDetector(const Model& model, DetectOptions options);

  // Detections in original-image pixels.
  std::vector<Detection> detect(const RgbImage& image) const;

  // The same for a batch of images, run as one [N, 3, H, W] forward pass.
  std::vector<std::vector<Detection>> detect_batch(const std::vector<RgbImage>& images) const;

  // Detections in canvas pixels for an already letterboxed canvas.
  std::vector<Detection> detect_canvas(const RgbImage& canvas) const;

  // The raw head outputs (per level box, class) for a batch of canvases:
  // [N, C, H, W] each.
  std::vector<at::Tensor> head_outputs(const std::vector<RgbImage>& canvases) const;
  std::vector<at::Tensor> head_outputs(const RgbImage& canvas) const { return head_outputs(std::vector<RgbImage>{canvas}); }

 private:
  std::vector<std::vector<Detection>> detect_canvases(const std::vector<RgbImage>& canvases) const;

  FloatModel float_model_;
  DetectOptions options_;
};

}  // namespace yq
