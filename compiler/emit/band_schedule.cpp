#include "compiler/emit/band_schedule.hpp"

#include <algorithm>

#include "compiler/emit/dram_image.hpp"
#include "compiler/emit/layer_program.hpp"
#include "compiler/quant/quant_model.hpp"
#include "compiler/util/error.hpp"

namespace yq {

namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

std::int64_t slot_bytes(int word_bits) { return dram_slot_bits(word_bits) / 8; }

// The input rows [first, last] a band of output rows [first, last] reads,
// clipped to the input's height.
struct RowRange {
  int first = 0, last = -1;
  int count() const { return last - first + 1; }
};

RowRange input_rows(const Node& node, int first, int last, int input_height) {
  RowRange rows{first, last};
  if (node.op == OpKind::Conv) {
    rows = {first * node.stride - node.pad, last * node.stride - node.pad + node.kernel - 1};
  } else if (node.op == OpKind::MaxPool) {
    rows = {first - node.pad, last - node.pad + node.kernel - 1};
  } else if (node.op == OpKind::Upsample) {
    rows = {first / 2, last / 2};
  }
  return {std::max(rows.first, 0), std::min(rows.last, input_height - 1)};
}

// Bytes of one input row across every input channel (an add's or concat's
// inputs side by side).
std::int64_t input_row_bytes(const Node& node, const std::vector<TensorShape>& shapes, std::int64_t code_bytes) {
  std::int64_t bytes = 0;
  for (int input : node.inputs) bytes += std::int64_t{shapes[input].channels} * shapes[input].width * code_bytes;
  return bytes;
}

// The bands of `rows` output rows each: the largest band's bytes and the
// bytes of every band summed.
struct BandBytes {
  std::int64_t largest = 0, total = 0;
};

BandBytes band_bytes(const Node& node, int output_height, int input_height, int rows, std::int64_t row_bytes) {
  BandBytes bytes;
  for (int first = 0; first < output_height; first += rows) {
    const RowRange in = input_rows(node, first, std::min(first + rows, output_height) - 1, input_height);
    bytes.largest = std::max(bytes.largest, in.count() * row_bytes);
    bytes.total += in.count() * row_bytes;
  }
  return bytes;
}

std::int64_t conv_cycles(const Node& node, const TensorShape& out, int band_rows, ArrayShape array) {
  std::int64_t pixel_tiles = 0;
  for (int first = 0; first < out.height; first += band_rows) {
    pixel_tiles += ceil_div(std::int64_t{std::min(band_rows, out.height - first)} * out.width, array.rows);
  }
  return ceil_div(out.channels, array.cols) * pixel_tiles * node.in_channels * node.kernel * node.kernel;
}

// rtl/yq_eltwise_engine.v: ROWS codes per step; a max-pool or upsample step
// stays in one output row, a max-pool step takes kernel^2 cycles, a concat's
// steps stay in one input's region.
std::int64_t eltwise_cycles(const Node& node, const std::vector<TensorShape>& shapes, const TensorShape& out, int lanes) {
  const std::int64_t rows = std::int64_t{out.channels} * out.height;
  switch (node.op) {
    case OpKind::MaxPool: return rows * ceil_div(out.width, lanes) * node.kernel * node.kernel;
    case OpKind::Upsample: return rows * ceil_div(out.width, lanes);
    case OpKind::Concat: {
      std::int64_t cycles = 0;
      for (int input : node.inputs) {
        const TensorShape& in = shapes[input];
        cycles += ceil_div(std::int64_t{in.channels} * in.height * in.width, lanes);
      }
      return cycles;
    }
    default: return ceil_div(rows * out.width, lanes);
  }
}

}  // namespace

namespace {

std::int64_t sum_over(const std::vector<LayerBands>& layers, std::int64_t (*figure)(const LayerBands&)) {
  std::int64_t sum = 0;
  for (const LayerBands& layer : layers) sum += figure(layer);
  return sum;
}

}  // namespace

std::int64_t BandSchedule::read_bytes() const { return sum_over(layers, [](const LayerBands& l) { return l.read_bytes; }); }
std::int64_t BandSchedule::constant_bytes() const {
  return sum_over(layers, [](const LayerBands& l) { return l.constant_bytes; });
}
std::int64_t BandSchedule::write_bytes() const { return sum_over(layers, [](const LayerBands& l) { return l.write_bytes; }); }
std::int64_t BandSchedule::dram_bytes() const { return read_bytes() + constant_bytes() + write_bytes(); }
std::int64_t BandSchedule::macs() const { return sum_over(layers, [](const LayerBands& l) { return l.macs; }); }
std::int64_t BandSchedule::engine_cycles() const { return sum_over(layers, [](const LayerBands& l) { return l.cycles; }); }

double BandSchedule::frame_cycles(double bytes_per_cycle) const {
  double cycles = 0;
  for (const LayerBands& layer : layers) {
    cycles += std::max(static_cast<double>(layer.cycles), static_cast<double>(layer.dram_bytes()) / bytes_per_cycle);
  }
  return cycles;
}

double BandSchedule::mac_utilization(double bytes_per_cycle) const {
  return static_cast<double>(macs()) / (static_cast<double>(array.rows) * array.cols * frame_cycles(bytes_per_cycle));
}

BandSchedule plan_bands(const QuantModel& model, InputSize image_size, ArrayShape array, std::int64_t band_buffer_bytes) {
  if (array.rows < 1 || array.cols < 1) throw Error("the MAC array needs at least one row and one column");
  const MemoryMap map = plan_memories(model, image_size);
  const WordWidths widths = word_widths(model);
  const std::int64_t code_bytes = slot_bytes(widths.fmap);
  std::vector<TensorShape> shapes;
  for (const NodePlacement& place : map.nodes) shapes.push_back(place.shape);
  BandSchedule schedule{array, band_buffer_bytes, {}};
  const auto& nodes = model.graph.nodes;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& node = nodes[i];
    const NodePlacement& place = map.nodes[i];
    if (node.op == OpKind::Input || place.view) continue;
    const TensorShape& out = place.shape;
    const int input_height = shapes[node.inputs[0]].height;
    const std::int64_t row_bytes = input_row_bytes(node, shapes, code_bytes);
    int rows = out.height;
    while (rows > 0 && band_bytes(node, out.height, input_height, rows, row_bytes).largest > band_buffer_bytes) --rows;
    if (rows == 0) {
      throw Error("layer " + node.name + ": an output row reads up to " +
                  std::to_string(band_bytes(node, out.height, input_height, 1, row_bytes).largest) +
                  " bytes of input rows, more than the band buffer's " + std::to_string(band_buffer_bytes) + " bytes");
    }
    const BandBytes bytes = band_bytes(node, out.height, input_height, rows, row_bytes);
    LayerBands layer;
    layer.node = static_cast<int>(i);
    layer.name = node.name;
    layer.op = node.op;
    layer.band_rows = rows;
    layer.bands = static_cast<int>(ceil_div(out.height, rows));
    layer.band_bytes = bytes.largest;
    layer.read_bytes = bytes.total;
    layer.write_bytes = std::int64_t{out.channels} * out.height * out.width * code_bytes;
    layer.constant_bytes = place.weight_count * slot_bytes(widths.weight) + place.bias_count * slot_bytes(widths.bias) +
                           place.requant_count * slot_bytes(widths.multiplier + kShiftBits);
    if (node.op == OpKind::Conv) {
      layer.macs = std::int64_t{out.channels} * out.height * out.width * node.in_channels * node.kernel * node.kernel;
      layer.cycles = conv_cycles(node, out, rows, array);
    } else {
      layer.cycles = eltwise_cycles(node, shapes, out, array.rows);
    }
    schedule.layers.push_back(layer);
  }
  return schedule;
}

}  // namespace yq
