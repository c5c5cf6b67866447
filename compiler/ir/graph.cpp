// Builds the YOLOv8 detection graph from its architecture definition
// (ultralytics/cfg/models/v8/yolov8.yaml), expanded into single operations:
//   backbone  Conv Conv C2f Conv C2f Conv C2f Conv C2f SPPF      (layers 0-9)
//   neck      Up Cat C2f Up Cat C2f Conv Cat C2f Conv Cat C2f   (layers 10-21)
//   Detect    per level: box 3x3,3x3,1x1 and class 3x3,3x3,1x1  (layer 22)
// A C2f becomes cv1, two channel slices, n bottlenecks (3x3, 3x3, optional
// residual add), a concat and cv2; an SPPF becomes cv1, three chained 5x5
// max-pools, a concat and cv2.
#include "compiler/ir/graph.hpp"

#include <algorithm>
#include <cmath>

#include "compiler/util/error.hpp"

namespace yq {

const char* op_kind_name(OpKind op) {
  switch (op) {
    case OpKind::Input: return "input";
    case OpKind::Conv: return "conv";
    case OpKind::Slice: return "slice";
    case OpKind::Add: return "add";
    case OpKind::Concat: return "concat";
    case OpKind::MaxPool: return "maxpool";
    case OpKind::Upsample: return "upsample";
  }
  return "?";
}

namespace {

int make_divisible(double channels, int divisor) {
  return static_cast<int>(std::ceil(channels / divisor)) * divisor;
}

class GraphBuilder {
 public:
  explicit GraphBuilder(Graph& graph) : graph_(graph) {}

  int input() {
    Node node;
    node.name = "input";
    node.op = OpKind::Input;
    node.channels = 3;
    return add(std::move(node));
  }

  int conv(const std::string& name, const std::string& source, int from, int channels, int kernel, int stride) {
    Node node;
    node.name = name;
    node.op = OpKind::Conv;
    node.inputs = {from};
    node.in_channels = channels_of(from);
    node.channels = channels;
    node.kernel = kernel;
    node.stride = stride;
    node.pad = kernel / 2;
    node.batch_norm = true;
    node.silu = true;
    node.source = source;
    return add(std::move(node));
  }

  int prediction_conv(const std::string& name, const std::string& source, int from, int channels) {
    int index = conv(name, source, from, channels, 1, 1);
    Node& node = graph_.nodes[index];
    node.batch_norm = false;
    node.has_bias = true;
    node.silu = false;
    return index;
  }

  int slice(const std::string& name, int from, int begin, int channels) {
    Node node;
    node.name = name;
    node.op = OpKind::Slice;
    node.inputs = {from};
    node.channel_begin = begin;
    node.channels = channels;
    return add(std::move(node));
  }

  int add_node(const std::string& name, int a, int b) {
    Node node;
    node.name = name;
    node.op = OpKind::Add;
    node.inputs = {a, b};
    node.channels = channels_of(a);
    return add(std::move(node));
  }

  int concat(const std::string& name, const std::vector<int>& from) {
    Node node;
    node.name = name;
    node.op = OpKind::Concat;
    node.inputs = from;
    for (int i : from) node.channels += channels_of(i);
    return add(std::move(node));
  }

  int maxpool(const std::string& name, int from, int kernel) {
    Node node;
    node.name = name;
    node.op = OpKind::MaxPool;
    node.inputs = {from};
    node.kernel = kernel;
    node.pad = kernel / 2;
    node.channels = channels_of(from);
    return add(std::move(node));
  }

  int upsample(const std::string& name, int from) {
    Node node;
    node.name = name;
    node.op = OpKind::Upsample;
    node.inputs = {from};
    node.channels = channels_of(from);
    return add(std::move(node));
  }

  // C2f(c1 -> c2, n bottlenecks): cv1 to 2c, split, bottlenecks on the last
  // chunk, concat of every chunk, cv2.
  int c2f(int layer, int from, int out_channels, int repeats, bool shortcut) {
    const std::string name = "c2f" + std::to_string(layer);
    const std::string source = "model." + std::to_string(layer);
    const int hidden = out_channels / 2;
    int cv1 = conv(name + ".cv1", source + ".cv1", from, 2 * hidden, 1, 1);
    std::vector<int> chunks = {slice(name + ".split0", cv1, 0, hidden), slice(name + ".split1", cv1, hidden, hidden)};
    for (int i = 0; i < repeats; ++i) {
      const std::string m = name + ".m" + std::to_string(i);
      const std::string m_source = source + ".m." + std::to_string(i);
      int x = chunks.back();
      int y = conv(m + ".cv1", m_source + ".cv1", x, hidden, 3, 1);
      y = conv(m + ".cv2", m_source + ".cv2", y, hidden, 3, 1);
      if (shortcut) y = add_node(m + ".add", x, y);
      chunks.push_back(y);
    }
    int cat = concat(name + ".cat", chunks);
    return conv(name + ".cv2", source + ".cv2", cat, out_channels, 1, 1);
  }

  int sppf(int layer, int from, int out_channels) {
    const std::string name = "sppf" + std::to_string(layer);
    const std::string source = "model." + std::to_string(layer);
    int x = conv(name + ".cv1", source + ".cv1", from, channels_of(from) / 2, 1, 1);
    int p1 = maxpool(name + ".pool1", x, 5);
    int p2 = maxpool(name + ".pool2", p1, 5);
    int p3 = maxpool(name + ".pool3", p2, 5);
    int cat = concat(name + ".cat", {x, p1, p2, p3});
    return conv(name + ".cv2", source + ".cv2", cat, out_channels, 1, 1);
  }

  // One detect level: box branch (model.22.cv2.i) and class branch (model.22.cv3.i).
  DetectLevel detect_level(int level, int from, const Yolov8Arch& arch, int stride) {
    const std::string name = "head.p" + std::to_string(level + 3);
    const std::string lvl = std::to_string(level);
    DetectLevel out;
    out.stride = stride;
    out.box_node = head_branch(name + ".box", "model.22.cv2." + lvl, from, arch.box_channels, 4 * arch.reg_max,
                               HeadBranch::Box, level);
    out.class_node = head_branch(name + ".cls", "model.22.cv3." + lvl, from, arch.class_channels, arch.num_classes,
                                 HeadBranch::Class, level);
    return out;
  }

 private:
  int head_branch(const std::string& name, const std::string& source, int from, int hidden, int outputs,
                  HeadBranch branch, int level) {
    int first = conv(name + "1", source + ".0", from, hidden, 3, 1);
    int second = conv(name + "2", source + ".1", first, hidden, 3, 1);
    int prediction = prediction_conv(name + "_pred", source + ".2", second, outputs);
    for (int i : {first, second, prediction}) {
      graph_.nodes[i].branch = branch;
      graph_.nodes[i].head_level = level;
    }
    return prediction;
  }

  int channels_of(int index) const { return graph_.nodes.at(index).channels; }

  int add(Node node) {
    graph_.nodes.push_back(std::move(node));
    return static_cast<int>(graph_.nodes.size()) - 1;
  }

  Graph& graph_;
};

}  // namespace

Yolov8Arch yolov8_scale(char scale, int num_classes) {
  struct Scale { char name; double depth, width; int max_channels; };
  static const Scale scales[] = {
      {'n', 0.33, 0.25, 1024}, {'s', 0.33, 0.50, 1024}, {'m', 0.67, 0.75, 768},
      {'l', 1.00, 1.00, 512},  {'x', 1.00, 1.25, 512}};
  const Scale* found = nullptr;
  for (const Scale& s : scales) {
    if (s.name == scale) found = &s;
  }
  if (!found) throw Error(std::string("unknown YOLOv8 scale '") + scale + "' (expected n, s, m, l or x)");
  Yolov8Arch arch;
  for (int base : {64, 128, 256, 512, 1024}) {
    arch.widths.push_back(make_divisible(std::min(base, found->max_channels) * found->width, 8));
  }
  for (int base : {3, 6, 6, 3, 3, 3, 3, 3}) {
    arch.repeats.push_back(std::max(static_cast<int>(std::nearbyint(base * found->depth)), 1));
  }
  arch.num_classes = num_classes;
  arch.reg_max = 16;
  arch.box_channels = std::max({16, arch.widths[2] / 4, arch.reg_max * 4});
  arch.class_channels = std::max(arch.widths[2], std::min(num_classes, 100));
  arch.width_multiple = found->width;
  arch.depth_multiple = found->depth;
  arch.max_channels = found->max_channels;
  arch.scale = std::string(1, scale);
  return arch;
}

Graph build_yolov8_graph(const Yolov8Arch& arch) {
  if (arch.widths.size() != 5 || arch.repeats.size() != 8) throw Error("YOLOv8 architecture needs 5 widths and 8 repeats");
  Graph graph;
  graph.arch = arch;
  GraphBuilder b(graph);
  const auto& w = arch.widths;
  const auto& n = arch.repeats;
  int x = b.input();
  x = b.conv("conv0", "model.0", x, w[0], 3, 2);
  x = b.conv("conv1", "model.1", x, w[1], 3, 2);
  x = b.c2f(2, x, w[1], n[0], true);
  x = b.conv("conv3", "model.3", x, w[2], 3, 2);
  int p3 = b.c2f(4, x, w[2], n[1], true);
  x = b.conv("conv5", "model.5", p3, w[3], 3, 2);
  int p4 = b.c2f(6, x, w[3], n[2], true);
  x = b.conv("conv7", "model.7", p4, w[4], 3, 2);
  x = b.c2f(8, x, w[4], n[3], true);
  int p5 = b.sppf(9, x, w[4]);

  x = b.upsample("up10", p5);
  x = b.concat("cat11", {x, p4});
  int n12 = b.c2f(12, x, w[3], n[4], false);
  x = b.upsample("up13", n12);
  x = b.concat("cat14", {x, p3});
  int out_p3 = b.c2f(15, x, w[2], n[5], false);
  x = b.conv("conv16", "model.16", out_p3, w[2], 3, 2);
  x = b.concat("cat17", {x, n12});
  int out_p4 = b.c2f(18, x, w[3], n[6], false);
  x = b.conv("conv19", "model.19", out_p4, w[3], 3, 2);
  x = b.concat("cat20", {x, p5});
  int out_p5 = b.c2f(21, x, w[4], n[7], false);

  const int strides[] = {8, 16, 32};
  const int level_inputs[] = {out_p3, out_p4, out_p5};
  for (int level = 0; level < 3; ++level) {
    graph.levels.push_back(b.detect_level(level, level_inputs[level], arch, strides[level]));
  }
  return graph;
}

int Graph::index_of(const std::string& name) const {
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].name == name) return static_cast<int>(i);
  }
  throw Error("no layer named '" + name + "'");
}

std::vector<int> Graph::conv_nodes() const {
  std::vector<int> convs;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].op == OpKind::Conv) convs.push_back(static_cast<int>(i));
  }
  return convs;
}

std::vector<size_t> Graph::last_consumers() const {
  std::vector<size_t> last(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    last[i] = i;
    for (int k : nodes[i].inputs) last[k] = i;
  }
  return last;
}

std::vector<bool> Graph::head_predictions() const {
  std::vector<bool> head(nodes.size(), false);
  for (const DetectLevel& level : levels) head[level.box_node] = head[level.class_node] = true;
  return head;
}

std::vector<TensorShape> infer_shapes(const Graph& graph, InputSize image_size) {
  check_input_size(image_size, "image size");
  std::vector<TensorShape> shapes(graph.nodes.size());
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    TensorShape shape = node.inputs.empty() ? TensorShape{3, image_size.height, image_size.width} : shapes[node.inputs[0]];
    shape.channels = node.channels;
    if (node.op == OpKind::Conv) {
      shape.height = (shape.height + 2 * node.pad - node.kernel) / node.stride + 1;
      shape.width = (shape.width + 2 * node.pad - node.kernel) / node.stride + 1;
    } else if (node.op == OpKind::Upsample) {
      shape.height *= 2;
      shape.width *= 2;
    }
    shapes[i] = shape;
  }
  return shapes;
}

}  // namespace yq
