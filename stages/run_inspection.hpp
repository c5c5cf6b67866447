// `yq-hw inspect PATH`: the inspection report (compiler/inspect) of a
// checkpoint file or of a run folder, from whatever stages it has completed.
#pragma once
#include <cstdint>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "compiler/emit/band_schedule.hpp"
#include "compiler/util/input_size.hpp"

namespace yq {

// A regular file is read as a checkpoint (inspected at checkpoint_image_size);
// a folder as a run, which needs a completed stage_1 or stage_2 (the model
// description) and adds stage_5's bits and scales, stage_6's quantized model
// and stage_7's manifest when they are there. Throws yq::Error naming the
// path when it is neither. A quantized run's DRAM schedule estimate takes
// band_buffer_bytes per half of the band buffer (compiler/emit/band_schedule.hpp).
nlohmann::json inspect_path(const std::filesystem::path& path, InputSize checkpoint_image_size,
                            std::int64_t band_buffer_bytes = kDefaultBandBufferBytes);

}  // namespace yq
