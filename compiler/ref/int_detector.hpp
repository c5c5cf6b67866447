// Image in, detections out, with the integer model: letterbox, integer
// forward pass, then either the integer head (--head int: integer DFL,
// sigmoid table, integer boxes) or the dequantized prediction outputs decoded
// in float (--head float, a diagnostic). Suppression is q_NMS (integer,
// docs/ARITHMETIC.md section 8; integer head only) or the float NMS on the
// same candidates. Detections are mapped back to the original image.
#pragma once
#include <vector>

#include "compiler/detect/detection.hpp"
#include "compiler/detect/int_nms.hpp"
#include "compiler/float/float_detector.hpp"
#include "compiler/ref/int_model.hpp"

namespace yq {

// Both suppressions of the same candidates.
struct NmsPair {
  std::vector<Detection> float_nms;
  std::vector<Detection> int_nms;  // empty with --head float
};

class IntegerDetector {
 public:
  IntegerDetector(const QuantModel& model, DetectOptions options, int threads);

  // Original-image pixels; both NMS variants over one forward pass.
  NmsPair detect(const RgbImage& image) const;
  // The same for a batch (IntegerModel::run_heads_batch).
  std::vector<NmsPair> detect_batch(const std::vector<RgbImage>& images) const;
  NmsPair detect_canvas(const RgbImage& canvas) const;  // canvas pixels
  NmsPair suppress(const std::vector<CodeTensor>& outputs) const;

  // q_NMS on the integer head's candidates, in integers (the RTL's result).
  std::vector<IntDetection> int_nms(const std::vector<CodeTensor>& outputs) const;

  const IntegerModel& integer_model() const { return integer_model_; }

 private:
  std::vector<Detection> float_candidates(const std::vector<CodeTensor>& outputs) const;

  IntegerModel integer_model_;
  DetectOptions options_;
};

}  // namespace yq
