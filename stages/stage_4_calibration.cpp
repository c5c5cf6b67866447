// stage_4: activation calibration. Runs the fused float model over the
// calibration images (--calib, default --data; --calib-images N, default
// all; without either, four built-in test patterns, announced) and records,
// for every tensor and every SiLU pre-activation, min, max and a 2048-bin
// |x| histogram (compiler/quant/calibration.hpp) in statistics.pt, so later
// stages never recalibrate.
#include <ATen/ATen.h>

#include <algorithm>
#include <cstdio>

#include "compiler/float/float_model.hpp"
#include "compiler/io/dataset.hpp"
#include "compiler/io/test_pattern.hpp"
#include "compiler/quant/calibration.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/progress.hpp"
#include "stages/stage.hpp"

namespace yq {

namespace {

constexpr int kTestPatternImages = 4;

void accumulate(AbsHistogram& histogram, const at::Tensor& tensor) {
  const at::Tensor values = tensor.contiguous();
  histogram.add(values.data_ptr<float>(), static_cast<size_t>(values.numel()));
}

void calibrate_one(const FloatModel& model, const RgbImage& image, int image_size, CalibrationStatistics& statistics) {
  std::vector<at::Tensor> pre;
  const std::vector<at::Tensor> outputs = model.run_all(image_to_input(letterbox(image, image_size).canvas), &pre);
  for (size_t i = 0; i < outputs.size(); ++i) {
    accumulate(statistics.outputs[i], outputs[i]);
    if (pre[i].defined()) accumulate(statistics.pre_activations[i], pre[i]);
  }
  ++statistics.images;
}

}  // namespace

nlohmann::json run_stage_4_calibration(StageContext& context) {
  const RunConfig& config = context.config;
  const Model model = load_model(context.stage_dir(2));
  const FloatModel float_model(model);
  CalibrationStatistics statistics;
  statistics.outputs.resize(model.graph.nodes.size());
  statistics.pre_activations.resize(model.graph.nodes.size());

  const auto folder = config.calib ? config.calib : config.data;
  std::string source;
  if (folder) {
    const Dataset dataset = scan_dataset(*folder);
    const int count = config.calib_images > 0 ? std::min<int>(config.calib_images, static_cast<int>(dataset.images.size()))
                                              : static_cast<int>(dataset.images.size());
    ProgressBar progress("         calibrate", count);
    for (int i = 0; i < count; ++i) {
      calibrate_one(float_model, decode_image(dataset.images[i].image), config.image_size, statistics);
      progress.advance();
    }
    source = folder->string();
  } else {
    std::printf("         no --calib or --data: calibrating on %d built-in test patterns (accuracy is not meaningful)\n",
                kTestPatternImages);
    for (int variant = 0; variant < kTestPatternImages; ++variant) {
      calibrate_one(float_model, test_pattern_image(640, 480, variant), config.image_size, statistics);
    }
    source = "built-in test patterns";
  }
  save_calibration(context.output_dir / "statistics.pt", statistics);
  std::printf("         %d images, statistics of %zu tensors\n", statistics.images, statistics.outputs.size());
  return {{"images", statistics.images}, {"source", source}, {"tensors", statistics.outputs.size()},
          {"histogram_bins", AbsHistogram::kBins}};
}

}  // namespace yq
