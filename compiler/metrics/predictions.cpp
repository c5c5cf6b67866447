#include "compiler/metrics/predictions.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

#include "compiler/util/error.hpp"

namespace yq {

std::string coco_predictions_text(const std::vector<ImageResult>& results) {
  std::string text = "[";
  bool first = true;
  for (const ImageResult& image : results) {
    for (const Detection& d : image.detections) {
      const double x = d.box.x1, y = d.box.y1;
      const nlohmann::json prediction = {{"image_id", image.image_id},
                                         {"category_id", d.class_id},
                                         {"bbox", {x, y, static_cast<double>(d.box.x2) - x, static_cast<double>(d.box.y2) - y}},
                                         {"score", static_cast<double>(d.score)}};
      text += first ? "\n" : ",\n";
      text += prediction.dump();
      first = false;
    }
  }
  text += "\n]\n";
  return text;
}

std::map<std::string, std::vector<Detection>> read_coco_predictions(const std::filesystem::path& file) {
  std::ifstream stream(file);
  if (!stream) throw Error("cannot read predictions " + file.string());
  std::map<std::string, std::vector<Detection>> detections;
  try {
    for (const nlohmann::json& p : nlohmann::json::parse(stream)) {
      const auto& bbox = p.at("bbox");
      const double x = bbox.at(0), y = bbox.at(1), w = bbox.at(2), h = bbox.at(3);
      Detection d;
      d.box = {static_cast<float>(x), static_cast<float>(y), static_cast<float>(x + w), static_cast<float>(y + h)};
      d.score = static_cast<float>(p.at("score").get<double>());
      d.class_id = p.at("category_id");
      detections[p.at("image_id").get<std::string>()].push_back(d);
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error("predictions " + file.string() + " are malformed: " + e.what());
  }
  return detections;
}

std::vector<ImageResult> results_of_folder(const std::vector<ImageResult>& results, int folder) {
  std::vector<ImageResult> selected;
  for (const ImageResult& r : results) {
    if (r.folder == folder) selected.push_back(r);
  }
  return selected;
}

}  // namespace yq
