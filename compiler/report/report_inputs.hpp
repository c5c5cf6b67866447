// What `report.html` shows about one run folder. stages/run_report.cpp fills
// it from the artifacts the stages wrote (through their own readers); every
// part is optional and present only when its artifact is in the folder.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/detect/detection.hpp"
#include "compiler/io/image.hpp"
#include "compiler/metrics/detection_metrics.hpp"
#include "compiler/quant/quant_settings.hpp"

namespace yq {

// Float (stage_3/metrics.json) and integer (stage_8/report.json) accuracy of
// one set of images: all --data folders as one set, or one folder.
struct AccuracyRow {
  std::string images;  // "all folders" or the folder's path
  std::optional<DetectionMetrics> float_metrics;
  std::optional<DetectionMetrics> integer_metrics;
};

// Integer minus float mAP50-95 paired over the images (stage_8's bootstrap).
struct PairedInterval {
  double delta_points = 0, low_points = 0, high_points = 0;
  double confidence = 0.95;
  int resamples = 0;
};

// stage_8/report.json "layers": one tensor's fidelity on the sample images.
struct LayerFidelity {
  std::string layer;
  int bits = 0;
  double sqnr_db = 0;
  double clip_rate = 0;
};

// stage_6/certificate.json: each convolution's worst-case accumulator width
// against the limit the hardware provides.
struct OverflowCertificate {
  struct Layer {
    std::string layer;
    int accumulator_bits = 0;
  };
  int limit_bits = 0;
  std::vector<Layer> layers;
};

// Detections of the golden image by one model, in canvas pixels.
struct DetectionPanel {
  std::string model;  // "float", "integer (q_NMS)", ...
  std::vector<Detection> detections;
};

struct GoldenImage {
  std::string source;  // the image's path (or how stage_8 chose it)
  RgbImage canvas;     // letterboxed to the run's image size; empty when the image is not readable
  std::vector<DetectionPanel> panels;
};

// One layer of an RTL bench log (rtl_tb layer_bench's "LAYER" lines).
struct RtlLayer {
  std::string layer;
  std::string op;
  std::int64_t cycles = 0;                       // 0 for views
  std::optional<double> mac_utilization_percent;  // convolutions only
  bool view = false;                              // no engine cycles
};

struct RtlBench {
  std::string log_file;
  std::vector<RtlLayer> layers;
  std::vector<std::string> totals;  // the log's "TOTAL ..." lines
};

struct RunReportInputs {
  std::string folder;
  nlohmann::json config;                  // stage_0/config.json
  QuantSettings settings;                 // config.json's "quant"
  std::vector<std::string> class_names;
  std::vector<AccuracyRow> accuracy;      // first the union, then each folder
  std::string integer_nms;                // "int" (q_NMS) or "float"
  std::optional<PairedInterval> paired;
  std::optional<std::int64_t> weight_bytes;  // packed weights at the run's widths (yq-hw inspect)
  std::vector<LayerFidelity> fidelity;
  std::optional<OverflowCertificate> certificate;
  std::optional<GoldenImage> golden;
  std::vector<RtlBench> rtl;
};

}  // namespace yq
