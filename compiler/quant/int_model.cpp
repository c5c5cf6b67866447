#include "compiler/quant/int_model.hpp"

#include <algorithm>
#include <cmath>

#include "compiler/quant/arithmetic.hpp"
#include "compiler/quant/lut_builder.hpp"
#include "compiler/util/error.hpp"

namespace yq {

CodeTensor image_codes(const RgbImage& canvas) {
  CodeTensor t{3, canvas.height, canvas.width, std::vector<std::int32_t>(3 * static_cast<size_t>(canvas.width) * canvas.height)};
  const size_t plane = static_cast<size_t>(canvas.width) * canvas.height;
  for (size_t p = 0; p < plane; ++p) {
    for (int c = 0; c < 3; ++c) t.codes[c * plane + p] = static_cast<std::int32_t>(canvas.pixels[p * 3 + c]) - 128;
  }
  return t;
}

IntegerModel::IntegerModel(const QuantModel& model, int threads)
    : model_(model), threads_(threads), conv_requant_(model.nodes.size()) {
  for (size_t i = 0; i < model.nodes.size(); ++i) {
    for (const Requant& r : model.nodes[i].conv.requant) {
      conv_requant_[i].multipliers.push_back(r.multiplier);
      conv_requant_[i].shifts.push_back(r.shift);
    }
  }
}

CodeTensor IntegerModel::run_conv(int index, const CodeTensor& input, CodeTensor* pre_activation) const {
  const Node& node = model_.graph.nodes[index];
  const QuantConv& q = model_.nodes[index].conv;
  IntConv conv;
  conv.in_channels = node.in_channels;
  conv.out_channels = node.channels;
  conv.kernel = node.kernel;
  conv.stride = node.stride;
  conv.pad = node.pad;
  conv.pad_code = model_.nodes[node.inputs[0]].out.zero;
  conv.weights = q.weights;
  conv.bias = q.bias;
  conv.multipliers = conv_requant_[index].multipliers;
  conv.shifts = conv_requant_[index].shifts;
  conv.out_bits = q.pre.bits;
  CodeTensor pre = conv2d(input, conv, threads_);
  if (q.silu_lut < 0) return pre;
  CodeTensor out{pre.channels, pre.height, pre.width, apply_lut(pre.codes, model_.luts[q.silu_lut].values,
                                                                model_.luts[q.silu_lut].index_bits,
                                                                model_.luts[q.silu_lut].knot_bits)};
  if (pre_activation) *pre_activation = std::move(pre);
  return out;
}

CodeTensor IntegerModel::run_add(int index, const CodeTensor& a, const CodeTensor& b) const {
  const QuantNode& q = model_.nodes[index];
  return {a.channels, a.height, a.width,
          add(a.codes, b.codes, q.input_requant[0].multiplier, q.input_requant[1].multiplier, q.input_requant[0].shift,
              q.out.bits)};
}

CodeTensor IntegerModel::run_concat(int index, const std::vector<const CodeTensor*>& inputs) const {
  const QuantNode& q = model_.nodes[index];
  CodeTensor out{0, inputs[0]->height, inputs[0]->width, {}};
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::vector<std::int32_t> part = rescale(inputs[i]->codes, q.input_requant[i].multiplier,
                                                           q.input_requant[i].shift, q.out.bits);
    out.codes.insert(out.codes.end(), part.begin(), part.end());
    out.channels += inputs[i]->channels;
  }
  return out;
}

std::vector<CodeTensor> IntegerModel::run_all(const RgbImage& canvas, std::vector<CodeTensor>* pre_activations) const {
  const auto& nodes = model_.graph.nodes;
  std::vector<CodeTensor> outputs(nodes.size());
  if (pre_activations) pre_activations->assign(nodes.size(), CodeTensor{});
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& node = nodes[i];
    auto in = [&](size_t k) -> const CodeTensor& { return outputs[node.inputs[k]]; };
    switch (node.op) {
      case OpKind::Input: outputs[i] = image_codes(canvas); break;
      case OpKind::Conv:
        outputs[i] = run_conv(static_cast<int>(i), in(0), pre_activations ? &(*pre_activations)[i] : nullptr);
        break;
      case OpKind::Slice: {
        const CodeTensor& x = in(0);
        const size_t plane = static_cast<size_t>(x.height) * x.width;
        outputs[i] = {node.channels, x.height, x.width,
                      std::vector<std::int32_t>(x.codes.begin() + node.channel_begin * plane,
                                                x.codes.begin() + (node.channel_begin + node.channels) * plane)};
        break;
      }
      case OpKind::Add: outputs[i] = run_add(static_cast<int>(i), in(0), in(1)); break;
      case OpKind::Concat: {
        std::vector<const CodeTensor*> parts;
        for (int k : node.inputs) parts.push_back(&outputs[k]);
        outputs[i] = run_concat(static_cast<int>(i), parts);
        break;
      }
      case OpKind::MaxPool: outputs[i] = maxpool(in(0), node.kernel, node.pad); break;
      case OpKind::Upsample: outputs[i] = upsample_nearest2x(in(0)); break;
    }
  }
  return outputs;
}

std::int32_t score_threshold_code(double conf) {
  return static_cast<std::int32_t>(std::lround(std::ldexp(conf, kScoreFractionBits)));
}

namespace {

// DFL distance of one side in 1/16 pixel: sum_j j e_j * stride * 16 / sum_j e_j, rounded.
std::int64_t dfl_distance(const std::int32_t* bins, int reg_max, size_t plane, const Lut& exp_table, int stride) {
  std::int32_t max_code = bins[0];
  for (int j = 1; j < reg_max; ++j) max_code = std::max(max_code, bins[j * plane]);
  std::int64_t numerator = 0, denominator = 0;
  for (int j = 0; j < reg_max; ++j) {
    const std::int64_t distance = max_code - bins[j * plane];
    const std::int64_t e = distance < static_cast<std::int64_t>(exp_table.values.size()) ? exp_table.values[distance] : 0;
    numerator += j * e;
    denominator += e;
  }
  const std::int64_t scaled = numerator * stride * (1 << kBoxFractionBits);
  return (scaled + denominator / 2) / denominator;
}

}  // namespace

std::vector<IntDetection> decode_int_head(const QuantModel& model, const std::vector<CodeTensor>& outputs,
                                          std::int32_t score_threshold) {
  std::vector<IntDetection> candidates;
  int anchor_base = 0;
  const int num_classes = model.info.arch.num_classes, reg_max = model.info.arch.reg_max;
  for (size_t l = 0; l < model.graph.levels.size(); ++l) {
    const DetectLevel& level = model.graph.levels[l];
    const CodeTensor& box = outputs[level.box_node];
    const CodeTensor& cls = outputs[level.class_node];
    const Lut& sigmoid = model.luts[model.head[l].sigmoid_lut];
    const Lut& exp_table = model.luts[model.head[l].exp_lut];
    const size_t plane = static_cast<size_t>(cls.height) * cls.width;
    for (int y = 0; y < cls.height; ++y) {
      for (int x = 0; x < cls.width; ++x) {
        const size_t cell = static_cast<size_t>(y) * cls.width + x;
        int best = 0;
        for (int c = 1; c < num_classes; ++c) {
          if (cls.codes[c * plane + cell] > cls.codes[best * plane + cell]) best = c;
        }
        const std::int32_t score = static_cast<std::int32_t>(lut_value(sigmoid, cls.codes[best * plane + cell]));
        if (score <= score_threshold) continue;
        std::int64_t d[4];
        for (int side = 0; side < 4; ++side) {
          d[side] = dfl_distance(&box.codes[side * reg_max * plane + cell], reg_max, plane, exp_table, level.stride);
        }
        const std::int64_t half = 1 << (kBoxFractionBits - 1);
        const std::int64_t cx = (2 * x + 1) * level.stride * half, cy = (2 * y + 1) * level.stride * half;
        candidates.push_back({static_cast<std::int32_t>(cx - d[0]), static_cast<std::int32_t>(cy - d[1]),
                              static_cast<std::int32_t>(cx + d[2]), static_cast<std::int32_t>(cy + d[3]), score, best,
                              anchor_base + static_cast<int>(cell)});
      }
    }
    anchor_base += static_cast<int>(plane);
  }
  return candidates;
}

}  // namespace yq
