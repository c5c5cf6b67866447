// stage_2: BatchNorm fusion. Folds every BatchNorm into its convolution
// (W' = W*s, b' = beta - mean*s, s = gamma/sqrt(var+eps), in double, with the
// checkpoint's eps), then verifies instead of assuming: the fused and unfused
// float models run on the verification images (the first two of --data, or
// two built-in test patterns) and every head output must agree to 1e-4
// relative (max |fused - unfused| / max |unfused|). The figure is recorded.
#include <ATen/ATen.h>

#include <algorithm>
#include <cstdio>

#include "compiler/float/bn_fusion.hpp"
#include "compiler/float/float_detector.hpp"
#include "compiler/io/dataset.hpp"
#include "compiler/io/test_pattern.hpp"
#include "compiler/util/error.hpp"
#include "stages/stage.hpp"

namespace yq {

namespace {

constexpr double kMaxRelativeError = 1e-4;

std::vector<RgbImage> verification_canvases(const RunConfig& config) {
  std::vector<RgbImage> canvases;
  if (!config.data.empty()) {
    const Dataset dataset = scan_datasets(config.data);
    for (size_t i = 0; i < std::min<size_t>(2, dataset.images.size()); ++i) {
      canvases.push_back(letterbox(decode_image(dataset.images[i].image), config.image_size).canvas);
    }
  } else {
    for (int variant = 0; variant < 2; ++variant) {
      canvases.push_back(letterbox(test_pattern_image(640, 480, variant), config.image_size).canvas);
    }
  }
  return canvases;
}

double max_relative_error(const std::vector<at::Tensor>& reference, const std::vector<at::Tensor>& candidate) {
  double worst = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    const double scale = reference[i].abs().max().item<double>();
    const double difference = (reference[i] - candidate[i]).abs().max().item<double>();
    worst = std::max(worst, scale > 0 ? difference / scale : difference);
  }
  return worst;
}

}  // namespace

nlohmann::json run_stage_2_bn_fusion(StageContext& context) {
  const Model unfused = load_model(context.stage_dir(1));
  const Model fused = fuse_batch_norm(unfused);
  save_model(context.output_dir, fused);

  const DetectOptions options{context.config.image_size, {}};
  const FloatDetector unfused_detector(unfused, options), fused_detector(fused, options);
  double worst = 0;
  const std::vector<RgbImage> canvases = verification_canvases(context.config);
  for (const RgbImage& canvas : canvases) {
    worst = std::max(worst, max_relative_error(unfused_detector.head_outputs(canvas), fused_detector.head_outputs(canvas)));
  }
  std::printf("         fused vs unfused head outputs: max relative error %.3g on %zu images (limit %.0e)\n", worst,
              canvases.size(), kMaxRelativeError);
  if (!(worst <= kMaxRelativeError)) {
    char message[160];
    std::snprintf(message, sizeof message, "BN fusion check failed: fused and unfused outputs differ by %.3g relative (limit %.0e)",
                  worst, kMaxRelativeError);
    throw Error(message);
  }
  return {{"fused_convs", fused.graph.conv_nodes().size()},
          {"bn_eps", unfused.info.bn_eps},
          {"verification_images", canvases.size()},
          {"verification_source", !context.config.data.empty() ? "first images of --data" : "built-in test patterns"},
          {"max_relative_error", worst},
          {"limit", kMaxRelativeError},
          {"check", "passed"}};
}

}  // namespace yq
