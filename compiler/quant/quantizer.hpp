// stage_6's work: from the fused float model and the chosen tensor formats to
// the integers of docs/ARITHMETIC.md.
//   weights   per output channel (or per tensor) symmetric, narrow range,
//             scale = max|W| / (2^(W-1) - 1) (a power of two at least that in pow2 form),
//             codes rounded to nearest or by GPTQ (compiler/quant/gptq.hpp)
//   biases    lround(b / (s_in s_w)) - zero_in * sum(W_q), b plus each channel's
//             mean output error over the calibration inputs with bias correction
//   GPTQ and bias correction read each convolution's float input (stage_4's
//             statistics) or, with sequential reconstruction, its input in
//             the integer model whose earlier convolutions are already
//             rounded (the calibration images run through it node by node)
//   requant   (M, S) per output channel from s_in s_w / s_pre
//   tables    SiLU per convolution; sigmoid and exp per detect level
// and the overflow certificate: per convolution, the worst-case accumulator
// |bias| + sum|W_q| * 2^(bits_in - 1) over every code the input can hold,
// the bits it needs and the margin to the limit; a layer over the limit is
// refused with an error, never wrapped.
#pragma once
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "compiler/ir/model.hpp"
#include "compiler/quant/activation_formats.hpp"
#include "compiler/quant/layer_inputs.hpp"
#include "compiler/quant/quant_model.hpp"
#include "compiler/quant/quantized_pass.hpp"

namespace yq {

// What rounding did to one convolution, measured on its calibration inputs
// (zeros without them): mean squared output error of nearest rounding and of
// the codes chosen, and the largest mean output error of a channel before
// bias correction.
struct LayerRounding {
  std::string layer;
  double nearest_error = 0;
  double error = 0;
  double largest_mean_error = 0;
};

// What GPTQ and bias correction read: stage_4's statistics of the float
// model's layer inputs and, for sequential reconstruction, the calibration
// images they were collected on (in the same order).
struct RoundingInputs {
  const LayerInputStatistics* float_inputs = nullptr;
  int images = 0;
  CalibrationInput input_at;
};

// Rounding inputs are needed for GPTQ and bias correction. With float-inputs
// reconstruction layers are rounded `threads` at a time from stage_4's
// statistics; with sequential reconstruction they are rounded in graph order,
// each from its input in the integer model built so far
// (compiler/quant/quantized_pass.hpp, images `threads` at a time). The result
// does not depend on `threads`. rounding, when given, receives one entry per
// convolution in graph order.
QuantModel quantize_model(const Model& fused, const std::vector<TensorFormats>& formats, const NodeBits& bits,
                          const QuantSettings& settings, const RoundingInputs& inputs, int threads,
                          std::vector<LayerRounding>* rounding = nullptr);

// Replaces convolution `node`'s weight and bias in `model` (the tensors named
// "<node>.weight" and "<node>.bias").
void set_conv_parameters(Model& model, const std::string& node, const at::Tensor& weight, const at::Tensor& bias);

// The real-valued weight (shaped like float_weight) and bias a quantized
// convolution computes with: codes and bias times the effective requant
// scale (multiplier and shift as derived) over the real input scale.
std::pair<at::Tensor, at::Tensor> dequantized_conv(const QuantConv& conv, const CodeFormat& input,
                                                   const at::Tensor& float_weight);

// One convolution's float weight [out, in, k, k] quantized to `bits` as
// stage_6 quantizes it with nearest rounding (per output channel or per
// tensor, symmetric, narrow range, the scale form of `settings`) and
// dequantized back to float: s_c * q.
at::Tensor nearest_dequantized_weight(const at::Tensor& weight, int bits, const QuantSettings& settings);

// Worst-case accumulator magnitude of one convolution and the signed bits it needs.
std::int64_t worst_case_accumulator(const QuantConv& conv, int channels_out, int input_bits);
int signed_bits_for(std::int64_t magnitude);

nlohmann::json overflow_certificate(const QuantModel& model);

}  // namespace yq
