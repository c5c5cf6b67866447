// Benchmark (not a test): every convolution of YOLOv8n at 640x640 with 8-bit
// codes through the integer kernel (compiler/ref/int_kernels.hpp), against
// LibTorch's float convolution of the same shapes in the same run. Prints
// the median of several rounds of each and their ratio.
//   build/tests/bench_int_kernels [threads] [rounds]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "compiler/ir/graph.hpp"
#include "compiler/ref/int_kernels.hpp"

namespace {

struct Layer {
  yq::CodeTensor input;
  std::vector<std::int16_t> weights;
  std::vector<std::int64_t> bias, multipliers;
  std::vector<int> shifts;
  yq::IntConv conv;
  at::Tensor float_input, float_weights;
  int stride = 1, pad = 0;
};

Layer make_layer(std::mt19937& rng, const yq::Node& node, const yq::TensorShape& in) {
  std::uniform_int_distribution<int> code(-128, 127);
  Layer l;
  l.input = {node.in_channels, in.height, in.width, std::vector<std::int32_t>(size_t(node.in_channels) * in.height * in.width)};
  for (auto& c : l.input.codes) c = code(rng);
  l.weights.resize(size_t(node.channels) * node.in_channels * node.kernel * node.kernel);
  for (auto& w : l.weights) w = static_cast<std::int16_t>(code(rng));
  l.bias.assign(node.channels, 0);
  l.multipliers.assign(node.channels, 40000);
  l.shifts.assign(node.channels, 22);
  l.stride = node.stride;
  l.pad = node.pad;
  l.float_input = at::randn({1, node.in_channels, in.height, in.width});
  l.float_weights = at::randn({node.channels, node.in_channels, node.kernel, node.kernel});
  return l;
}

double seconds_of(const auto& run) {
  const auto start = std::chrono::steady_clock::now();
  run();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  at::set_num_threads(threads);
  at::InferenceMode inference;
  std::mt19937 rng(90);
  const yq::Graph graph = yq::build_yolov8_graph(yq::yolov8_scale('n', 80));
  const std::vector<yq::TensorShape> shapes = yq::infer_shapes(graph, yq::InputSize(640, 640));
  std::vector<Layer> layers;
  double macs = 0;
  for (int index : graph.conv_nodes()) {
    const yq::Node& node = graph.nodes[index];
    layers.push_back(make_layer(rng, node, shapes[node.inputs[0]]));
    Layer& l = layers.back();
    l.conv = {node.in_channels, node.channels, node.kernel, node.stride, node.pad, 0};
    l.conv.weights = l.weights;
    l.conv.bias = l.bias;
    l.conv.multipliers = l.multipliers;
    l.conv.shifts = l.shifts;
    const yq::TensorShape out = shapes[index];
    macs += double(out.channels) * out.height * out.width * node.in_channels * node.kernel * node.kernel;
  }
  std::vector<double> integer_seconds, float_seconds;
  for (int round = 0; round < rounds; ++round) {
    integer_seconds.push_back(seconds_of([&] {
      for (const Layer& l : layers) yq::conv2d(l.input, l.conv, threads);
    }));
    float_seconds.push_back(seconds_of([&] {
      for (const Layer& l : layers) at::conv2d(l.float_input, l.float_weights, {}, l.stride, l.pad);
    }));
  }
  const double integer = median(integer_seconds), floating = median(float_seconds);
  std::printf("YOLOv8n's %zu convolutions at 640x640 (%.2f G MAC), %d threads, median of %d rounds\n", layers.size(),
              macs * 1e-9, threads, rounds);
  std::printf("  integer kernel (8-bit codes)  %8.1f ms  %6.1f G MAC/s\n", 1000 * integer, macs * 1e-9 / integer);
  std::printf("  LibTorch float conv2d         %8.1f ms  %6.1f G MAC/s\n", 1000 * floating, macs * 1e-9 / floating);
  std::printf("  integer / float time          %8.2f\n", integer / floating);
  return 0;
}
