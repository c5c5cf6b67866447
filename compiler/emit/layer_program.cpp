// Memory planning, descriptor packing and the LUT directory
// (compiler/emit/layer_program.hpp). Planning gives every node the next
// free words of the weight, bias and requant memories it uses, and its
// feature-map words from compiler/emit/fmap_plan.hpp; descriptors and
// directory entries are filled field by field from the graph, the shapes,
// the quantized model and that plan.
#include "compiler/emit/layer_program.hpp"

#include <algorithm>
#include <bit>
#include <nlohmann/json.hpp>
#include <string>

#include "compiler/emit/byte_planes.hpp"
#include "compiler/emit/dram_image.hpp"
#include "compiler/emit/fmap_plan.hpp"
#include "compiler/quant/quant_model.hpp"
#include "compiler/util/error.hpp"

namespace yq {

namespace {

std::int64_t requant_words(const Node& node) {
  switch (node.op) {
    case OpKind::Conv: return node.channels;
    case OpKind::Add:
    case OpKind::Concat: return static_cast<std::int64_t>(node.inputs.size());
    default: return 0;
  }
}

// base of the next `count` words of a memory whose first free word is `next`; -1 for none.
std::int64_t take(std::int64_t& next, std::int64_t count) {
  if (count == 0) return -1;
  const std::int64_t base = next;
  next += count;
  return base;
}

// Per node: a concat whose every input keeps its codes (identity requant into
// an output at least as wide), so it may be a view of its inputs.
std::vector<bool> concats_passing_inputs(const QuantModel& model) {
  std::vector<bool> passes(model.graph.nodes.size(), false);
  for (size_t i = 0; i < model.graph.nodes.size(); ++i) {
    const Node& node = model.graph.nodes[i];
    if (node.op != OpKind::Concat) continue;
    passes[i] = true;
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      const Requant& r = model.nodes[i].input_requant.at(k);
      const bool identity = r.shift < 63 && r.multiplier == (std::int64_t{1} << r.shift);
      passes[i] = passes[i] && identity && model.nodes[node.inputs[k]].out.bits <= model.nodes[i].out.bits &&
                  model.nodes[node.inputs[k]].out.zero == model.nodes[i].out.zero;
    }
  }
  return passes;
}

std::int64_t or_none(std::int64_t value, int width) { return value < 0 ? all_ones(width) : value; }

// Whether node `index` is a detect level's box or class prediction, and which level.
struct HeadRole {
  HeadOutput output = HeadOutput::None;
  int level = 0;
};

HeadRole head_role(const Graph& graph, int index) {
  for (size_t l = 0; l < graph.levels.size(); ++l) {
    if (graph.levels[l].box_node == index) return {HeadOutput::Box, static_cast<int>(l)};
    if (graph.levels[l].class_node == index) return {HeadOutput::Class, static_cast<int>(l)};
  }
  return {};
}

void fill_inputs(PackedWord& word, const Node& node, const MemoryMap& map) {
  if (node.inputs.size() > static_cast<size_t>(kProgramMaxInputs)) {
    throw Error("layer " + node.name + " has " + std::to_string(node.inputs.size()) + " inputs; a descriptor holds " +
                std::to_string(kProgramMaxInputs));
  }
  word["num_inputs"] = static_cast<std::int64_t>(node.inputs.size());
  for (int k = 0; k < kProgramMaxInputs; ++k) {
    const bool used = k < static_cast<int>(node.inputs.size());
    word["input" + std::to_string(k)] = used ? node.inputs[k] : all_ones(16);
    word["in_base" + std::to_string(k)] = used ? map.nodes[node.inputs[k]].fmap_base : all_ones(32);
  }
}

void fill_shapes(PackedWord& word, const Node& node, const MemoryMap& map, int index) {
  const TensorShape& out = map.nodes[index].shape;
  word["out_c"] = out.channels / map.nodes[index].planes;  // channels the engine computes
  word["out_h"] = out.height;
  word["out_w"] = out.width;
  if (node.inputs.empty()) return;
  const TensorShape& in = map.nodes[node.inputs[0]].shape;
  word["in_c"] = in.channels;
  word["in_h"] = in.height;
  word["in_w"] = in.width;
}

void fill_conv(PackedWord& word, const QuantModel& model, int index) {
  const Node& node = model.graph.nodes[index];
  const QuantConv& conv = model.nodes[index].conv;
  word["kernel"] = node.kernel;
  word["stride"] = node.stride;
  word["pad"] = node.pad;
  word["pad_top"] = node.pad;
  word["pre_bits"] = conv.pre.bits;
  word["weight_bits"] = conv.weight_bits;
  word["acc_bits"] = conv.acc_bits;
  word["pad_code"] = model.nodes[node.inputs[0]].out.zero;
  if (conv.silu_lut >= 0) word["act_lut"] = conv.silu_lut;
}

void fill_head(PackedWord& word, const QuantModel& model, int index) {
  const HeadRole role = head_role(model.graph, index);
  word["head"] = static_cast<int>(role.output);
  if (role.output == HeadOutput::None) return;
  const QuantHeadLevel& tables = model.head.at(role.level);
  word["head_level"] = role.level;
  word["head_stride"] = model.graph.levels[role.level].stride;
  word["head_lut"] = role.output == HeadOutput::Box ? tables.exp_lut : tables.sigmoid_lut;
}

PackedWord descriptor(const QuantModel& model, const MemoryMap& map, int index) {
  const Node& node = model.graph.nodes[index];
  const NodePlacement& place = map.nodes[index];
  PackedWord word(program_layout());
  word["op"] = static_cast<int>(program_op(node.op));
  word["node"] = index;
  word["out_bits"] = model.nodes[index].out.bits;
  word["in_bits"] = node.inputs.empty() ? 0 : model.nodes[node.inputs[0]].out.bits;
  word["act_lut"] = all_ones(16);
  word["head_lut"] = all_ones(16);
  fill_inputs(word, node, map);
  fill_shapes(word, node, map, index);
  if (node.op == OpKind::Conv) fill_conv(word, model, index);
  if (node.op == OpKind::MaxPool) {
    word["kernel"] = node.kernel;
    word["stride"] = 1;
    word["pad"] = node.pad;
    word["pad_top"] = node.pad;
  }
  if (node.op == OpKind::Slice) word["channel_begin"] = node.channel_begin;
  fill_head(word, model, index);
  word["out_base"] = place.fmap_base;
  word["weight_base"] = or_none(place.weight_base, 32);
  word["bias_base"] = or_none(place.bias_base, 32);
  word["requant_base"] = or_none(place.requant_base, 32);
  word["view"] = place.view ? 1 : 0;
  return word;
}

int unsigned_bits_for(std::int64_t value) {
  return std::max(1, static_cast<int>(std::bit_width(static_cast<std::uint64_t>(value))));
}

}  // namespace

ProgramOp program_op(OpKind op) {
  switch (op) {
    case OpKind::Input: return ProgramOp::Input;
    case OpKind::Conv: return ProgramOp::Conv;
    case OpKind::Slice: return ProgramOp::Slice;
    case OpKind::Add: return ProgramOp::Add;
    case OpKind::Concat: return ProgramOp::Concat;
    case OpKind::MaxPool: return ProgramOp::MaxPool;
    case OpKind::Upsample: return ProgramOp::Upsample;
  }
  throw Error("unknown graph operation");
}

std::vector<std::int16_t> weight_rows(const std::vector<std::int16_t>& weights, int out_channels) {
  const std::int64_t taps = static_cast<std::int64_t>(weights.size()) / out_channels;
  const std::int64_t groups = (out_channels + kWeightGroup - 1) / kWeightGroup;
  std::vector<std::int16_t> rows(static_cast<size_t>(groups * taps * kWeightGroup), 0);
  for (std::int64_t o = 0; o < out_channels; ++o) {
    const std::int64_t group = o / kWeightGroup, column = o % kWeightGroup;
    for (std::int64_t t = 0; t < taps; ++t) {
      rows[static_cast<size_t>((group * taps + t) * kWeightGroup + column)] = weights[static_cast<size_t>(o * taps + t)];
    }
  }
  return rows;
}

std::vector<std::int16_t> stored_weights(const QuantModel& model, const MemoryMap& map, int node) {
  const std::vector<std::int16_t>& weights = model.nodes[node].conv.weights;
  const Node& conv = model.graph.nodes[node];
  if (map.nodes.at(static_cast<size_t>(conv.inputs.at(0))).planes == 1) return weights;
  const size_t taps = static_cast<size_t>(conv.kernel) * conv.kernel;
  std::vector<std::int16_t> stored;
  stored.reserve(2 * weights.size());
  for (size_t channel = 0; channel < weights.size() / taps; ++channel) {  // (o, i) pairs in order
    for (int plane = 0; plane < 2; ++plane) {
      stored.insert(stored.end(), weights.begin() + channel * taps, weights.begin() + (channel + 1) * taps);
    }
  }
  return stored;
}

MemoryMap plan_memories(const QuantModel& model, InputSize image_size) {
  std::vector<TensorShape> shapes = infer_shapes(model.graph, image_size);
  const std::vector<int> planes = byte_planes(model);
  std::vector<int> code_bytes;
  for (size_t i = 0; i < model.nodes.size(); ++i) {
    shapes[i].channels *= planes[i];
    code_bytes.push_back(planes[i] > 1 ? kPlaneBits / 8 : dram_slot_bits(model.nodes[i].out.bits) / 8);
  }
  const FmapPlan fmap = plan_feature_maps(model.graph, shapes, concats_passing_inputs(model), code_bytes);
  MemoryMap map;
  map.fmap_depth = fmap.depth;
  map.fmap_total_words = fmap.total_words;
  map.fmap_dram_bytes = fmap.dram_bytes;
  for (size_t i = 0; i < model.graph.nodes.size(); ++i) {
    const Node& node = model.graph.nodes[i];
    NodePlacement place;
    place.shape = shapes[i];
    place.planes = planes[i];
    place.fmap_base = fmap.base[i];
    place.fmap_dram_offset = fmap.dram_offset[i];
    place.fmap_slot_bytes = fmap.slot_bytes[i];
    place.view = fmap.view[i];
    place.forwarded_to = fmap.forwarded_to[i];
    place.foldable = fmap.foldable[i];
    if (node.op == OpKind::Conv) {
      place.weight_count =
          static_cast<std::int64_t>(weight_rows(stored_weights(model, map, static_cast<int>(i)), node.channels).size());
      place.weight_base = take(map.weight_depth, place.weight_count);
      place.bias_count = node.channels;
      place.bias_base = take(map.bias_depth, place.bias_count);
    }
    place.requant_count = requant_words(node);
    place.requant_base = take(map.requant_depth, place.requant_count);
    map.nodes.push_back(place);
  }
  for (const Lut& lut : model.luts) {
    map.lut_bases.push_back(take(map.lut_depth, static_cast<std::int64_t>(lut.values.size())));
  }
  return map;
}

int lut_value_bits(const QuantModel& model, int lut) {
  if (lut_kind(model.luts[lut].kind) != LutKind::Silu) return kHeadValueBits;
  for (size_t i = 0; i < model.nodes.size(); ++i) {
    if (model.graph.nodes[i].op == OpKind::Conv && model.nodes[i].conv.silu_lut == lut) return model.nodes[i].out.bits;
  }
  throw Error("SiLU table " + model.luts[lut].name + " belongs to no convolution");
}

WordWidths word_widths(const QuantModel& model) {
  WordWidths widths;
  widths.bias = widest_accumulator_bits(model);
  widths.multiplier = model.settings.multiplier_bits;
  widths.lut = kHeadValueBits;
  const std::vector<int> planes = byte_planes(model);
  for (size_t i = 0; i < model.nodes.size(); ++i) {
    const QuantNode& node = model.nodes[i];
    widths.fmap = std::max(widths.fmap, planes[i] > 1 ? kPlaneBits : node.out.bits);
    widths.planes = widths.planes || planes[i] > 1;
    std::vector<Requant> requants = node.input_requant;
    if (model.graph.nodes[i].op == OpKind::Conv) {
      widths.weight = std::max(widths.weight, node.conv.weight_bits);
      widths.pre = std::max(widths.pre, node.conv.pre.bits);
      requants.insert(requants.end(), node.conv.requant.begin(), node.conv.requant.end());
    }
    for (const Requant& r : requants) widths.multiplier = std::max(widths.multiplier, unsigned_bits_for(r.multiplier));
  }
  for (size_t l = 0; l < model.luts.size(); ++l) {
    widths.lut = std::max(widths.lut, lut_value_bits(model, static_cast<int>(l)));
  }
  return widths;
}

std::vector<PackedWord> layer_program(const QuantModel& model, const MemoryMap& map) {
  std::vector<PackedWord> program;
  for (size_t i = 0; i < model.graph.nodes.size(); ++i) program.push_back(descriptor(model, map, static_cast<int>(i)));
  return program;
}

std::vector<PackedWord> lut_directory(const QuantModel& model, const MemoryMap& map) {
  std::vector<PackedWord> directory;
  for (size_t l = 0; l < model.luts.size(); ++l) {
    const Lut& lut = model.luts[l];
    PackedWord entry(lut_directory_layout());
    entry["base"] = map.lut_bases[l];
    entry["depth"] = static_cast<std::int64_t>(lut.values.size());
    entry["kind"] = static_cast<int>(lut_kind(lut.kind));
    const bool indexed_by_code = lut_kind(lut.kind) != LutKind::Exp;  // exp: by distance 0..depth-1
    entry["index_bits"] = indexed_by_code ? lut.index_bits : 0;
    entry["knot_bits"] = indexed_by_code ? lut.knot_bits : 0;
    entry["value_bits"] = lut_value_bits(model, static_cast<int>(l));
    directory.push_back(entry);
  }
  return directory;
}

}  // namespace yq
