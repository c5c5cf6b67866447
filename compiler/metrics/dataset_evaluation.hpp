// Runs a detector over a labelled folder and collects, per image, its
// detections and ground truth, ready for evaluate_detections().
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "compiler/io/dataset.hpp"
#include "compiler/io/image.hpp"
#include "compiler/metrics/detection_metrics.hpp"

namespace yq {

// Detections in original-image pixels for one decoded image.
using ImageDetector = std::function<std::vector<Detection>(const RgbImage&)>;

// max_images 0 means every image. Shows a progress bar labelled progress_label.
std::vector<ImageResult> run_on_dataset(const Dataset& dataset, int max_images, const ImageDetector& detector,
                                        const std::string& progress_label);

}  // namespace yq
