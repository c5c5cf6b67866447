// stage_6's work: from the fused float model and the chosen tensor formats to
// the integers of docs/ARITHMETIC.md.
//   weights   per output channel (or per tensor) symmetric, narrow range,
//             scale = max|W| / (2^(W-1) - 1) (a power of two at least that in pow2 form)
//   biases    lround(b / (s_in s_w)) - zero_in * sum(W_q)
//   requant   (M, S) per output channel from s_in s_w / s_pre
//   tables    SiLU per convolution; sigmoid and exp per detect level
// and the overflow certificate: per convolution, the worst-case accumulator
// |bias| + sum|W_q| * 2^(bits_in - 1) over every code the input can hold,
// the bits it needs and the margin to the limit; a layer over the limit is
// refused with an error, never wrapped.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include "compiler/ir/model.hpp"
#include "compiler/quant/activation_formats.hpp"
#include "compiler/quant/quant_model.hpp"

namespace yq {

QuantModel quantize_model(const Model& fused, const std::vector<TensorFormats>& formats, const NodeBits& bits,
                          const QuantSettings& settings);

// Worst-case accumulator magnitude of one convolution and the signed bits it needs.
std::int64_t worst_case_accumulator(const QuantConv& conv, int channels_out, int input_bits);
int signed_bits_for(std::int64_t magnitude);

nlohmann::json overflow_certificate(const QuantModel& model);

}  // namespace yq
