// Detections, boxes and class-aware non-maximum suppression (float).
#pragma once
#include <vector>

namespace yq {

struct Box {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  float area() const { return (x2 > x1 && y2 > y1) ? (x2 - x1) * (y2 - y1) : 0.0f; }
};

float iou(const Box& a, const Box& b);

struct Detection {
  Box box;
  float score = 0;
  int class_id = 0;
};

struct NmsOptions {
  float score_threshold = 0.25f;  // keep score > threshold
  float iou_threshold = 0.7f;     // suppress IoU > threshold within a class
  int max_detections = 300;
};

// Greedy class-aware NMS: candidates sorted by score (descending, stable on
// ties by input order), a candidate is dropped when its IoU with a kept box
// of the same class exceeds the threshold; at most max_detections kept.
std::vector<Detection> non_max_suppression(std::vector<Detection> candidates, const NmsOptions& options);

}  // namespace yq
