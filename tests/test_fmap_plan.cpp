// Feature-map planning (compiler/emit/fmap_plan.hpp) on the YOLOv8 graphs:
// a symbolic run of the layer program over the planned memory, where every
// word remembers which node wrote it and at which index, must show each
// node's inputs intact when it runs and the detect outputs intact at the end
// (no live word overwritten, every view at the words of what it names), and
// a pair's first node's inputs intact after its second node wrote (their
// bands interleave), for every scale, with and without pass-through
// concats, at 640 and 160.
#include "testing.hpp"

#include <numeric>
#include <regex>
#include <utility>
#include <vector>

#include "compiler/emit/fmap_plan.hpp"

TEST_SUITE_BEGIN("pipeline");

using namespace yq;

namespace {

using Tag = std::pair<int, std::int64_t>;  // (writer node, index in its output)

std::int64_t words_of(const TensorShape& s) { return std::int64_t{s.channels} * s.height * s.width; }

// The writer of word n of node's output, through views.
Tag expected_tag(const Graph& graph, const std::vector<TensorShape>& shapes, const FmapPlan& plan, int node,
                 std::int64_t n) {
  if (!plan.view[node]) return {node, n};
  const Node& v = graph.nodes[node];
  if (v.op == OpKind::Slice) {
    const TensorShape& source = shapes[v.inputs[0]];
    return expected_tag(graph, shapes, plan, v.inputs[0], std::int64_t{v.channel_begin} * source.height * source.width + n);
  }
  for (int input : v.inputs) {
    if (n < words_of(shapes[input])) return expected_tag(graph, shapes, plan, input, n);
    n -= words_of(shapes[input]);
  }
  FAIL("word past the end of a view concat");
  return {};
}

// The plan's word memory, or its DRAM region with every word in its node's slot bytes.
enum class Memory { Words, DramBytes };

// Returns the number of mismatching words (DRAM: bytes) seen (0: the plan is sound).
long long symbolic_run(const Graph& graph, const std::vector<TensorShape>& shapes, const FmapPlan& plan,
                       Memory kind = Memory::Words) {
  const bool bytes = kind == Memory::DramBytes;
  std::vector<Tag> memory(static_cast<size_t>(bytes ? plan.dram_bytes : plan.depth), Tag{-1, -1});
  const auto first_unit = [&](int node, std::int64_t n) {
    return bytes ? plan.dram_offset[node] + n * plan.slot_bytes[node] : plan.base[node] + n;
  };
  const auto units = [&](int node) { return bytes ? plan.slot_bytes[node] : 1; };
  long long bad = 0;
  auto check = [&](int node) {
    for (std::int64_t n = 0; n < words_of(shapes[node]); ++n) {
      for (int u = 0; u < units(node); ++u) {
        bad += memory.at(static_cast<size_t>(first_unit(node, n) + u)) != expected_tag(graph, shapes, plan, node, n);
      }
    }
  };
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const int node = static_cast<int>(i);
    for (int input : graph.nodes[i].inputs) check(input);
    if (plan.view[i]) continue;
    REQUIRE(first_unit(node, 0) >= 0);
    REQUIRE(first_unit(node, words_of(shapes[i])) <= static_cast<std::int64_t>(memory.size()));
    for (std::int64_t n = 0; n < words_of(shapes[i]); ++n) {
      for (int u = 0; u < units(node); ++u) memory[static_cast<size_t>(first_unit(node, n) + u)] = {node, n};
    }
    if (i > 0 && plan.forwarded_to[i - 1] == node) {
      for (int input : graph.nodes[i - 1].inputs) check(input);
    }
  }
  for (const DetectLevel& level : graph.levels) {
    check(level.box_node);
    check(level.class_node);
  }
  return bad;
}

std::vector<bool> concats(const Graph& graph, bool pass) {
  std::vector<bool> passes(graph.nodes.size(), false);
  for (size_t i = 0; i < graph.nodes.size(); ++i) passes[i] = pass && graph.nodes[i].op == OpKind::Concat;
  return passes;
}

int count_views(const Graph& graph, const FmapPlan& plan, OpKind op) {
  int views = 0;
  for (size_t i = 0; i < graph.nodes.size(); ++i) views += plan.view[i] && graph.nodes[i].op == op;
  return views;
}

}  // namespace

TEST_CASE("fmap plan: every node reads intact inputs from a memory far smaller than all outputs") {
  for (const char scale : {'n', 's', 'm', 'l', 'x'}) {
    const Graph graph = build_yolov8_graph(yolov8_scale(scale, 80));
    for (const int size : {640, 160}) {
      const std::vector<TensorShape> shapes = infer_shapes(graph, {size, size});
      for (const bool pass : {false, true}) {
        CAPTURE(scale);
        CAPTURE(size);
        CAPTURE(pass);
        const FmapPlan plan = plan_feature_maps(graph, shapes, concats(graph, pass));
        CHECK(symbolic_run(graph, shapes, plan) == 0);
        std::int64_t total = 0;
        for (const TensorShape& s : shapes) total += words_of(s);
        CHECK(plan.total_words == total);
        CHECK(plan.depth * 4 < total);
        // Slices are always views; pass-through concats are views except
        // where an input already sits in another concat.
        int slices = 0;
        for (const Node& node : graph.nodes) slices += node.op == OpKind::Slice;
        CHECK(count_views(graph, plan, OpKind::Slice) == slices);
        if (!pass) CHECK(count_views(graph, plan, OpKind::Concat) == 0);
        if (pass) CHECK(count_views(graph, plan, OpKind::Concat) >= 10);
        // Pairs: each stride-2 convolution hands its output to its C2f's
        // first 1x1 convolution, each bottleneck's second convolution to its
        // residual add, each detect branch's second 3x3 convolution to its
        // 1x1 prediction; never a detect output, never chained.
        int pairs = 0;
        for (size_t i = 0; i < graph.nodes.size(); ++i) {
          const int next = plan.forwarded_to[i];
          if (next < 0) continue;
          ++pairs;
          CHECK(next == static_cast<int>(i) + 1);
          CHECK(plan.forwarded_to[next] < 0);
          CHECK(!graph.head_predictions()[i]);
          const OpKind op = graph.nodes[next].op;
          CHECK((op == OpKind::Add || (op == OpKind::Conv && graph.nodes[next].kernel == 1)));
        }
        CHECK(pairs >= 10);
      }
    }
  }
}

TEST_CASE("fmap plan: in DRAM each tensor takes slots of its own width and live tensors share no byte") {
  const Graph graph = build_yolov8_graph(yolov8_scale('n', 80));
  for (const int size : {640, 160}) {
    const std::vector<TensorShape> shapes = infer_shapes(graph, {size, size});
    for (const bool pass : {false, true}) {
      CAPTURE(size);
      CAPTURE(pass);
      // The stem's codes 16 bits wide (two bytes), the rest 8.
      std::vector<int> code_bytes;
      const std::regex stem("^(conv[01]|c2f2)(\\..*)?$");
      for (const Node& node : graph.nodes) code_bytes.push_back(std::regex_match(node.name, stem) ? 2 : 1);
      const FmapPlan mixed = plan_feature_maps(graph, shapes, concats(graph, pass), code_bytes);
      CHECK(symbolic_run(graph, shapes, mixed) == 0);
      CHECK(symbolic_run(graph, shapes, mixed, Memory::DramBytes) == 0);
      int wide = 0;
      for (size_t i = 0; i < graph.nodes.size(); ++i) {
        CHECK(mixed.slot_bytes[i] >= code_bytes[i]);
        CHECK(mixed.dram_offset[i] % mixed.slot_bytes[i] == 0);
        if (graph.nodes[i].op == OpKind::Slice) CHECK(mixed.slot_bytes[i] == mixed.slot_bytes[graph.nodes[i].inputs[0]]);
        wide += mixed.slot_bytes[i] == 2;
      }
      CHECK(wide >= 5);
      CHECK(mixed.dram_bytes > mixed.depth);
      // One width throughout: the byte plan is the word plan times it.
      const FmapPlan wide_plan = plan_feature_maps(graph, shapes, concats(graph, pass), std::vector<int>(graph.nodes.size(), 2));
      const FmapPlan narrow_plan = plan_feature_maps(graph, shapes, concats(graph, pass));
      CHECK(wide_plan.dram_bytes == 2 * wide_plan.depth);
      CHECK(narrow_plan.dram_bytes == narrow_plan.depth);
      for (size_t i = 0; i < graph.nodes.size(); ++i) {
        CHECK(wide_plan.dram_offset[i] == 2 * wide_plan.base[i]);
        CHECK(narrow_plan.dram_offset[i] == narrow_plan.base[i]);
      }
    }
  }
}

TEST_CASE("fmap plan: a tensor in two concats is a view input of one of them only") {
  // ab = concat(a, b) takes a and b in place; ba = concat(b, a) would need
  // them in the other order: it stays a copy.
  Graph graph;
  auto add = [&](const std::string& name, OpKind op, std::vector<int> inputs, int channels) {
    Node node;
    node.name = name;
    node.op = op;
    node.inputs = std::move(inputs);
    node.channels = channels;
    node.kernel = 1;
    graph.nodes.push_back(node);
    return static_cast<int>(graph.nodes.size()) - 1;
  };
  const int image = add("image", OpKind::Input, {}, 3);
  const int a = add("a", OpKind::Conv, {image}, 4);
  const int b = add("b", OpKind::Conv, {image}, 4);
  const int ab = add("ab", OpKind::Concat, {a, b}, 8);
  const int ba = add("ba", OpKind::Concat, {b, a}, 8);
  const int out = add("out", OpKind::Conv, {ab, ba}, 2);
  graph.levels.push_back({out, out, 8});
  std::vector<TensorShape> shapes;
  for (const Node& node : graph.nodes) shapes.push_back({node.channels, 4, 4});
  const FmapPlan plan = plan_feature_maps(graph, shapes, {false, false, false, true, true, false});
  CHECK(plan.view[ab]);
  CHECK_FALSE(plan.view[ba]);
  CHECK(plan.base[a] == plan.base[ab]);
  CHECK(plan.base[b] == plan.base[ab] + 4 * 16);
  CHECK(symbolic_run(graph, shapes, plan) == 0);
}

TEST_SUITE_END();
