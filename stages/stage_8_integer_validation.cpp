// stage_8: integer validation and golden dumps.
//  1. Accuracy: the integer model (compiler/quant/int_detector.hpp) over
//     --data: mAP50-95, mAP50, P, R beside stage_3's float figures and the
//     percentage retained.
//  2. Per-layer fidelity on the first images of --data (or test patterns):
//     SQNR of every tensor (float activations vs dequantized integer codes)
//     and its clip rate (float values beyond the code range).
//  3. Golden dumps of --golden-image (default: the first image of --data):
//     the input codes, every tensor (and SiLU pre-activation) of the integer
//     model, and the decoded head candidates and detections, in golden/.
// Everything goes into report.json; tables are printed.
#include <ATen/ATen.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "compiler/emit/golden_dump.hpp"
#include "compiler/float/float_model.hpp"
#include "compiler/io/dataset.hpp"
#include "compiler/io/test_pattern.hpp"
#include "compiler/metrics/dataset_evaluation.hpp"
#include "compiler/metrics/metrics_report.hpp"
#include "compiler/quant/arithmetic.hpp"
#include "compiler/quant/int_detector.hpp"
#include "compiler/quant/quant_model_io.hpp"
#include "compiler/util/files.hpp"
#include "stages/stage.hpp"

namespace yq {

namespace fs = std::filesystem;

namespace {

constexpr int kFidelityImages = 4;

struct LayerFidelity {
  double signal = 0, noise = 0;
  std::int64_t clipped = 0, total = 0;
};

std::vector<RgbImage> sample_images(const RunConfig& config, int count) {
  std::vector<RgbImage> images;
  if (config.data) {
    const Dataset dataset = scan_dataset(*config.data);
    for (size_t i = 0; i < dataset.images.size() && static_cast<int>(images.size()) < count; ++i) {
      images.push_back(decode_image(dataset.images[i].image));
    }
  } else {
    for (int variant = 0; variant < count; ++variant) images.push_back(test_pattern_image(640, 480, variant));
  }
  return images;
}

void measure(LayerFidelity& f, const at::Tensor& reference, const CodeTensor& codes, const CodeFormat& format) {
  const at::Tensor r = reference.contiguous();
  const float* values = r.data_ptr<float>();
  const double lo = (arith::min_code(format.bits) - format.zero) * format.scale;
  const double hi = (arith::max_code(format.bits) - format.zero) * format.scale;
  for (size_t i = 0; i < codes.codes.size(); ++i) {
    const double v = values[i];
    const double q = (codes.codes[i] - format.zero) * format.scale;
    f.signal += v * v;
    f.noise += (v - q) * (v - q);
    f.clipped += (v < lo || v > hi) ? 1 : 0;
  }
  f.total += static_cast<std::int64_t>(codes.codes.size());
}

nlohmann::json fidelity_report(const Model& fused, const QuantModel& quant, const std::vector<RgbImage>& images,
                               int image_size, int threads) {
  const FloatModel float_model(fused);
  const IntegerModel integer_model(quant, threads);
  std::vector<LayerFidelity> layers(quant.graph.nodes.size());
  for (const RgbImage& image : images) {
    const RgbImage canvas = letterbox(image, image_size).canvas;
    const auto reference = float_model.run_all(image_to_input(canvas));
    const auto codes = integer_model.run_all(canvas);
    for (size_t i = 1; i < layers.size(); ++i) measure(layers[i], reference[i], codes[i], quant.nodes[i].out);
  }
  nlohmann::json report = nlohmann::json::array();
  for (size_t i = 1; i < layers.size(); ++i) {
    const LayerFidelity& f = layers[i];
    const double sqnr = f.noise > 0 ? 10 * std::log10(f.signal / f.noise) : 200.0;
    report.push_back({{"layer", quant.graph.nodes[i].name},
                      {"bits", quant.nodes[i].out.bits},
                      {"sqnr_db", sqnr},
                      {"clip_rate", static_cast<double>(f.clipped) / f.total}});
  }
  return report;
}

void print_fidelity(const nlohmann::json& report) {
  std::printf("  %-22s %5s %9s %10s\n", "layer (conv outputs)", "bits", "SQNR dB", "clip rate");
  for (const auto& layer : report) {
    const std::string name = layer["layer"];
    if (name.find(".cat") != std::string::npos || name.find("split") != std::string::npos || name.find("pool") != std::string::npos ||
        name.starts_with("up") || name.starts_with("cat")) {
      continue;
    }
    std::printf("  %-22s %5d %9.2f %10.2e\n", name.c_str(), layer["bits"].get<int>(), layer["sqnr_db"].get<double>(),
                layer["clip_rate"].get<double>());
  }
}

std::string detections_text(const std::vector<Detection>& detections, const std::vector<std::string>& names) {
  std::string text = "# class_id score x1 y1 x2 y2 class_name (canvas pixels; integer head: score in 2^-16, box in 1/16 px)\n";
  char line[256];
  for (const Detection& d : detections) {
    std::snprintf(line, sizeof line, "%d %.6f %.4f %.4f %.4f %.4f %s\n", d.class_id, d.score, d.box.x1, d.box.y1, d.box.x2,
                  d.box.y2, names[d.class_id].c_str());
    text += line;
  }
  return text;
}

nlohmann::json write_golden(const StageContext& context, const QuantModel& quant, const DetectOptions& options) {
  const RunConfig& config = context.config;
  RgbImage image;
  std::string source;
  if (config.golden_image) {
    image = decode_image(*config.golden_image);
    source = config.golden_image->string();
  } else {
    image = sample_images(config, 1).front();
    source = config.data ? "first image of --data" : "built-in test pattern 0";
  }
  const RgbImage canvas = letterbox(image, config.image_size).canvas;
  const IntegerDetector detector(quant, options, config.threads);
  std::vector<CodeTensor> pre;
  const std::vector<CodeTensor> outputs = detector.integer_model().run_all(canvas, &pre);
  std::vector<GoldenEntry> entries;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const std::string& name = quant.graph.nodes[i].name;
    if (!pre[i].codes.empty()) entries.push_back({name + ".pre.hex", name + ".pre", &pre[i], quant.nodes[i].conv.pre});
    entries.push_back({name + ".hex", name, &outputs[i], quant.nodes[i].out});
  }
  const fs::path folder = context.output_dir / "golden";
  const auto detections = non_max_suppression(detector.head_candidates(outputs), options.nms);
  const nlohmann::json manifest = write_golden_dump(
      folder, entries,
      {{"image", source}, {"image_size", config.image_size}, {"arithmetic_version", arith::kArithmeticVersion}});
  write_file_atomic(folder / "detections.txt", detections_text(detections, quant.info.class_names));
  return {{"image", source}, {"files", manifest["files"].size()}, {"detections", detections.size()}};
}

}  // namespace

nlohmann::json run_stage_8_integer_validation(StageContext& context) {
  const RunConfig& config = context.config;
  const QuantModel quant = load_quant_model(context.stage_dir(6));
  const Model fused = load_model(context.stage_dir(2));
  nlohmann::json report = {{"settings", {{"weight_bits", quant.settings.weight_bits},
                                         {"activation_bits", quant.settings.activation_bits},
                                         {"calibration", quant.settings.calibration},
                                         {"head", quant.settings.head}}}};

  if (config.data) {
    DetectOptions options{config.image_size, {config.val_score_threshold, config.val_iou_threshold, config.max_detections}};
    const IntegerDetector detector(quant, options, config.threads);
    const Dataset dataset = scan_dataset(*config.data);
    const auto results = run_on_dataset(
        dataset, config.max_images, [&](const RgbImage& image) { return detector.detect(image); }, "         integer");
    const DetectionMetrics metrics = evaluate_detections(results, quant.info.arch.num_classes);
    report["integer"] = metrics_to_json(metrics, quant.info.class_names);
    std::vector<std::pair<std::string, DetectionMetrics>> rows;
    const fs::path float_metrics = context.stage_dir(3) / "metrics.json";
    if (fs::exists(float_metrics)) {
      const nlohmann::json f = read_json_file(float_metrics);
      DetectionMetrics float_row;
      float_row.images = f["images"];
      float_row.instances = f["instances"];
      float_row.precision = f["precision"];
      float_row.recall = f["recall"];
      float_row.map50 = f["map50"];
      float_row.map50_95 = f["map50_95"];
      rows.push_back({"float", float_row});
      report["float"] = f;
      report["retained_map50_95_percent"] = 100.0 * metrics.map50_95 / float_row.map50_95;
      report["delta_map50_95_points"] = 100.0 * (metrics.map50_95 - float_row.map50_95);
    }
    char label[32];
    std::snprintf(label, sizeof label, "W%dA%d", quant.settings.weight_bits, quant.settings.activation_bits);
    rows.push_back({label, metrics});
    std::printf("%s", metrics_table(rows).c_str());
    if (report.contains("retained_map50_95_percent")) {
      std::printf("  integer keeps %.1f%% of the float mAP50-95 (%+.2f points)\n",
                  report["retained_map50_95_percent"].get<double>(), report["delta_map50_95_points"].get<double>());
    }
  }
  report["layers"] = fidelity_report(fused, quant, sample_images(config, kFidelityImages), config.image_size, config.threads);
  print_fidelity(report["layers"]);
  DetectOptions golden_options{config.image_size, {0.25f, config.val_iou_threshold, config.max_detections}};
  report["golden"] = write_golden(context, quant, golden_options);
  write_json_file(context.output_dir / "report.json", report);

  nlohmann::json summary = {{"golden", report["golden"]}};
  if (report.contains("integer")) {
    summary["map50_95"] = report["integer"]["map50_95"];
    summary["map50"] = report["integer"]["map50"];
  }
  if (report.contains("delta_map50_95_points")) summary["delta_map50_95_points"] = report["delta_map50_95_points"];
  return summary;
}

}  // namespace yq
