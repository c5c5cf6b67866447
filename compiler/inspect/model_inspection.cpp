// The inspection report, assembled in one pass over the graph's nodes: each
// node's shape at the image size, its parameters (convolutions), and what the
// run's stages fixed for it (stage_6's quantized model when present, else
// stage_5's bits and formats). Totals and the size table are sums over the
// convolutions; the emitted part copies stage_7's manifest (memory widths and
// depths, file sizes). The text table is rendered from the JSON, so both
// always say the same.
#include "compiler/inspect/model_inspection.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "compiler/emit/band_schedule.hpp"
#include "compiler/io/checkpoint.hpp"
#include "compiler/ir/yolov8_import.hpp"

namespace yq {
namespace {

using nlohmann::json;

// One row of the size table: weights and biases at fixed widths.
struct FixedWidth {
  const char* format;
  int weight_bits;
};
constexpr FixedWidth kFixedWidths[] = {{"float32", 32}, {"int16", 16}, {"int8", 8}, {"int6", 6}, {"int4", 4}};
constexpr int kBiasBits = 32;  // float32 or int32 biases in the fixed-width rows

std::int64_t packed_bytes(std::int64_t bits) { return (bits + 7) / 8; }

std::int64_t conv_weights(const Node& node) {
  return static_cast<std::int64_t>(node.channels) * node.in_channels * node.kernel * node.kernel;
}

json architecture_json(const InspectionInputs& inputs) {
  const Yolov8Arch& arch = inputs.info.arch;
  return {{"family", "yolov8-detect"},
          {"scale", arch.scale},
          {"num_classes", arch.num_classes},
          {"image_size", input_size_json(inputs.image_size)},
          {"widths", arch.widths},
          {"repeats", arch.repeats},
          {"reg_max", arch.reg_max},
          {"width_multiple", arch.width_multiple},
          {"depth_multiple", arch.depth_multiple},
          {"bn_fused", inputs.info.bn_fused}};
}

// Checkpoint parameters (BatchNorm scale and shift, head biases) and the fused
// model's. The DFL projection (reg_max fixed weights 0..reg_max-1, which
// Ultralytics counts as parameters) is no convolution here: reported apart.
json parameters_json(const Graph& unfused) {
  std::int64_t weights = 0, batch_norm = 0, head_biases = 0, fused_biases = 0;
  for (const Node& node : unfused.nodes) {
    if (node.op != OpKind::Conv) continue;
    weights += conv_weights(node);
    if (node.batch_norm) batch_norm += 2 * node.channels;
    if (node.has_bias) head_biases += node.channels;
    fused_biases += node.channels;
  }
  return {{"weights", weights},
          {"batch_norm", batch_norm},
          {"biases", head_biases},
          {"total", weights + batch_norm + head_biases},
          {"fused", {{"weights", weights}, {"biases", fused_biases}, {"total", weights + fused_biases}}},
          {"dfl_projection", unfused.arch.reg_max}};
}

// What the run fixed for node i: stage_6's quantized model, else stage_5's choices.
void add_quantization(const InspectionInputs& inputs, size_t i, const Node& node, json& layer) {
  if (inputs.quant) {
    const QuantNode& q = inputs.quant->nodes[i];
    layer["activation_bits"] = q.out.bits;
    layer["scale"] = q.out.scale;
    layer["zero"] = q.out.zero;
    if (node.op != OpKind::Conv) return;
    const auto [min_scale, max_scale] = std::minmax_element(q.conv.weight_scales.begin(), q.conv.weight_scales.end());
    layer["weight_bits"] = q.conv.weight_bits;
    layer["weight_scale_min"] = *min_scale;
    layer["weight_scale_max"] = *max_scale;
    layer["accumulator_bits"] = q.conv.acc_bits;
    layer["worst_case_accumulator"] = q.conv.worst_case_acc;
    return;
  }
  if (inputs.bits) {
    layer["activation_bits"] = inputs.bits->activation[i];
    if (node.op == OpKind::Conv) layer["weight_bits"] = inputs.bits->weight[i];
  }
  if (inputs.formats) {
    layer["scale"] = (*inputs.formats)[i].out.scale;
    layer["zero"] = (*inputs.formats)[i].out.zero;
  }
}

json layers_json(const InspectionInputs& inputs, const Graph& graph) {
  const std::vector<TensorShape> shapes = infer_shapes(graph, inputs.image_size);
  json layers = json::array();
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    json layer = {{"name", node.name},
                  {"op", op_kind_name(node.op)},
                  {"shape", {shapes[i].channels, shapes[i].height, shapes[i].width}}};
    if (node.op == OpKind::Conv) {
      layer["in_channels"] = node.in_channels;
      layer["kernel"] = node.kernel;
      layer["stride"] = node.stride;
      layer["weights"] = conv_weights(node);
      layer["biases"] = node.channels;
    }
    add_quantization(inputs, i, node, layer);
    layers.push_back(layer);
  }
  return layers;
}

json size_row(const std::string& format, std::int64_t weight_bits, std::int64_t bias_bits) {
  const std::int64_t weight_bytes = packed_bytes(weight_bits), bias_bytes = packed_bytes(bias_bits);
  return {{"format", format}, {"weight_bytes", weight_bytes}, {"bias_bytes", bias_bytes}, {"bytes", weight_bytes + bias_bytes}};
}

json model_size_json(const json& parameters, const json& layers, bool quantized) {
  const std::int64_t weights = parameters["fused"]["weights"], biases = parameters["fused"]["biases"];
  json rows = json::array();
  for (const FixedWidth& width : kFixedWidths) rows.push_back(size_row(width.format, weights * width.weight_bits, biases * kBiasBits));
  if (quantized) {
    std::int64_t weight_bits = 0, bias_bits = 0;
    for (const json& layer : layers) {
      if (!layer.contains("accumulator_bits")) continue;
      weight_bits += layer["weights"].get<std::int64_t>() * layer["weight_bits"].get<int>();
      bias_bits += layer["biases"].get<std::int64_t>() * layer["accumulator_bits"].get<int>();
    }
    rows.push_back(size_row("run", weight_bits, bias_bits));
  }
  return rows;
}

// The run's settings as quant_model.json records them, and its widest accumulator.
json quantization_json(const QuantModel& quant) {
  int accumulator_bits = 0;
  for (const int conv : quant.graph.conv_nodes()) accumulator_bits = std::max(accumulator_bits, quant.nodes[conv].conv.acc_bits);
  json settings = quant_settings_to_json(quant.settings);
  settings["accumulator_bits"] = accumulator_bits;
  return settings;
}

json emitted_json(const json& manifest) {
  json memories = json::array();
  for (const auto& [name, memory] : manifest.at("memories").items()) {
    const std::int64_t bits = memory.at("width").get<std::int64_t>() * memory.at("depth").get<std::int64_t>();
    memories.push_back({{"name", name},
                        {"file", memory.at("file")},
                        {"width", memory.at("width")},
                        {"depth", memory.at("depth")},
                        {"bits", bits},
                        {"bytes", packed_bytes(bits)}});
  }
  json files = json::array();
  std::int64_t file_bytes = 0;
  for (const json& entry : manifest.at("files")) {
    files.push_back({{"file", entry.at("file")}, {"bytes", entry.at("bytes")}});
    file_bytes += entry.at("bytes").get<std::int64_t>();
  }
  json byte_planes = json::array();
  for (const json& layer : manifest.at("layers")) {
    if (layer.value("planes", 1) > 1) byte_planes.push_back(layer.at("layer"));
  }
  return {{"image_size", manifest.at("image_size")},
          {"memories", memories},
          {"byte_planes", byte_planes},
          {"file_count", files.size()},
          {"file_bytes", file_bytes},
          {"files", files}};
}

// The band program's schedule with feature maps in DRAM, for each array of
// kScheduleArrays at each DRAM bandwidth of kScheduleBandwidths.
constexpr ArrayShape kScheduleArrays[] = {{16, 16, false}, {32, 32, true}};  // as yq_top builds them by default
constexpr double kScheduleBandwidths[] = {12.8, 25.6};  // bytes per cycle: one or two 128-bit ports at 80 %

json band_schedule_json(const QuantModel& quant, InputSize image_size, std::int64_t band_buffer_bytes) {
  json arrays = json::array();
  for (const ArrayShape array : kScheduleArrays) {
    const BandSchedule schedule = plan_bands(quant, image_size, array, band_buffer_bytes);
    json at_bandwidth = json::array();
    for (const double bandwidth : kScheduleBandwidths) {
      at_bandwidth.push_back({{"bytes_per_cycle", bandwidth},
                              {"frame_cycles", std::llround(schedule.frame_cycles(bandwidth))},
                              {"mac_utilization", schedule.mac_utilization(bandwidth)}});
    }
    arrays.push_back({{"array", std::to_string(array.rows) + "x" + std::to_string(array.cols)},
                      {"engine_cycles", schedule.engine_cycles()},
                      {"engine_mac_utilization", schedule.mac_utilization(std::numeric_limits<double>::infinity())},
                      {"bandwidths", at_bandwidth}});
  }
  // Bands and bytes do not depend on the array.
  const BandSchedule schedule = plan_bands(quant, image_size, kScheduleArrays[0], band_buffer_bytes);
  json layers = json::array();
  for (const LayerBands& layer : schedule.layers) {
    layers.push_back({{"layer", layer.name},
                      {"band_rows", layer.band_rows},
                      {"bands", layer.bands},
                      {"band_bytes", layer.band_bytes},
                      {"read_bytes", layer.read_bytes},
                      {"constant_bytes", layer.constant_bytes},
                      {"write_bytes", layer.write_bytes}});
  }
  return {{"band_buffer_bytes", band_buffer_bytes},
          {"read_bytes", schedule.read_bytes()},
          {"constant_bytes", schedule.constant_bytes()},
          {"write_bytes", schedule.write_bytes()},
          {"head_read_bytes", schedule.head_read_bytes},
          {"forwarded_bytes", schedule.forwarded_bytes},
          {"macs", schedule.macs()},
          {"arrays", arrays},
          {"layers", layers}};
}

// ---- text rendering ----

// 3151888 -> "3,151,888"
std::string grouped(std::int64_t value) {
  const std::string digits = std::to_string(value < 0 ? -value : value);
  std::string text = value < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) text += ',';
    text += digits[i];
  }
  return text;
}

std::string joined(const json& values, const char* separator) {
  std::string text;
  for (const json& value : values) text += (text.empty() ? "" : separator) + value.dump();
  return text;
}

template <typename... Args>
std::string format(const char* pattern, Args... args) {
  char line[512];
  std::snprintf(line, sizeof line, pattern, args...);
  return line;
}

// A table row without the blanks of its empty last columns, newline-terminated.
std::string table_line(std::string row) {
  row.erase(row.find_last_not_of(' ') + 1);
  return row + "\n";
}

std::string field(const json& layer, const char* key) {
  return layer.contains(key) ? layer[key].dump() : std::string("-");
}

std::string header_text(const json& report) {
  const json& a = report["architecture"];
  const json& p = report["parameters"];
  std::string text = format("%s %s\n", report["kind"].get<std::string>().c_str(), report["source"].get<std::string>().c_str());
  if (report.contains("stages")) {
    std::string stages;
    for (const json& stage : report["stages"]) {
      stages += (stages.empty() ? "" : ", ") + stage["stage"].get<std::string>();
      if (stage["status"] != "ok") stages += " (" + stage["status"].get<std::string>() + ")";
    }
    text += "completed stages: " + stages + "\n";
  }
  const InputSize input = input_size_at(a, "image_size");
  text += format("architecture: YOLOv8%s detect, %d classes, input %dx%d (height x width), widths %s, repeats %s, reg_max %d\n",
                 a["scale"].get<std::string>().c_str(), a["num_classes"].get<int>(), input.height, input.width, joined(a["widths"], "/").c_str(), joined(a["repeats"], "/").c_str(),
                 a["reg_max"].get<int>());
  text += "parameters: " + grouped(p["total"]) + " (conv weights " + grouped(p["weights"]) + ", BatchNorm scale+shift " +
          grouped(p["batch_norm"]) + ", head biases " + grouped(p["biases"]) + ")\n";
  text += "fused: " + grouped(p["fused"]["total"]) + " (weights " + grouped(p["fused"]["weights"]) + ", biases " +
          grouped(p["fused"]["biases"]) + "); Ultralytics counts " + p["dfl_projection"].dump() +
          " more in both, the fixed DFL projection\n";
  if (report.contains("quantization")) {
    const json& q = report["quantization"];
    text += format("quantization: W%d A%d, %s weights, range %s, %s scales, %s head, %zu overrides, "
                   "widest accumulator %d bits\n",
                   q["weight_bits"].get<int>(), q["activation_bits"].get<int>(),
                   q["per_channel"].get<bool>() ? "per-channel" : "per-tensor",
                   q["range_method"].get<std::string>().c_str(), q["scale_form"].get<std::string>().c_str(),
                   q["head"].get<std::string>().c_str(), q["overrides"].size(), q["accumulator_bits"].get<int>());
  }
  return text;
}

std::string size_text(const json& report) {
  std::string text = "\nmodel size in bytes (fused weights and biases, packed; biases 32-bit";
  text += report.contains("quantization") ? ", in the run row at each layer's accumulator width)\n" : ")\n";
  text += format("  %-8s %14s %14s %14s\n", "format", "weight bytes", "bias bytes", "bytes");
  for (const json& row : report["model_size"]) {
    text += format("  %-8s %14s %14s %14s\n", row["format"].get<std::string>().c_str(),
                   grouped(row["weight_bytes"]).c_str(), grouped(row["bias_bytes"]).c_str(), grouped(row["bytes"]).c_str());
  }
  return text;
}

// Quantization columns only once a run has chosen bits (stage_5 or later).
std::string layers_text(const json& report) {
  const json& layers = report["layers"];
  const bool quantized = std::any_of(layers.begin(), layers.end(), [](const json& l) { return l.contains("activation_bits"); });
  std::string text = "\nlayers\n";
  text += format("  %-16s %-8s %-14s %-4s %10s", "layer", "op", "shape (C,H,W)", "k/s", "weights");
  if (quantized) text += format(" %3s %3s %12s %4s %4s %14s", "W", "A", "scale", "zero", "acc", "worst |acc|");
  text += "\n";
  for (const json& layer : layers) {
    const bool conv = layer.contains("weights");
    const std::string kernel = conv ? layer["kernel"].dump() + "/" + layer["stride"].dump() : "";
    std::string row = format("  %-16s %-8s %-14s %-4s %10s", layer["name"].get<std::string>().c_str(),
                             layer["op"].get<std::string>().c_str(), joined(layer["shape"], ",").c_str(), kernel.c_str(),
                             conv ? grouped(layer["weights"]).c_str() : "");
    if (quantized) {
      const std::string scale = layer.contains("scale") ? format("%.6g", layer["scale"].get<double>()) : "-";
      const std::string worst = layer.contains("worst_case_accumulator") ? grouped(layer["worst_case_accumulator"]) : "";
      row += format(" %3s %3s %12s %4s %4s %14s", conv ? field(layer, "weight_bits").c_str() : "",
                    field(layer, "activation_bits").c_str(), scale.c_str(), field(layer, "zero").c_str(),
                    conv ? field(layer, "accumulator_bits").c_str() : "", worst.c_str());
    }
    text += table_line(row);
  }
  return text;
}

std::string emitted_text(const json& emitted) {
  const InputSize input = input_size_at(emitted, "image_size");
  std::string text = format("\nemitted memories (stage_7, %dx%d)\n", input.height, input.width);
  text += format("  %-8s %-16s %6s %12s %14s %14s\n", "memory", "file", "width", "depth", "bits", "bytes");
  for (const json& memory : emitted["memories"]) {
    const std::string file = memory["file"].get<std::string>();
    text += format("  %-8s %-16s %6d %12s %14s %14s\n", memory["name"].get<std::string>().c_str(),
                   file.empty() ? "(working memory)" : file.c_str(), memory["width"].get<int>(), grouped(memory["depth"]).c_str(),
                   grouped(memory["bits"]).c_str(), grouped(memory["bytes"]).c_str());
  }
  if (!emitted["byte_planes"].empty()) {
    std::string names;
    for (const json& name : emitted["byte_planes"]) names += (names.empty() ? "" : ", ") + name.get<std::string>();
    text += "byte planes (docs/ARTIFACTS.md 3.2: each code of these outputs in two one-byte words): " + names + "\n";
  }
  text += "emitted files: " + grouped(emitted["file_count"]) + ", " + grouped(emitted["file_bytes"]) +
          " bytes of text (each with its size in --json)\n";
  return text;
}

std::string dram_schedule_text(const json& schedule) {
  const auto megabytes = [](const json& bytes) { return bytes.get<double>() / 1e6; };
  std::string text = format(
      "\nfeature maps in DRAM: the band program (%s-byte input and output band halves; cycles an estimate)\n",
      grouped(schedule["band_buffer_bytes"]).c_str());
  text += format("  DRAM per frame: %.1f MB feature-map reads, %.1f MB constants, %.1f MB writes, %.1f MB detect-head "
                 "reads (%.1f MB more read on chip from the band before)\n",
                 megabytes(schedule["read_bytes"]), megabytes(schedule["constant_bytes"]), megabytes(schedule["write_bytes"]),
                 megabytes(schedule["head_read_bytes"]), megabytes(schedule["forwarded_bytes"]));
  text += format("  %-6s %14s %16s %14s %12s\n", "array", "engine cycles", "DRAM bytes/cycle", "frame cycles", "MAC use");
  for (const json& array : schedule["arrays"]) {
    text += format("  %-6s %14s %16s %14s %11.1f%%\n", array["array"].get<std::string>().c_str(),
                   grouped(array["engine_cycles"]).c_str(), "unlimited", grouped(array["engine_cycles"]).c_str(),
                   100 * array["engine_mac_utilization"].get<double>());
    for (const json& at : array["bandwidths"]) {
      text += format("  %-6s %14s %16.1f %14s %11.1f%%\n", array["array"].get<std::string>().c_str(),
                     grouped(array["engine_cycles"]).c_str(), at["bytes_per_cycle"].get<double>(),
                     grouped(at["frame_cycles"]).c_str(), 100 * at["mac_utilization"].get<double>());
    }
  }
  return text;
}

}  // namespace

InspectionInputs checkpoint_inspection_inputs(const std::filesystem::path& checkpoint, InputSize image_size) {
  InspectionInputs inputs;
  inputs.kind = "checkpoint";
  inputs.source = checkpoint.string();
  inputs.info = import_yolov8(read_checkpoint(checkpoint), checkpoint.string()).model.info;
  inputs.image_size = image_size;
  return inputs;
}

json inspection_report(const InspectionInputs& inputs) {
  const Graph graph = build_model_graph(inputs.info);
  json report = {{"kind", inputs.kind}, {"source", inputs.source}};
  if (inputs.kind == "run") report["stages"] = json::array();
  for (const auto& [stage, status] : inputs.completed_stages) report["stages"].push_back({{"stage", stage}, {"status", status}});
  report["architecture"] = architecture_json(inputs);
  report["parameters"] = parameters_json(build_yolov8_graph(inputs.info.arch));
  report["layers"] = layers_json(inputs, graph);
  report["model_size"] = model_size_json(report["parameters"], report["layers"], inputs.quant.has_value());
  if (inputs.quant) {
    report["quantization"] = quantization_json(*inputs.quant);
    report["dram_schedule"] = band_schedule_json(*inputs.quant, inputs.image_size, inputs.band_buffer_bytes);
  }
  if (inputs.manifest) report["emitted"] = emitted_json(*inputs.manifest);
  return report;
}

std::string inspection_table(const json& report) {
  std::string text = header_text(report) + size_text(report) + layers_text(report);
  if (report.contains("emitted")) text += emitted_text(report["emitted"]);
  if (report.contains("dram_schedule")) text += dram_schedule_text(report["dram_schedule"]);
  return text;
}

}  // namespace yq
