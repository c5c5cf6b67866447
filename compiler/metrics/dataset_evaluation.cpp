#include "compiler/metrics/dataset_evaluation.hpp"

#include <algorithm>

#include "compiler/util/progress.hpp"

namespace yq {

std::vector<ImageResult> run_on_dataset(const Dataset& dataset, int max_images, const ImageDetector& detector,
                                        const std::string& progress_label) {
  const int count = max_images > 0 ? std::min<int>(max_images, static_cast<int>(dataset.images.size()))
                                   : static_cast<int>(dataset.images.size());
  std::vector<ImageResult> results;
  results.reserve(count);
  ProgressBar progress(progress_label, count);
  for (int i = 0; i < count; ++i) {
    const DatasetImage& entry = dataset.images[i];
    const RgbImage image = decode_image(entry.image);
    ImageResult result;
    result.image_id = entry.id();
    result.folder = entry.folder;
    result.detections = detector(image);
    if (!entry.label.empty()) result.truths = read_yolo_labels(entry.label, image.width, image.height);
    results.push_back(std::move(result));
    progress.advance();
  }
  return results;
}

}  // namespace yq
