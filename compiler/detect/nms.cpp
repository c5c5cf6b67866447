// Greedy class-aware non-maximum suppression (the torchvision / Ultralytics
// rule): keep candidates with score > score_threshold, stable-sort them by
// score (descending, ties in input order), then walk them in that order and
// keep a candidate unless its IoU with an already kept box of the same class
// exceeds iou_threshold; stop once max_detections are kept. Kept boxes are
// grouped by class, so each candidate is only compared with its own class
// (at most max_detections comparisons per candidate).
#include <algorithm>
#include <unordered_map>

#include "compiler/detect/detection.hpp"

namespace yq {

namespace {

std::vector<Detection> candidates_above_threshold(std::vector<Detection> candidates, float score_threshold) {
  std::erase_if(candidates, [&](const Detection& d) { return !(d.score > score_threshold); });
  return candidates;
}

void stable_sort_by_score_descending(std::vector<Detection>& detections) {
  std::stable_sort(detections.begin(), detections.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
}

bool overlaps_any(const Box& box, const std::vector<Box>& kept_boxes, float iou_threshold) {
  return std::any_of(kept_boxes.begin(), kept_boxes.end(),
                     [&](const Box& kept) { return iou(box, kept) > iou_threshold; });
}

}  // namespace

float iou(const Box& a, const Box& b) {
  const float overlap_width = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  const float overlap_height = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  const float intersection = (overlap_width > 0 && overlap_height > 0) ? overlap_width * overlap_height : 0.0f;
  const float union_area = a.area() + b.area() - intersection;
  return union_area > 0 ? intersection / union_area : 0.0f;
}

std::vector<Detection> non_max_suppression(std::vector<Detection> candidates, const NmsOptions& options) {
  std::vector<Detection> ranked = candidates_above_threshold(std::move(candidates), options.score_threshold);
  stable_sort_by_score_descending(ranked);
  std::vector<Detection> kept;
  std::unordered_map<int, std::vector<Box>> kept_boxes_by_class;
  for (const Detection& candidate : ranked) {
    if (static_cast<int>(kept.size()) >= options.max_detections) break;
    std::vector<Box>& same_class = kept_boxes_by_class[candidate.class_id];
    if (overlaps_any(candidate.box, same_class, options.iou_threshold)) continue;
    same_class.push_back(candidate.box);
    kept.push_back(candidate);
  }
  return kept;
}

}  // namespace yq
