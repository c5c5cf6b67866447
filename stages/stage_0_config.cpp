// stage_0: configuration. Resolves and checks every input before any work:
// the checkpoint exists (its SHA-256 is recorded), the data folder holds
// images whose headers decode, the image size is a multiple of 32, the output folder is writable.
// Writes config.json, the record of what the run was asked to do.
#include <cstdio>

#include "compiler/io/dataset.hpp"
#include "compiler/io/image.hpp"
#include "compiler/quant/range_selection.hpp"
#include "compiler/quant/requant_derivation.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"
#include "stages/stage.hpp"

namespace yq {

namespace {

void check_bits(int bits, const char* what) {
  if (bits < 4 || bits > 16) throw Error(std::string(what) + " " + std::to_string(bits) + " is outside the supported 4..16");
}

void check_quant_settings(const QuantSettings& q) {
  check_bits(q.weight_bits, "weight bits");
  check_bits(q.activation_bits, "activation bits");
  for (const LayerOverride& o : q.overrides) {
    if (o.weight_bits) check_bits(o.weight_bits, "override weight bits");
    if (o.activation_bits) check_bits(o.activation_bits, "override activation bits");
  }
  parse_range_method(q.calibration);
  parse_scale_form(q.scale_form);
  if (q.head != "int" && q.head != "float") throw Error("--head " + q.head + " is not int or float");
  if (q.concat_scales != "shared" && q.concat_scales != "own") {
    throw Error("--concat-scales " + q.concat_scales + " is not shared or own");
  }
  if (q.multiplier_bits < 2 || q.multiplier_bits > 31) throw Error("--mult-bits must be within 2..31");
  if (!(q.percentile > 0 && q.percentile <= 100)) throw Error("--percentile must be within (0, 100]");
  if (q.acc_bits_limit < 8 || q.acc_bits_limit > 48) throw Error("--acc-bits-limit must be within 8..48");
}

}  // namespace

nlohmann::json run_stage_0_config(StageContext& context) {
  const RunConfig& config = context.config;
  if (config.image_size <= 0 || config.image_size % 32 != 0) {
    throw Error("--imgsz " + std::to_string(config.image_size) + " is not a positive multiple of 32");
  }
  check_quant_settings(config.quant);
  if (config.nms != "int" && config.nms != "float") throw Error("--nms " + config.nms + " is not int or float");
  if (config.nms == "int" && config.quant.head == "float") throw Error("--nms int (q_NMS) needs --head int");
  nlohmann::json record = run_config_to_json(config);
  if (config.model) {
    if (!std::filesystem::is_regular_file(*config.model)) throw Error("model file " + config.model->string() + " not found");
    record["model_sha256"] = sha256_file(*config.model);
  } else {
    std::printf("         no --model given: using the built-in synthetic YOLOv8n (seeded random weights;\n"
                "         its detections are meaningless, it only exercises the pipeline)\n");
  }
  for (const auto& folder : {config.data, config.calib}) {
    if (!folder) continue;
    const Dataset dataset = scan_dataset(*folder);
    for (const DatasetImage& entry : dataset.images) probe_image(entry.image);
    record[folder == config.data ? "data_images" : "calib_images_found"] = dataset.images.size();
  }
  if (config.golden_image) probe_image(*config.golden_image);
  write_json_file(context.output_dir / "config.json", record);
  return record;
}

}  // namespace yq
