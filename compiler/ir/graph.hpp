// The compiler's graph IR: a topologically ordered list of nodes, each a
// single hardware-sized operation (a convolution with its activation, a
// channel slice, an add, a concat, a max-pool, an upsample), plus the detect
// head's description. Names are the compiler's own ("c2f2.m0.cv1"); each
// convolution remembers the checkpoint module it came from ("model.2.m.0.cv1").
#pragma once
#include <string>
#include <vector>

#include "compiler/util/input_size.hpp"

namespace yq {

enum class OpKind { Input, Conv, Slice, Add, Concat, MaxPool, Upsample };

const char* op_kind_name(OpKind op);

// Which part of the detect head a node belongs to; integer scales are chosen
// separately for the box (DFL) and class branches.
enum class HeadBranch { None, Box, Class };

struct Node {
  std::string name;
  OpKind op = OpKind::Input;
  std::vector<int> inputs;  // indices of earlier nodes
  int channels = 0;         // output channels

  // Conv
  int in_channels = 0;
  int kernel = 1;
  int stride = 1;
  int pad = 0;
  bool batch_norm = false;  // Conv2d + BatchNorm (before fusion)
  bool has_bias = false;    // plain Conv2d with bias (head predictions)
  bool silu = false;
  std::string source;       // checkpoint module prefix, e.g. "model.2.m.0.cv1"

  // Slice: channels [channel_begin, channel_begin + channels) of the input
  int channel_begin = 0;

  // MaxPool: kernel, stride 1, pad kernel/2.  Upsample: factor 2 (nearest).
  HeadBranch branch = HeadBranch::None;
  int head_level = -1;  // 0..2 for head nodes
};

// The architecture parameters that fix a YOLOv8 detection graph.
struct Yolov8Arch {
  std::vector<int> widths;    // channels of model.0,1,3,5,7 (and the C2f/SPPF outputs that follow)
  std::vector<int> repeats;   // bottlenecks of the C2f layers 2,4,6,8,12,15,18,21
  int num_classes = 80;
  int reg_max = 16;
  int box_channels = 0;       // Detect c2
  int class_channels = 0;     // Detect c3
  double width_multiple = 0;  // reported, derived from widths
  double depth_multiple = 0;  // reported, derived from repeats
  int max_channels = 0;       // reported
  std::string scale;          // "n", "s", "m", "l", "x" or "custom"
};

// Official YOLOv8 scales: n s m l x.
Yolov8Arch yolov8_scale(char scale, int num_classes);

struct DetectLevel {
  int box_node = -1;  // [4*reg_max, H, W] raw DFL logits
  int class_node = -1;  // [num_classes, H, W] class logits
  int stride = 0;
};

struct Graph {
  Yolov8Arch arch;
  std::vector<Node> nodes;
  std::vector<DetectLevel> levels;

  int index_of(const std::string& name) const;  // throws yq::Error if absent
  std::vector<int> conv_nodes() const;
  // Per node, the index of the last node that reads its output (its own
  // index when none does): an executor may free the output after that node.
  std::vector<size_t> last_consumers() const;
  // Per node, whether it is a head prediction (a level's box or class output).
  std::vector<bool> head_predictions() const;
};

Graph build_yolov8_graph(const Yolov8Arch& arch);

struct TensorShape {
  int channels = 0, height = 0, width = 0;
};

// Output shape of every node for an input of image_size (height x width,
// multiples of 32).
std::vector<TensorShape> infer_shapes(const Graph& graph, InputSize image_size);

}  // namespace yq
