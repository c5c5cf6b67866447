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

// Detections in original-image pixels for each of a batch of decoded images.
using BatchDetector = std::function<std::vector<std::vector<Detection>>(const std::vector<RgbImage>&)>;

// Decodes the images batch_size at a time (the last batch may be smaller)
// and hands each batch to the detector; results are in dataset order, so
// they do not depend on batch_size when the detector does not. max_images 0
// means every image. Shows a progress bar labelled progress_label.
std::vector<ImageResult> run_on_dataset(const Dataset& dataset, int max_images, int batch_size,
                                        const BatchDetector& detector, const std::string& progress_label);

}  // namespace yq
