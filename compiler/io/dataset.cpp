// Dataset scanning: every image under the root (recursive, sorted by path);
// each image's label path swaps the last "images" folder of its path (if
// any; otherwise the label sits beside the image) for "labels", as
// Ultralytics' img2label_paths does, and the extension for ".txt". Orphan
// labels are the .txt files in those label folders that no image claims.
// Label rows "class cx cy w h" (normalised) become pixel boxes. Several
// folders are scanned one after the other; a repeated file stem is an error
// because it is the image's id in predictions.json.
#include "compiler/io/dataset.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "compiler/util/error.hpp"

namespace yq {
namespace {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::filesystem::path label_path_for(const std::filesystem::path& image) {
  const std::filesystem::path image_folder = image.parent_path();
  std::vector<std::filesystem::path> folders(image_folder.begin(), image_folder.end());
  const auto last_images = std::find(folders.rbegin(), folders.rend(), "images");
  if (last_images != folders.rend()) *last_images = "labels";
  std::filesystem::path label;
  for (const auto& folder : folders) label /= folder;
  return label / image.filename().replace_extension(".txt");
}

void check_is_folder(const std::filesystem::path& root) {
  std::error_code error;
  const auto status = std::filesystem::status(root, error);
  if (!std::filesystem::exists(status)) throw Error("data folder " + root.string() + " does not exist");
  if (!std::filesystem::is_directory(status)) throw Error("data folder " + root.string() + " is not a folder");
}

std::vector<std::filesystem::path> find_images(const std::filesystem::path& root) {
  std::vector<std::filesystem::path> images;
  try {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
      if (entry.is_regular_file() && has_image_extension(entry.path())) images.push_back(entry.path());
    }
  } catch (const std::filesystem::filesystem_error& error) {
    throw Error("cannot read data folder " + root.string() + ": " + error.code().message());
  }
  std::sort(images.begin(), images.end());
  return images;
}

// .txt files in the given label folders that are not in claimed_labels, sorted.
std::vector<std::filesystem::path> find_orphan_labels(const std::set<std::filesystem::path>& label_folders,
                                                      const std::set<std::filesystem::path>& claimed_labels) {
  std::vector<std::filesystem::path> orphans;
  for (const auto& folder : label_folders) {
    std::error_code error;
    for (std::filesystem::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
      const auto& file = it->path();
      if (it->is_regular_file() && lowercase(file.extension().string()) == ".txt" && !claimed_labels.count(file)) {
        orphans.push_back(file);
      }
    }
  }
  std::sort(orphans.begin(), orphans.end());
  return orphans;
}

// Parses "class cx cy w h"; false on any other shape of row.
bool parse_label_row(const std::string& row, int& class_id, double (&values)[4]) {
  std::istringstream fields(row);
  std::string token;
  if (!(fields >> token)) return false;
  const auto [class_end, class_error] = std::from_chars(token.data(), token.data() + token.size(), class_id);
  if (class_error != std::errc() || class_end != token.data() + token.size() || class_id < 0) return false;
  for (double& value : values) {
    if (!(fields >> token)) return false;
    const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (error != std::errc() || end != token.data() + token.size() || !std::isfinite(value)) return false;
  }
  return !(fields >> token);
}

bool is_blank(const std::string& line) {
  return std::all_of(line.begin(), line.end(), [](unsigned char c) { return std::isspace(c); });
}

}  // namespace

bool has_image_extension(const std::filesystem::path& file) {
  const std::string extension = lowercase(file.extension().string());
  return extension == ".jpg" || extension == ".jpeg" || extension == ".png" || extension == ".bmp";
}

Dataset scan_dataset(const std::filesystem::path& root) { return scan_datasets({root}); }

Dataset scan_datasets(const std::vector<std::filesystem::path>& roots) {
  if (roots.empty()) throw Error("no data folder given");
  Dataset dataset;
  dataset.roots = roots;
  std::map<std::string, std::filesystem::path> image_of_id;
  for (size_t folder = 0; folder < roots.size(); ++folder) {
    const std::filesystem::path& root = roots[folder];
    check_is_folder(root);
    std::set<std::filesystem::path> label_folders, claimed_labels;
    const std::vector<std::filesystem::path> images = find_images(root);
    if (images.empty()) throw Error("data folder " + root.string() + " contains no images (.jpg .jpeg .png .bmp)");
    for (const auto& image : images) {
      const auto [previous, inserted] = image_of_id.emplace(image.stem().string(), image);
      if (!inserted) {
        throw Error("image id " + image.stem().string() + " (the file stem) is not unique: " +
                    previous->second.string() + " and " + image.string());
      }
      auto label = label_path_for(image);
      label_folders.insert(label.parent_path());
      claimed_labels.insert(label);
      std::error_code error;
      if (!std::filesystem::is_regular_file(label, error)) label.clear();
      dataset.images.push_back({image, std::move(label), static_cast<int>(folder)});
    }
    for (auto& orphan : find_orphan_labels(label_folders, claimed_labels)) dataset.orphan_labels.push_back(std::move(orphan));
  }
  return dataset;
}

std::string dataset_description(const std::vector<std::filesystem::path>& roots) {
  std::string text;
  for (size_t i = 0; i < roots.size(); ++i) {
    if (i > 0) text += i + 1 == roots.size() ? " and " : ", ";
    text += roots[i].string();
  }
  return text;
}

std::vector<GroundTruth> read_yolo_labels(const std::filesystem::path& label_file, int image_width,
                                          int image_height) {
  std::ifstream stream(label_file);
  if (!stream) throw Error("cannot read label file " + label_file.string());
  std::vector<GroundTruth> truths;
  std::string row;
  for (int line = 1; std::getline(stream, row); ++line) {
    if (is_blank(row)) continue;
    int class_id = 0;
    double cx_cy_w_h[4];
    if (!parse_label_row(row, class_id, cx_cy_w_h)) {
      throw Error(label_file.string() + ":" + std::to_string(line) + ": expected 'class cx cy w h'");
    }
    const auto [cx, cy, w, h] = cx_cy_w_h;
    GroundTruth truth;
    truth.class_id = class_id;
    truth.box = {static_cast<float>((cx - w / 2) * image_width), static_cast<float>((cy - h / 2) * image_height),
                 static_cast<float>((cx + w / 2) * image_width), static_cast<float>((cy + h / 2) * image_height)};
    truths.push_back(truth);
  }
  if (stream.bad()) throw Error("cannot read label file " + label_file.string());
  return truths;
}

}  // namespace yq
