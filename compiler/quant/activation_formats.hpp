// stage_5's decision: the code format (bits, scale) of every tensor.
//   input            8 bits, scale 1/255, zero -128 (code = pixel - 128)
//   conv             pre-activation and output formats from their own statistics
//   add, concat      from their own statistics (inputs are rescaled to them);
//                    with concat_scales = shared, a concat and its inputs
//                    take one scale, the widest of their clips
//   slice, max-pool, upsample   the input's format (no arithmetic)
// Bits per tensor come from the settings and the per-layer overrides.
#pragma once
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "compiler/ir/graph.hpp"
#include "compiler/quant/calibration.hpp"
#include "compiler/quant/quant_model.hpp"
#include "compiler/quant/range_selection.hpp"

namespace yq {

struct NodeBits {
  std::vector<int> activation;  // per node
  std::vector<int> weight;      // per node (convs)
};

// Applies the overrides; throws yq::Error when a pattern matches no layer or
// bits fall outside 4..16.
NodeBits resolve_node_bits(const Graph& graph, const QuantSettings& settings);

// Slices, max-pools and upsamples carry their input's format.
bool inherits_format(OpKind op);
// The node whose format node i carries (i itself unless it inherits one).
int format_source(const Graph& graph, int i);
// The root of i's group in a union-find forest (parent[r] == r at a root),
// halving the path on the way.
int group_root(std::vector<int>& parent, int i);

struct TensorFormats {
  CodeFormat out;
  CodeFormat pre{0, 1.0, 0};  // SiLU convs only (bits 0 elsewhere)
  double clip = 0;       // selected clipping magnitude of out (0 where inherited)
  double pre_clip = 0;
};

std::vector<TensorFormats> select_tensor_formats(const Graph& graph, const CalibrationStatistics& statistics,
                                                 const QuantSettings& settings, const NodeBits& bits);

// Per concat/add input: its scale over the output scale and the resolution it
// loses (log2 of output scale / input scale, when positive).
nlohmann::json alignment_report(const Graph& graph, const std::vector<TensorFormats>& formats);

// Resolution lost to shared concat scales: log2(format range / own clip),
// worst over the tensors with their own clip (multiplier scales).
struct SharedScaleLoss {
  double worst_bits_lost = 0;
  std::string worst_layer;
};
SharedScaleLoss shared_scale_loss(const Graph& graph, const std::vector<TensorFormats>& formats);

nlohmann::json tensor_formats_to_json(const Graph& graph, const std::vector<TensorFormats>& formats);
// bits.json of stage_5: {"activation": [...], "weight": [...]}, one entry per node.
nlohmann::json node_bits_to_json(const NodeBits& bits);
NodeBits node_bits_from_json(const Graph& graph, const nlohmann::json& json);
std::vector<TensorFormats> tensor_formats_from_json(const Graph& graph, const nlohmann::json& json);

}  // namespace yq
