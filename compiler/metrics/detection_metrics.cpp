// COCO box mAP computed as pycocotools COCOeval does (iouType "bbox", area
// range "all", maxDets 100, no crowd boxes), plus Ultralytics-style
// precision and recall.
//
// 1. Matching (COCOeval.evaluateImg), per image and class: detections are
//    stable-sorted by score (descending) and cut to the first 100. For each
//    IoU threshold t in linspace(0.5, 0.95, 10) the detections are visited in
//    that order; each one takes the not yet matched truth with the highest
//    IoU, starting from best = min(t, 1 - 1e-10) and taking a truth whenever
//    its IoU >= best (so a later truth wins a tie). Matched: TP, else FP.
//    IoU is computed in double precision, as pycocotools does.
// 2. Accumulation (COCOeval.accumulate), per class over all images (in
//    result order, pycocotools' sorted image ids): the class's detections
//    are stable-sorted by score (numpy mergesort); per threshold, cumulative
//    TP and FP give recall = tp / truths and precision = tp / (tp + fp + eps)
//    with eps = np.spacing(1); precision is made non-increasing from the
//    right; for each recall point r in linspace(0, 1, 101) the precision at
//    the first index with recall >= r is taken (np.searchsorted, side
//    'left'), 0 past the end of the curve. AP = mean of those 101 values.
// 3. Summary: a class's AP50-95 is the mean over the 10 thresholds, its AP50
//    the t = 0.5 value; mAP50-95 and mAP50 are means over the classes with
//    truth. Classes without truth are left out (pycocotools keeps -1 for
//    them and averages only values > -1). A class with truth but no
//    detection at all scores AP 0. pycocotools does the same: the class's
//    images still produce an evaluateImg record because they hold truth, so
//    accumulate stores a precision of 0 (not -1) and the class is averaged.
//    Counting it as 0 is the point: a model that never finds a class must
//    lose accuracy for it instead of being excused.
// 4. Precision/recall (Ultralytics ap_per_class) from the IoU-0.5 matches
//    above: per class with truth, recall = tp / (truths + 1e-16) and
//    precision = tp / (tp + fp) along the score-ranked detections, both
//    resampled at confidences linspace(0, 1, 1000) with np.interp (left 0 for
//    recall, 1 for precision; a class without detections has zero curves).
//    F1 = 2PR / (P + R + 1e-16) per class is averaged over classes, smoothed
//    with a box filter spanning 10% of the points, and at its (first) argmax
//    the class-mean precision and recall are reported.
#include "compiler/metrics/detection_metrics.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <string>

#include "compiler/util/error.hpp"

namespace yq {

namespace {

constexpr int kIouThresholdCount = 10;  // 0.50:0.05:0.95
constexpr int kRecallPointCount = 101;
constexpr std::size_t kMaxDetectionsPerImageClass = 100;
constexpr int kConfidencePointCount = 1000;
constexpr double kF1SmoothingFraction = 0.1;
constexpr double kNumpySpacingOfOne = 2.220446049250313e-16;  // np.spacing(1), pycocotools' eps
constexpr double kUltralyticsEpsilon = 1e-16;

using PerThreshold = std::array<bool, kIouThresholdCount>;

// One detection after matching: its score and whether it is a TP at each IoU threshold.
struct MatchedDetection {
  double score = 0;
  PerThreshold true_positive{};
};

// Everything one class contributes over all images.
struct ClassEvidence {
  int truth_count = 0;
  std::vector<MatchedDetection> detections;
};

// One image's detections and truth boxes of one class.
struct ImageClassItems {
  std::vector<Detection> detections;
  std::vector<Box> truths;
};

// numpy.linspace(start, stop, count) value for value: i * step + start, last = stop.
std::vector<double> numpy_linspace(double start, double stop, int count) {
  std::vector<double> values(count);
  const double step = (stop - start) / (count - 1);
  for (int i = 0; i < count; ++i) values[i] = i * step + start;
  values.back() = stop;
  return values;
}

const std::vector<double>& iou_thresholds() {
  static const std::vector<double> thresholds = numpy_linspace(0.5, 0.95, kIouThresholdCount);
  return thresholds;
}

const std::vector<double>& recall_points() {
  static const std::vector<double> points = numpy_linspace(0.0, 1.0, kRecallPointCount);
  return points;
}

double iou_double(const Box& a, const Box& b) {
  const double overlap_width = std::min<double>(a.x2, b.x2) - std::max<double>(a.x1, b.x1);
  const double overlap_height = std::min<double>(a.y2, b.y2) - std::max<double>(a.y1, b.y1);
  if (overlap_width <= 0 || overlap_height <= 0) return 0.0;
  const double intersection = overlap_width * overlap_height;
  const auto area = [](const Box& box) {
    return (box.x2 > box.x1 && box.y2 > box.y1) ? (double(box.x2) - box.x1) * (double(box.y2) - box.y1) : 0.0;
  };
  const double union_area = area(a) + area(b) - intersection;
  return union_area > 0 ? intersection / union_area : 0.0;
}

void check_class_id(int class_id, int num_classes, const char* what) {
  if (class_id < 0 || class_id >= num_classes) {
    throw Error(std::string(what) + " class " + std::to_string(class_id) + " is outside the model's " +
                std::to_string(num_classes) + " classes");
  }
}

std::vector<ImageClassItems> group_by_class(const ImageResult& image, int num_classes) {
  std::vector<ImageClassItems> groups(num_classes);
  for (const Detection& detection : image.detections) {
    check_class_id(detection.class_id, num_classes, "detection");
    groups[detection.class_id].detections.push_back(detection);
  }
  for (const GroundTruth& truth : image.truths) {
    check_class_id(truth.class_id, num_classes, "ground-truth");
    groups[truth.class_id].truths.push_back(truth.box);
  }
  return groups;
}

void keep_top_scoring(std::vector<Detection>& detections) {
  std::stable_sort(detections.begin(), detections.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
  if (detections.size() > kMaxDetectionsPerImageClass) detections.resize(kMaxDetectionsPerImageClass);
}

// pycocotools' inner loop: the unmatched truth with the highest IoU >= threshold,
// later truths winning ties; -1 if none.
int best_unmatched_truth(const std::vector<double>& ious, const std::vector<bool>& truth_matched, double threshold) {
  double best_iou = std::min(threshold, 1 - 1e-10);
  int best_truth = -1;
  for (std::size_t g = 0; g < ious.size(); ++g) {
    if (truth_matched[g] || ious[g] < best_iou) continue;
    best_iou = ious[g];
    best_truth = static_cast<int>(g);
  }
  return best_truth;
}

std::vector<std::vector<double>> iou_matrix(const std::vector<Detection>& detections, const std::vector<Box>& truths) {
  std::vector<std::vector<double>> ious(detections.size(), std::vector<double>(truths.size()));
  for (std::size_t d = 0; d < detections.size(); ++d) {
    for (std::size_t g = 0; g < truths.size(); ++g) ious[d][g] = iou_double(detections[d].box, truths[g]);
  }
  return ious;
}

// Detections must already be score-ranked and capped.
std::vector<MatchedDetection> match_image_class(const ImageClassItems& items) {
  const auto ious = iou_matrix(items.detections, items.truths);
  std::vector<MatchedDetection> matched(items.detections.size());
  for (std::size_t d = 0; d < matched.size(); ++d) matched[d].score = items.detections[d].score;
  for (int t = 0; t < kIouThresholdCount; ++t) {
    std::vector<bool> truth_matched(items.truths.size(), false);
    for (std::size_t d = 0; d < matched.size(); ++d) {
      const int truth = best_unmatched_truth(ious[d], truth_matched, iou_thresholds()[t]);
      if (truth < 0) continue;
      truth_matched[truth] = true;
      matched[d].true_positive[t] = true;
    }
  }
  return matched;
}

std::vector<ClassEvidence> collect_evidence(const std::vector<ImageResult>& results, int num_classes) {
  std::vector<ClassEvidence> evidence(num_classes);
  for (const ImageResult& image : results) {
    std::vector<ImageClassItems> groups = group_by_class(image, num_classes);
    for (int c = 0; c < num_classes; ++c) {
      keep_top_scoring(groups[c].detections);
      const auto matched = match_image_class(groups[c]);
      evidence[c].truth_count += static_cast<int>(groups[c].truths.size());
      evidence[c].detections.insert(evidence[c].detections.end(), matched.begin(), matched.end());
    }
  }
  return evidence;
}

void rank_by_score(std::vector<MatchedDetection>& detections) {
  std::stable_sort(detections.begin(), detections.end(),
                   [](const MatchedDetection& a, const MatchedDetection& b) { return a.score > b.score; });
}

// Cumulative TP and FP counts along the ranked detections at one threshold.
struct CumulativeCounts {
  std::vector<double> true_positives, false_positives;
};

CumulativeCounts cumulative_counts(const std::vector<MatchedDetection>& ranked, int threshold_index) {
  CumulativeCounts counts;
  double tp = 0, fp = 0;
  for (const MatchedDetection& detection : ranked) {
    (detection.true_positive[threshold_index] ? tp : fp) += 1;
    counts.true_positives.push_back(tp);
    counts.false_positives.push_back(fp);
  }
  return counts;
}

// pycocotools' 101-point interpolated AP from one threshold's cumulative counts.
double coco_average_precision(const CumulativeCounts& counts, int truth_count) {
  const std::size_t n = counts.true_positives.size();
  std::vector<double> recall(n), precision(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double tp = counts.true_positives[i], fp = counts.false_positives[i];
    recall[i] = tp / truth_count;
    precision[i] = tp / (fp + tp + kNumpySpacingOfOne);
  }
  for (std::size_t i = n; i-- > 1;) precision[i - 1] = std::max(precision[i - 1], precision[i]);
  double sum = 0;
  for (const double point : recall_points()) {
    const std::size_t index = std::lower_bound(recall.begin(), recall.end(), point) - recall.begin();
    if (index < n) sum += precision[index];
  }
  return sum / kRecallPointCount;
}

// np.interp(x, xp, fp, left) for ascending xp (ties allowed): like numpy, the
// last knot with xp <= x is the left end of the segment.
double numpy_interp(double x, const std::vector<double>& xp, const std::vector<double>& fp, double left) {
  if (x < xp.front()) return left;
  if (x > xp.back()) return fp.back();
  const std::size_t j = std::upper_bound(xp.begin(), xp.end(), x) - xp.begin() - 1;
  if (j == xp.size() - 1 || xp[j] == x) return fp[j];
  const double slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
  return slope * (x - xp[j]) + fp[j];
}

// A class's precision and recall sampled at the confidences linspace(0, 1, 1000).
struct ConfidenceCurves {
  std::vector<double> precision = std::vector<double>(kConfidencePointCount, 0.0);
  std::vector<double> recall = std::vector<double>(kConfidencePointCount, 0.0);
};

ConfidenceCurves confidence_curves(const std::vector<MatchedDetection>& ranked, int truth_count) {
  ConfidenceCurves curves;
  if (ranked.empty()) return curves;
  const CumulativeCounts counts = cumulative_counts(ranked, 0);
  std::vector<double> negated_scores, precision, recall;
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    const double tp = counts.true_positives[i], fp = counts.false_positives[i];
    negated_scores.push_back(-ranked[i].score);
    recall.push_back(tp / (truth_count + kUltralyticsEpsilon));
    precision.push_back(tp / (tp + fp));
  }
  const std::vector<double> confidences = numpy_linspace(0.0, 1.0, kConfidencePointCount);
  for (int k = 0; k < kConfidencePointCount; ++k) {
    curves.recall[k] = numpy_interp(-confidences[k], negated_scores, recall, 0.0);
    curves.precision[k] = numpy_interp(-confidences[k], negated_scores, precision, 1.0);
  }
  return curves;
}

// Ultralytics smooth(): mean over an odd window of round(2 * n * fraction) / 2 + 1
// points, the ends padded with the first and last values.
std::vector<double> box_filter(const std::vector<double>& values, double fraction) {
  const int n = static_cast<int>(values.size());
  const int window = static_cast<int>(std::nearbyint(n * fraction * 2)) / 2 + 1;
  const int pad = window / 2;
  std::vector<double> padded(pad, values.front());
  padded.insert(padded.end(), values.begin(), values.end());
  padded.insert(padded.end(), pad, values.back());
  std::vector<double> smoothed(n);
  for (int i = 0; i < n; ++i) {
    double sum = 0;
    for (int k = 0; k < window; ++k) sum += padded[i + k] * (1.0 / window);
    smoothed[i] = sum;
  }
  return smoothed;
}

// Sets precision and recall at the confidence with the best smoothed mean F1.
void set_precision_recall(const std::vector<ConfidenceCurves>& curves, DetectionMetrics& metrics) {
  if (curves.empty()) return;
  const double class_count = static_cast<double>(curves.size());
  std::vector<double> mean_f1(kConfidencePointCount, 0.0);
  for (const ConfidenceCurves& c : curves) {
    for (int k = 0; k < kConfidencePointCount; ++k) {
      const double p = c.precision[k], r = c.recall[k];
      mean_f1[k] += 2 * p * r / (p + r + kUltralyticsEpsilon);
    }
  }
  for (double& f1 : mean_f1) f1 /= class_count;
  const std::vector<double> smoothed = box_filter(mean_f1, kF1SmoothingFraction);
  const std::size_t best = std::max_element(smoothed.begin(), smoothed.end()) - smoothed.begin();
  for (const ConfidenceCurves& c : curves) {
    metrics.precision += c.precision[best];
    metrics.recall += c.recall[best];
  }
  metrics.precision /= class_count;
  metrics.recall /= class_count;
}

// Per-threshold APs of one class with truth.
std::array<double, kIouThresholdCount> class_average_precisions(const std::vector<MatchedDetection>& ranked,
                                                                int truth_count) {
  std::array<double, kIouThresholdCount> ap{};
  for (int t = 0; t < kIouThresholdCount; ++t)
    ap[t] = coco_average_precision(cumulative_counts(ranked, t), truth_count);
  return ap;
}

// Ranks each class's detections and sets the per-class APs and the mAPs;
// returns the confidence curves of the classes with truth.
std::vector<ConfidenceCurves> score_classes(std::vector<ClassEvidence>& evidence, DetectionMetrics& metrics) {
  std::vector<ConfidenceCurves> curves;
  for (std::size_t c = 0; c < evidence.size(); ++c) {
    ClassEvidence& class_evidence = evidence[c];
    if (class_evidence.truth_count == 0) continue;
    rank_by_score(class_evidence.detections);
    const auto ap = class_average_precisions(class_evidence.detections, class_evidence.truth_count);
    metrics.ap50_95_per_class[c] = std::accumulate(ap.begin(), ap.end(), 0.0) / kIouThresholdCount;
    metrics.map50_95 += metrics.ap50_95_per_class[c];
    metrics.map50 += ap[0];
    metrics.instances += class_evidence.truth_count;
    ++metrics.classes_with_truth;
    curves.push_back(confidence_curves(class_evidence.detections, class_evidence.truth_count));
  }
  if (metrics.classes_with_truth > 0) {
    metrics.map50_95 /= metrics.classes_with_truth;
    metrics.map50 /= metrics.classes_with_truth;
  }
  return curves;
}

}  // namespace

DetectionMetrics evaluate_detections(const std::vector<ImageResult>& results, int num_classes) {
  std::vector<ClassEvidence> evidence = collect_evidence(results, num_classes);
  DetectionMetrics metrics;
  metrics.images = static_cast<int>(results.size());
  metrics.ap50_95_per_class.assign(num_classes, -1.0);
  set_precision_recall(score_classes(evidence, metrics), metrics);
  return metrics;
}

}  // namespace yq
