// Where the accuracy of the integer model goes: a float simulation of it
// (compiler/float/fake_quant_model.hpp) in which each component of the
// quantization can be switched on alone:
//   backbone_activations  codes of every tensor outside the detect head
//                         (SiLU tables included: a SiLU table is exactly
//                         quantize(silu(pre-activation code)))
//   head_activations      codes of the detect head's tensors, box and class logits included
//   weights               integer weights, biases and requantization multipliers
//                         (W = W_q s_pre M / (2^S s_in) per output channel)
//   dfl_table             DFL through the exp table (2^-15), distances in 1/16 pixel
//   score_codes           scores as sigmoid-table codes (2^-16), the threshold compared as a code
//   q_nms                 q_NMS in place of the float NMS (its inputs rounded to
//                         1/16 pixel and 2^-16, as it works on integers)
// The attribution measures mAP with exactly one component quantized
// (everything else float) and with every component but one, over a dataset,
// beside the float model and the fully quantized simulation. The simulation
// is not bit-exact (float convolutions on grid values); the integer
// reference (compiler/ref/) stays the one exact path.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "compiler/float/fake_quant_model.hpp"
#include "compiler/float/float_detector.hpp"
#include "compiler/io/dataset.hpp"
#include "compiler/io/image.hpp"
#include "compiler/ir/model.hpp"
#include "compiler/metrics/detection_metrics.hpp"
#include "compiler/quant/quant_model.hpp"

namespace yq {

enum class QuantComponent { BackboneActivations, HeadActivations, Weights, DflTable, ScoreCodes, QNms };
constexpr int kQuantComponents = 6;
const char* component_name(QuantComponent component);

// A set of quantized components, one bit per QuantComponent.
using ComponentMask = unsigned;
constexpr ComponentMask component_bit(QuantComponent c) { return 1u << static_cast<int>(c); }
constexpr ComponentMask kAllComponents = (1u << kQuantComponents) - 1;
constexpr ComponentMask kActivationComponents =
    component_bit(QuantComponent::BackboneActivations) | component_bit(QuantComponent::HeadActivations);

// The fused model's weights replaced by the integer model's, dequantized.
Model dequantized_model(const Model& fused, const QuantModel& quant);

// The integer model's code formats as fake-quant grids, for the activation components in mask.
std::vector<FakeQuantGrids> activation_grids(const QuantModel& quant, ComponentMask mask);

// Detections of the simulated integer model with the given components quantized.
class SimulatedDetector {
 public:
  SimulatedDetector(const Model& fused, const Model& dequantized, const QuantModel& quant, ComponentMask network,
                    DetectOptions options);
  // The simulation with the given weights and activation grids (indexed like quant.graph.nodes).
  SimulatedDetector(const Model& weights, std::vector<FakeQuantGrids> grids, const QuantModel& quant, DetectOptions options);

  // The head outputs (box, class per level) of one canvas.
  std::vector<at::Tensor> head_outputs(const RgbImage& canvas) const;

  // Canvas-pixel detections from head outputs, with the head-side components of `mask`.
  std::vector<Detection> decode(const std::vector<at::Tensor>& heads, ComponentMask mask) const;

 private:
  const QuantModel& quant_;
  FakeQuantModel model_;
  DetectOptions options_;
};

// A labelled image as the simulation sees it: its letterboxed canvas and truths.
struct SimulationImage {
  const DatasetImage* entry = nullptr;
  int width = 0, height = 0;
  Letterboxed boxed;
  std::vector<GroundTruth> truths;
};
SimulationImage load_simulation_image(const DatasetImage& entry, InputSize size);

// The detections decoded from heads with the head-side components of mask, in image pixels.
ImageResult simulated_result(const SimulatedDetector& detector, const std::vector<at::Tensor>& heads, ComponentMask mask,
                             const SimulationImage& image);

struct AttributionRow {
  std::string label;  // "float", "all", "only weights", "all but weights"
  ComponentMask mask = 0;
  std::vector<ImageResult> results;
  DetectionMetrics metrics;
};

// Rows: float, every "only X", all, every "all but X".
std::vector<AttributionRow> run_attribution(const Model& fused, const QuantModel& quant, const Dataset& dataset,
                                            int max_images, const DetectOptions& options);

}  // namespace yq
