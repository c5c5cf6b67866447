// What GPTQ rounding and bias correction know of a convolution's input: the
// sum and the Gram matrix (sum of x x^T) of its im2col rows x (width
// in_c*k*k, ordered like the weights [in][ky][kx]; padded taps read 0) over
// sampled output positions of the calibration images. Per image at most
// max(kMinRowsPerImage, kGramBudget / width^2) positions are taken, evenly
// spaced over the output with an offset that moves from image to image, so
// the cost per image and layer is bounded by kGramBudget multiply-adds for
// all but the widest layers. An image's rows are reduced in float (one Eigen
// rank update, lower triangle), and images are added in double in image
// order, so the totals are the same bytes for every thread count.
#pragma once
#include <cstdint>
#include <filesystem>
#include <vector>

#include "compiler/ir/graph.hpp"

namespace yq {

struct ConvInputStatistics {
  int width = 0;                // in_c * k * k; 0 for nodes that are not convolutions
  std::int64_t rows = 0;        // sampled positions over every image
  std::vector<double> sum;      // [width]
  std::vector<double> gram;     // [width][width], symmetric
  // Asymmetric reconstruction only: sum of x_f x^T over the same rows, x_f
  // the float model's input at the row's position ([width][width],
  // column-major: entry (i, j) at j * width + i).
  std::vector<double> cross;

  std::vector<double> mean() const;  // sum / rows
};

// One image's share, in float: the sum and the lower triangle of the Gram matrix.
struct ImageConvInput {
  int width = 0;
  std::int64_t rows = 0;
  std::vector<float> sum;
  std::vector<float> gram_lower;  // [width][width], column-major, lower triangle valid
  std::vector<float> cross;       // with a float input: sum x_f x^T, column-major, as ConvInputStatistics::cross
};

// Indexed like graph.nodes.
struct LayerInputStatistics {
  std::vector<ConvInputStatistics> convs;
  int images = 0;
};

constexpr int kMinRowsPerImage = 64;
constexpr std::int64_t kGramBudget = std::int64_t{1} << 23;

// Rows sampled per image for an input of `width` taps and `positions` output positions.
int sampled_rows(int width, int positions);

// One image's statistics of the input of convolution `node`, whose input
// tensor is [in_c][height][width] floats. image_index moves the sample grid.
// With float_input (the float model's input at the same positions, for
// asymmetric reconstruction) also the cross moments.
ImageConvInput conv_input_statistics(const Node& node, const float* input, int height, int width, int image_index,
                                     const float* float_input = nullptr);

// total += image (in the caller's order); the Gram matrix stays symmetric,
// the cross moments are added when the image has them.
void add_conv_input(ConvInputStatistics& total, const ImageConvInput& image);

LayerInputStatistics empty_layer_inputs(const Graph& graph);

void save_layer_inputs(const std::filesystem::path& file, const LayerInputStatistics& statistics);
// Throws yq::Error when the file does not match the graph.
LayerInputStatistics load_layer_inputs(const std::filesystem::path& file, const Graph& graph);

}  // namespace yq
