// Labelled image folders in the Ultralytics YOLO layout:
//   <root>/images/<split>/<stem>.jpg  with  <root>/labels/<split>/<stem>.txt
// (any folder of images works; labels are found by replacing the last
// "images" path component with "labels" and the extension with ".txt").
// An image without a label file has no objects; a label file without an
// image is reported and skipped.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "compiler/detect/detection.hpp"

namespace yq {

struct GroundTruth {
  Box box;  // original-image pixels
  int class_id = 0;
};

struct DatasetImage {
  std::filesystem::path image;
  std::filesystem::path label;  // empty when the image has no label file
};

struct Dataset {
  std::filesystem::path root;
  std::vector<DatasetImage> images;                    // sorted by path
  std::vector<std::filesystem::path> orphan_labels;   // label files without an image
};

// True for the file extensions treated as images (.jpg .jpeg .png .bmp), any case.
bool has_image_extension(const std::filesystem::path& file);

// Finds every image under root (recursively). Throws yq::Error when root is
// not a readable folder or holds no image.
Dataset scan_dataset(const std::filesystem::path& root);

// Reads "class cx cy w h" rows normalised to the image size; returns boxes in
// pixels. Throws yq::Error naming file and line on a malformed row.
std::vector<GroundTruth> read_yolo_labels(const std::filesystem::path& label_file, int image_width,
                                          int image_height);

}  // namespace yq
