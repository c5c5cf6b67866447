// Image in, detections out, with the integer model: letterbox, integer
// forward pass, then either the integer head (--head int: integer DFL,
// sigmoid table, integer boxes) or the dequantized prediction outputs decoded
// in float (--head float, a diagnostic); then NMS and mapping back to the
// original image.
#pragma once
#include <vector>

#include "compiler/detect/detection.hpp"
#include "compiler/float/float_detector.hpp"
#include "compiler/quant/int_model.hpp"

namespace yq {

class IntegerDetector {
 public:
  IntegerDetector(const QuantModel& model, DetectOptions options, int threads);

  std::vector<Detection> detect(const RgbImage& image) const;        // original pixels
  std::vector<Detection> detect_canvas(const RgbImage& canvas) const;  // canvas pixels

  // Candidates of the head for already computed outputs (canvas pixels).
  std::vector<Detection> head_candidates(const std::vector<CodeTensor>& outputs) const;

  const IntegerModel& integer_model() const { return integer_model_; }

 private:
  IntegerModel integer_model_;
  DetectOptions options_;
};

}  // namespace yq
