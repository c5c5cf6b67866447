// stage_4: activation calibration. Runs the fused float model over the
// calibration images (--calib, repeatable, default --data; --calib-images N, default
// all; without either, four built-in test patterns, announced) and records,
// for every tensor and every SiLU pre-activation, min, max and a 2048-bin
// |x| histogram (compiler/quant/calibration.hpp) in statistics.pt, so later
// stages never recalibrate. With GPTQ (--rounding gptq, or auto when some
// weights may be narrower than 8 bits) or --bias-correction it also records, for every convolution, the sum and Gram matrix of its
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

// Where the results go; layer_inputs is null unless collected.
struct Statistics {
  CalibrationStatistics calibration;
  LayerInputStatistics* layer_inputs = nullptr;
};

CalibrationStatistics empty_statistics(size_t node_count) {
  CalibrationStatistics statistics;
  statistics.outputs.resize(node_count);
  statistics.pre_activations.resize(node_count);
  return statistics;
}

// For each node, the convolutions that read its output.
std::vector<std::vector<size_t>> conv_consumers(const Graph& graph) {
  std::vector<std::vector<size_t>> consumers(graph.nodes.size());
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    if (graph.nodes[i].op == OpKind::Conv) consumers[graph.nodes[i].inputs[0]].push_back(i);
  }
  return consumers;
}

// One image's pass: each tensor goes into `histograms` as it is produced
// (and is released after its last consumer). With layer inputs, returns
// each convolution's share of them (indexed like graph.nodes), else nothing.
std::vector<ImageConvInput> calibrate_image(const FloatModel& model, const RgbImage& image, int image_index,
                                            InputSize image_size, bool layer_inputs, CalibrationStatistics& histograms) {
  const auto& nodes = model.model().graph.nodes;
  const std::vector<std::vector<size_t>> readers = layer_inputs ? conv_consumers(model.model().graph)
                                                                : std::vector<std::vector<size_t>>(nodes.size());
  std::vector<ImageConvInput> conv_inputs(layer_inputs ? nodes.size() : 0);
  const auto observe = [&](size_t node, bool pre_activation, const at::Tensor& tensor) {
    accumulate((pre_activation ? histograms.pre_activations : histograms.outputs)[node], tensor);
    if (pre_activation) return;
    for (size_t conv : readers[node]) {
      const at::Tensor input = tensor.contiguous();
      conv_inputs[conv] = conv_input_statistics(nodes[conv], input.data_ptr<float>(), static_cast<int>(input.size(2)),
                                                static_cast<int>(input.size(3)), image_index);
    }
  };
  model.observe_all(image_to_input(letterbox(image, image_size).canvas), observe);
  return conv_inputs;
}

void add_image_inputs(const std::vector<ImageConvInput>& image, LayerInputStatistics& total) {
  for (size_t i = 0; i < image.size(); ++i) {
    if (image[i].width > 0) add_conv_input(total.convs[i], image[i]);
  }
  ++total.images;
}

// Runs `workers` images at a time, each on a single LibTorch thread; the
// next batch's passes start while this batch's layer inputs are added in
// image order. Each pass fills the histograms of its slot, batches
// alternating between two sets of `workers` slots (a set is free again once
// its batch is collected); the slots are merged at the end, which gives the
// same bytes as one histogram filled in image order.
void calibrate(const FloatModel& model, int count, const std::function<RgbImage(int)>& image_at, InputSize image_size,
               int workers, Statistics& statistics) {
  const int saved_threads = at::get_num_threads();
  at::set_num_threads(1);
  const size_t node_count = model.model().graph.nodes.size();
  std::vector<CalibrationStatistics> slots(2 * static_cast<size_t>(workers), empty_statistics(node_count));
  const bool layer_inputs = statistics.layer_inputs != nullptr;
  ProgressBar progress("         calibrate", count);
  const auto launch = [&](int first) {
    std::vector<std::future<std::vector<ImageConvInput>>> batch;
    for (int i = first; i < std::min(count, first + workers); ++i) {
      CalibrationStatistics* slot = &slots[static_cast<size_t>(i % (2 * workers))];
      batch.push_back(std::async(std::launch::async, [&, i, slot] {
        return calibrate_image(model, image_at(i), i, image_size, layer_inputs, *slot);
      }));
    }
    return batch;
  };
  std::vector<std::future<std::vector<ImageConvInput>>> batch = launch(0);
  for (int first = 0; first < count; first += workers) {
    std::vector<std::future<std::vector<ImageConvInput>>> next = launch(first + workers);
    for (auto& result : batch) {
      const std::vector<ImageConvInput> conv_inputs = result.get();
      if (layer_inputs) add_image_inputs(conv_inputs, *statistics.layer_inputs);
      progress.advance();
    }
    batch = std::move(next);
  }
  CalibrationStatistics& total = statistics.calibration;
  for (const CalibrationStatistics& slot : slots) {
    for (size_t i = 0; i < node_count; ++i) {
      total.outputs[i].merge(slot.outputs[i]);
      total.pre_activations[i].merge(slot.pre_activations[i]);
    }
  }
  total.images = count;
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
  Statistics statistics{empty_statistics(model.graph.nodes.size())};
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
