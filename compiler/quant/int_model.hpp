// The integer reference executor: runs a QuantModel on one letterboxed
// canvas using only the integer kernels (no floating point), and decodes the
// detect head in integers (docs/ARITHMETIC.md section 7).
#pragma once
#include <cstdint>
#include <vector>

#include "compiler/io/image.hpp"
#include "compiler/quant/int_kernels.hpp"
#include "compiler/quant/quant_model.hpp"

namespace yq {

// Input codes: pixel - 128, [3][H][W].
CodeTensor image_codes(const RgbImage& canvas);

class IntegerModel {
 public:
  IntegerModel(const QuantModel& model, int threads);

  // Every node's output codes, indexed like graph.nodes. When pre_activations
  // is given it receives the pre-activation codes of SiLU convolutions.
  std::vector<CodeTensor> run_all(const RgbImage& canvas, std::vector<CodeTensor>* pre_activations = nullptr) const;

  const QuantModel& model() const { return model_; }

 private:
  CodeTensor run_conv(int index, const CodeTensor& input, CodeTensor* pre_activation) const;
  CodeTensor run_add(int index, const CodeTensor& a, const CodeTensor& b) const;
  CodeTensor run_concat(int index, const std::vector<const CodeTensor*>& inputs) const;

  struct RequantArrays {
    std::vector<std::int64_t> multipliers;
    std::vector<int> shifts;
  };

  const QuantModel& model_;
  int threads_;
  std::vector<RequantArrays> conv_requant_;  // per node (convs only)
};

// A candidate of the integer head: box in 1/16 canvas pixel, score in units of 2^-16.
struct IntDetection {
  std::int32_t x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  std::int32_t score = 0;
  int class_id = 0;
  int anchor = 0;  // position in anchor order (level, row, column): the tie-breaker of q_NMS
};

constexpr int kBoxFractionBits = 4;

// The score code equivalent of a real threshold: lround(conf * 2^16).
std::int32_t score_threshold_code(double conf);

// Candidates with score > score_threshold (anchor order: level, row, column).
std::vector<IntDetection> decode_int_head(const QuantModel& model, const std::vector<CodeTensor>& outputs,
                                          std::int32_t score_threshold);

}  // namespace yq
