#include "compiler/metrics/dataset_evaluation.hpp"

#include <algorithm>
#include <string>

#include "compiler/util/error.hpp"
#include "compiler/util/progress.hpp"

namespace yq {

std::vector<ImageResult> run_on_dataset(const Dataset& dataset, int max_images, int batch_size,
                                        const BatchDetector& detector, const std::string& progress_label) {
  if (batch_size < 1) throw Error("batch size must be at least 1, got " + std::to_string(batch_size));
  const int count = max_images > 0 ? std::min<int>(max_images, static_cast<int>(dataset.images.size()))
                                   : static_cast<int>(dataset.images.size());
  std::vector<ImageResult> results;
  results.reserve(count);
  ProgressBar progress(progress_label, count);
  for (int first = 0; first < count; first += batch_size) {
    const int last = std::min(count, first + batch_size);
    std::vector<RgbImage> images;
    for (int i = first; i < last; ++i) images.push_back(decode_image(dataset.images[i].image));
    std::vector<std::vector<Detection>> detections = detector(images);
    for (int i = first; i < last; ++i) {
      const DatasetImage& entry = dataset.images[i];
      const RgbImage& image = images[i - first];
      ImageResult result;
      result.image_id = entry.id();
      result.folder = entry.folder;
      result.detections = std::move(detections.at(i - first));
      if (!entry.label.empty()) result.truths = read_yolo_labels(entry.label, image.width, image.height);
      results.push_back(std::move(result));
      progress.advance();
    }
  }
  return results;
}

}  // namespace yq
