// Per-channel activation grids for the float simulation
// (compiler/float/fake_quant_model.hpp): a measurement of what one scale per
// channel, instead of one per tensor, would buy for chosen SiLU
// convolutions, before building it. Such a convolution's pre-activation and
// output each get a symmetric grid per channel, its clip chosen from that
// channel's own |x| histogram (collected here from calibration images) by
// the range method the tensor grids use. Only a convolution whose output
// nothing but convolutions read is eligible: there the integer arithmetic
// could carry it without new operations (each channel's output scale folded
// into the readers' weights, w'[o][i] = w[o][i] * s_i / s, and a SiLU table
// per channel); an add, concat or slice would need a requantization per
// channel. The arithmetic has no such codes today (docs/ARITHMETIC.md).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "compiler/float/fake_quant_model.hpp"
#include "compiler/io/image.hpp"
#include "compiler/ir/model.hpp"
#include "compiler/quant/calibration.hpp"
#include "compiler/quant/quant_model.hpp"
#include "compiler/quant/range_selection.hpp"

namespace yq {

// Per channel of one convolution: |x| histograms of its pre-activation and output.
struct ChannelStatistics {
  size_t node = 0;
  std::vector<AbsHistogram> pre, out;
};

// The nodes named, each checked eligible (a SiLU convolution that only
// convolutions read); throws yq::Error naming the first that is not.
std::vector<size_t> channel_grid_nodes(const Graph& graph, const std::vector<std::string>& names);

// Per-channel statistics of `nodes` over `count` images (image_at(i),
// letterboxed to image_size) through the float model.
std::vector<ChannelStatistics> collect_channel_statistics(const Model& fused, const std::vector<size_t>& nodes,
                                                          int count, const std::function<RgbImage(int)>& image_at,
                                                          InputSize image_size);

// `grids` with each counted convolution's pre-activation and output grid
// made per channel at the widths the integer model gives them.
std::vector<FakeQuantGrids> with_channel_grids(std::vector<FakeQuantGrids> grids, const QuantModel& quant,
                                               const std::vector<ChannelStatistics>& statistics,
                                               const RangeOptions& range);

}  // namespace yq
