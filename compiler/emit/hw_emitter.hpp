// stage_7's emission: everything an FPGA team needs to run a quantized model
// on its own RTL, in plain `$readmemh` text (docs/ARTIFACTS.md is the full
// specification; compiler/emit/layer_program.hpp the memory map).
//
// Files, relative to the emission folder (W = widest weight bits, A = widest
// activation bits, ACC = the overflow certificate's widest accumulator,
// MULT = multiplier bits; every memory's exact width and depth is also in
// yq_params.vh as YQ_<MEMORY>_WIDTH / YQ_<MEMORY>_DEPTH):
//
//   file               width (bits)          depth (words)
//   program.hex        808 (one descriptor)  graph nodes
//   lut_dir.hex        96                    tables
//   weight_mem.hex     W                     weights of every convolution
//   bias_mem.hex       ACC                   output channels of every convolution
//   requant_mem.hex    MULT + 6              conv output channels + add/concat inputs
//   lut_mem.hex        16                    entries of every table
//   layers/<layer>.weights.hex  one conv's weights, in its own weight bits
//   layers/<layer>.bias.hex     its biases, in its own accumulator bits
//   layers/<layer>.requant.hex  its (or an add's/concat's) requant words, MULT + 6 bits
//   luts/<table>.hex   one table's entries, in its own value bits
//   dram.bin           the DRAM image: program, tables, weights, biases, requant
//                      words at their byte addresses (compiler/emit/dram_image.hpp)
//   dram.hex           the same bytes as `$readmemh` text, one AXI beat per line
//   memory_map.json    every DRAM region, each layer's and table's byte addresses
//   yq_format.vh       Verilog localparams of the format: field positions, codes
//   yq_params.vh       Verilog localparams: bits, memory shapes, DRAM map, file names,
//                      the head's logit thresholds and q_NMS options
//   manifest.json      every file above with its SHA-256 and size, the bits,
//                      per-tensor formats, the source checkpoint's SHA-256,
//                      the compiler and arithmetic versions
//
// Each unified *_mem.hex holds the words of its per-layer (per-table) files
// in node (table) order, widened to the memory's width (sign-extended; sigmoid
// and exp entries are unsigned). Nothing depends on the time or on the
// folder: the same model gives byte-identical files.
#pragma once
#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "compiler/detect/int_nms.hpp"
#include "compiler/emit/band_program.hpp"
#include "compiler/emit/dram_image.hpp"
#include "compiler/util/input_size.hpp"

namespace yq {

struct QuantModel;
struct MemoryMap;

struct EmitOptions {
  InputSize image_size;
  int axi_bits = kDefaultAxiDataBits;  // AXI4 data width: DRAM regions are aligned to it
  IntNmsOptions nms;                   // the head's score threshold, q_NMS's IoU threshold and detection cap
  std::int64_t weight_buffer_bytes = 0;  // yq_top's weight buffer (DRAM weight slots); 0: the largest convolution's
  std::int64_t band_buffer_bytes = kDefaultBandBufferBytes;  // one half of the band program's input and output buffers
  std::string model_sha256 = "synthetic";  // SHA-256 of the source checkpoint, "synthetic" for the built-in model
};

// Writes every file into folder (created if needed); returns the manifest,
// also written as folder/manifest.json. Throws yq::Error when a value does
// not fit its documented field.
nlohmann::json emit_hardware(const QuantModel& model, const EmitOptions& options, const std::filesystem::path& folder);

// The band program's buffers for these options: input and output halves of
// band_buffer_bytes of feature-map slots, yq_top's layer buffers' halves.
BandBuffers emitted_band_buffers(const QuantModel& model, const MemoryMap& map, const EmitOptions& options);

// The band program emit_hardware writes (band_program.hex, band_descriptors.hex) for these options.
BandProgram emitted_band_program(const QuantModel& model, const EmitOptions& options);

// Copies manifest.json and every file it lists from one emission folder to another, overwriting.
void copy_emission(const nlohmann::json& manifest, const std::filesystem::path& from, const std::filesystem::path& to);

// The figures a stage reports: file count, total bytes, each memory's width and depth.
nlohmann::json emission_summary(const nlohmann::json& manifest);

}  // namespace yq
