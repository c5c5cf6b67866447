#include "compiler/quant/sensitivity.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <cstdio>
#include <limits>

#include "compiler/float/float_model.hpp"
#include "compiler/quant/quantizer.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/parallel.hpp"
#include "compiler/util/progress.hpp"

namespace yq {

namespace {

constexpr std::int64_t kBudgetCells = 1 << 18;

// sum over the head tensors of ||y' - y||^2 / ||y||^2.
double head_error(const Graph& graph, const std::vector<at::Tensor>& reference, const std::vector<at::Tensor>& changed) {
  double error = 0;
  for (const DetectLevel& level : graph.levels) {
    for (int node : {level.box_node, level.class_node}) {
      if (changed[node].is_same(reference[node])) continue;  // not downstream of the layer
      const at::Tensor y = reference[node].to(at::kDouble);
      const double difference = (changed[node].to(at::kDouble) - y).pow(2).sum().item<double>();
      const double norm = y.pow(2).sum().item<double>();
      error += norm > 0 ? difference / norm : difference;
    }
  }
  return error;
}

// Adds one image's errors to every layer's, layers `threads` at a time.
void add_image_errors(const FloatModel& model, const at::Tensor& input, const std::vector<std::vector<at::Tensor>>& weights,
                      std::vector<LayerSensitivity>& layers, int threads, ProgressBar& progress) {
  const std::vector<at::Tensor> reference = model.run_all(input);
  parallel_for_each_index(layers.size(), threads, progress, [&](size_t l) {
    LayerSensitivity& layer = layers[l];
    for (size_t k = 0; k < layer.widths.size(); ++k) {
      std::vector<at::Tensor> outputs = reference;
      model.rerun_from(layer.node, weights[l][k], outputs);
      layer.errors[k] += head_error(model.model().graph, reference, outputs);
    }
  });
}

}  // namespace

std::int64_t conv_weight_count(const Node& node) {
  return static_cast<std::int64_t>(node.channels) * node.in_channels * node.kernel * node.kernel;
}

std::vector<int> candidate_widths(int max_bits) {
  std::vector<int> widths;
  for (int bits : {4, 6, 8}) {
    if (bits < max_bits) widths.push_back(bits);
  }
  widths.push_back(max_bits);
  return widths;
}

std::vector<LayerSensitivity> weight_layers(const Graph& graph, const std::vector<int>& max_weight_bits) {
  std::vector<LayerSensitivity> layers;
  for (int index : graph.conv_nodes()) {
    const Node& node = graph.nodes[index];
    LayerSensitivity layer{index, node.name, conv_weight_count(node), candidate_widths(max_weight_bits[index]), {}};
    layer.errors.assign(layer.widths.size(), 0.0);
    layers.push_back(std::move(layer));
  }
  return layers;
}

void measure_sensitivity(const Model& fused, const QuantSettings& settings, const std::vector<RgbImage>& canvases,
                         int threads, std::vector<LayerSensitivity>& layers) {
  if (canvases.empty()) throw Error("sensitivity needs at least one image");
  std::vector<std::vector<at::Tensor>> weights;  // per layer and width, dequantized
  for (LayerSensitivity& layer : layers) {
    layer.errors.assign(layer.widths.size(), 0.0);
    std::vector<at::Tensor> quantized;
    for (int bits : layer.widths) {
      quantized.push_back(nearest_dequantized_weight(fused.weight(layer.layer + ".weight"), bits, settings));
    }
    weights.push_back(std::move(quantized));
  }
  const FloatModel model(fused);
  const int saved_threads = at::get_num_threads();
  at::set_num_threads(1);
  {
    ProgressBar progress("       sensitivity", static_cast<int>(canvases.size() * layers.size()));
    for (const RgbImage& canvas : canvases) add_image_errors(model, image_to_input(canvas), weights, layers, threads, progress);
  }
  at::set_num_threads(saved_threads);
  for (LayerSensitivity& layer : layers) {
    for (double& error : layer.errors) error /= static_cast<double>(canvases.size());
  }
}

namespace {

struct BudgetRange {
  std::int64_t weights = 0;
  double smallest = 0, widest = 0;  // bits with every layer at its smallest or widest width
};

BudgetRange budget_range(const std::vector<LayerSensitivity>& layers) {
  BudgetRange range;
  for (const LayerSensitivity& layer : layers) {
    range.weights += layer.weights;
    range.smallest += static_cast<double>(layer.weights) * layer.widths.front();
    range.widest += static_cast<double>(layer.weights) * layer.widths.back();
  }
  return range;
}

}  // namespace

void check_weight_budget(const std::vector<LayerSensitivity>& layers, const WeightBudget& budget) {
  const BudgetRange range = budget_range(layers);
  if (budget.bits_for(range.weights) >= range.smallest) return;
  char text[256];
  std::snprintf(text, sizeof text,
                "--weight-budget of %s cannot be met: the smallest weight widths take %.3f bits per weight on "
                "average (%lld bytes)",
                budget.description().c_str(), range.smallest / static_cast<double>(range.weights),
                static_cast<long long>(std::ceil(range.smallest / 8)));
  throw Error(text);
}

std::vector<int> choose_weight_widths(const std::vector<LayerSensitivity>& layers, const WeightBudget& budget) {
  check_weight_budget(layers, budget);
  const auto [weights, smallest, widest] = budget_range(layers);
  const double budget_bits = budget.bits_for(weights);
  std::vector<int> chosen;
  if (budget_bits >= widest) {
    for (const LayerSensitivity& layer : layers) chosen.push_back(layer.widths.back());
    return chosen;
  }
  // Costs in units of the bits above each layer's smallest width.
  const auto unit = static_cast<std::int64_t>(std::max(1.0, std::ceil((widest - smallest) / kBudgetCells)));
  const auto capacity = static_cast<std::int64_t>(std::floor((budget_bits - smallest) / static_cast<double>(unit)));
  std::vector<std::vector<std::int64_t>> cost(layers.size());
  for (size_t l = 0; l < layers.size(); ++l) {
    for (int bits : layers[l].widths) {
      const std::int64_t extra = layers[l].weights * (bits - layers[l].widths.front());
      cost[l].push_back((extra + unit - 1) / unit);
    }
  }
  // error[b]: the least error of the layers so far within b units; pick[l][b]: layer l's width there.
  std::vector<double> error(capacity + 1, 0.0);
  std::vector<std::vector<std::uint8_t>> pick(layers.size(), std::vector<std::uint8_t>(capacity + 1, 0));
  for (size_t l = 0; l < layers.size(); ++l) {
    std::vector<double> next(capacity + 1, std::numeric_limits<double>::infinity());
    for (std::int64_t b = 0; b <= capacity; ++b) {
      for (size_t k = layers[l].widths.size(); k-- > 0;) {  // widest first: it keeps ties
        if (cost[l][k] > b) continue;
        const double total = error[b - cost[l][k]] + layers[l].errors[k];
        if (total < next[b]) {
          next[b] = total;
          pick[l][b] = static_cast<std::uint8_t>(k);
        }
      }
    }
    error = std::move(next);
  }
  chosen.assign(layers.size(), 0);
  for (std::int64_t b = capacity, l = static_cast<std::int64_t>(layers.size()) - 1; l >= 0; --l) {
    const size_t k = pick[l][b];
    chosen[l] = layers[l].widths[k];
    b -= cost[l][k];
  }
  return chosen;
}

}  // namespace yq
