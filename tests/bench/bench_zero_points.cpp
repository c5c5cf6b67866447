// Benchmark (not a test): what asymmetric (zero-point) activation codes after
// SiLU would buy, measured in the float simulation before building them
// (compiler/quant/zero_point_grids.hpp). Reads a run folder that has
// completed stage_6 (the fused model of stage_2, the calibration statistics
// of stage_4, the integer model of stage_6) and runs the validation images
// through the simulation with every weight and activation quantized as the
// integer model does (head decode, score codes and q_NMS included), once
// with today's symmetric grids and once per asymmetric variant; prints each
// variant's mAP and its paired 95% bootstrap interval against symmetric.
//   build/tests/bench_zero_points RUN --data FOLDER [--data FOLDER...]
//       [--variant bound-mse|bound-kept|observed-mse|observed-kept]... [--max-images N] [--threads N]
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
#include "compiler/quant/quant_model_io.hpp"
#include "compiler/quant/zero_point_grids.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"
#include "compiler/util/progress.hpp"
#include "stages/stage.hpp"

namespace {

namespace fs = std::filesystem;

struct Variant {
  std::string name;
  std::vector<yq::FakeQuantGrids> grids;
  std::vector<yq::ImageResult> results;
};

std::vector<yq::FakeQuantGrids> variant_grids(const std::string& name, const yq::QuantModel& quant,
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

int run(const fs::path& run_dir, const std::vector<fs::path>& data, const std::vector<std::string>& names, int max_images) {
  const yq::Model fused = yq::load_model(run_dir / "stage_2");
  const yq::QuantModel quant = yq::load_quant_model(run_dir / "stage_6");
  const yq::CalibrationStatistics statistics =
      yq::load_calibration(run_dir / "stage_4" / "statistics.pt", quant.graph.nodes.size());
  const yq::Model dequantized = yq::dequantized_model(fused, quant);
  const yq::RunConfig defaults;
  const yq::DetectOptions options{quant.image_size,
                                  {defaults.val_score_threshold, defaults.val_iou_threshold, defaults.max_detections}};

  std::vector<Variant> variants = {{"symmetric", yq::activation_grids(quant, yq::kActivationComponents), {}}};
  for (const std::string& name : names) variants.push_back({name, variant_grids(name, quant, statistics), {}});
  std::vector<yq::SimulatedDetector> detectors;
  detectors.reserve(variants.size());
  for (const Variant& v : variants) detectors.emplace_back(dequantized, v.grids, quant, options);

  const yq::Dataset dataset = yq::scan_datasets(data);
  const int count = max_images > 0 ? std::min<int>(max_images, static_cast<int>(dataset.images.size()))
                                   : static_cast<int>(dataset.images.size());
  yq::ProgressBar progress("zero points", count);
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
  std::printf("  %-14s %9s %8s   %s\n", "activations", "mAP50-95", "mAP50", "change vs symmetric (points, paired 95% bootstrap)");
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
  CLI::App app{"mAP of asymmetric (zero-point) activation grids after SiLU against symmetric ones, in the float simulation"};
  fs::path run_dir;
  std::vector<fs::path> data;
  std::vector<std::string> names = {"bound-mse"};
  int max_images = 0, threads = 0;
  app.add_option("run", run_dir, "run folder with stages 2, 4 and 6")->required();
  app.add_option("--data", data, "labelled validation folders")->required();
  app.add_option("--variant", names, "asymmetric grids: lower end bound|observed, upper end mse|kept")->capture_default_str();
  app.add_option("--max-images", max_images, "first N images (0: all)")->check(CLI::NonNegativeNumber);
  app.add_option("--threads", threads, "CPU threads (0: default)")->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) at::set_num_threads(threads);
  try {
    return run(run_dir, data, names, max_images);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_zero_points: error: %s\n", e.what());
    return 1;
  }
}
