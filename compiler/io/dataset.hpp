// Labelled image folders in the Ultralytics YOLO layout:
//   <root>/images/<split>/<stem>.jpg  with  <root>/labels/<split>/<stem>.txt
// (any folder of images works; labels are found by replacing the last
// "images" path component with "labels" and the extension with ".txt").
// An image without a label file has no objects; a label file without an
// image is reported and skipped. Several folders make one dataset, in the
// order given; an image's id is its file stem (the COCO image id for COCO
// files), which must be unique across all of them.
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
  int folder = 0;               // index into Dataset::roots
  std::string id() const { return image.stem().string(); }
};

struct Dataset {
  std::vector<std::filesystem::path> roots;
  std::vector<DatasetImage> images;                    // folder by folder, each sorted by path
  std::vector<std::filesystem::path> orphan_labels;   // label files without an image
};

// True for the file extensions treated as images (.jpg .jpeg .png .bmp), any case.
bool has_image_extension(const std::filesystem::path& file);

// Finds every image under root (recursively). Throws yq::Error when root is
// not a readable folder, holds no image, or two images share a file stem.
Dataset scan_dataset(const std::filesystem::path& root);

// The images of several folders, in the order given. Throws yq::Error as
// scan_dataset does, and when a file stem (image id) occurs in two places.
Dataset scan_datasets(const std::vector<std::filesystem::path>& roots);

// "a, b and c": the folders of a dataset, for messages and reports.
std::string dataset_description(const std::vector<std::filesystem::path>& roots);

// Reads "class cx cy w h" rows normalised to the image size; returns boxes in
// pixels. Throws yq::Error naming file and line on a malformed row.
std::vector<GroundTruth> read_yolo_labels(const std::filesystem::path& label_file, int image_width,
                                          int image_height);

}  // namespace yq
