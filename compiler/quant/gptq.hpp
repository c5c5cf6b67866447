// GPTQ rounding (Frantar et al., "GPTQ", 2022; the Optimal Brain Quantizer
// in closed form) of one convolution's weights, given its input statistics
// (compiler/quant/layer_inputs.hpp). Each output channel's row w minimizes
// the output error (w - s q) H (w - s q)^T, H the damped second moment of the
// layer's im2col inputs (H + 0.01 mean(diag H) I), over symmetric
// narrow-range codes q with the channel's existing scale s: columns are
// rounded to nearest one at a time, in order of decreasing diag H, and each
// column's error, divided by the diagonal of the upper Cholesky factor U of
// H^-1, is taken off the columns not yet rounded along U's row (in blocks
// of 128 columns, the rest updated once per block). Columns whose input is
// always zero keep nearest rounding. Eigen, single-threaded: the same bytes
// on every machine thread count.
//
// Bias correction: the mean output error of each channel over the
// calibration rows, sum_k W[c,k] mean(x_k) - s_c q[c,k] mean(x'_k), which
// stage_6 adds to the float bias before it is quantized: x the float model's
// input and x' the input the quantized layer reads (x itself, or the integer
// model's with sequential reconstruction: then the correction also takes
// back the mean shift the quantized layers before it brought).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "compiler/quant/layer_inputs.hpp"

namespace yq {

// The float weights of one convolution as rows, [channels][width].
struct WeightRows {
  int channels = 0;
  int width = 0;
  std::vector<double> values;
};

constexpr double kGptqDamping = 0.01;  // of the mean diagonal of H
constexpr int kGptqBlock = 128;
constexpr double kWeightClipStep = 0.02;  // the clip search's grid: 1 - 0.02 k of the largest |weight|
constexpr int kWeightClipSteps = 25;      // down to 0.50

// The column order and the upper Cholesky factor of H^-1 ([width][width],
// column-major) of one layer's inputs: computed once, whatever the scales.
struct GptqFactor {
  int width = 0;
  std::vector<int> order;
  std::vector<double> u;
};

// Throws yq::Error when the damped H is not positive definite even after
// more damping.
GptqFactor gptq_factor(const ConvInputStatistics& inputs);

// Codes [channels][width] within +-(2^(bits-1) - 1).
std::vector<std::int16_t> gptq_round(const WeightRows& weights, const std::vector<double>& scales, int bits,
                                     const GptqFactor& factor);

// Asymmetric reconstruction's target: the weights W* = W C (H + damping)^-1
// whose layer, on the quantized model's input x, comes closest to the float
// layer on the float model's input x_f (least squares over the sampled
// rows; C = sum x_f x^T, H = sum x x^T, the damping GPTQ's): W* takes back
// what the quantized predecessors changed in the input, as far as a linear
// map of it can. Needs `inputs.cross`.
WeightRows compensated_weights(const WeightRows& weights, const ConvInputStatistics& inputs);

// Codes on given scales, by nearest rounding or GPTQ.
using RoundingFunction = std::function<std::vector<std::int16_t>(const std::vector<double>& scales)>;

struct RoundedWeights {
  std::vector<double> scales;
  std::vector<std::int16_t> codes;
};

// Weight clip search (--weight-clip mse): per output channel, the scale
// alpha * max_scale, alpha in 1, 0.98, ..., 0.50, whose codes (by `round`,
// clamped to the top code, so a smaller scale clips the largest weights)
// have the least output error (W - s q)_c G (W - s q)_c^T (ties keep the
// larger scale); then each channel's scale refit to its codes in closed form,
// s = w G q^T / q G q^T, where that lowers the error further.
RoundedWeights clip_searched_rounding(const WeightRows& weights, const std::vector<double>& max_scales,
                                      const ConvInputStatistics& inputs, const RoundingFunction& round);

// Round to nearest (half away from zero), clamped: the codes without GPTQ.
std::vector<std::int16_t> nearest_round(const WeightRows& weights, const std::vector<double>& scales, int bits);

// Per channel: sum_k W[c,k] float_mean_k - s_c q[c,k] quantized_mean_k.
std::vector<double> mean_output_error(const WeightRows& weights, const std::vector<std::int16_t>& codes,
                                      const std::vector<double>& scales, const std::vector<double>& float_mean,
                                      const std::vector<double>& quantized_mean);

// Per channel, summed over the sampled rows: (W - s q)_c G (W - s q)_c^T.
std::vector<double> channel_output_errors(const WeightRows& weights, const std::vector<std::int16_t>& codes,
                                          const std::vector<double>& scales, const ConvInputStatistics& inputs);

// Mean over the sampled rows of the squared output error summed over
// channels, (1/rows) sum_c (W - s q)_c G (W - s q)_c^T with the undamped Gram
// matrix G: what GPTQ lowers.
double mean_squared_output_error(const WeightRows& weights, const std::vector<std::int16_t>& codes,
                                 const std::vector<double>& scales, const ConvInputStatistics& inputs);

}  // namespace yq
