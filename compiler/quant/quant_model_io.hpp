// Persisting a QuantModel: quant_model.json (formats, requantization,
// settings, table descriptions) and quant_tensors.pt (integer weights,
// biases and table values, a torch.save zip readable by torch.load).
#pragma once
#include <filesystem>
#include <nlohmann/json_fwd.hpp>

#include "compiler/quant/quant_model.hpp"

namespace yq {

nlohmann::json code_format_to_json(const CodeFormat& format);
CodeFormat code_format_from_json(const nlohmann::json& json);

void save_quant_model(const std::filesystem::path& folder, const QuantModel& model);
// Reads quant_model.json and quant_tensors.pt; throws yq::Error naming the folder.
QuantModel load_quant_model(const std::filesystem::path& folder);
// The model quant_model.json describes, without tensor values (conv weights,
// biases and table values are empty); throws yq::Error "<origin>: ...".
QuantModel quant_model_from_json(const nlohmann::json& json, const std::string& origin);

}  // namespace yq
