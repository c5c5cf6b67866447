#include "compiler/ref/int_model.hpp"

#include <algorithm>
#include <cmath>
#include <thread>

#include "compiler/ref/arithmetic.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/parallel.hpp"

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

CodeTensor IntegerModel::run_conv(int index, const CodeTensor& input, CodeTensor* pre_activation, int threads,
                                  int pad) const {
  const Node& node = model_.graph.nodes[index];
  const QuantConv& q = model_.nodes[index].conv;
  IntConv conv;
  conv.in_channels = node.in_channels;
  conv.out_channels = node.channels;
  conv.kernel = node.kernel;
  conv.stride = node.stride;
  conv.pad = pad;
  conv.pad_code = model_.nodes[node.inputs[0]].out.zero;
  conv.weights = q.weights;
  conv.bias = q.bias;
  conv.multipliers = conv_requant_[index].multipliers;
  conv.shifts = conv_requant_[index].shifts;
  conv.out_bits = q.pre.bits;
  CodeTensor pre = conv2d(input, conv, threads);
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

CodeTensor IntegerModel::run_node(int index, const std::vector<const CodeTensor*>& inputs, bool padded_input) const {
  const Node& node = model_.graph.nodes[index];
  const int pad = padded_input ? 0 : node.pad;
  switch (node.op) {
    case OpKind::Conv: return run_conv(index, *inputs.at(0), nullptr, threads_, pad);
    case OpKind::Add: return run_add(index, *inputs.at(0), *inputs.at(1));
    case OpKind::Concat: return run_concat(index, inputs);
    case OpKind::MaxPool: return maxpool(*inputs.at(0), node.kernel, pad);
    case OpKind::Upsample: return upsample_nearest2x(*inputs.at(0));
    default: throw Error("node " + node.name + " computes nothing");
  }
}

std::vector<CodeTensor> IntegerModel::run_all(const RgbImage& canvas, std::vector<CodeTensor>* pre_activations) const {
  return run(canvas, pre_activations, /*release_dead=*/false, threads_);
}

std::vector<CodeTensor> IntegerModel::run_heads(const RgbImage& canvas) const {
  return run(canvas, nullptr, /*release_dead=*/true, threads_);
}

std::vector<std::vector<CodeTensor>> IntegerModel::run_heads_batch(const std::vector<RgbImage>& canvases) const {
  if (canvases.size() == 1) return {run_heads(canvases.front())};
  const int threads = threads_ > 0 ? threads_ : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::vector<CodeTensor>> outputs(canvases.size());
  parallel_for_each_index(canvases.size(), std::min(threads, static_cast<int>(canvases.size())), [&](size_t n) {
    outputs[n] = run(canvases[n], nullptr, /*release_dead=*/true, /*threads=*/1);
  });
  return outputs;
}

std::vector<CodeTensor> IntegerModel::run(const RgbImage& canvas, std::vector<CodeTensor>* pre_activations,
                                          bool release_dead, int threads) const {
  const auto& nodes = model_.graph.nodes;
  const std::vector<bool> is_head = model_.graph.head_predictions();
  const std::vector<size_t> last_consumer = model_.graph.last_consumers();
  std::vector<CodeTensor> outputs(nodes.size());
  if (pre_activations) pre_activations->assign(nodes.size(), CodeTensor{});
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& node = nodes[i];
    auto in = [&](size_t k) -> const CodeTensor& { return outputs[node.inputs[k]]; };
    switch (node.op) {
      case OpKind::Input: outputs[i] = image_codes(canvas); break;
      case OpKind::Conv:
        outputs[i] = run_conv(static_cast<int>(i), in(0), pre_activations ? &(*pre_activations)[i] : nullptr, threads,
                              node.pad);
        break;
      case OpKind::Slice: {
        const CodeTensor& x = in(0);
        const size_t plane = static_cast<size_t>(x.height) * x.width;
        outputs[i] = {node.channels, x.height, x.width,
                      std::vector<std::int32_t>(x.codes.begin() + node.channel_begin * plane,
                                                x.codes.begin() + (node.channel_begin + node.channels) * plane)};
        break;
      }
      default: {
        std::vector<const CodeTensor*> inputs;
        for (int k : node.inputs) inputs.push_back(&outputs[k]);
        outputs[i] = run_node(static_cast<int>(i), inputs, /*padded_input=*/false);
        break;
      }
    }
    if (!release_dead) continue;
    for (int k : node.inputs) {
      if (last_consumer[k] == i && !is_head[k]) outputs[k] = CodeTensor{};
    }
  }
  return outputs;
}

}  // namespace yq
