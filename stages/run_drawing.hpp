// `yq-hw draw RUN`: a detection list of the run's golden image drawn on the
// original image. The list is yq_top's own (rtl_bench/yq_top_detections.txt,
// written by `make -C rtl_tb top`) when the RTL has run since stage_8 wrote
// its golden dumps, else stage_8's q_NMS result (golden/q_nms.txt), or any
// list in that format given with
// --detections. Its boxes, in letterboxed-canvas pixels, go back through the
// letterbox of the run's image size to original-image pixels
// (to_image_coordinates) and are drawn coloured by class, labelled
// "<name> <score>".
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "compiler/detect/detection.hpp"

namespace yq {

struct DrawRequest {
  std::filesystem::path run;
  std::optional<std::filesystem::path> detections;  // default: the RTL's list, else q_nms.txt
  std::optional<std::filesystem::path> image;       // default: the run's golden image
  std::optional<std::filesystem::path> output;      // default: <run>/draw/<list name>.png
};

struct DrawnDetections {
  std::filesystem::path list;    // the detection list drawn
  std::string image;             // the image drawn on, and its size
  std::filesystem::path output;  // the PNG written
  std::vector<Detection> detections;  // in original-image pixels
  std::vector<std::string> class_names;
  std::string note;  // why the default list is not the RTL's, if it is not
};

// Throws yq::Error (and writes nothing) when the run, the list or the image
// cannot be read or the PNG cannot be written.
DrawnDetections draw_run_detections(const DrawRequest& request);

}  // namespace yq
