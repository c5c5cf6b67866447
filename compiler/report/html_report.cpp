// Building report.html: each section is a function from the run's inputs to
// an HTML fragment (empty when its source is absent); charts come from
// compiler/report/charts.hpp, detection images are drawn with
// compiler/io/draw.hpp on the letterboxed canvas (scaled up by a whole
// factor so the labels stay readable) and PNG-encoded.
#include "compiler/report/html_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "compiler/io/draw.hpp"
#include "compiler/report/charts.hpp"
#include "compiler/util/error.hpp"

namespace yq {
namespace {

constexpr int kGoldenDisplayPixels = 480;

const char* const kStyle = R"(
body { font-family: sans-serif; margin: 16px 24px; color: #222; max-width: 1300px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
td:first-child, th:first-child, table.settings td { text-align: left; }
figure { margin: 8px 0; }
figure.chart svg { width: 1200px; height: auto; display: block; }
.panels { display: flex; flex-wrap: wrap; gap: 12px; }
.panels img { width: 420px; height: auto; display: block; }
.note { font-size: 13px; color: #555; }
code { font-size: 12px; }
)";

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

std::string row(const std::vector<std::string>& cells, const char* tag = "td") {
  std::string html = "<tr>";
  for (const std::string& c : cells) html += std::string("<") + tag + ">" + c + "</" + tag + ">";
  return html + "</tr>\n";
}

std::string section(const std::string& id, const std::string& title, const std::string& body) {
  return "<section id=\"" + id + "\">\n<h2>" + html_escape(title) + "</h2>\n" + body + "</section>\n";
}

std::string figure(const std::string& id, const std::string& svg) {
  return "<figure class=\"chart\" id=\"" + id + "\">\n" + svg + "\n</figure>\n";
}

std::string json_value_text(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::string run_label(const RunReportInputs& run) {
  return "W" + std::to_string(run.settings.weight_bits) + "A" + std::to_string(run.settings.activation_bits);
}

// --- settings ---------------------------------------------------------------

std::string settings_section(const RunReportInputs& run) {
  std::string html = "<table class=\"settings\">\n";
  for (const char* key : {"model", "model_sha256", "image_size", "data", "calib", "calib_images", "golden_image", "nms"}) {
    if (run.config.contains(key)) html += row({html_escape(key), "<code>" + html_escape(json_value_text(run.config[key])) + "</code>"});
  }
  const nlohmann::json settings = quant_settings_to_json(run.settings);
  for (const auto& [key, value] : settings.items()) {
    html += row({html_escape("quant." + key), "<code>" + html_escape(json_value_text(value)) + "</code>"});
  }
  return section("settings", "Settings (stage_0/config.json)", html + "</table>\n");
}

// --- accuracy ---------------------------------------------------------------

std::vector<std::string> metric_cells(const std::optional<DetectionMetrics>& m) {
  if (!m) return {"", "", "", ""};
  return {format("%.4f", m->map50_95), format("%.4f", m->map50), format("%.4f", m->precision), format("%.4f", m->recall)};
}

std::string accuracy_table(const RunReportInputs& run) {
  std::string html = "<table>\n" + row({"data", "model", "images", "mAP50-95", "mAP50", "P", "R", "retained mAP50-95"}, "th");
  for (const AccuracyRow& a : run.accuracy) {
    for (int integer = 0; integer < 2; ++integer) {
      const std::optional<DetectionMetrics>& m = integer ? a.integer_metrics : a.float_metrics;
      if (!m) continue;
      std::vector<std::string> cells = {html_escape(a.images),
                                        integer ? html_escape(run_label(run) + " integer (" + run.integer_nms + " NMS)") : "float",
                                        std::to_string(m->images)};
      for (const std::string& c : metric_cells(m)) cells.push_back(c);
      const bool retained = integer && a.float_metrics && a.float_metrics->map50_95 > 0;
      cells.push_back(retained ? format("%.1f%%", 100.0 * m->map50_95 / a.float_metrics->map50_95) : "");
      html += row(cells);
    }
  }
  html += "</table>\n";
  if (run.paired) {
    html += "<p>Integer &minus; float mAP50-95, paired over the images: <b>" + format("%+.2f", run.paired->delta_points) +
            " points</b>, " + format("%.0f", 100 * run.paired->confidence) + "% bootstrap interval [" +
            format("%+.2f", run.paired->low_points) + ", " + format("%+.2f", run.paired->high_points) + "] (" +
            std::to_string(run.paired->resamples) + " resamples).</p>\n";
  }
  return html;
}

std::string accuracy_section(const std::vector<RunReportInputs>& runs) {
  std::string html;
  for (const RunReportInputs& run : runs) {
    if (run.accuracy.empty()) continue;
    if (runs.size() > 1) html += "<h3>" + html_escape(run.folder) + "</h3>\n";
    html += accuracy_table(run);
  }
  return html.empty() ? "" : section("accuracy", "Accuracy: float (stage_3) vs integer (stage_8)", html);
}

// --- bit sweep ----------------------------------------------------------------

std::string bit_sweep_section(const std::vector<RunReportInputs>& runs) {
  if (runs.size() < 2) return "";
  ChartSeries integer_map{"integer mAP50-95", {}, {}, {}}, float_map{"float mAP50-95", {}, {}, {}};
  ChartSeries size{"weight bytes at the run's widths", {}, {}, {}};
  std::string table = "<table>\n" + row({"run", "weight bits", "activation bits", "float mAP50-95", "integer mAP50-95", "weight bytes"}, "th");
  for (const RunReportInputs& run : runs) {
    const double bits = run.settings.weight_bits;
    const std::string label = run_label(run);
    const AccuracyRow* all = run.accuracy.empty() ? nullptr : &run.accuracy.front();
    if (all && all->integer_metrics) {
      integer_map.x.push_back(bits);
      integer_map.y.push_back(all->integer_metrics->map50_95);
      integer_map.point_labels.push_back(label);
    }
    if (all && all->float_metrics) {
      float_map.x.push_back(bits);
      float_map.y.push_back(all->float_metrics->map50_95);
    }
    if (run.weight_bytes) {
      size.x.push_back(bits);
      size.y.push_back(static_cast<double>(*run.weight_bytes));
      size.point_labels.push_back(label);
    }
    table += row({html_escape(run.folder), std::to_string(run.settings.weight_bits), std::to_string(run.settings.activation_bits),
                  all && all->float_metrics ? format("%.4f", all->float_metrics->map50_95) : "",
                  all && all->integer_metrics ? format("%.4f", all->integer_metrics->map50_95) : "",
                  run.weight_bytes ? std::to_string(*run.weight_bytes) : ""});
  }
  std::string html = table + "</table>\n<p class=\"note\">Points are labelled W&lt;weight bits&gt;A&lt;activation bits&gt;; "
                             "the x axis is the weight width.</p>\n";
  if (integer_map.x.size() >= 2) {
    Chart chart{"chart-sweep-map", "mAP50-95 vs bits", "weight bits", "mAP50-95", {}, {integer_map}, std::nullopt, "", 1200, 380};
    if (float_map.x.size() >= 2) chart.series.push_back(float_map);
    html += figure(chart.id, line_chart_svg(chart));
  }
  if (size.x.size() >= 2) {
    const Chart chart{"chart-sweep-size", "model size vs bits", "weight bits", "bytes", {}, {size}, std::nullopt, "", 1200, 380};
    html += figure(chart.id, line_chart_svg(chart));
  }
  return section("bit-sweep", "Bit sweep over " + std::to_string(runs.size()) + " runs", html);
}

// --- per-layer fidelity -------------------------------------------------------

std::string fidelity_section(const RunReportInputs& run) {
  if (run.fidelity.empty()) return "";
  Chart sqnr{"chart-sqnr", "SQNR per tensor (float activations vs dequantized integer codes)", "", "SQNR (dB)", {}, {}, std::nullopt, "", 1200, 420};
  Chart clip{"chart-clip", "clip rate per tensor (float values beyond the code range)", "", "clipped (%)", {}, {}, std::nullopt, "", 1200, 420};
  ChartSeries sqnr_values{"SQNR dB", {}, {}, {}}, clip_values{"clip rate %", {}, {}, {}};
  for (const LayerFidelity& layer : run.fidelity) {
    sqnr.categories.push_back(layer.layer);
    clip.categories.push_back(layer.layer);
    sqnr_values.y.push_back(layer.sqnr_db);
    clip_values.y.push_back(100.0 * layer.clip_rate);
  }
  sqnr.series = {sqnr_values};
  clip.series = {clip_values};
  return section("fidelity", "Per-layer fidelity (stage_8/report.json)",
                 figure(sqnr.id, bar_chart_svg(sqnr)) + figure(clip.id, bar_chart_svg(clip)));
}

// --- overflow certificate -----------------------------------------------------

std::string certificate_section(const RunReportInputs& run) {
  if (!run.certificate) return "";
  const OverflowCertificate& c = *run.certificate;
  Chart chart{"chart-certificate", "accumulator bits per convolution: needed (worst case) vs provided", "", "bits", {}, {}, c.limit_bits,
              "provided: " + std::to_string(c.limit_bits) + " bits", 1200, 420};
  ChartSeries needed{"needed (worst-case accumulator)", {}, {}, {}};
  int widest = 0;
  for (const OverflowCertificate::Layer& layer : c.layers) {
    chart.categories.push_back(layer.layer);
    needed.y.push_back(layer.accumulator_bits);
    widest = std::max(widest, layer.accumulator_bits);
  }
  chart.series = {needed};
  const std::string note = "<p>Widest accumulator " + std::to_string(widest) + " bits of " + std::to_string(c.limit_bits) +
                           " provided (" + std::to_string(c.layers.size()) + " convolutions, stage_6/certificate.json).</p>\n";
  return section("certificate", "Overflow certificate", note + figure(chart.id, bar_chart_svg(chart)));
}

// --- golden image -------------------------------------------------------------

RgbImage scaled_up(const RgbImage& image, int factor) {
  RgbImage scaled{image.width * factor, image.height * factor, {}};
  scaled.pixels.resize(static_cast<size_t>(scaled.width) * scaled.height * 3);
  for (int y = 0; y < scaled.height; ++y) {
    for (int x = 0; x < scaled.width; ++x) std::copy_n(image.at(x / factor, y / factor), 3, scaled.at(x, y));
  }
  return scaled;
}

std::string detection_image(const GoldenImage& golden, const DetectionPanel& panel, const std::vector<std::string>& names) {
  const int factor = std::max(1, kGoldenDisplayPixels / std::max(1, golden.canvas.width));
  RgbImage image = scaled_up(golden.canvas, factor);
  std::vector<Detection> scaled = panel.detections;
  for (Detection& d : scaled) d.box = {d.box.x1 * factor, d.box.y1 * factor, d.box.x2 * factor, d.box.y2 * factor};
  draw_detections(image, scaled, names);
  return "data:image/png;base64," + base64_encode(encode_png(image));
}

std::string golden_section(const RunReportInputs& run) {
  if (!run.golden) return "";
  const GoldenImage& golden = *run.golden;
  if (golden.canvas.pixels.empty()) {
    return section("golden", "Golden image detections",
                   "<p>The golden image <code>" + html_escape(golden.source) +
                       "</code> is not readable from the folder the report was made in (a relative path?).</p>\n");
  }
  std::string html = "<p>Golden image <code>" + html_escape(golden.source) + "</code>, letterboxed to " +
                     std::to_string(golden.canvas.width) + "&times;" + std::to_string(golden.canvas.height) +
                     " (stage_8/golden; detections with score &gt; 0.25).</p>\n<div class=\"panels\">\n";
  for (size_t i = 0; i < golden.panels.size(); ++i) {
    const DetectionPanel& panel = golden.panels[i];
    html += "<figure id=\"golden-" + std::to_string(i) + "\"><img alt=\"" + html_escape(panel.model) + "\" src=\"" +
            detection_image(golden, panel, run.class_names) + "\"><figcaption>" + html_escape(panel.model) + ": " +
            std::to_string(panel.detections.size()) + " detections</figcaption></figure>\n";
  }
  html += "</div>\n";
  if (!run.rtl.empty()) {
    html += "<p class=\"note\">No RTL detections: the RTL runs the layer program, not the detect-head decode and "
            "q_NMS (they run in the integer reference).</p>\n";
  }
  return section("golden", "Golden image detections", html);
}

// --- RTL ----------------------------------------------------------------------

std::string rtl_section(const RunReportInputs& run) {
  std::string html;
  for (size_t b = 0; b < run.rtl.size(); ++b) {
    const RtlBench& bench = run.rtl[b];
    html += "<h3>" + html_escape(bench.log_file) + "</h3>\n<ul>\n";
    for (const std::string& total : bench.totals) html += "<li><code>" + html_escape(total) + "</code></li>\n";
    html += "</ul>\n";
    Chart cycles{"chart-rtl-cycles-" + std::to_string(b), "engine cycles per layer", "", "cycles", {}, {}, std::nullopt, "", 1200, 420};
    Chart utilization{"chart-rtl-utilization-" + std::to_string(b), "MAC utilization per convolution", "", "utilization (%)", {}, {}, std::nullopt, "", 1200, 420};
    ChartSeries cycle_values{"cycles", {}, {}, {}}, utilization_values{"MAC utilization %", {}, {}, {}};
    for (const RtlLayer& layer : bench.layers) {
      if (layer.view) continue;
      cycles.categories.push_back(layer.layer);
      cycle_values.y.push_back(static_cast<double>(layer.cycles));
      if (layer.mac_utilization_percent) {
        utilization.categories.push_back(layer.layer);
        utilization_values.y.push_back(*layer.mac_utilization_percent);
      }
    }
    cycles.series = {cycle_values};
    utilization.series = {utilization_values};
    if (!cycles.categories.empty()) html += figure(cycles.id, bar_chart_svg(cycles));
    if (!utilization.categories.empty()) html += figure(utilization.id, bar_chart_svg(utilization));
  }
  return html.empty() ? "" : section("rtl", "RTL cycles (bench logs in rtl_bench/)", html);
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string escaped;
  escaped.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': escaped += "&amp;"; break;
      case '<': escaped += "&lt;"; break;
      case '>': escaped += "&gt;"; break;
      case '"': escaped += "&quot;"; break;
      case '\'': escaped += "&#39;"; break;
      default: escaped += c;
    }
  }
  return escaped;
}

std::string base64_encode(const std::string& bytes) {
  static const char* const kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string encoded;
  encoded.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t group = static_cast<std::uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) group |= static_cast<std::uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) group |= static_cast<std::uint8_t>(bytes[i + 2]);
    for (size_t k = 0; k < 4; ++k) encoded += i + k <= bytes.size() ? kAlphabet[(group >> (18 - 6 * k)) & 63] : '=';
  }
  return encoded;
}

std::string report_html(const std::vector<RunReportInputs>& runs) {
  if (runs.empty()) throw Error("a report needs at least one run folder");
  const RunReportInputs& run = runs.front();
  std::string title = "yq-hw report: " + run.folder;
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + html_escape(title) +
                     "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<h1>" + html_escape(title) + "</h1>\n";
  if (runs.size() > 1) {
    html += "<p class=\"note\">Detailed sections are of the first run; the bit sweep and the accuracy tables cover all " +
            std::to_string(runs.size()) + " runs.</p>\n";
  }
  html += settings_section(run) + accuracy_section(runs) + bit_sweep_section(runs) + fidelity_section(run) +
          certificate_section(run) + golden_section(run) + rtl_section(run);
  return html + "</body>\n</html>\n";
}

}  // namespace yq
