// Detections, boxes and class-aware non-maximum suppression (float), and the
// integer detection format of the integer head and q_NMS (docs/ARITHMETIC.md
// sections 7-8).
#pragma once
#include <cmath>
#include <cstdint>
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

// Integer detections: boxes in 1 / 2^kBoxFractionBits canvas pixel, scores in
// units of 2^-kScoreFractionBits.
constexpr int kBoxFractionBits = 4;
constexpr int kScoreFractionBits = 16;

// A candidate of the integer head.
struct IntDetection {
  std::int32_t x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  std::int32_t score = 0;
  int class_id = 0;
  int anchor = 0;  // position in anchor order (level, row, column): the tie-breaker of q_NMS
};

// The score code equivalent of a real threshold: lround(conf * 2^16).
inline std::int32_t score_threshold_code(double conf) {
  return static_cast<std::int32_t>(std::lround(std::ldexp(conf, kScoreFractionBits)));
}

// An integer detection in float units (box / 16, score / 2^16).
Detection to_float_detection(const IntDetection& detection);
std::vector<Detection> to_float_detections(const std::vector<IntDetection>& detections);

}  // namespace yq
