#include "compiler/quant/quantizer.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <tuple>

#include "compiler/ref/arithmetic.hpp"
#include "compiler/quant/lut_builder.hpp"
#include "compiler/quant/requant_derivation.hpp"
#include "compiler/quant/gptq.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/parallel.hpp"
#include "compiler/util/progress.hpp"

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

std::vector<double> row_scales(const WeightRows& rows, int bits, const QuantSettings& settings) {
  const at::Tensor values =
      at::from_blob(const_cast<double*>(rows.values.data()), {rows.channels, rows.width}, at::kDouble);
  return weight_scales(values, bits, settings.per_channel, settings.scale_form);
}

void quantize_bias(QuantConv& conv, const std::vector<double>& bias, const CodeFormat& input) {
  const int channels = static_cast<int>(bias.size());
  const size_t per_channel = conv.weights.size() / channels;
  conv.bias.resize(channels);
  for (int c = 0; c < channels; ++c) {
    std::int64_t weight_sum = 0;
    for (size_t k = 0; k < per_channel; ++k) weight_sum += conv.weights[c * per_channel + k];
    const double accumulator_scale = input.scale * conv.weight_scales[c];
    conv.bias[c] = std::llround(bias[c] / accumulator_scale) - input.zero * weight_sum;
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

std::vector<double> to_doubles(const at::Tensor& tensor) {
  const at::Tensor t = tensor.to(at::kDouble).contiguous();
  return {t.data_ptr<double>(), t.data_ptr<double>() + t.numel()};
}

// A convolution's float weights (times the pow2 input fold), their scales
// and float bias, before rounding.
struct ConvToRound {
  int node = -1;
  CodeFormat input;      // as the integer convolution reads it
  double input_fold = 1; // real input = input_fold * (input.scale (code - zero))
  WeightRows weights;
  std::vector<double> scales;
  std::vector<double> bias;
  std::vector<std::int16_t> codes;  // filled by round_conv
  LayerRounding report;
};

ConvToRound prepare_conv(const Model& fused, int index, const CodeFormat& real_input, int weight_bits,
                         const QuantSettings& settings) {
  const Node& node = fused.graph.nodes[index];
  ConvToRound conv;
  conv.node = index;
  std::tie(conv.input, conv.input_fold) = power_of_two_input(real_input, settings.scale_form);
  const at::Tensor weight = fused.weight(node.name + ".weight") * conv.input_fold;
  conv.scales = weight_scales(weight, weight_bits, settings.per_channel, settings.scale_form);
  conv.weights = {node.channels, static_cast<int>(weight.numel() / node.channels), to_doubles(weight)};
  conv.bias = to_doubles(fused.weight(node.name + ".bias"));
  conv.report.layer = node.name;
  return conv;
}

// Codes for `target` (the float weights, or asymmetric reconstruction's
// compensated ones) by the chosen rounding (on each channel's scale from the
// clip search where it runs: QuantSettings::clip_searches), then (with bias
// correction) each channel's mean output error added to its float bias: the
// float layer on its float input against the rounded layer on the input it
// reads (`inputs`: the float input too, or the integer model's). Inputs are
// read in the fold's units: x / input_fold.
void round_conv(ConvToRound& conv, const WeightRows& target, int weight_bits, const QuantSettings& settings,
                const ConvInputStatistics* float_inputs, const ConvInputStatistics* inputs) {
  const std::vector<double> max_scales = conv.scales;
  const std::vector<std::int16_t> nearest = nearest_round(target, max_scales, weight_bits);
  conv.codes = nearest;
  if (!inputs) return;
  const bool gptq = settings.gptq_rounds(weight_bits);
  const GptqFactor factor = gptq ? gptq_factor(*inputs) : GptqFactor{};
  const RoundingFunction round = [&](const std::vector<double>& scales) {
    return gptq ? gptq_round(target, scales, weight_bits, factor) : nearest_round(target, scales, weight_bits);
  };
  if (settings.clip_searches(weight_bits)) {
    RoundedWeights rounded = clip_searched_rounding(target, max_scales, *inputs, round);
    conv.scales = std::move(rounded.scales);
    conv.codes = std::move(rounded.codes);
  } else if (gptq) {
    conv.codes = round(max_scales);
  }
  const double fold_squared = conv.input_fold * conv.input_fold;
  conv.report.nearest_error = mean_squared_output_error(target, nearest, max_scales, *inputs) / fold_squared;
  conv.report.error = mean_squared_output_error(target, conv.codes, conv.scales, *inputs) / fold_squared;
  const auto folded_mean = [&](const ConvInputStatistics& statistics) {
    std::vector<double> mean = statistics.mean();
    for (double& m : mean) m /= conv.input_fold;
    return mean;
  };
  const std::vector<double> mean_error =
      mean_output_error(conv.weights, conv.codes, conv.scales, folded_mean(*float_inputs), folded_mean(*inputs));
  for (size_t c = 0; c < mean_error.size(); ++c) {
    conv.report.largest_mean_error = std::max(conv.report.largest_mean_error, std::fabs(mean_error[c]));
    if (settings.bias_correction) conv.bias[c] += mean_error[c];
  }
}

// Rounds every convolution from the float model's inputs, `threads` layers
// at a time; each layer alone is single-threaded, so the codes never depend
// on the thread count.
void round_convs(std::vector<ConvToRound>& convs, const NodeBits& bits, const QuantSettings& settings,
                 const LayerInputStatistics* inputs, int threads) {
  const bool gptq = std::any_of(convs.begin(), convs.end(),
                                [&](const ConvToRound& conv) { return settings.gptq_rounds(bits.weight[conv.node]); });
  ProgressBar progress(gptq ? "              gptq" : "             round",
                       static_cast<int>(convs.size()));
  parallel_for_each_index(convs.size(), threads, progress, [&](size_t i) {
    ConvToRound& conv = convs[i];
    const ConvInputStatistics* statistics = inputs ? &inputs->convs[conv.node] : nullptr;
    round_conv(conv, conv.weights, bits.weight[conv.node], settings, statistics, statistics);
  });
}

QuantConv quantize_conv(const Node& node, ConvToRound& rounded, const TensorFormats& formats, int weight_bits,
                        const QuantSettings& settings) {
  QuantConv conv;
  conv.weight_bits = weight_bits;
  conv.weight_scales = rounded.scales;
  conv.weights = std::move(rounded.codes);
  quantize_bias(conv, rounded.bias, rounded.input);
  conv.pre = node.silu ? formats.pre : formats.out;
  for (int c = 0; c < node.channels; ++c) {
    conv.requant.push_back(derive_requant(rounded.input.scale * conv.weight_scales[c] / conv.pre.scale,
                                          settings.scale_form, settings.multiplier_bits));
  }
  certify(conv, node, rounded.input.bits, settings);
  return conv;
}

// Every tensor on its format's grid; SiLU convolutions' pre-activations too.
std::vector<FakeQuantGrids> integer_grids(const Graph& graph, const std::vector<TensorFormats>& formats) {
  const auto grid = [](const CodeFormat& f) { return Grid{f.bits, f.scale, f.zero}; };
  std::vector<FakeQuantGrids> grids(graph.nodes.size());
  for (size_t i = 0; i < grids.size(); ++i) {
    grids[i].out = grid(formats[i].out);
    if (graph.nodes[i].op == OpKind::Conv && graph.nodes[i].silu) grids[i].pre = grid(formats[i].pre);
  }
  return grids;
}

// Sequential reconstruction: each convolution in graph order is rounded
// from its input in the integer model built so far, quantized, and then run
// with its integer weights for the convolutions after it. Asymmetric: the
// rounding aims at the compensated weights (compensated_weights), not the
// float ones.
std::vector<QuantConv> reconstruct_sequentially(const Model& fused, const std::vector<TensorFormats>& formats,
                                                const NodeBits& bits, const QuantSettings& settings,
                                                const RoundingInputs& inputs, int threads,
                                                std::vector<ConvToRound>& convs) {
  if (inputs.images != inputs.float_inputs->images) {
    throw Error("sequential reconstruction: " + std::to_string(inputs.images) +
                " calibration images, but stage_4's layer input statistics are of " +
                std::to_string(inputs.float_inputs->images));
  }
  QuantizedPass pass(fused, integer_grids(fused.graph, formats), inputs.images, inputs.input_at, threads,
                     settings.reconstruction == Reconstruction::Asymmetric);
  ProgressBar progress("       reconstruct", static_cast<int>(convs.size()));
  std::vector<QuantConv> quantized;
  for (ConvToRound& conv : convs) {
    const Node& node = fused.graph.nodes[conv.node];
    const ConvInputStatistics quantized_inputs = pass.input_statistics(conv.node);
    const ConvInputStatistics& float_inputs = inputs.float_inputs->convs[conv.node];
    if (quantized_inputs.rows != float_inputs.rows) {
      throw Error("sequential reconstruction: the input rows of " + node.name + " differ from stage_4's");
    }
    if (settings.reconstruction == Reconstruction::Asymmetric) {
      const WeightRows target = compensated_weights(conv.weights, quantized_inputs);
      conv.scales = row_scales(target, bits.weight[conv.node], settings);
      round_conv(conv, target, bits.weight[conv.node], settings, &float_inputs, &quantized_inputs);
    } else {
      round_conv(conv, conv.weights, bits.weight[conv.node], settings, &float_inputs, &quantized_inputs);
    }
    quantized.push_back(quantize_conv(node, conv, formats[conv.node], bits.weight[conv.node], settings));
    const auto [weight, bias] = dequantized_conv(quantized.back(), formats[node.inputs[0]].out,
                                                 fused.weight(node.name + ".weight"));
    pass.set_conv(conv.node, weight, bias);
    progress.advance();
  }
  return quantized;
}

}  // namespace

at::Tensor nearest_dequantized_weight(const at::Tensor& weight, int bits, const QuantSettings& settings) {
  const int channels = static_cast<int>(weight.size(0));
  const std::vector<double> scales = weight_scales(weight, bits, settings.per_channel, settings.scale_form);
  const WeightRows rows{channels, static_cast<int>(weight.numel() / channels), to_doubles(weight)};
  const std::vector<std::int16_t> codes = nearest_round(rows, scales, bits);
  at::Tensor dequantized = at::empty(weight.sizes(), at::kFloat);
  float* out = dequantized.data_ptr<float>();
  for (int c = 0; c < channels; ++c) {
    for (int k = 0; k < rows.width; ++k) {
      const size_t index = static_cast<size_t>(c) * rows.width + k;
      out[index] = static_cast<float>(scales[c] * codes[index]);
    }
  }
  return dequantized;
}

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

void set_conv_parameters(Model& model, const std::string& node, const at::Tensor& weight, const at::Tensor& bias) {
  for (auto& [name, tensor] : model.weights) {
    if (name == node + ".weight") tensor = weight;
    if (name == node + ".bias") tensor = bias;
  }
}

std::pair<at::Tensor, at::Tensor> dequantized_conv(const QuantConv& conv, const CodeFormat& input,
                                                   const at::Tensor& float_weight) {
  const int channels = static_cast<int>(conv.bias.size());
  at::Tensor weight = at::empty(float_weight.sizes(), at::kFloat);
  at::Tensor bias = at::empty({channels}, at::kFloat);
  const size_t per_channel = conv.weights.size() / channels;
  float* w = weight.data_ptr<float>();
  for (int c = 0; c < channels; ++c) {
    const double requant = std::ldexp(static_cast<double>(conv.requant[c].multiplier), -conv.requant[c].shift) * conv.pre.scale;
    std::int64_t weight_sum = 0;
    for (size_t k = 0; k < per_channel; ++k) {
      weight_sum += conv.weights[c * per_channel + k];
      w[c * per_channel + k] = static_cast<float>(conv.weights[c * per_channel + k] * requant / input.scale);
    }
    bias.data_ptr<float>()[c] = static_cast<float>((conv.bias[c] + input.zero * weight_sum) * requant);
  }
  return {weight, bias};
}

QuantModel quantize_model(const Model& fused, const std::vector<TensorFormats>& formats, const NodeBits& bits,
                          const QuantSettings& settings, const RoundingInputs& inputs, int threads,
                          std::vector<LayerRounding>* rounding) {
  if (!fused.info.bn_fused) throw Error("quantization needs the BN-fused model (stage_2)");
  if (settings.needs_layer_inputs() && !inputs.float_inputs) {
    throw Error("GPTQ and bias correction need layer input statistics");
  }
  const ScaleForm form = settings.scale_form;
  std::vector<ConvToRound> convs;
  for (int index : fused.graph.conv_nodes()) {
    convs.push_back(prepare_conv(fused, index, formats[fused.graph.nodes[index].inputs[0]].out, bits.weight[index], settings));
  }
  std::vector<QuantConv> quantized;
  if (settings.needs_layer_inputs() && settings.reconstruction != Reconstruction::FloatInputs) {
    quantized = reconstruct_sequentially(fused, formats, bits, settings, inputs, threads, convs);
  } else {
    round_convs(convs, bits, settings, inputs.float_inputs, threads);
    for (ConvToRound& conv : convs) {
      quantized.push_back(quantize_conv(fused.graph.nodes[conv.node], conv, formats[conv.node], bits.weight[conv.node], settings));
    }
  }
  size_t next_conv = 0;
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
      if (rounding) rounding->push_back(convs[next_conv].report);
      qn.conv = std::move(quantized[next_conv++]);
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
  for (int i : model.graph.conv_nodes()) {
    const Node& node = model.graph.nodes[i];
    const QuantConv& conv = model.nodes[i].conv;
    layers.push_back({{"layer", node.name},
                      {"weight_bits", conv.weight_bits},
                      {"input_bits", model.nodes[node.inputs[0]].out.bits},
                      {"worst_case_accumulator", conv.worst_case_acc},
                      {"accumulator_bits", conv.acc_bits},
                      {"margin_bits", model.settings.acc_bits_limit - conv.acc_bits}});
  }
  return {{"accumulator_bits", widest_accumulator_bits(model)}, {"limit_bits", model.settings.acc_bits_limit},
          {"layers", layers}};
}

}  // namespace yq
