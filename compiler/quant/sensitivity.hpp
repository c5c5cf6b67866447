// Mixed precision of weights under a budget (stage_5 with --weight-budget).
//
// Sensitivity: for every convolution L and candidate weight width w, the
// error of the network's output when only L's weights are quantized at w
// (as stage_6 quantizes them with nearest rounding, dequantized back to
// float) and everything else is float:
//   e(L, w) = mean over images of  sum over the six head tensors (box and
//             class logits of each level) of ||y_{L,w} - y||^2 / ||y||^2.
// Every node's float output is computed once per image; for L only L and
// the nodes depending on it are recomputed (FloatModel::rerun_from). Layers
// run in parallel, each on one LibTorch thread, and errors are summed in
// image order: the same numbers for any thread count.
//
// Choice: minimize sum_L e(L, w_L) subject to sum_L weights_L * w_L <= budget
// bits, a multiple-choice knapsack solved exactly by dynamic programming
// over the bits above every layer's smallest width, in units of
// ceil(range / 2^18) bits: each layer's cost is rounded up and the spare
// budget down, so the choice is always within the budget. Of equal errors
// the recursion keeps the wider width: the same choice on every run.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/io/image.hpp"
#include "compiler/ir/model.hpp"
#include "compiler/quant/quant_settings.hpp"

namespace yq {

struct LayerSensitivity {
  int node = -1;
  std::string layer;
  std::int64_t weights = 0;    // elements of the weight tensor
  std::vector<int> widths;     // candidate weight bits, ascending
  std::vector<double> errors;  // per width
};

// out * in * k * k of a convolution.
std::int64_t conv_weight_count(const Node& node);

// 4, 6 and 8 below max_bits, then max_bits (the run's --wbits or the layer's override).
std::vector<int> candidate_widths(int max_bits);

// One entry per convolution in graph order, its errors zero;
// max_weight_bits per node (bits.json's "weight").
std::vector<LayerSensitivity> weight_layers(const Graph& graph, const std::vector<int>& max_weight_bits);

// Throws the error of choose_weight_widths when no choice fits the budget.
void check_weight_budget(const std::vector<LayerSensitivity>& layers, const WeightBudget& budget);

// Fills every layer's errors; canvases are letterboxed images.
void measure_sensitivity(const Model& fused, const QuantSettings& settings, const std::vector<RgbImage>& canvases,
                         int threads, std::vector<LayerSensitivity>& layers);

// The chosen width of each layer. A budget at or above every layer at its
// widest keeps the widest; a budget below every layer at its smallest is
// a yq::Error naming the smallest achievable (average bits and bytes).
std::vector<int> choose_weight_widths(const std::vector<LayerSensitivity>& layers, const WeightBudget& budget);

}  // namespace yq
