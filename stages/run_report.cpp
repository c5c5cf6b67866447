// Reading a run folder for report.html. A folder is a run when it holds
// stage_0/config.json; every other part is read only when its artifact is
// there: stage_3/metrics.json and stage_8/report.json (metrics_from_json),
// stage_6/certificate.json, the model size at the run's widths (the
// `yq-hw inspect` report), stage_8/golden's detections (q_nms.txt in integer
// units, detections_float_nms.txt in canvas pixels) beside the float model's
// own detections of the same canvas (stage_2's weights, the golden score
// threshold) and yq_top's own list (rtl_bench/yq_top_detections.txt, written
// by `make -C rtl_tb top`, when current), and the RTL bench logs scripts/bench_rtl.sh
// copies into rtl_bench/ (rtl_tb layer_bench's "LAYER" and "TOTAL" lines).
#include "stages/run_report.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include "compiler/float/float_detector.hpp"
#include "compiler/detect/detection_list_file.hpp"
#include "compiler/ir/model.hpp"
#include "compiler/metrics/metrics_report.hpp"
#include "compiler/report/html_report.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"
#include "stages/run_folder.hpp"
#include "stages/run_inspection.hpp"
#include "stages/stage.hpp"

namespace yq {
namespace {

namespace fs = std::filesystem;

constexpr float kGoldenScoreThreshold = 0.25f;  // stage_8's golden detections

// The union row, then one row per folder (matched by path) when there are several.
std::vector<AccuracyRow> accuracy_rows(const std::optional<nlohmann::json>& float_json,
                                       const std::optional<nlohmann::json>& integer_report,
                                       const std::vector<std::string>& names) {
  std::vector<AccuracyRow> rows;
  AccuracyRow all{"all folders", {}, {}};
  if (float_json) all.float_metrics = metrics_from_json(*float_json, names);
  if (integer_report && integer_report->contains("integer")) all.integer_metrics = metrics_from_json(integer_report->at("integer"), names);
  if (!all.float_metrics && !all.integer_metrics) return rows;
  rows.push_back(all);
  std::vector<AccuracyRow> folders;
  auto add = [&](const nlohmann::json& entry, bool integer) {
    const std::string data = entry.at("data");
    auto found = std::find_if(folders.begin(), folders.end(), [&](const AccuracyRow& r) { return r.images == data; });
    if (found == folders.end()) found = folders.insert(folders.end(), AccuracyRow{data, {}, {}});
    (integer ? found->integer_metrics : found->float_metrics) = metrics_from_json(entry, names);
  };
  if (float_json) {
    for (const nlohmann::json& entry : float_json->value("folders", nlohmann::json::array())) add(entry, false);
  }
  if (integer_report) {
    for (const nlohmann::json& entry : integer_report->value("integer_folders", nlohmann::json::array())) add(entry, true);
  }
  if (folders.size() > 1) rows.insert(rows.end(), folders.begin(), folders.end());
  return rows;
}

OverflowCertificate certificate_of(const nlohmann::json& json) {
  OverflowCertificate certificate;
  certificate.limit_bits = json.at("limit_bits");
  for (const nlohmann::json& layer : json.at("layers")) certificate.layers.push_back({layer.at("layer"), layer.at("accumulator_bits")});
  return certificate;
}

std::optional<std::int64_t> weight_bytes_at_run_widths(const fs::path& run) {
  const nlohmann::json inspection = inspect_path(run, InputSize{});  // a run folder uses its own image size
  for (const nlohmann::json& size : inspection.at("model_size")) {
    if (size.at("format") == "run") return size.at("weight_bytes").get<std::int64_t>();
  }
  return std::nullopt;
}

std::vector<std::string> data_lines(const fs::path& file) {
  std::istringstream text(read_file_bytes(file));
  std::vector<std::string> lines;
  for (std::string line; std::getline(text, line);) {
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  }
  return lines;
}

// detections_float_nms.txt: class_id score x1 y1 x2 y2 name (canvas pixels).
std::vector<Detection> read_float_nms(const fs::path& file) {
  std::vector<Detection> detections;
  for (const std::string& line : data_lines(file)) {
    Detection d;
    if (std::sscanf(line.c_str(), "%d %f %f %f %f %f", &d.class_id, &d.score, &d.box.x1, &d.box.y1, &d.box.x2, &d.box.y2) != 6) {
      throw Error(file.string() + ": not a detection line: " + line);
    }
    detections.push_back(d);
  }
  return detections;
}

GoldenImage golden_image_of(const fs::path& run, const nlohmann::json& config, const nlohmann::json& report) {
  const fs::path golden = stage_artifact(run, 8, "golden");
  GoldenImage image;
  image.source = report.at("golden").at("image");
  const std::optional<RgbImage> source = golden_source_image(config);
  if (!source) return image;  // no canvas: the report says the image is not readable
  const InputSize image_size = input_size_at(config, "image_size");
  image.canvas = letterbox(*source, image_size).canvas;
  if (stage_completed(run, 2)) {
    const DetectOptions options{image_size, {kGoldenScoreThreshold, config.at("val_iou_threshold"), config.at("max_detections")}};
    image.panels.push_back({"float model", FloatDetector(load_model(run / stage_folder_name(2)), options).detect_canvas(image.canvas)});
  }
  if (fs::exists(golden_detection_list(run))) {
    image.panels.push_back({"integer model, q_NMS", to_float_detections(read_detection_list(golden_detection_list(run)))});
  }
  if (rtl_detection_list_is_current(run)) {
    image.panels.push_back({"RTL, yq_top", to_float_detections(read_detection_list(rtl_detection_list(run)))});
  }
  if (fs::exists(golden / "detections_float_nms.txt")) {
    image.panels.push_back({"integer model, float NMS", read_float_nms(golden / "detections_float_nms.txt")});
  }
  return image;
}

// One rtl_tb layer-bench log: "LAYER <name> <op> ... cycles N [MACs M util U%]"
// or "... view (no engine cycles)", and its "TOTAL" lines.
RtlBench read_rtl_log(const fs::path& file) {
  static const std::regex layer_line(R"(^LAYER\s+(\S+)\s+(\S+)\s.*?(?:cycles\s+(\d+)(?:\s+MACs\s+\d+\s+util\s+([0-9.]+)%)?|(view)))");
  RtlBench bench;
  bench.log_file = file.filename().string();
  std::ifstream in(file);
  std::smatch match;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("TOTAL")) bench.totals.push_back(line);
    if (!std::regex_search(line, match, layer_line)) continue;
    RtlLayer layer{match[1], match[2], 0, std::nullopt, match[5].matched};
    if (match[3].matched) layer.cycles = std::stoll(match[3]);
    if (match[4].matched) layer.mac_utilization_percent = std::stod(match[4]);
    bench.layers.push_back(layer);
  }
  return bench;
}

std::vector<RtlBench> rtl_benches(const fs::path& run) {
  std::vector<fs::path> logs;
  if (fs::is_directory(run / "rtl_bench")) {
    for (const auto& entry : fs::directory_iterator(run / "rtl_bench")) {
      if (entry.path().extension() == ".log") logs.push_back(entry.path());
    }
  }
  std::sort(logs.begin(), logs.end());
  std::vector<RtlBench> benches;
  for (const fs::path& log : logs) {
    RtlBench bench = read_rtl_log(log);
    if (!bench.layers.empty()) benches.push_back(std::move(bench));
  }
  return benches;
}

}  // namespace

RunReportInputs read_run_report_inputs(const fs::path& run) {
  const fs::path config_file = stage_artifact(run, 0, "config.json");
  if (!fs::is_regular_file(config_file)) throw Error(run.string() + " is not a run folder (no stage_0/config.json)");
  RunReportInputs inputs;
  inputs.folder = run.string();
  inputs.config = read_json_file(config_file);
  inputs.settings = quant_settings_from_json(inputs.config.at("quant"));
  inputs.class_names = run_class_names(run);

  std::optional<nlohmann::json> float_json, integer_report;
  if (stage_completed(run, 3) && fs::exists(stage_artifact(run, 3, "metrics.json"))) float_json = read_json_file(stage_artifact(run, 3, "metrics.json"));
  if (stage_completed(run, 8)) {
    integer_report = read_json_file(stage_artifact(run, 8, "report.json"));
  }
  inputs.accuracy = accuracy_rows(float_json, integer_report, inputs.class_names);
  if (integer_report) {
    const nlohmann::json& report = *integer_report;
    inputs.integer_nms = report.value("nms", "");
    if (report.contains("paired_difference")) {
      const nlohmann::json& p = report["paired_difference"];
      inputs.paired = PairedInterval{p.at("delta_map50_95_points"), p.at("low_points"), p.at("high_points"), p.at("confidence"),
                                     p.at("resamples")};
    }
    for (const nlohmann::json& layer : report.at("layers")) {
      inputs.fidelity.push_back({layer.at("layer"), layer.at("bits"), layer.at("sqnr_db"), layer.at("clip_rate")});
    }
    if (report.contains("golden")) inputs.golden = golden_image_of(run, inputs.config, report);
  }
  if (stage_completed(run, 6)) {
    inputs.certificate = certificate_of(read_json_file(stage_artifact(run, 6, "certificate.json")));
    inputs.weight_bytes = weight_bytes_at_run_widths(run);
  }
  inputs.rtl = rtl_benches(run);
  return inputs;
}

fs::path write_run_report(const std::vector<fs::path>& runs, const std::optional<fs::path>& output) {
  if (runs.empty()) throw Error("give at least one run folder");
  std::vector<RunReportInputs> inputs;
  for (const fs::path& run : runs) inputs.push_back(read_run_report_inputs(run));
  const fs::path file = output ? *output : runs.front() / "report.html";
  write_file_atomic(file, report_html(inputs));
  return file;
}

}  // namespace yq
