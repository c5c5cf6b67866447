// Persisting a QuantModel: quant_model.json (formats, requantization,
// settings, table descriptions) and quant_tensors.pt (integer weights,
// biases and table values, a torch.save zip readable by torch.load).
#pragma once
#include <filesystem>

#include "compiler/quant/quant_model.hpp"

namespace yq {

void save_quant_model(const std::filesystem::path& folder, const QuantModel& model);
QuantModel load_quant_model(const std::filesystem::path& folder);

}  // namespace yq
