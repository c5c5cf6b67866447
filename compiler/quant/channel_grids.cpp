#include "compiler/quant/channel_grids.hpp"

#include <ATen/ATen.h>

#include <cmath>

#include "compiler/float/float_model.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/progress.hpp"

namespace yq {

namespace {

// Adds each channel of a [1, C, H, W] tensor to its histogram.
void add_channels(const at::Tensor& tensor, std::vector<AbsHistogram>& histograms) {
  const at::Tensor values = tensor.contiguous();
  const auto channels = static_cast<size_t>(values.size(1));
  const auto plane = static_cast<size_t>(values.size(2) * values.size(3));
  if (histograms.empty()) histograms.resize(channels);
  for (size_t c = 0; c < channels; ++c) histograms[c].add(values.data_ptr<float>() + c * plane, plane);
}

// One symmetric grid per channel: scale = clip / (2^(bits-1) - 1).
Grid channel_grid(const std::vector<AbsHistogram>& histograms, int bits, const RangeOptions& range) {
  Grid grid{bits, 1.0, 0};
  for (const AbsHistogram& h : histograms) {
    const double clip = select_clip(h, bits, range);
    grid.channel_scales.push_back(clip > 0 ? clip / (std::exp2(bits - 1) - 1) : 1.0);
  }
  return grid;
}

}  // namespace

std::vector<size_t> channel_grid_nodes(const Graph& graph, const std::vector<std::string>& names) {
  std::vector<size_t> nodes;
  for (const std::string& name : names) {
    const auto index = static_cast<size_t>(graph.index_of(name));
    const Node& node = graph.nodes[index];
    if (node.op != OpKind::Conv || !node.silu) throw Error(name + " is not a SiLU convolution");
    for (const Node& reader : graph.nodes) {
      for (int input : reader.inputs) {
        if (static_cast<size_t>(input) == index && reader.op != OpKind::Conv) {
          throw Error(name + " is read by " + reader.name + ", not a convolution: its channels cannot carry scales of their own");
        }
      }
    }
    nodes.push_back(index);
  }
  return nodes;
}

std::vector<ChannelStatistics> collect_channel_statistics(const Model& fused, const std::vector<size_t>& nodes,
                                                          int count, const std::function<RgbImage(int)>& image_at,
                                                          InputSize image_size) {
  std::vector<ChannelStatistics> statistics;
  for (size_t node : nodes) statistics.push_back({node, {}, {}});
  const FloatModel model(fused);
  ProgressBar progress("channel statistics", count);
  for (int i = 0; i < count; ++i) {
    const auto observe = [&](size_t node, bool pre_activation, const at::Tensor& tensor) {
      for (ChannelStatistics& s : statistics) {
        if (s.node == node) add_channels(tensor, pre_activation ? s.pre : s.out);
      }
    };
    model.observe_all(image_to_input(letterbox(image_at(i), image_size).canvas), observe);
    progress.advance();
  }
  return statistics;
}

std::vector<FakeQuantGrids> with_channel_grids(std::vector<FakeQuantGrids> grids, const QuantModel& quant,
                                               const std::vector<ChannelStatistics>& statistics,
                                               const RangeOptions& range) {
  for (const ChannelStatistics& s : statistics) {
    grids[s.node].pre = channel_grid(s.pre, quant.nodes[s.node].conv.pre.bits, range);
    grids[s.node].out = channel_grid(s.out, quant.nodes[s.node].out.bits, range);
  }
  return grids;
}

}  // namespace yq
