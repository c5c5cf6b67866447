// stage_4: activation calibration. Runs the fused float model over the
// calibration images (--calib, repeatable, default --data; --calib-images N, default
// all; without either, four built-in test patterns, announced) and records,
// for every tensor and every SiLU pre-activation, min, max and a 2048-bin
// |x| histogram (compiler/quant/calibration.hpp) in statistics.pt, so later
// stages never recalibrate. With --rounding gptq or --bias-correction it
// also records, for every convolution, the sum and Gram matrix of its
// im2col input rows at sampled positions (compiler/quant/layer_inputs.hpp)
// in layer_inputs.pt: the float model's inputs, not the quantized
// predecessors' outputs. Each image's forward pass and its Gram matrices run
// on one thread (images in parallel, accumulated in image order), so the
// statistics are the same bytes whatever the thread count.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <future>
#include <memory>

#include "compiler/float/float_model.hpp"
#include "compiler/io/dataset.hpp"
#include "compiler/io/test_pattern.hpp"
#include "compiler/quant/calibration.hpp"
#include "compiler/quant/layer_inputs.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/progress.hpp"
#include "stages/stage.hpp"

namespace yq {

namespace {

void accumulate(AbsHistogram& histogram, const at::Tensor& tensor) {
  const at::Tensor values = tensor.contiguous();
  histogram.add(values.data_ptr<float>(), static_cast<size_t>(values.numel()));
}

struct Activations {
  std::vector<at::Tensor> outputs, pre_activations;
  std::vector<ImageConvInput> conv_inputs;  // per node, when layer inputs are collected
};

// Where the per-image results go; layer_inputs is null unless collected.
struct Statistics {
  CalibrationStatistics calibration;
  LayerInputStatistics* layer_inputs = nullptr;
};

Activations forward(const FloatModel& model, const RgbImage& image, int image_index, InputSize image_size,
                    bool layer_inputs) {
  Activations a;
  a.outputs = model.run_all(image_to_input(letterbox(image, image_size).canvas), &a.pre_activations);
  if (!layer_inputs) return a;
  const auto& nodes = model.model().graph.nodes;
  a.conv_inputs.resize(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].op != OpKind::Conv) continue;
    const at::Tensor input = a.outputs[nodes[i].inputs[0]].contiguous();
    a.conv_inputs[i] = conv_input_statistics(nodes[i], input.data_ptr<float>(), static_cast<int>(input.size(2)),
                                             static_cast<int>(input.size(3)), image_index);
  }
  return a;
}

void accumulate_image(const Activations& a, Statistics& statistics) {
  CalibrationStatistics& calibration = statistics.calibration;
  for (size_t i = 0; i < a.outputs.size(); ++i) {
    accumulate(calibration.outputs[i], a.outputs[i]);
    if (a.pre_activations[i].defined()) accumulate(calibration.pre_activations[i], a.pre_activations[i]);
  }
  ++calibration.images;
  if (!statistics.layer_inputs) return;
  for (size_t i = 0; i < a.conv_inputs.size(); ++i) {
    if (a.conv_inputs[i].width > 0) add_conv_input(statistics.layer_inputs->convs[i], a.conv_inputs[i]);
  }
  ++statistics.layer_inputs->images;
}

// Runs `workers` images at a time, each on a single LibTorch thread, and
// accumulates them in image order; the next batch's forward passes run while
// this batch is accumulated.
void calibrate(const FloatModel& model, int count, const std::function<RgbImage(int)>& image_at, InputSize image_size,
               int workers, Statistics& statistics) {
  const int saved_threads = at::get_num_threads();
  at::set_num_threads(1);
  ProgressBar progress("         calibrate", count);
  const auto launch = [&](int first) {
    std::vector<std::future<Activations>> batch;
    for (int i = first; i < std::min(count, first + workers); ++i) {
      batch.push_back(std::async(std::launch::async, [&, i] {
        return forward(model, image_at(i), i, image_size, statistics.layer_inputs != nullptr);
      }));
    }
    return batch;
  };
  std::vector<std::future<Activations>> batch = launch(0);
  for (int first = 0; first < count; first += workers) {
    std::vector<std::future<Activations>> next = launch(first + workers);
    for (auto& result : batch) {
      accumulate_image(result.get(), statistics);
      progress.advance();
    }
    batch = std::move(next);
  }
  at::set_num_threads(saved_threads);
}

}  // namespace

CalibrationImages calibration_images(const RunConfig& config) {
  constexpr int kTestPatternImages = 4;
  const std::vector<std::filesystem::path>& folders = config.calib.empty() ? config.data : config.calib;
  if (folders.empty()) {
    return {kTestPatternImages, [](int i) { return test_pattern_image(640, 480, i); }, "built-in test patterns", true};
  }
  auto dataset = std::make_shared<const Dataset>(scan_datasets(folders));
  const int available = static_cast<int>(dataset->images.size());
  const int count = config.calib_images > 0 ? std::min(config.calib_images, available) : available;
  return {count, [dataset](int i) { return decode_image(dataset->images[i].image); }, dataset_description(folders), false};
}

nlohmann::json run_stage_4_calibration(StageContext& context) {
  const RunConfig& config = context.config;
  const Model model = load_model(context.stage_dir(2));
  const FloatModel float_model(model);
  Statistics statistics;
  statistics.calibration.outputs.resize(model.graph.nodes.size());
  statistics.calibration.pre_activations.resize(model.graph.nodes.size());
  LayerInputStatistics layer_inputs = empty_layer_inputs(model.graph);
  if (config.quant.needs_layer_inputs()) statistics.layer_inputs = &layer_inputs;

  const int workers = config.threads > 0 ? config.threads : at::get_num_threads();
  const CalibrationImages images = calibration_images(config);
  if (images.test_patterns) {
    std::printf("         no --calib or --data: calibrating on %d built-in test patterns (accuracy is not meaningful)\n",
                images.count);
  }
  calibrate(float_model, images.count, images.image_at, config.image_size, workers, statistics);
  const CalibrationStatistics& calibration = statistics.calibration;
  save_calibration(context.output_dir / "statistics.pt", calibration);
  std::printf("         %d images, statistics of %zu tensors\n", calibration.images, calibration.outputs.size());
  nlohmann::json summary = {{"images", calibration.images}, {"source", images.source}, {"tensors", calibration.outputs.size()},
                            {"histogram_bins", AbsHistogram::kBins}, {"layer_inputs", statistics.layer_inputs != nullptr}};
  if (statistics.layer_inputs) {
    save_layer_inputs(context.output_dir / "layer_inputs.pt", layer_inputs);
    std::int64_t rows = 0;
    for (const ConvInputStatistics& c : layer_inputs.convs) rows += c.rows;
    std::printf("         layer inputs of %zu convolutions, %lld sampled rows\n", model.graph.conv_nodes().size(),
                static_cast<long long>(rows));
    summary["layer_input_rows"] = rows;
  }
  return summary;
}

}  // namespace yq
