// stage_8: integer validation and golden dumps.
//  1. Accuracy: the integer model (compiler/ref/int_detector.hpp) over
//     --data: mAP50-95, mAP50, P, R with q_NMS and with the float NMS on the
//     same integer outputs, beside stage_3's float figures, on the union of
//     the folders and per folder; --nms picks the headline (default int, the
//     hardware path), whose detections go to predictions.json. The
//     difference to float gets a 95% paired bootstrap interval over the
//     images (stage_3's predictions.json pairs them).
//     With --attribution, the same images through the float simulation with
//     one quantization component on, and with all but one
//     (compiler/quant/attribution.hpp), in report.json's "attribution".
//  2. Per-layer fidelity on the first images of --data (or test patterns):
//     SQNR of every tensor (float activations vs dequantized integer codes)
//     and its clip rate (float values beyond the code range).
//  3. Golden dumps of --golden-image (default: the first image of --data):
//     the input codes, every tensor (and SiLU pre-activation) of the integer
//     model, the q_NMS result in integers (q_nms.txt) and the float NMS of
//     the same candidates, in golden/.
// Everything goes into report.json; tables are printed.
#include <ATen/ATen.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>

#include "compiler/detect/detection_list_file.hpp"
#include "compiler/emit/band_executor.hpp"
#include "compiler/emit/golden_dump.hpp"
#include "compiler/emit/hw_emitter.hpp"
#include "compiler/emit/layer_program.hpp"
#include "compiler/float/float_model.hpp"
#include "compiler/io/dataset.hpp"
#include "compiler/io/test_pattern.hpp"
#include "compiler/metrics/bootstrap.hpp"
#include "compiler/metrics/dataset_evaluation.hpp"
#include "compiler/metrics/metrics_report.hpp"
#include "compiler/metrics/predictions.hpp"
#include "compiler/ref/arithmetic.hpp"
#include "compiler/quant/attribution.hpp"
#include "compiler/ref/int_detector.hpp"
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
  if (!config.data.empty()) {
    const Dataset dataset = scan_datasets(config.data);
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
                               InputSize image_size, int threads) {
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

bool same_detections(const std::vector<Detection>& a, const std::vector<Detection>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].class_id != b[i].class_id || a[i].score != b[i].score || a[i].box.x1 != b[i].box.x1 ||
        a[i].box.y1 != b[i].box.y1 || a[i].box.x2 != b[i].box.x2 || a[i].box.y2 != b[i].box.y2) {
      return false;
    }
  }
  return true;
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

// stage_7's band program run on the golden image by its reference executor:
// every layer's output in DRAM and the detect head's inputs bit-exact, the
// halves and barriers an issuer relies on honest (compiler/emit/band_executor.hpp).
nlohmann::json verify_band_program(const RunConfig& config, const QuantModel& quant, const IntegerModel& model,
                                   const std::vector<CodeTensor>& outputs) {
  EmitOptions options;
  options.image_size = config.image_size;
  options.weight_buffer_bytes = config.weight_buffer_bytes;
  options.band_buffer_bytes = config.band_buffer_bytes;
  const BandProgram program = emitted_band_program(quant, options);
  const BandTraffic traffic =
      execute_band_program(model, plan_memories(quant, config.image_size), program, outputs);
  std::printf("         band program: %zu instructions, %lld runs, bit-exact on the golden image; feature maps "
              "%.2f MB read, %.2f MB written\n",
              program.instructions.size(), static_cast<long long>(traffic.runs),
              traffic.loaded_bytes / 1e6, traffic.stored_bytes / 1e6);
  return {{"instructions", program.instructions.size()},
          {"runs", traffic.runs},
          {"head_bands", traffic.head_bands},
          {"bit_exact", true},
          {"feature_map_bytes_read", traffic.loaded_bytes},
          {"feature_map_bytes_written", traffic.stored_bytes}};
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
    source = !config.data.empty() ? "first image of --data" : "built-in test pattern 0";
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
  const NmsPair detections = detector.suppress(outputs);
  const nlohmann::json manifest = write_golden_dump(
      folder, entries,
      {{"image", source}, {"image_size", input_size_json(config.image_size)}, {"arithmetic_version", arith::kArithmeticVersion}});
  write_file_atomic(folder / "detections_float_nms.txt", detections_text(detections.float_nms, quant.info.class_names));
  nlohmann::json summary = {{"image", source}, {"files", manifest["files"].size()},
                            {"detections_float_nms", detections.float_nms.size()},
                            {"band_program", verify_band_program(config, quant, detector.integer_model(), outputs)}};
  if (quant.settings.head == HeadMode::Int) {
    write_file_atomic(folder / "q_nms.txt", detection_list_text(detector.int_nms(outputs), quant.info.class_names));
    summary["detections_q_nms"] = detections.int_nms.size();
    summary["q_nms_equals_float_nms"] = same_detections(detections.int_nms, detections.float_nms);
  }
  return summary;
}

// stage_3's float detections of the same images (from its predictions.json),
// or nothing when stage_3 did not measure exactly these images.
std::optional<std::vector<ImageResult>> float_results_like(const StageContext& context,
                                                           const std::vector<ImageResult>& integer_results) {
  const fs::path file = context.stage_dir(3) / "predictions.json";
  if (!fs::exists(file)) return std::nullopt;
  const nlohmann::json metrics = read_json_file(context.stage_dir(3) / "metrics.json");
  if (metrics.value("images", nlohmann::json()) != integer_results.size()) return std::nullopt;
  auto detections = read_coco_predictions(file);
  std::vector<ImageResult> results = integer_results;
  for (ImageResult& r : results) {
    const auto found = detections.find(r.image_id);
    r.detections = found != detections.end() ? std::move(found->second) : std::vector<Detection>{};
  }
  return results;
}

// Integer minus float mAP50-95, paired over the images, with its 95% bootstrap interval.
nlohmann::json paired_difference_json(const std::vector<ImageResult>& float_results,
                                      const std::vector<ImageResult>& integer_results, int classes, int resamples) {
  const PairedDifference d = paired_bootstrap_map50_95(float_results, integer_results, classes, resamples);
  std::printf("  integer - float mAP50-95: %+.2f points, 95%% paired bootstrap interval [%+.2f, %+.2f] (%d resamples)\n",
              100 * d.map50_95, 100 * d.low, 100 * d.high, d.resamples);
  return {{"delta_map50_95_points", 100 * d.map50_95},
          {"low_points", 100 * d.low},
          {"high_points", 100 * d.high},
          {"confidence", 0.95},
          {"resamples", d.resamples},
          {"seed", d.seed}};
}

// Integer mAP on --data with the float NMS and with q_NMS on the same
// integer outputs, beside stage_3's float figures; per folder too.
void validate_on_data(const StageContext& context, const QuantModel& quant, nlohmann::json& report) {
  const RunConfig& config = context.config;
  const DetectOptions options{config.image_size, {config.val_score_threshold, config.val_iou_threshold, config.max_detections}};
  const IntegerDetector detector(quant, options, config.threads);
  const Dataset dataset = scan_datasets(config.data);
  std::vector<std::vector<Detection>> q_nms_detections;
  const auto float_nms_results = run_on_dataset(
      dataset, config.max_images, config.batch,
      [&](const std::vector<RgbImage>& images) {
        std::vector<std::vector<Detection>> float_nms;
        for (NmsPair& pair : detector.detect_batch(images)) {
          q_nms_detections.push_back(std::move(pair.int_nms));
          float_nms.push_back(std::move(pair.float_nms));
        }
        return float_nms;
      },
      "         integer");
  std::vector<ImageResult> q_nms_results = float_nms_results;
  for (size_t i = 0; i < q_nms_results.size(); ++i) q_nms_results[i].detections = q_nms_detections[i];

  const int classes = quant.info.arch.num_classes;
  const DetectionMetrics with_float_nms = evaluate_detections(float_nms_results, classes);
  const bool has_q_nms = quant.settings.head == HeadMode::Int;
  const DetectionMetrics with_q_nms = has_q_nms ? evaluate_detections(q_nms_results, classes) : DetectionMetrics{};
  const bool primary_is_q_nms = has_q_nms && config.nms == NmsMode::Int;
  const DetectionMetrics& primary = primary_is_q_nms ? with_q_nms : with_float_nms;
  report["nms"] = primary_is_q_nms ? "int" : "float";
  report["integer"] = metrics_to_json(primary, quant.info.class_names);
  report["integer_float_nms"] = metrics_to_json(with_float_nms, quant.info.class_names);
  if (has_q_nms) report["integer_q_nms"] = metrics_to_json(with_q_nms, quant.info.class_names);

  std::vector<std::pair<std::string, DetectionMetrics>> rows;
  const fs::path float_file = context.stage_dir(3) / "metrics.json";
  if (fs::exists(float_file)) {
    report["float"] = read_json_file(float_file);
    const DetectionMetrics float_row = metrics_from_json(report["float"], quant.info.class_names);
    rows.push_back({"float", float_row});
    report["retained_map50_95_percent"] = 100.0 * primary.map50_95 / float_row.map50_95;
    report["delta_map50_95_points"] = 100.0 * (primary.map50_95 - float_row.map50_95);
  }
  const std::string label = "W" + std::to_string(quant.settings.weight_bits) + "A" + std::to_string(quant.settings.activation_bits);
  rows.push_back({label + " nms", with_float_nms});
  if (has_q_nms) rows.push_back({label + " q_nms", with_q_nms});
  const std::vector<ImageResult>& primary_results = primary_is_q_nms ? q_nms_results : float_nms_results;
  report["integer_folders"] = nlohmann::json::array();
  for (size_t folder = 0; folder < dataset.roots.size(); ++folder) {
    const DetectionMetrics part = evaluate_detections(results_of_folder(primary_results, static_cast<int>(folder)), classes);
    nlohmann::json entry = metrics_to_json(part, quant.info.class_names);
    entry.erase("ap50_95_per_class");
    entry["data"] = dataset.roots[folder].string();
    report["integer_folders"].push_back(entry);
    if (dataset.roots.size() > 1) rows.push_back({" " + dataset.roots[folder].filename().string(), part});
  }
  std::printf("%s", metrics_table(rows).c_str());
  if (report.contains("retained_map50_95_percent")) {
    std::printf("  integer (%s NMS) keeps %.1f%% of the float mAP50-95 (%+.2f points)\n",
                report["nms"].get<std::string>().c_str(), report["retained_map50_95_percent"].get<double>(),
                report["delta_map50_95_points"].get<double>());
  }
  if (const auto float_results = float_results_like(context, primary_results)) {
    report["paired_difference"] = paired_difference_json(*float_results, primary_results, classes, config.bootstrap_resamples);
  }
  write_file_atomic(context.output_dir / "predictions.json", coco_predictions_text(primary_results));
}

// --attribution: mAP of the float simulation with one component quantized,
// and with all but one (compiler/quant/attribution.hpp), beside the integer reference.
nlohmann::json attribution_report(const StageContext& context, const Model& fused, const QuantModel& quant,
                                  const nlohmann::json& report) {
  const RunConfig& config = context.config;
  const DetectOptions options{config.image_size, {config.val_score_threshold, config.val_iou_threshold, config.max_detections}};
  const std::vector<AttributionRow> rows =
      run_attribution(fused, quant, scan_datasets(config.data), config.max_images, options);
  const AttributionRow& float_row = rows.front();
  const AttributionRow* all_row = nullptr;
  for (const AttributionRow& row : rows) {
    if (row.mask == kAllComponents) all_row = &row;
  }
  const int classes = quant.info.arch.num_classes;
  nlohmann::json json = {{"integer_reference_map50_95", report["integer"]["map50_95"]},
                         {"rows", nlohmann::json::array()}};
  std::printf("  attribution (float simulation; paired 95%% bootstrap intervals, %d resamples)\n", config.bootstrap_resamples);
  std::printf("  %-30s %9s %8s %28s\n", "quantized", "mAP50-95", "mAP50", "change vs reference (points)");
  for (const AttributionRow& row : rows) {
    const bool all_but = row.label.starts_with("all but");
    const AttributionRow& reference = all_but ? *all_row : float_row;
    nlohmann::json entry = {{"quantized", row.label}, {"map50_95", row.metrics.map50_95}, {"map50", row.metrics.map50},
                            {"reference", reference.label}};
    std::string change;
    if (&reference != &row) {
      const PairedDifference d = paired_bootstrap_map50_95(reference.results, row.results, classes, config.bootstrap_resamples);
      entry["change_points"] = 100 * d.map50_95;
      entry["low_points"] = 100 * d.low;
      entry["high_points"] = 100 * d.high;
      char text[96];
      std::snprintf(text, sizeof text, "%+6.2f [%+.2f, %+.2f] vs %s", 100 * d.map50_95, 100 * d.low, 100 * d.high,
                    reference.label.c_str());
      change = text;
    }
    std::printf("  %-30s %9.4f %8.4f   %s\n", row.label.c_str(), row.metrics.map50_95, row.metrics.map50, change.c_str());
    json["rows"].push_back(entry);
  }
  std::printf("  integer reference (bit-exact path): mAP50-95 %.4f; simulation with everything quantized: %.4f\n",
              report["integer"]["map50_95"].get<double>(), all_row->metrics.map50_95);
  return json;
}

}  // namespace

nlohmann::json run_stage_8_integer_validation(StageContext& context) {
  const RunConfig& config = context.config;
  const QuantModel quant = load_quant_model(context.stage_dir(6));
  const Model fused = load_model(context.stage_dir(2));
  nlohmann::json report = {{"settings", quant_settings_to_json(quant.settings)}};

  if (!config.data.empty()) validate_on_data(context, quant, report);
  if (config.attribution && !config.data.empty()) report["attribution"] = attribution_report(context, fused, quant, report);
  report["layers"] = fidelity_report(fused, quant, sample_images(config, kFidelityImages), config.image_size, config.threads);
  print_fidelity(report["layers"]);
  DetectOptions golden_options{config.image_size, {config.score_threshold, config.val_iou_threshold, config.max_detections}};
  report["golden"] = write_golden(context, quant, golden_options);
  write_json_file(context.output_dir / "report.json", report);

  nlohmann::json summary = {{"golden", report["golden"]}};
  if (report.contains("integer")) {
    summary["nms"] = report["nms"];
    summary["map50_95"] = report["integer"]["map50_95"];
    summary["map50"] = report["integer"]["map50"];
  }
  if (report.contains("delta_map50_95_points")) summary["delta_map50_95_points"] = report["delta_map50_95_points"];
  return summary;
}

}  // namespace yq
