// COCO-style detection accuracy: box mAP50-95 over IoU 0.50:0.05:0.95 with
// 101-point interpolated precision (the pycocotools definition, area "all",
// at most 100 detections per image and class), mAP50, and precision/recall
// at the confidence that maximises the mean F1 over classes.
#pragma once
#include <string>
#include <vector>

#include "compiler/detect/detection.hpp"
#include "compiler/io/dataset.hpp"

namespace yq {

struct ImageResult {
  std::vector<Detection> detections;  // original-image pixels
  std::vector<GroundTruth> truths;
  std::string image_id;               // the image's file stem
  int folder = 0;                     // which folder of the dataset it came from
};

struct DetectionMetrics {
  double map50_95 = 0;
  double map50 = 0;
  double precision = 0;
  double recall = 0;
  int images = 0;
  int instances = 0;            // ground-truth boxes
  int classes_with_truth = 0;   // classes averaged over
  std::vector<double> ap50_95_per_class;  // -1 for classes without truth
};

DetectionMetrics evaluate_detections(const std::vector<ImageResult>& results, int num_classes);

}  // namespace yq
