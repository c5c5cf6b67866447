// The band program's figures for sizing a design (buffer, array, DRAM
// bandwidth): the DRAM traffic of every layer of the band program
// (compiler/emit/band_program.hpp, with an input and an output half of
// band_buffer_bytes each) and the engine cycles of an accelerator that
// overlaps its loads and stores with compute; yq_top itself still holds the
// feature maps on chip (docs/RTL.md).
//
// DRAM traffic of a layer: its input bands (rows two bands share are read
// twice), its weights, biases and requant words once (the weight buffer holds
// a whole layer), its output once; then the detect head's reads of the box and
// class outputs. Every word takes its DRAM slot (compiler/emit/dram_image.hpp:
// the memory's word width rounded up to a power of two of at least 8 bits).
// Engine cycles on a ROWS x COLS array: a convolution runs ceil(out_c / COLS)
// channel tiles per weight row, each ceil(R * out_w / ROWS) pixel tiles per band
// (2 * ROWS pixels a twin tile) of
// in_c * k * k cycles (one tap per cycle, as rtl/yq_conv_engine.v; with
// stride > 1 one per two output rows of the tile holding a lane that reads); the other
// layers write ROWS codes per cycle. A layer takes the longer of its engine
// cycles and its bytes over the DRAM bandwidth; the head's reads take their
// bytes over the bandwidth.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/emit/band_program.hpp"
#include "compiler/ir/graph.hpp"
#include "compiler/util/input_size.hpp"

namespace yq {

struct QuantModel;


struct ArrayShape {
  int rows = 16;  // output pixels per tile (and codes per cycle of the other engines)
  int cols = 16;  // output channels per tile
  bool twin = false;  // the conv engine's twin tiles (yq_top's CONV_TWIN, on from 32 columns)
  int pool_taps = 5;  // taps of a kernel row a same-size max-pool cycle takes (yq_eltwise_engine's POOL_TAPS)
};

struct LayerBands {
  int node = 0;
  std::string name;
  OpKind op = OpKind::Conv;
  int band_rows = 0;                // output rows per band (the last band may have fewer)
  int bands = 0;
  std::int64_t band_bytes = 0;      // the largest band of input rows, all channels
  std::int64_t read_bytes = 0;      // input bands
  std::int64_t constant_bytes = 0;  // weights, biases, requant words, a convolution's SiLU table
  std::int64_t write_bytes = 0;     // output
  std::int64_t macs = 0;            // multiply-accumulates (0 for the element-wise layers)
  std::int64_t cycles = 0;          // engine cycles

  std::int64_t dram_bytes() const { return read_bytes + constant_bytes + write_bytes; }
};

struct BandSchedule {
  ArrayShape array;
  std::int64_t band_buffer_bytes = 0;  // one half
  std::vector<LayerBands> layers;      // the layers that compute, in node order
  std::int64_t head_read_bytes = 0;    // the detect head's reads of the box and class outputs
  std::int64_t forwarded_bytes = 0;    // input bytes read in the previous band's output half, not from DRAM

  std::int64_t read_bytes() const;      // feature-map reads of every layer
  std::int64_t constant_bytes() const;  // weights, biases, requant words, SiLU tables
  std::int64_t write_bytes() const;
  std::int64_t dram_bytes() const;
  std::int64_t macs() const;
  std::int64_t engine_cycles() const;
  // Cycles of the frame when DRAM moves bytes_per_cycle bytes a cycle.
  double frame_cycles(double bytes_per_cycle) const;
  // MACs over (array cells x frame cycles).
  double mac_utilization(double bytes_per_cycle) const;
};

// Throws yq::Error naming the layer and the band buffer when one output row's
// band exceeds band_buffer_bytes.
BandSchedule plan_bands(const QuantModel& model, InputSize image_size, ArrayShape array, std::int64_t band_buffer_bytes);

}  // namespace yq
