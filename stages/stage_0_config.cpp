// stage_0: configuration. Resolves and checks every input before any work:
// the checkpoint exists (its SHA-256 is recorded), the data and calibration
// folders hold images whose headers decode and whose ids (file stems) are unique, the image size is a multiple of 32 on each side, the output folder is writable.
// Writes config.json, the record of what the run was asked to do.
#include <cstdio>

#include "compiler/emit/dram_image.hpp"
#include "compiler/io/dataset.hpp"
#include "compiler/io/image.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"
#include "stages/stage.hpp"

namespace yq {

nlohmann::json run_stage_0_config(StageContext& context) {
  const RunConfig& config = context.config;
  check_input_size(config.image_size, "--imgsz");
  if (config.batch < 1) throw Error("--batch " + std::to_string(config.batch) + " must be at least 1");
  check_quant_settings(config.quant);
  check_axi_data_bits(config.axi_bits);
  if (config.nms == NmsMode::Int && config.quant.head == HeadMode::Float) {
    throw Error("--nms int (q_NMS) needs --head int");
  }
  nlohmann::json record = run_config_to_json(config);
  if (config.model) {
    if (!std::filesystem::is_regular_file(*config.model)) throw Error("model file " + config.model->string() + " not found");
    record["model_sha256"] = sha256_file(*config.model);
  } else {
    std::printf("         no --model given: using the built-in synthetic YOLOv8%c (seeded random weights;\n"
                "         its detections are meaningless, it only exercises the pipeline)\n",
                config.synthetic_scale);
  }
  for (const auto* folders : {&config.data, &config.calib}) {
    if (folders->empty()) continue;
    const Dataset dataset = scan_datasets(*folders);
    for (const DatasetImage& entry : dataset.images) probe_image(entry.image);
    record[folders == &config.data ? "data_images" : "calib_images_found"] = dataset.images.size();
  }
  if (config.golden_image) probe_image(*config.golden_image);
  write_json_file(context.output_dir / "config.json", record);
  return record;
}

}  // namespace yq
