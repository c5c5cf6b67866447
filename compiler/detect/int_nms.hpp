// q_NMS: class-aware greedy non-maximum suppression entirely in integers,
// over the integer head's candidates (docs/ARITHMETIC.md section 8).
//
// Candidates with score > score_threshold are ranked by a strict total order
// (score descending, then anchor, then class ascending), so equal scores never
// depend on sort stability. Walking them in that order, a candidate is kept
// unless an already kept box of the same class suppresses it, until
// max_detections are kept. A kept box suppresses a candidate when their IoU
// exceeds num/den, tested without division as I * den > num * U, with the
// intersection I and union U = A1 + A2 - I of the integer boxes in 64 bits.
// The test is exact, so the RTL gets the same boxes in the same order.
#pragma once
#include <cstdint>
#include <vector>

#include "compiler/detect/detection.hpp"

namespace yq {

struct IntNmsOptions {
  std::int32_t score_threshold = 16384;  // keep score > score_threshold (units of 2^-16)
  std::int64_t iou_numerator = 7;        // suppress when IoU > iou_numerator / iou_denominator
  std::int64_t iou_denominator = 10;
  int max_detections = 300;
};

// The integer form of the float options: score threshold lround(conf * 2^16),
// IoU threshold lround(iou * 1000) / 1000 reduced by their gcd (0.7 -> 7/10).
// Throws Error unless 0 <= iou_threshold <= 1.
IntNmsOptions int_nms_options(const NmsOptions& options);

// Area in 1/256 pixel^2; 0 when x2 <= x1 or y2 <= y1.
std::int64_t box_area(const IntDetection& box);

// Area of the overlap of two boxes, 0 when they do not overlap (touching edges included).
std::int64_t intersection_area(const IntDetection& a, const IntDetection& b);

// IoU(a, b) > numerator / denominator, decided as I * denominator > numerator * U.
bool iou_exceeds(const IntDetection& a, const IntDetection& b, std::int64_t numerator, std::int64_t denominator);

// The ranking of q_NMS: score descending, then anchor ascending, then class
// ascending (then coordinates ascending, so that even duplicates have one order).
bool ranks_before(const IntDetection& a, const IntDetection& b);

// q_NMS: the kept candidates, in ranking order.
std::vector<IntDetection> int_non_max_suppression(std::vector<IntDetection> candidates, const IntNmsOptions& options);

}  // namespace yq
