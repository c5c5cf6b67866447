// q_NMS (docs/ARITHMETIC.md section 8): drop candidates with score <=
// threshold, sort the rest by the total order of ranks_before, then walk them
// keeping each candidate that no kept box of its class suppresses, until
// max_detections are kept. Suppression is the division-free IoU test
// I * den > num * U in 64-bit integers: boxes whose sides are below 2^26
// units keep every product below 2^63 for num, den <= 1000, far beyond any
// canvas (4096 px is 2^16 units).
#include "compiler/detect/int_nms.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

#include "compiler/util/error.hpp"

namespace yq {

namespace {

constexpr std::int64_t kIouDenominator = 1000;

// Length of the interval [low, high), 0 when high <= low.
std::int64_t extent(std::int64_t low, std::int64_t high) { return std::max<std::int64_t>(0, high - low); }

std::vector<IntDetection> candidates_above_threshold(std::vector<IntDetection> candidates,
                                                     std::int32_t score_threshold) {
  std::erase_if(candidates, [&](const IntDetection& d) { return d.score <= score_threshold; });
  return candidates;
}

bool suppressed_by_any(const IntDetection& candidate, const std::vector<IntDetection>& kept,
                       const IntNmsOptions& options) {
  return std::any_of(kept.begin(), kept.end(), [&](const IntDetection& k) {
    return k.class_id == candidate.class_id &&
           iou_exceeds(k, candidate, options.iou_numerator, options.iou_denominator);
  });
}

}  // namespace

IntNmsOptions int_nms_options(const NmsOptions& options) {
  if (!(options.iou_threshold >= 0.0f && options.iou_threshold <= 1.0f)) {
    throw Error("NMS IoU threshold " + std::to_string(options.iou_threshold) + " is outside [0, 1]");
  }
  const std::int64_t numerator = std::lround(static_cast<double>(options.iou_threshold) * kIouDenominator);
  const std::int64_t divisor = std::gcd(numerator, kIouDenominator);
  return {score_threshold_code(options.score_threshold), numerator / divisor, kIouDenominator / divisor,
          options.max_detections};
}

Detection to_float_detection(const IntDetection& d) {
  const float box_unit = 1.0f / (1 << kBoxFractionBits), score_unit = 1.0f / (1 << kScoreFractionBits);
  return {{d.x1 * box_unit, d.y1 * box_unit, d.x2 * box_unit, d.y2 * box_unit}, d.score * score_unit, d.class_id};
}

std::vector<Detection> to_float_detections(const std::vector<IntDetection>& detections) {
  std::vector<Detection> converted;
  for (const IntDetection& d : detections) converted.push_back(to_float_detection(d));
  return converted;
}

std::int64_t box_area(const IntDetection& box) { return extent(box.x1, box.x2) * extent(box.y1, box.y2); }

std::int64_t intersection_area(const IntDetection& a, const IntDetection& b) {
  return extent(std::max(a.x1, b.x1), std::min(a.x2, b.x2)) * extent(std::max(a.y1, b.y1), std::min(a.y2, b.y2));
}

bool iou_exceeds(const IntDetection& a, const IntDetection& b, std::int64_t numerator, std::int64_t denominator) {
  const std::int64_t intersection = intersection_area(a, b);
  const std::int64_t union_area = box_area(a) + box_area(b) - intersection;
  return intersection * denominator > numerator * union_area;
}

bool ranks_before(const IntDetection& a, const IntDetection& b) {
  return std::tie(b.score, a.anchor, a.class_id, a.x1, a.y1, a.x2, a.y2) <
         std::tie(a.score, b.anchor, b.class_id, b.x1, b.y1, b.x2, b.y2);
}

std::vector<IntDetection> int_non_max_suppression(std::vector<IntDetection> candidates, const IntNmsOptions& options) {
  std::vector<IntDetection> ranked = candidates_above_threshold(std::move(candidates), options.score_threshold);
  std::sort(ranked.begin(), ranked.end(), ranks_before);
  std::vector<IntDetection> kept;
  for (const IntDetection& candidate : ranked) {
    if (static_cast<int>(kept.size()) >= options.max_detections) break;
    if (!suppressed_by_any(candidate, kept, options)) kept.push_back(candidate);
  }
  return kept;
}

}  // namespace yq
