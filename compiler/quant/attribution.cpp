#include "compiler/quant/attribution.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "compiler/detect/int_nms.hpp"
#include "compiler/quant/lut_builder.hpp"
#include "compiler/quant/quantizer.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/progress.hpp"

namespace yq {

namespace {

constexpr ComponentMask kNetworkComponents = kActivationComponents | component_bit(QuantComponent::Weights);

bool has(ComponentMask mask, QuantComponent c) { return (mask & component_bit(c)) != 0; }

Grid grid_of(const CodeFormat& f) { return {f.bits, f.scale, f.zero}; }

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// One side's DFL distance in pixels: the float softmax expectation, or the
// integer head's exp-table expectation rounded to 1/16 pixel.
double dfl_distance(const float* bins, int reg_max, size_t plane, int stride, bool table) {
  float max_value = bins[0];
  for (int j = 1; j < reg_max; ++j) max_value = std::max(max_value, bins[j * plane]);
  if (!table) {
    double sum = 0, weighted = 0;
    for (int j = 0; j < reg_max; ++j) {
      const double e = std::exp(static_cast<double>(bins[j * plane] - max_value));
      sum += e;
      weighted += e * j;
    }
    return weighted / sum * stride;
  }
  std::int64_t numerator = 0, denominator = 0;
  for (int j = 0; j < reg_max; ++j) {
    const std::int64_t e = std::llround(std::ldexp(std::exp(static_cast<double>(bins[j * plane] - max_value)), kExpOneBits));
    numerator += j * e;
    denominator += e;
  }
  const std::int64_t scaled = numerator * stride * (1 << kBoxFractionBits);
  return static_cast<double>((scaled + denominator / 2) / denominator) / (1 << kBoxFractionBits);
}

IntDetection to_integer(const Detection& d, int anchor) {
  auto fixed = [](float v) { return static_cast<std::int32_t>(std::lround(std::ldexp(v, kBoxFractionBits))); };
  return {fixed(d.box.x1), fixed(d.box.y1), fixed(d.box.x2), fixed(d.box.y2),
          static_cast<std::int32_t>(std::lround(std::ldexp(d.score, kScoreFractionBits))), d.class_id, anchor};
}

}  // namespace

const char* component_name(QuantComponent component) {
  switch (component) {
    case QuantComponent::BackboneActivations: return "backbone_activations";
    case QuantComponent::HeadActivations: return "head_activations";
    case QuantComponent::Weights: return "weights";
    case QuantComponent::DflTable: return "dfl_table";
    case QuantComponent::ScoreCodes: return "score_codes";
    case QuantComponent::QNms: return "q_nms";
  }
  return "?";
}

std::vector<FakeQuantGrids> activation_grids(const QuantModel& quant, ComponentMask mask) {
  std::vector<FakeQuantGrids> grids(quant.graph.nodes.size());
  for (size_t i = 0; i < grids.size(); ++i) {
    const Node& node = quant.graph.nodes[i];
    const bool head = node.head_level >= 0;
    if (!has(mask, head ? QuantComponent::HeadActivations : QuantComponent::BackboneActivations)) continue;
    grids[i].out = grid_of(quant.nodes[i].out);
    if (node.op == OpKind::Conv && node.silu) grids[i].pre = grid_of(quant.nodes[i].conv.pre);
  }
  return grids;
}

Model dequantized_model(const Model& fused, const QuantModel& quant) {
  Model model = fused;
  for (size_t i = 0; i < quant.graph.nodes.size(); ++i) {
    const Node& node = quant.graph.nodes[i];
    if (node.op != OpKind::Conv) continue;
    const auto [weight, bias] = dequantized_conv(quant.nodes[i].conv, quant.nodes[node.inputs[0]].out,
                                                 fused.weight(node.name + ".weight"));
    set_conv_parameters(model, node.name, weight, bias);
  }
  return model;
}

SimulatedDetector::SimulatedDetector(const Model& fused, const Model& dequantized, const QuantModel& quant,
                                     ComponentMask network, DetectOptions options)
    : quant_(quant),
      model_(has(network, QuantComponent::Weights) ? dequantized : fused, activation_grids(quant, network)),
      options_(std::move(options)) {}

SimulatedDetector::SimulatedDetector(const Model& weights, std::vector<FakeQuantGrids> grids, const QuantModel& quant,
                                     DetectOptions options)
    : quant_(quant), model_(weights, std::move(grids)), options_(std::move(options)) {}

std::vector<at::Tensor> SimulatedDetector::head_outputs(const RgbImage& canvas) const {
  return model_.run_heads(image_to_input(canvas));
}

std::vector<Detection> SimulatedDetector::decode(const std::vector<at::Tensor>& heads, ComponentMask mask) const {
  const int num_classes = quant_.info.arch.num_classes, reg_max = quant_.info.arch.reg_max;
  const bool table = has(mask, QuantComponent::DflTable), codes = has(mask, QuantComponent::ScoreCodes);
  const float threshold = options_.nms.score_threshold;
  const float logit_threshold = std::log(threshold / (1.0f - threshold));
  const std::int32_t threshold_code = score_threshold_code(threshold);
  std::vector<Detection> candidates;
  std::vector<int> anchors;
  int anchor_base = 0;
  for (size_t l = 0; l < quant_.graph.levels.size(); ++l) {
    const float* box = heads[2 * l].data_ptr<float>();
    const float* cls = heads[2 * l + 1].data_ptr<float>();
    const int height = static_cast<int>(heads[2 * l].size(2)), width = static_cast<int>(heads[2 * l].size(3));
    const int stride = quant_.graph.levels[l].stride;
    const size_t plane = static_cast<size_t>(height) * width;
    for (size_t cell = 0; cell < plane; ++cell) {
      int best = 0;
      for (int c = 1; c < num_classes; ++c) {
        if (cls[c * plane + cell] > cls[best * plane + cell]) best = c;
      }
      const float logit = cls[best * plane + cell];
      float score;
      if (codes) {
        const std::int64_t code = std::min<std::int64_t>(std::llround(std::ldexp(sigmoid(logit), kScoreFractionBits)), 65535);
        if (code <= threshold_code) continue;
        score = std::ldexp(static_cast<float>(code), -kScoreFractionBits);
      } else {
        if (!(logit > logit_threshold)) continue;
        score = sigmoid(logit);
        if (!(score > threshold)) continue;
      }
      double d[4];
      for (int side = 0; side < 4; ++side) d[side] = dfl_distance(box + side * reg_max * plane + cell, reg_max, plane, stride, table);
      const double cx = (cell % width + 0.5) * stride, cy = (cell / width + 0.5) * stride;
      Detection detection;
      detection.box = {static_cast<float>(cx - d[0]), static_cast<float>(cy - d[1]), static_cast<float>(cx + d[2]),
                       static_cast<float>(cy + d[3])};
      detection.score = score;
      detection.class_id = best;
      candidates.push_back(detection);
      anchors.push_back(anchor_base + static_cast<int>(cell));
    }
    anchor_base += static_cast<int>(plane);
  }
  if (!has(mask, QuantComponent::QNms)) return non_max_suppression(std::move(candidates), options_.nms);
  std::vector<IntDetection> integer;
  for (size_t i = 0; i < candidates.size(); ++i) integer.push_back(to_integer(candidates[i], anchors[i]));
  std::vector<Detection> kept;
  for (const IntDetection& d : int_non_max_suppression(std::move(integer), int_nms_options(options_.nms))) {
    kept.push_back(to_float_detection(d));
  }
  return kept;
}

SimulationImage load_simulation_image(const DatasetImage& entry, InputSize size) {
  const RgbImage image = decode_image(entry.image);
  SimulationImage loaded{&entry, image.width, image.height, letterbox(image, size), {}};
  if (!entry.label.empty()) loaded.truths = read_yolo_labels(entry.label, image.width, image.height);
  return loaded;
}

ImageResult simulated_result(const SimulatedDetector& detector, const std::vector<at::Tensor>& heads, ComponentMask mask,
                             const SimulationImage& image) {
  ImageResult result{detector.decode(heads, mask), image.truths, image.entry->id(), image.entry->folder};
  for (Detection& d : result.detections) d = to_image_coordinates(d, image.boxed.geometry, image.width, image.height);
  return result;
}

std::vector<AttributionRow> run_attribution(const Model& fused, const QuantModel& quant, const Dataset& dataset,
                                            int max_images, const DetectOptions& options) {
  std::vector<AttributionRow> rows = {{"float", 0, {}, {}}};
  for (int c = 0; c < kQuantComponents; ++c) {
    rows.push_back({std::string("only ") + component_name(static_cast<QuantComponent>(c)), 1u << c, {}, {}});
  }
  rows.push_back({"all", kAllComponents, {}, {}});
  for (int c = 0; c < kQuantComponents; ++c) {
    rows.push_back({std::string("all but ") + component_name(static_cast<QuantComponent>(c)), kAllComponents & ~(1u << c), {}, {}});
  }
  const Model dequantized = dequantized_model(fused, quant);
  std::vector<SimulatedDetector> networks;  // indexed by the network part of a mask
  networks.reserve(kNetworkComponents + 1);
  for (ComponentMask network = 0; network <= kNetworkComponents; ++network) {
    networks.emplace_back(fused, dequantized, quant, network, options);
  }
  const int count = max_images > 0 ? std::min<int>(max_images, static_cast<int>(dataset.images.size()))
                                   : static_cast<int>(dataset.images.size());
  ProgressBar progress("         attribution", count);
  for (int i = 0; i < count; ++i) {
    const SimulationImage image = load_simulation_image(dataset.images[i], options.image_size);
    for (ComponentMask network = 0; network <= kNetworkComponents; ++network) {
      bool needed = false;
      for (const AttributionRow& row : rows) needed |= (row.mask & kNetworkComponents) == network;
      if (!needed) continue;
      const std::vector<at::Tensor> heads = networks[network].head_outputs(image.boxed.canvas);
      for (AttributionRow& row : rows) {
        if ((row.mask & kNetworkComponents) == network) row.results.push_back(simulated_result(networks[network], heads, row.mask, image));
      }
    }
    progress.advance();
  }
  for (AttributionRow& row : rows) row.metrics = evaluate_detections(row.results, quant.info.arch.num_classes);
  return rows;
}

}  // namespace yq
