// stage_4: activation calibration. Runs the fused float model over the
// calibration images (--calib, repeatable, default --data; --calib-images N, default
// all; without either, four built-in test patterns, announced) and records,
// for every tensor and every SiLU pre-activation, min, max and a 2048-bin
// |x| histogram (compiler/quant/calibration.hpp) in statistics.pt, so later
// stages never recalibrate. Each image's forward pass runs on one LibTorch
// thread (images in parallel, accumulated in image order), so the
// statistics are the same bytes whatever the thread count.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <future>

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

struct Activations {
  std::vector<at::Tensor> outputs, pre_activations;
};

Activations forward(const FloatModel& model, const RgbImage& image, int image_size) {
  Activations a;
  a.outputs = model.run_all(image_to_input(letterbox(image, image_size).canvas), &a.pre_activations);
  return a;
}

void accumulate_image(const Activations& a, CalibrationStatistics& statistics) {
  for (size_t i = 0; i < a.outputs.size(); ++i) {
    accumulate(statistics.outputs[i], a.outputs[i]);
    if (a.pre_activations[i].defined()) accumulate(statistics.pre_activations[i], a.pre_activations[i]);
  }
  ++statistics.images;
}

// Runs `workers` images at a time, each on a single LibTorch thread, and
// accumulates them in order.
void calibrate(const FloatModel& model, int count, const std::function<RgbImage(int)>& image_at, int image_size,
               int workers, CalibrationStatistics& statistics) {
  const int saved_threads = at::get_num_threads();
  at::set_num_threads(1);
  ProgressBar progress("         calibrate", count);
  for (int first = 0; first < count; first += workers) {
    std::vector<std::future<Activations>> batch;
    for (int i = first; i < std::min(count, first + workers); ++i) {
      batch.push_back(std::async(std::launch::async, [&, i] { return forward(model, image_at(i), image_size); }));
    }
    for (auto& result : batch) {
      accumulate_image(result.get(), statistics);
      progress.advance();
    }
  }
  at::set_num_threads(saved_threads);
}

}  // namespace

nlohmann::json run_stage_4_calibration(StageContext& context) {
  const RunConfig& config = context.config;
  const Model model = load_model(context.stage_dir(2));
  const FloatModel float_model(model);
  CalibrationStatistics statistics;
  statistics.outputs.resize(model.graph.nodes.size());
  statistics.pre_activations.resize(model.graph.nodes.size());

  const int workers = config.threads > 0 ? config.threads : at::get_num_threads();
  const std::vector<std::filesystem::path>& folders = config.calib.empty() ? config.data : config.calib;
  std::string source;
  if (!folders.empty()) {
    const Dataset dataset = scan_datasets(folders);
    const int count = config.calib_images > 0 ? std::min<int>(config.calib_images, static_cast<int>(dataset.images.size()))
                                              : static_cast<int>(dataset.images.size());
    calibrate(float_model, count, [&](int i) { return decode_image(dataset.images[i].image); }, config.image_size, workers,
              statistics);
    source = dataset_description(folders);
  } else {
    std::printf("         no --calib or --data: calibrating on %d built-in test patterns (accuracy is not meaningful)\n",
                kTestPatternImages);
    calibrate(float_model, kTestPatternImages, [](int i) { return test_pattern_image(640, 480, i); }, config.image_size,
              workers, statistics);
    source = "built-in test patterns";
  }
  save_calibration(context.output_dir / "statistics.pt", statistics);
  std::printf("         %d images, statistics of %zu tensors\n", statistics.images, statistics.outputs.size());
  return {{"images", statistics.images}, {"source", source}, {"tensors", statistics.outputs.size()},
          {"histogram_bins", AbsHistogram::kBins}};
}

}  // namespace yq
