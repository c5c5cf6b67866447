// Benchmark (not a test): what activation grids the integer arithmetic does
// not have would buy, measured in the float simulation before building them.
// Reads a run folder that has completed stage_6 (the fused model of stage_2,
// the calibration statistics of stage_4, the integer model of stage_6) and
// runs the validation images through the simulation with every weight and
// activation quantized as the integer model does (head decode, score codes
// and q_NMS included), once with today's grids and once per variant; prints
// each variant's mAP and its paired 95% bootstrap interval against today's.
// Variants:
//   bound-mse|bound-kept|observed-mse|observed-kept  asymmetric (zero-point)
//       grids after SiLU (compiler/quant/zero_point_grids.hpp)
//   channel  one grid per channel for the pre-activations and outputs of the
//       convolutions --channel-nodes names (compiler/quant/channel_grids.hpp),
//       their clips chosen on the first --calib-images images of --calib
//   build/tests/bench_activation_grids RUN --data FOLDER [--data FOLDER...]
//       [--variant NAME]... [--channel-nodes conv0,conv1] [--calib FOLDER --calib-images N]
//       [--max-images N] [--threads N]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compiler/metrics/bootstrap.hpp"
#include "compiler/quant/attribution.hpp"
#include "compiler/quant/channel_grids.hpp"
#include "compiler/quant/quant_model_io.hpp"
#include "compiler/quant/zero_point_grids.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"
#include "compiler/io/dataset.hpp"
#include "compiler/util/progress.hpp"
#include "stages/stage.hpp"

namespace {

namespace fs = std::filesystem;

struct Variant {
  std::string name;
  std::vector<yq::FakeQuantGrids> grids;
  std::vector<yq::ImageResult> results;
};

struct ChannelOptions {
  std::vector<std::string> nodes = {"conv0", "conv1"};
  std::vector<fs::path> calib;
  int calib_images = 64;
};

std::vector<yq::FakeQuantGrids> zero_point_variant(const std::string& name, const yq::QuantModel& quant,
                                                   const yq::CalibrationStatistics& statistics) {
  using yq::ZeroPointLower, yq::ZeroPointUpper;
  static const std::map<std::string, std::pair<ZeroPointLower, ZeroPointUpper>> variants = {
      {"bound-mse", {ZeroPointLower::SiluBound, ZeroPointUpper::Mse}},
      {"bound-kept", {ZeroPointLower::SiluBound, ZeroPointUpper::Kept}},
      {"observed-mse", {ZeroPointLower::Observed, ZeroPointUpper::Mse}},
      {"observed-kept", {ZeroPointLower::Observed, ZeroPointUpper::Kept}}};
  const auto found = variants.find(name);
  if (found == variants.end()) throw yq::Error("unknown variant '" + name + "'");
  return yq::zero_point_grids(quant, statistics, found->second.first, found->second.second);
}

// Today's grids with the chosen convolutions' grids per channel, their clips
// by the run's range method (auto: mse below 11 bits).
std::vector<yq::FakeQuantGrids> channel_variant(const yq::Model& fused, const yq::QuantModel& quant,
                                                const ChannelOptions& options) {
  if (options.calib.empty()) throw yq::Error("the channel variant needs --calib (images to choose the channels' clips on)");
  const std::vector<size_t> nodes = yq::channel_grid_nodes(quant.graph, options.nodes);
  const yq::Dataset calib = yq::scan_datasets(options.calib);
  const int count = std::min<int>(options.calib_images, static_cast<int>(calib.images.size()));
  const auto statistics = yq::collect_channel_statistics(
      fused, nodes, count, [&](int i) { return yq::decode_image(calib.images[static_cast<size_t>(i)].image); },
      quant.image_size);
  const yq::RangeOptions range{quant.settings.range_method, quant.settings.percentile};
  return yq::with_channel_grids(yq::activation_grids(quant, yq::kActivationComponents), quant, statistics, range);
}

int run(const fs::path& run_dir, const std::vector<fs::path>& data, const std::vector<std::string>& names,
        const ChannelOptions& channel, int max_images) {
  const yq::Model fused = yq::load_model(run_dir / "stage_2");
  const yq::QuantModel quant = yq::load_quant_model(run_dir / "stage_6");
  const yq::CalibrationStatistics statistics =
      yq::load_calibration(run_dir / "stage_4" / "statistics.pt", quant.graph.nodes.size());
  const yq::Model dequantized = yq::dequantized_model(fused, quant);
  const yq::RunConfig defaults;
  const yq::DetectOptions options{quant.image_size,
                                  {defaults.val_score_threshold, defaults.val_iou_threshold, defaults.max_detections}};

  std::vector<Variant> variants = {{"today's", yq::activation_grids(quant, yq::kActivationComponents), {}}};
  for (const std::string& name : names) {
    variants.push_back({name, name == "channel" ? channel_variant(fused, quant, channel) : zero_point_variant(name, quant, statistics), {}});
  }
  std::vector<yq::SimulatedDetector> detectors;
  detectors.reserve(variants.size());
  for (const Variant& v : variants) detectors.emplace_back(dequantized, v.grids, quant, options);

  const yq::Dataset dataset = yq::scan_datasets(data);
  const int count = max_images > 0 ? std::min<int>(max_images, static_cast<int>(dataset.images.size()))
                                   : static_cast<int>(dataset.images.size());
  yq::ProgressBar progress("simulate", count);
  for (int i = 0; i < count; ++i) {
    const yq::SimulationImage image = yq::load_simulation_image(dataset.images[i], options.image_size);
    for (size_t v = 0; v < variants.size(); ++v) {
      const std::vector<at::Tensor> heads = detectors[v].head_outputs(image.boxed.canvas);
      variants[v].results.push_back(yq::simulated_result(detectors[v], heads, yq::kAllComponents, image));
    }
    progress.advance();
  }

  const int classes = quant.info.arch.num_classes;
  std::printf("W%d A%d (%s), %d images at %s, float simulation with every component quantized\n",
              quant.settings.weight_bits, quant.settings.activation_bits, run_dir.string().c_str(), count,
              quant.image_size.text().c_str());
  std::printf("  %-14s %9s %8s   %s\n", "activations", "mAP50-95", "mAP50", "change vs today's (points, paired 95% bootstrap)");
  for (Variant& v : variants) {
    const yq::DetectionMetrics metrics = yq::evaluate_detections(v.results, classes);
    std::string change;
    if (&v != &variants.front()) {
      const yq::PairedDifference d =
          yq::paired_bootstrap_map50_95(variants.front().results, v.results, classes, defaults.bootstrap_resamples);
      char text[64];
      std::snprintf(text, sizeof text, "%+6.2f [%+.2f, %+.2f]", 100 * d.map50_95, 100 * d.low, 100 * d.high);
      change = text;
    }
    std::printf("  %-14s %9.4f %8.4f   %s\n", v.name.c_str(), metrics.map50_95, metrics.map50, change.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mAP of activation grids the integer arithmetic does not have (zero points, per-channel scales) against today's, in the float simulation"};
  ChannelOptions channel;
  fs::path run_dir;
  std::vector<fs::path> data;
  std::vector<std::string> names = {"bound-mse"};
  int max_images = 0, threads = 0;
  app.add_option("run", run_dir, "run folder with stages 2, 4 and 6")->required();
  app.add_option("--data", data, "labelled validation folders")->required();
  app.add_option("--variant", names, "bound-mse|bound-kept|observed-mse|observed-kept (zero points) or channel")
      ->capture_default_str();
  app.add_option("--channel-nodes", channel.nodes, "the channel variant's convolutions")->delimiter(',')->capture_default_str();
  app.add_option("--calib", channel.calib, "the channel variant's calibration folders");
  app.add_option("--calib-images", channel.calib_images, "first N calibration images")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--max-images", max_images, "first N images (0: all)")->check(CLI::NonNegativeNumber);
  app.add_option("--threads", threads, "CPU threads (0: default)")->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) at::set_num_threads(threads);
  try {
    return run(run_dir, data, names, channel, max_images);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_activation_grids: error: %s\n", e.what());
    return 1;
  }
}
