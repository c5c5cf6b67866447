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

// A wide tensor that byte planes can hold: a convolution's output that only
// convolutions read.
bool fits_planes(const QuantModel& model, int node) {
  const Graph& graph = model.graph;
  const QuantNode& q = model.nodes[node];
  if (graph.nodes[node].op != OpKind::Conv || q.out.bits > kWidestPlaneCode || q.out.zero != 0) return false;
  if (is_detect_output(graph, node)) return false;
  for (const Node& reader : graph.nodes) {
    for (int input : reader.inputs) {
      if (input == node && reader.op != OpKind::Conv) return false;
    }
  }
  return true;
}

}  // namespace

std::vector<int> byte_planes(const QuantModel& model) {
  const int count = static_cast<int>(model.nodes.size());
  std::vector<int> planes(static_cast<size_t>(count), 1);
  bool any_narrow = false, any_wide = false;
  for (int i = 0; i < count; ++i) {
    const bool wide = model.nodes[i].out.bits > kPlaneBits;
    any_wide = any_wide || wide;
    any_narrow = any_narrow || !wide;
    if (wide && !fits_planes(model, i)) return std::vector<int>(static_cast<size_t>(count), 1);
  }
  if (!any_wide || !any_narrow) return planes;
  for (int i = 0; i < count; ++i) {
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
