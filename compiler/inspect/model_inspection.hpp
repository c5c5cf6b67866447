// What `yq-hw inspect` reports about a model: the architecture, parameter
// counts, every layer's shape (and, once quantized, its bits, scale and
// accumulator width), the model's size at several weight widths, and the
// memories and files stage_7 emitted. The report is one JSON object
// (`--json`); inspection_table renders it for people.
//
// Counts come from the graph the architecture fixes: a convolution holds
// out x in x k x k weights, and either a BatchNorm (scale and shift per output
// channel; running statistics are buffers, not parameters) or a bias. Sizes
// are those of the BN-fused model (weights plus one bias per output channel),
// packed: ceil((weights x weight bits + biases x bias bits) / 8) bytes, with
// biases at 32 bits except in the run's own row, where each layer's biases
// take its accumulator width (as layers/<layer>.bias.hex holds them).
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/emit/band_schedule.hpp"
#include "compiler/ir/model_info.hpp"
#include "compiler/quant/activation_formats.hpp"
#include "compiler/quant/quant_model.hpp"

namespace yq {

// Whatever is known about one model; the optional parts come from a run's
// completed stages.
struct InspectionInputs {
  std::string kind;    // "checkpoint" or "run"
  std::string source;  // the inspected path
  ModelInfo info;
  InputSize image_size;
  std::vector<std::pair<std::string, std::string>> completed_stages;  // ("stage_0", "ok" or "skipped"), ...
  std::optional<NodeBits> bits;                        // stage_5 bits.json
  std::optional<std::vector<TensorFormats>> formats;   // stage_5 scales.json
  std::optional<QuantModel> quant;                     // stage_6
  std::optional<nlohmann::json> manifest;              // stage_7 manifest.json
  std::int64_t band_buffer_bytes = kDefaultBandBufferBytes;  // for the DRAM schedule (compiler/emit/band_schedule.hpp)
};

// The architecture of a checkpoint file (read and imported as stage_1 does).
InspectionInputs checkpoint_inspection_inputs(const std::filesystem::path& checkpoint, InputSize image_size);

nlohmann::json inspection_report(const InspectionInputs& inputs);

// The report as aligned text tables.
std::string inspection_table(const nlohmann::json& report);

}  // namespace yq
