// Detections in the COCO results format, for evaluation outside yq-hw
// (pycocotools' loadRes): a JSON array of
//   {"image_id": "<file stem>", "category_id": <model class index>,
//    "bbox": [x, y, w, h], "score": s}
// with the box in original-image pixels. One prediction per line, images in
// dataset order and each image's detections in the detector's order; every
// number is written so that it reads back to the same float, so the file
// is deterministic and lossless.
#pragma once
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "compiler/metrics/detection_metrics.hpp"

namespace yq {

std::string coco_predictions_text(const std::vector<ImageResult>& results);

// Detections per image id, as written by coco_predictions_text. Throws
// yq::Error naming the file on a malformed entry.
std::map<std::string, std::vector<Detection>> read_coco_predictions(const std::filesystem::path& file);

// The results of one folder of the dataset.
std::vector<ImageResult> results_of_folder(const std::vector<ImageResult>& results, int folder);

}  // namespace yq
