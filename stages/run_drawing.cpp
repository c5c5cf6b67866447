#include "stages/run_drawing.hpp"

#include <nlohmann/json.hpp>

#include "compiler/detect/detection_list_file.hpp"
#include "compiler/io/draw.hpp"
#include "compiler/io/image.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"
#include "compiler/util/json_integer.hpp"
#include "stages/run_folder.hpp"

namespace yq {

namespace fs = std::filesystem;

namespace {

// The RTL's list when it is current, else stage_8's.
fs::path default_list(const fs::path& run, std::string& note) {
  const fs::path rtl = rtl_detection_list(run), golden = golden_detection_list(run);
  if (rtl_detection_list_is_current(run)) return rtl;
  if (fs::is_regular_file(rtl)) {
    note = rtl.string() + " is older than stage_8's golden dumps: drawing q_nms.txt (rerun make -C rtl_tb top for the RTL's list)";
  }
  if (fs::is_regular_file(golden)) return golden;
  throw Error(run.string() + " has no detection list: run it through stage_8 with the integer head (golden/q_nms.txt) or "
              "`make -C rtl_tb top RUN=" + run.string() + "` (rtl_bench/yq_top_detections.txt), or give --detections");
}

RgbImage image_to_draw_on(const DrawRequest& request, const nlohmann::json& config, std::string& description) {
  if (request.image) {
    const RgbImage image = decode_image(*request.image);
    description = request.image->string();
    return image;
  }
  std::optional<RgbImage> image = golden_source_image(config);
  if (!image) {
    throw Error("the run's golden image (" + config.at("golden_image").get<std::string>() +
                ", or the first image of --data) is not readable from here: give it with --image");
  }
  const std::string golden = config.at("golden_image");
  description = !golden.empty() ? golden : config.at("data").empty() ? "built-in test pattern 0" : "first image of --data";
  return *image;
}

}  // namespace

DrawnDetections draw_run_detections(const DrawRequest& request) {
  const fs::path config_file = stage_artifact(request.run, 0, "config.json");
  if (!fs::is_regular_file(config_file)) throw Error(request.run.string() + " is not a run folder (no stage_0/config.json)");
  const nlohmann::json config = read_json_file(config_file);
  DrawnDetections drawn;
  drawn.list = request.detections ? *request.detections : default_list(request.run, drawn.note);
  const std::vector<IntDetection> list = read_detection_list(drawn.list);
  RgbImage image = image_to_draw_on(request, config, drawn.image);
  drawn.image += " (" + std::to_string(image.width) + "x" + std::to_string(image.height) + ")";
  const LetterboxGeometry geometry = letterbox_geometry(image.width, image.height, input_size_at(config, "image_size"));
  for (const IntDetection& d : list) {
    drawn.detections.push_back(to_image_coordinates(to_float_detection(d), geometry, image.width, image.height));
  }
  drawn.class_names = run_class_names(request.run);
  draw_detections(image, drawn.detections, drawn.class_names);
  drawn.output = request.output.value_or(request.run / "draw" / drawn.list.filename().replace_extension(".png"));
  if (drawn.output.has_parent_path()) ensure_writable_folder(drawn.output.parent_path());
  write_png(drawn.output, image);
  return drawn;
}

}  // namespace yq
