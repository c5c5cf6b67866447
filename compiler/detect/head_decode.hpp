// Float decoding of the YOLOv8 detect head: per anchor (cell centre x+0.5,
// y+0.5 at stride 8/16/32), DFL (softmax over reg_max bins per side, then the
// expectation) gives the left/top/right/bottom distances; the box is
// (centre - lt, centre + rb) * stride; the score is the sigmoid of the best
// class logit.
#pragma once
#include <vector>

#include "compiler/detect/detection.hpp"

namespace yq {

// One level's raw outputs, channel-major (CHW) float arrays.
struct HeadLevelOutput {
  const float* box = nullptr;    // [4 * reg_max, height, width]
  const float* cls = nullptr;    // [num_classes, height, width]
  int height = 0;
  int width = 0;
  int stride = 0;
};

// Candidates with score > score_threshold, in canvas pixels, anchor order.
std::vector<Detection> decode_detect_head(const std::vector<HeadLevelOutput>& levels, int num_classes, int reg_max,
                                          float score_threshold);

}  // namespace yq
