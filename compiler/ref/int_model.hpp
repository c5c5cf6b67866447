// The integer reference executor: runs a QuantModel on one letterboxed
// canvas using only the integer kernels (no floating point).
#pragma once
#include <cstdint>
#include <vector>

#include "compiler/io/image.hpp"
#include "compiler/ref/int_kernels.hpp"
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

  // The detection path: indexed like graph.nodes, but only the head
  // predictions hold codes (the rest are empty); every other tensor is freed
  // after its last consumer.
  std::vector<CodeTensor> run_heads(const RgbImage& canvas) const;

  // run_heads for a batch of canvases: the images run side by side, one per
  // thread (each single-threaded), instead of one image over all threads.
  // Integer results do not depend on the schedule.
  std::vector<std::vector<CodeTensor>> run_heads_batch(const std::vector<RgbImage>& canvases) const;

  // One computing node (not the input or a slice) on its inputs, in order.
  // With padded_input, a convolution's or max-pool's input already holds its
  // pad rows and columns (pad codes; for a max-pool codes no real code
  // exceeds), so the kernel pads nothing: a band of rows runs like this.
  CodeTensor run_node(int index, const std::vector<const CodeTensor*>& inputs, bool padded_input) const;

  const QuantModel& model() const { return model_; }

 private:
  std::vector<CodeTensor> run(const RgbImage& canvas, std::vector<CodeTensor>* pre_activations, bool release_dead,
                              int threads) const;
  CodeTensor run_conv(int index, const CodeTensor& input, CodeTensor* pre_activation, int threads, int pad) const;
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

}  // namespace yq
