#include "compiler/emit/band_schedule.hpp"

#include <algorithm>

#include "compiler/emit/dram_image.hpp"
#include "compiler/emit/hw_emitter.hpp"
#include "compiler/emit/layer_program.hpp"
#include "compiler/quant/quant_model.hpp"
#include "compiler/util/error.hpp"

namespace yq {

namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

std::int64_t slot_bytes(int word_bits) { return dram_slot_bits(word_bits) / 8; }

// rtl/yq_conv_engine.v's channel tiles: COLS output channels that never
// cross a weight row of kWeightGroup channels; each tile's channel count.
std::vector<int> channel_tiles(int channels, int cols) {
  std::vector<int> tiles;
  for (int first = 0; first < channels; first += kWeightGroup) {
    const int row = std::min(kWeightGroup, channels - first);
    for (int done = 0; done < row; done += cols) tiles.push_back(std::min(cols, row - done));
  }
  return tiles;
}

// A twin tile (rtl/yq_conv_engine.v, TWIN): at most half the columns' channels
// of a stride-1 convolution with at least COLS taps, which then covers
// 2 * ROWS pixels a tile.
bool twin_tile(const Node& node, const TensorShape& in, int tile_channels, bool plane_output, ArrayShape array) {
  return array.twin && !plane_output && array.cols % 2 == 0 && node.stride == 1 && tile_channels <= array.cols / 2 &&
         std::int64_t{in.channels} * node.kernel * node.kernel >= array.cols;
}

// Issues of one pixel tile's taps (one input channel): one per tap, but with
// stride > 1 one per two output rows holding a lane that reads
// (rtl/yq_conv_engine.v reads a tap's first such row on one lane set and the
// second on the other, so that its reads fall in distinct scratch banks).
// Rows are the image's: a band's loaded rows are clipped to it the same way.
std::int64_t tile_issues(const Node& node, const TensorShape& in, const TensorShape& out, std::int64_t first_pixel,
                         int lanes) {
  std::int64_t issues = 0;
  for (int ky = 0; ky < node.kernel; ++ky) {
    for (int kx = 0; kx < node.kernel; ++kx) {
      int reading_rows = 0, last_row = -1;
      for (std::int64_t p = first_pixel; p < first_pixel + lanes && p < std::int64_t{out.height} * out.width; ++p) {
        const int y = static_cast<int>(p / out.width), x = static_cast<int>(p % out.width);
        const int iy = y * node.stride + ky - node.pad, ix = x * node.stride + kx - node.pad;
        if (iy < 0 || iy >= in.height || ix < 0 || ix >= in.width || y == last_row) continue;
        last_row = y;
        ++reading_rows;
      }
      issues += node.stride > 1 ? std::max(1, (reading_rows + 1) / 2) : 1;
    }
  }
  return issues;
}

// The pixels of a plain tile (rtl/yq_conv_engine.v, tile_pixels_of): ROWS,
// but a stride > 1 convolution whose output width w is below ROWS - 1 takes
// w + d, d the largest exact w / 2^k with w + d <= ROWS (else 1), so that
// no tile's lanes lie on more than two output rows.
int plain_tile_pixels(const Node& node, const TensorShape& out, int rows) {
  const int w = out.width;
  if (node.stride <= 1 || w + 1 >= rows) return rows;
  for (int k = 0; (1 << k) <= rows; ++k) {
    if (w % (1 << k) == 0 && w + (w >> k) <= rows) return w + (w >> k);
  }
  return w + 1;
}

// Tap issues of one input channel over every pixel tile of `pixels` pixels
// in every band.
std::int64_t band_tap_issues(const Node& node, const TensorShape& in, const TensorShape& out,
                             const std::vector<int>& band_heights, int pixels) {
  std::int64_t tap_issues = 0;
  std::int64_t first_row = 0;
  for (int rows : band_heights) {
    const std::int64_t first = first_row * out.width, end = (first_row + rows) * out.width;
    for (std::int64_t p = first; p < end; p += pixels) {
      tap_issues += tile_issues(node, in, out, p, static_cast<int>(std::min<std::int64_t>(pixels, end - p)));
    }
    first_row += rows;
  }
  return tap_issues;
}

std::int64_t conv_cycles(const Node& node, const TensorShape& in, const TensorShape& out, int out_planes,
                         const std::vector<int>& band_heights, ArrayShape array) {
  const std::vector<int> tiles = channel_tiles(out.channels / out_planes, array.cols);
  const std::int64_t twins = std::count_if(tiles.begin(), tiles.end(), [&](int channels) {
    return twin_tile(node, in, channels, out_planes > 1, array);
  });
  const std::int64_t plain = static_cast<std::int64_t>(tiles.size()) - twins;
  std::int64_t issues = 0;  // each pixel tiling's issues counted once, not once per channel tile
  if (plain > 0) issues += plain * band_tap_issues(node, in, out, band_heights, plain_tile_pixels(node, out, array.rows));
  if (twins > 0) issues += twins * band_tap_issues(node, in, out, band_heights, 2 * array.rows);
  return issues * in.channels;  // stored channels: a byte-plane input's two planes each
}

// rtl/yq_eltwise_engine.v: ROWS codes per step; a max-pool or upsample step
// stays in one output row, a max-pool step takes kernel^2 cycles, a concat's
// steps stay in one input's region.
std::int64_t eltwise_cycles(const Node& node, const std::vector<TensorShape>& shapes, const TensorShape& out, int lanes,
                            int pool_taps) {
  const std::int64_t rows = std::int64_t{out.channels} * out.height;
  switch (node.op) {
    case OpKind::MaxPool: {
      // rtl/yq_eltwise_engine.v: a same-size pool (stride 1) in raster order
      // over a channel, up to pool_taps taps of a kernel row a step (at most
      // one more than the lanes); others a row at a time, one tap a step.
      const TensorShape& in = shapes[node.inputs[0]];
      if (in.width == out.width) {
        const int row_taps = std::clamp(pool_taps, 2, lanes + 1);
        return out.channels * ceil_div(std::int64_t{out.height} * out.width, lanes) * node.kernel *
               ceil_div(node.kernel, row_taps);
      }
      return rows * ceil_div(out.width, lanes) * node.kernel * node.kernel;
    }
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
std::int64_t BandSchedule::dram_bytes() const {
  return read_bytes() + constant_bytes() + write_bytes() + head_read_bytes;
}
std::int64_t BandSchedule::macs() const { return sum_over(layers, [](const LayerBands& l) { return l.macs; }); }
std::int64_t BandSchedule::engine_cycles() const { return sum_over(layers, [](const LayerBands& l) { return l.cycles; }); }

double BandSchedule::frame_cycles(double bytes_per_cycle) const {
  double cycles = static_cast<double>(head_read_bytes) / bytes_per_cycle;
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
  if (array.cols > kWeightGroup) {
    throw Error("the MAC array has " + std::to_string(array.cols) + " columns; the conv engine takes at most a weight row's " +
                std::to_string(kWeightGroup));
  }
  const MemoryMap map = plan_memories(model, image_size);
  const WordWidths widths = word_widths(model);
  const std::int64_t scratch_word_bytes = slot_bytes(widths.fmap);  // a scratch word holds the widest code
  EmitOptions options;
  options.image_size = image_size;
  options.band_buffer_bytes = band_buffer_bytes;
  const BandProgram program = band_program(model, map, layer_program(model, map), emitted_band_buffers(model, map, options));
  std::vector<TensorShape> shapes;
  for (const NodePlacement& place : map.nodes) shapes.push_back(place.shape);
  BandSchedule schedule{array, band_buffer_bytes, {}, program.head_read_bytes, program.forwarded_bytes};
  for (const NodeBands& bands : program.nodes) {
    const Node& node = model.graph.nodes[bands.node];
    const NodePlacement& place = map.nodes[bands.node];
    const TensorShape& out = place.shape;
    LayerBands layer;
    layer.node = bands.node;
    layer.name = node.name;
    layer.op = node.op;
    layer.band_rows = bands.band_rows;
    layer.bands = bands.bands();
    layer.band_bytes = bands.largest_band_words * scratch_word_bytes;
    layer.read_bytes = bands.read_bytes;
    layer.write_bytes = bands.written_bytes;
    const int table = model.nodes[bands.node].conv.silu_lut;
    const std::int64_t table_entries = table < 0 ? 0 : static_cast<std::int64_t>(model.luts[table].values.size());
    layer.constant_bytes = place.weight_count * slot_bytes(widths.weight) + place.bias_count * slot_bytes(widths.bias) +
                           place.requant_count * slot_bytes(widths.multiplier + kShiftBits) +
                           table_entries * slot_bytes(widths.lut);
    if (node.op == OpKind::Conv) {
      layer.macs = std::int64_t{node.channels} * out.height * out.width * node.in_channels * node.kernel * node.kernel;
      layer.cycles = conv_cycles(node, shapes[node.inputs[0]], out, place.planes, bands.band_heights, array);
    } else {
      layer.cycles = eltwise_cycles(node, shapes, out, array.rows, array.pool_taps);
    }
    schedule.layers.push_back(layer);
  }
  return schedule;
}

}  // namespace yq
