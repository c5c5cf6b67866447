#include "compiler/quant/quantizer.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "compiler/ref/arithmetic.hpp"
#include "compiler/quant/lut_builder.hpp"
#include "compiler/quant/requant_derivation.hpp"
#include "compiler/util/error.hpp"

namespace yq {

namespace {

std::vector<double> weight_scales(const at::Tensor& weight, int bits, bool per_channel, ScaleForm form) {
  const int channels = static_cast<int>(weight.size(0));
  const at::Tensor max_abs = per_channel ? weight.abs().reshape({channels, -1}).amax(1).to(at::kDouble)
                                         : weight.abs().max().to(at::kDouble).expand({channels}).contiguous();
  const double max_code = arith::max_code(bits);
  std::vector<double> scales(channels);
  for (int c = 0; c < channels; ++c) {
    const double m = max_abs[c].item<double>();
    double scale = m > 0 ? m / max_code : 1.0;
    if (form == ScaleForm::PowerOfTwo) scale = power_of_two_at_least(scale);
    scales[c] = scale;
  }
  return scales;
}

void quantize_weights(QuantConv& conv, const at::Tensor& weight) {
  const at::Tensor w = weight.to(at::kDouble).contiguous();
  const double* data = w.data_ptr<double>();
  const int channels = static_cast<int>(w.size(0));
  const int64_t per_channel = w.numel() / channels;
  const std::int64_t max_code = arith::max_code(conv.weight_bits);
  conv.weights.resize(static_cast<size_t>(w.numel()));
  for (int c = 0; c < channels; ++c) {
    for (int64_t k = 0; k < per_channel; ++k) {
      const std::int64_t q = std::llround(data[c * per_channel + k] / conv.weight_scales[c]);
      conv.weights[c * per_channel + k] = static_cast<std::int16_t>(std::clamp(q, -max_code, max_code));
    }
  }
}

void quantize_bias(QuantConv& conv, const at::Tensor& bias, const CodeFormat& input) {
  const at::Tensor b = bias.to(at::kDouble).contiguous();
  const int channels = static_cast<int>(b.numel());
  const size_t per_channel = conv.weights.size() / channels;
  conv.bias.resize(channels);
  for (int c = 0; c < channels; ++c) {
    std::int64_t weight_sum = 0;
    for (size_t k = 0; k < per_channel; ++k) weight_sum += conv.weights[c * per_channel + k];
    const double accumulator_scale = input.scale * conv.weight_scales[c];
    conv.bias[c] = std::llround(b.data_ptr<double>()[c] / accumulator_scale) - input.zero * weight_sum;
  }
}

void certify(QuantConv& conv, const Node& node, int input_bits, const QuantSettings& settings) {
  conv.worst_case_acc = worst_case_accumulator(conv, node.channels, input_bits);
  conv.acc_bits = signed_bits_for(conv.worst_case_acc);
  std::int64_t largest_multiplier = 0;
  for (const Requant& r : conv.requant) largest_multiplier = std::max(largest_multiplier, r.multiplier);
  const int product_bits = conv.acc_bits + signed_bits_for(largest_multiplier);
  if (conv.acc_bits > settings.acc_bits_limit) {
    throw Error("layer " + node.name + " needs a " + std::to_string(conv.acc_bits) +
                "-bit accumulator (worst case " + std::to_string(conv.worst_case_acc) + "), above the limit of " +
                std::to_string(settings.acc_bits_limit) + " bits");
  }
  if (product_bits > 64) {
    throw Error("layer " + node.name + ": accumulator times multiplier needs " + std::to_string(product_bits) +
                " bits, above 64");
  }
}

// In pow2 form every ratio must be a power of two; the image's scale (1/255)
// is not, so a convolution reading it works with the power of two nearest
// below the input scale and folds the remainder into its float weights.
std::pair<CodeFormat, double> power_of_two_input(const CodeFormat& input, ScaleForm form) {
  if (form != ScaleForm::PowerOfTwo) return {input, 1.0};
  CodeFormat folded = input;
  folded.scale = std::exp2(std::floor(std::log2(input.scale)));
  return {folded, input.scale / folded.scale};
}

QuantConv quantize_conv(const Model& fused, const Node& node, const CodeFormat& real_input, const TensorFormats& formats,
                        int weight_bits, const QuantSettings& settings, ScaleForm form) {
  QuantConv conv;
  conv.weight_bits = weight_bits;
  const auto [input, weight_factor] = power_of_two_input(real_input, form);
  const at::Tensor weight = fused.weight(node.name + ".weight") * weight_factor;
  conv.weight_scales = weight_scales(weight, weight_bits, settings.per_channel, form);
  quantize_weights(conv, weight);
  quantize_bias(conv, fused.weight(node.name + ".bias"), input);
  conv.pre = node.silu ? formats.pre : formats.out;
  for (int c = 0; c < node.channels; ++c) {
    conv.requant.push_back(derive_requant(input.scale * conv.weight_scales[c] / conv.pre.scale, form, settings.multiplier_bits));
  }
  certify(conv, node, input.bits, settings);
  return conv;
}

}  // namespace

int signed_bits_for(std::int64_t magnitude) {
  int bits = 1;
  while (bits < 63 && (std::int64_t{1} << (bits - 1)) <= magnitude) ++bits;
  return bits;
}

std::int64_t worst_case_accumulator(const QuantConv& conv, int channels_out, int input_bits) {
  const std::int64_t max_input = std::int64_t{1} << (input_bits - 1);
  const size_t per_channel = conv.weights.size() / channels_out;
  std::int64_t worst = 0;
  for (int c = 0; c < channels_out; ++c) {
    std::int64_t sum_abs = 0;
    for (size_t k = 0; k < per_channel; ++k) sum_abs += std::abs(static_cast<std::int64_t>(conv.weights[c * per_channel + k]));
    worst = std::max(worst, std::abs(conv.bias[c]) + sum_abs * max_input);
  }
  return worst;
}

QuantModel quantize_model(const Model& fused, const std::vector<TensorFormats>& formats, const NodeBits& bits,
                          const QuantSettings& settings) {
  if (!fused.info.bn_fused) throw Error("quantization needs the BN-fused model (stage_2)");
  const ScaleForm form = settings.scale_form;
  QuantModel q;
  q.info = fused.info;
  q.graph = fused.graph;
  q.settings = settings;
  q.nodes.resize(q.graph.nodes.size());
  for (size_t i = 0; i < q.graph.nodes.size(); ++i) {
    const Node& node = q.graph.nodes[i];
    QuantNode& qn = q.nodes[i];
    qn.out = formats[i].out;
    if (node.op == OpKind::Conv) {
      qn.conv = quantize_conv(fused, node, formats[node.inputs[0]].out, formats[i], bits.weight[i], settings, form);
      if (node.silu) {
        qn.conv.silu_lut = static_cast<int>(q.luts.size());
        q.luts.push_back(build_silu_lut(node.name + ".silu", qn.conv.pre, qn.out));
      }
    } else if (node.op == OpKind::Add) {
      const double ra = formats[node.inputs[0]].out.scale / qn.out.scale;
      const double rb = formats[node.inputs[1]].out.scale / qn.out.scale;
      const auto [a, b] = derive_shared_requant(ra, rb, form, settings.multiplier_bits);
      qn.input_requant = {a, b};
    } else if (node.op == OpKind::Concat) {
      for (int input : node.inputs) {
        const double ratio = formats[input].out.scale / qn.out.scale;
        qn.input_requant.push_back(ratio == 1.0 ? Requant{1, 0} : derive_requant(ratio, form, settings.multiplier_bits));
      }
    }
  }
  for (const DetectLevel& level : q.graph.levels) {
    const std::string prefix = "head.p" + std::to_string(3 + static_cast<int>(q.head.size()));
    QuantHeadLevel head;
    head.sigmoid_lut = static_cast<int>(q.luts.size());
    q.luts.push_back(build_sigmoid_lut(prefix + ".sigmoid", q.nodes[level.class_node].out));
    head.exp_lut = static_cast<int>(q.luts.size());
    q.luts.push_back(build_exp_lut(prefix + ".exp", q.nodes[level.box_node].out));
    q.head.push_back(head);
  }
  return q;
}

nlohmann::json overflow_certificate(const QuantModel& model) {
  nlohmann::json layers = nlohmann::json::array();
  int widest = 0;
  for (size_t i = 0; i < model.graph.nodes.size(); ++i) {
    const Node& node = model.graph.nodes[i];
    if (node.op != OpKind::Conv) continue;
    const QuantConv& conv = model.nodes[i].conv;
    widest = std::max(widest, conv.acc_bits);
    layers.push_back({{"layer", node.name},
                      {"weight_bits", conv.weight_bits},
                      {"input_bits", model.nodes[node.inputs[0]].out.bits},
                      {"worst_case_accumulator", conv.worst_case_acc},
                      {"accumulator_bits", conv.acc_bits},
                      {"margin_bits", model.settings.acc_bits_limit - conv.acc_bits}});
  }
  return {{"accumulator_bits", widest}, {"limit_bits", model.settings.acc_bits_limit}, {"layers", layers}};
}

}  // namespace yq
