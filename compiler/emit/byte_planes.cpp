#include "compiler/emit/byte_planes.hpp"

#include "compiler/quant/quant_model.hpp"

namespace yq {

namespace {

constexpr int kWidestPlaneCode = 2 * kPlaneBits;

bool is_detect_output(const Graph& graph, int node) {
  for (const DetectLevel& level : graph.levels) {
    if (level.box_node == node || level.class_node == node) return true;
  }
  return false;
}

// Why byte planes cannot hold node `node`'s wide output ("" when they can:
// a convolution's output, zero point 0, no detect output, that only
// convolutions read).
std::string unfit_reason(const QuantModel& model, int node) {
  const Graph& graph = model.graph;
  const QuantNode& q = model.nodes[node];
  const std::string name = graph.nodes[node].name;
  if (graph.nodes[node].op != OpKind::Conv) return name + " is no convolution";
  if (q.out.bits > kWidestPlaneCode) return name + "'s codes are wider than two bytes";
  if (q.out.zero != 0) return name + "'s codes have a zero point";
  if (is_detect_output(graph, node)) return name + " is a detect output";
  for (const Node& reader : graph.nodes) {
    for (int input : reader.inputs) {
      if (input == node && reader.op != OpKind::Conv) return reader.name + " reads " + name + " and is no convolution";
    }
  }
  return "";
}

}  // namespace

std::string byte_planes_unfit(const QuantModel& model) {
  for (size_t i = 0; i < model.nodes.size(); ++i) {
    if (model.nodes[i].out.bits <= kPlaneBits) continue;
    const std::string reason = unfit_reason(model, static_cast<int>(i));
    if (!reason.empty()) return reason;
  }
  return "";
}

std::vector<int> byte_planes(const QuantModel& model) {
  std::vector<int> planes(model.nodes.size(), 1);
  if (!byte_planes_unfit(model).empty()) return planes;
  for (size_t i = 0; i < planes.size(); ++i) {
    if (model.nodes[i].out.bits > kPlaneBits) planes[i] = 2;
  }
  return planes;
}

std::int32_t plane_word(std::int32_t code, int plane) { return plane == 0 ? (code >> kPlaneBits) : (code & 0xff); }

std::int32_t code_of_planes(std::int32_t high, std::int32_t low) {
  return static_cast<std::int32_t>(std::int64_t{high} * 256 + low);  // modular for words that hold no code
}

std::vector<std::int32_t> to_planes(const std::vector<std::int32_t>& codes, std::int64_t plane_size) {
  std::vector<std::int32_t> words(2 * codes.size());
  const std::int64_t channels = static_cast<std::int64_t>(codes.size()) / plane_size;
  for (std::int64_t c = 0; c < channels; ++c) {
    for (std::int64_t n = 0; n < plane_size; ++n) {
      const std::int32_t code = codes[static_cast<size_t>(c * plane_size + n)];
      for (int plane = 0; plane < 2; ++plane) words[static_cast<size_t>((2 * c + plane) * plane_size + n)] = plane_word(code, plane);
    }
  }
  return words;
}

std::vector<std::int32_t> from_planes(const std::vector<std::int32_t>& words, std::int64_t plane_size) {
  std::vector<std::int32_t> codes(words.size() / 2);
  const std::int64_t channels = static_cast<std::int64_t>(codes.size()) / plane_size;
  for (std::int64_t c = 0; c < channels; ++c) {
    for (std::int64_t n = 0; n < plane_size; ++n) {
      codes[static_cast<size_t>(c * plane_size + n)] = code_of_planes(words[static_cast<size_t>(2 * c * plane_size + n)],
                                                                      words[static_cast<size_t>((2 * c + 1) * plane_size + n)]);
    }
  }
  return codes;
}

}  // namespace yq
