// What every stage sees: the run's configuration, where earlier stages left
// their outputs, and the folder it writes its own into. A stage returns a
// JSON object (its measurements and check results) that the runner stores in
// stage_N/summary.json with the wall time.
#pragma once
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/emit/band_program.hpp"
#include "compiler/emit/dram_image.hpp"
#include "compiler/io/image.hpp"
#include "compiler/quant/quant_model.hpp"

namespace yq {

struct RunConfig {
  std::optional<std::filesystem::path> model;  // none: the built-in synthetic YOLOv8 of synthetic_scale
  char synthetic_scale = 'n';                  // n, s, m, l or x
  std::vector<std::filesystem::path> data;     // labelled image folders for validation (one dataset)
  std::filesystem::path out = "yq-hw-run";
  InputSize image_size;
  int max_images = 0;  // 0: every image of --data
  int threads = 0;     // 0: LibTorch's default
  int batch = 1;       // validation images per forward pass (stage_3, stage_8); results do not depend on it
  int from_stage = 0;
  int through_stage = 8;
  std::vector<std::filesystem::path> calib;    // calibration image folders (default: --data)
  int calib_images = 0;                         // 0: every calibration image
  QuantSettings quant;
  NmsMode nms = NmsMode::Int;  // stage_8's headline: int (q_NMS) or float NMS on the integer outputs
  std::optional<std::filesystem::path> emit_dir;      // also copy stage_7's emission here
  int axi_bits = kDefaultAxiDataBits;                 // AXI4 data width of the DRAM image
  std::int64_t weight_buffer_bytes = 0;               // yq_top's weight buffer; 0: sized to the largest convolution
  std::int64_t band_buffer_bytes = kDefaultBandBufferBytes;  // one half of the band program's input / output buffers
  std::optional<std::filesystem::path> golden_image;  // default: the first image of --data
  float val_score_threshold = 0.001f;
  float score_threshold = 0.25f;  // the hardware's: stage_7's yq_params.vh and stage_8's golden q_NMS
  float val_iou_threshold = 0.7f;
  int max_detections = 300;
  int bootstrap_resamples = 200;  // paired bootstrap of stage_8's difference to float
  bool attribution = false;       // stage_8: mAP with each quantization component alone / all but it
};

nlohmann::json run_config_to_json(const RunConfig& config);

struct StageContext {
  const RunConfig& config;
  std::filesystem::path output_dir;  // this stage's folder (being written)

  // The finished output folder of an earlier stage.
  std::filesystem::path stage_dir(int stage) const;
};

// The calibration images (stage_4's, and stage_5's sensitivity): the first
// --calib-images of --calib, else of --data, else built-in test patterns.
struct CalibrationImages {
  int count = 0;
  std::function<RgbImage(int)> image_at;  // decoded, not letterboxed
  std::string source;                     // "coco_calib (270 images)" or "built-in test patterns"
  bool test_patterns = false;
};
CalibrationImages calibration_images(const RunConfig& config);

using StageFunction = nlohmann::json (*)(StageContext&);
// The settings of the run configuration a stage's outputs depend on.
using StageSettings = nlohmann::json (*)(const RunConfig&);

struct StageInfo {
  int number;
  const char* name;   // "import"
  const char* title;  // "checkpoint import and rename"
  StageFunction run;
  std::vector<int> reads;  // the earlier stages whose outputs it loads
  StageSettings settings;
};

nlohmann::json run_stage_0_config(StageContext& context);
nlohmann::json run_stage_1_import(StageContext& context);
nlohmann::json run_stage_2_bn_fusion(StageContext& context);
nlohmann::json run_stage_3_float_validation(StageContext& context);
nlohmann::json run_stage_4_calibration(StageContext& context);
nlohmann::json run_stage_5_scale_selection(StageContext& context);
nlohmann::json run_stage_6_quantization(StageContext& context);
nlohmann::json run_stage_7_emit(StageContext& context);
nlohmann::json run_stage_8_integer_validation(StageContext& context);

// The numbered stages, in order.
const std::vector<StageInfo>& pipeline_stages();

// Runs stage_0 (the input checks), then from_stage..through_stage in order,
// stopping at the first error. Resuming (from_stage > 1) first checks that
// every earlier stage's outputs were made by this format and from the same
// settings (compare_provenance); otherwise it names the stage to rerun.
void run_pipeline(const RunConfig& config);

// What made a stage's outputs: the stage format and arithmetic versions, the
// settings it depends on, and a hash of the provenance of each stage it reads.
nlohmann::json stage_provenance(const StageInfo& stage, const RunConfig& config);

// Empty when `stored` (from summary.json) equals what this run would make,
// otherwise what differs ("--imgsz 160 -> 320").
std::string compare_provenance(const nlohmann::json& stored, const nlohmann::json& expected);

std::string stage_folder_name(int stage);  // "stage_3"

}  // namespace yq
