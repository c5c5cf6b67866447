#include "compiler/quant/zero_point_grids.hpp"

#include <algorithm>
#include <cmath>

#include "compiler/quant/activation_formats.hpp"
#include "compiler/quant/attribution.hpp"
#include "compiler/quant/range_selection.hpp"
#include "compiler/util/error.hpp"

namespace yq {

namespace {

// The groups of tensors that carry one format today: a concat and the format
// sources of its inputs when their formats are equal (shared concat scales).
std::vector<int> format_groups(const QuantModel& quant) {
  const Graph& graph = quant.graph;
  std::vector<int> parent(graph.nodes.size());
  for (size_t i = 0; i < parent.size(); ++i) parent[i] = static_cast<int>(i);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    if (graph.nodes[i].op != OpKind::Concat) continue;
    const CodeFormat& own = quant.nodes[i].out;
    for (int input : graph.nodes[i].inputs) {
      const int source = format_source(graph, input);
      const CodeFormat& theirs = quant.nodes[source].out;
      if (theirs.bits == own.bits && theirs.scale == own.scale && theirs.zero == own.zero) {
        parent[group_root(parent, source)] = group_root(parent, static_cast<int>(i));
      }
    }
  }
  std::vector<int> root(parent.size());
  for (size_t i = 0; i < parent.size(); ++i) root[i] = group_root(parent, static_cast<int>(i));
  return root;
}

}  // namespace

std::vector<std::optional<double>> silu_lower_bounds(const Graph& graph) {
  std::vector<std::optional<double>> bounds(graph.nodes.size());
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    const auto bounded = [&] {
      return std::all_of(node.inputs.begin(), node.inputs.end(), [&](int input) { return bounds[input].has_value(); });
    };
    switch (node.op) {
      case OpKind::Input: break;
      case OpKind::Conv:
        if (node.silu) bounds[i] = kSiluMinimum;
        break;
      case OpKind::Slice:
      case OpKind::MaxPool:
      case OpKind::Upsample:
      case OpKind::Concat:
        if (bounded()) {
          double least = 0;
          for (int input : node.inputs) least = std::min(least, *bounds[input]);
          bounds[i] = least;
        }
        break;
      case OpKind::Add:
        if (bounded()) {
          double sum = 0;
          for (int input : node.inputs) sum += *bounds[input];
          bounds[i] = sum;
        }
        break;
    }
  }
  return bounds;
}

Grid asymmetric_grid(double lower, double upper, int bits) {
  if (!(lower <= 0 && upper > 0)) throw Error("an asymmetric grid needs lower <= 0 < upper");
  const double scale = (upper - lower) / (std::exp2(bits) - 1);
  const int zero = static_cast<int>(-std::exp2(bits - 1) - std::floor(lower / scale + 0.5));
  return {bits, scale, zero};
}

std::vector<FakeQuantGrids> zero_point_grids(const QuantModel& quant, const CalibrationStatistics& statistics,
                                             ZeroPointLower lower, ZeroPointUpper upper) {
  const Graph& graph = quant.graph;
  const size_t count = graph.nodes.size();
  if (statistics.outputs.size() != count) throw Error("calibration statistics do not match the model's graph");
  std::vector<FakeQuantGrids> grids = activation_grids(quant, kActivationComponents);
  const std::vector<std::optional<double>> bounds = silu_lower_bounds(graph);
  const std::vector<int> group = format_groups(quant);

  // Per group (indexed by its root): SiLU-bounded in every member, and its ends.
  std::vector<bool> bounded(count, true);
  std::vector<double> group_lower(count, 0.0), group_upper(count, 0.0);
  for (size_t i = 0; i < count; ++i) {
    if (inherits_format(graph.nodes[i].op)) continue;
    const int g = group[i];
    if (!bounds[i]) {
      bounded[g] = false;
      continue;
    }
    const AbsHistogram& histogram = statistics.outputs[i];
    const double low = lower == ZeroPointLower::SiluBound ? *bounds[i] : std::min(0.0, histogram.min);
    group_lower[g] = std::min(group_lower[g], low);
  }
  for (size_t i = 0; i < count; ++i) {
    if (inherits_format(graph.nodes[i].op) || !bounds[i]) continue;
    const int g = group[i];
    const CodeFormat& today = quant.nodes[i].out;
    const double high = upper == ZeroPointUpper::Kept ? today.scale * (std::exp2(today.bits - 1) - 1)
                                                      : select_asymmetric_clip(statistics.outputs[i], group_lower[g], today.bits);
    group_upper[g] = std::max(group_upper[g], high);
  }
  for (size_t i = 0; i < count; ++i) {
    const Node& node = graph.nodes[i];
    if (inherits_format(node.op)) {
      grids[i].out = grids[node.inputs[0]].out;
    } else if (bounds[i] && bounded[group[i]]) {
      grids[i].out = asymmetric_grid(group_lower[group[i]], group_upper[group[i]], quant.nodes[i].out.bits);
    }
  }
  return grids;
}

}  // namespace yq
