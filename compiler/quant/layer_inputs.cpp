#include "compiler/quant/layer_inputs.hpp"

#include <ATen/ATen.h>

#include <Eigen/Core>
#include <algorithm>

#include "compiler/io/checkpoint.hpp"
#include "compiler/ref/int_kernels.hpp"
#include "compiler/util/error.hpp"

namespace yq {

namespace {

using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The taps of output position (oy, ox), zero outside the input.
void gather_taps(const Node& node, const float* input, int height, int width, int oy, int ox, float* row) {
  const int k = node.kernel;
  for (int c = 0; c < node.in_channels; ++c) {
    const float* plane = input + static_cast<size_t>(c) * height * width;
    for (int ky = 0; ky < k; ++ky) {
      const int y = oy * node.stride - node.pad + ky;
      for (int kx = 0; kx < k; ++kx) {
        const int x = ox * node.stride - node.pad + kx;
        *row++ = (y >= 0 && y < height && x >= 0 && x < width) ? plane[static_cast<size_t>(y) * width + x] : 0.0f;
      }
    }
  }
}

// The im2col rows of one image at the positions its statistics sample:
// evenly spaced over the whole output (positions / rows apart, not rounded
// down, which left the bottom of the image unsampled); the grid's offset
// within a step moves with the image.
RowMatrixF sampled_taps(const Node& node, const float* input, int height, int width, int image_index) {
  const int out_h = conv_output_size(height, node.kernel, node.stride, node.pad);
  const int out_w = conv_output_size(width, node.kernel, node.stride, node.pad);
  const int positions = out_h * out_w;
  const int taps = node.in_channels * node.kernel * node.kernel;
  const int rows = sampled_rows(taps, positions);
  RowMatrixF x(rows, taps);
  const std::int64_t offset = (static_cast<std::int64_t>(image_index) * 2654435761LL) % rows;
  for (int r = 0; r < rows; ++r) {
    const std::int64_t p = (r * static_cast<std::int64_t>(positions) + offset) / rows;
    gather_taps(node, input, height, width, static_cast<int>(p / out_w), static_cast<int>(p % out_w), x.row(r).data());
  }
  return x;
}

}  // namespace

std::vector<double> ConvInputStatistics::mean() const {
  std::vector<double> m(sum.size(), 0.0);
  if (rows > 0) {
    for (size_t i = 0; i < sum.size(); ++i) m[i] = sum[i] / static_cast<double>(rows);
  }
  return m;
}

int sampled_rows(int width, int positions) {
  const std::int64_t budget = kGramBudget / (static_cast<std::int64_t>(width) * width);
  return static_cast<int>(std::min<std::int64_t>(positions, std::max<std::int64_t>(kMinRowsPerImage, budget)));
}

ImageConvInput conv_input_statistics(const Node& node, const float* input, int height, int width, int image_index,
                                     const float* float_input) {
  const RowMatrixF x = sampled_taps(node, input, height, width, image_index);
  ImageConvInput s;
  s.width = static_cast<int>(x.cols());
  Eigen::MatrixXf gram = Eigen::MatrixXf::Zero(s.width, s.width);
  gram.selfadjointView<Eigen::Lower>().rankUpdate(x.transpose());
  const Eigen::RowVectorXf sum = x.colwise().sum();
  s.rows = x.rows();
  s.sum.assign(sum.data(), sum.data() + s.width);
  s.gram_lower.assign(gram.data(), gram.data() + gram.size());
  if (float_input) {
    const Eigen::MatrixXf cross = sampled_taps(node, float_input, height, width, image_index).transpose() * x;
    s.cross.assign(cross.data(), cross.data() + cross.size());
  }
  return s;
}

void add_conv_input(ConvInputStatistics& total, const ImageConvInput& image) {
  if (total.width == 0) {
    total.width = image.width;
    total.sum.assign(image.width, 0.0);
    total.gram.assign(static_cast<size_t>(image.width) * image.width, 0.0);
  }
  if (total.width != image.width) throw Error("layer input statistics of different widths cannot be added");
  total.rows += image.rows;
  for (size_t i = 0; i < total.sum.size(); ++i) total.sum[i] += image.sum[i];
  const size_t w = static_cast<size_t>(total.width);
  for (size_t j = 0; j < w; ++j) {
    for (size_t i = j; i < w; ++i) {
      const double value = total.gram[j * w + i] + image.gram_lower[j * w + i];
      total.gram[j * w + i] = value;
      total.gram[i * w + j] = value;
    }
  }
  if (image.cross.empty()) return;
  if (total.cross.empty()) total.cross.assign(w * w, 0.0);
  for (size_t i = 0; i < image.cross.size(); ++i) total.cross[i] += image.cross[i];
}

LayerInputStatistics empty_layer_inputs(const Graph& graph) {
  LayerInputStatistics s;
  s.convs.resize(graph.nodes.size());
  return s;
}

void save_layer_inputs(const std::filesystem::path& file, const LayerInputStatistics& statistics) {
  NamedTensorList tensors;
  tensors.emplace_back("images", at::full({1}, statistics.images, at::kLong));
  for (size_t i = 0; i < statistics.convs.size(); ++i) {
    const ConvInputStatistics& c = statistics.convs[i];
    if (c.width == 0) continue;
    const std::string index = std::to_string(i);
    tensors.emplace_back("rows." + index, at::full({1}, c.rows, at::kLong));
    tensors.emplace_back("sum." + index, at::from_blob(const_cast<double*>(c.sum.data()), {c.width}, at::kDouble).clone());
    tensors.emplace_back("gram." + index,
                         at::from_blob(const_cast<double*>(c.gram.data()), {c.width, c.width}, at::kDouble).clone());
  }
  write_tensor_archive(file, tensors);
}

LayerInputStatistics load_layer_inputs(const std::filesystem::path& file, const Graph& graph) {
  if (!std::filesystem::exists(file)) {
    throw Error("stage_4 collected no layer input statistics (" + file.string() +
                "): run again from stage_4 with --rounding gptq or --bias-correction");
  }
  LayerInputStatistics s = empty_layer_inputs(graph);
  for (const auto& [name, tensor] : read_tensor_archive(file)) {
    if (name == "images") {
      s.images = static_cast<int>(tensor.item<int64_t>());
      continue;
    }
    const auto dot = name.find('.');
    const size_t index = std::stoul(name.substr(dot + 1));
    if (index >= graph.nodes.size() || graph.nodes[index].op != OpKind::Conv) {
      throw Error(file.string() + ": layer input statistics for a node that is not a convolution of this model");
    }
    const Node& node = graph.nodes[index];
    ConvInputStatistics& c = s.convs[index];
    c.width = node.in_channels * node.kernel * node.kernel;
    const std::string kind = name.substr(0, dot);
    const at::Tensor t = tensor.to(at::kDouble).contiguous();
    if (kind == "rows") {
      c.rows = tensor.item<int64_t>();
    } else if (kind == "sum" || kind == "gram") {
      const int64_t expected = kind == "sum" ? c.width : static_cast<int64_t>(c.width) * c.width;
      if (t.numel() != expected) throw Error(file.string() + ": " + name + " has the wrong size for " + node.name);
      (kind == "sum" ? c.sum : c.gram).assign(t.data_ptr<double>(), t.data_ptr<double>() + expected);
    }
  }
  for (int index : graph.conv_nodes()) {
    const ConvInputStatistics& c = s.convs[index];
    if (c.rows == 0 || c.sum.empty() || c.gram.empty()) {
      throw Error(file.string() + ": no input statistics for " + graph.nodes[index].name);
    }
  }
  return s;
}

}  // namespace yq
