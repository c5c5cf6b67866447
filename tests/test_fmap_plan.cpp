// Feature-map planning (compiler/emit/fmap_plan.hpp) on the YOLOv8 graphs:
// a symbolic run of the layer program over the planned memory, where every
// word remembers which node wrote it and at which index, must show each
// node's inputs intact when it runs and the detect outputs intact at the end
// (no live word overwritten, every view at the words of what it names), for
// every scale, with and without pass-through concats, at 640 and 160.
#include "testing.hpp"

#include <numeric>
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

// Returns the number of mismatching words seen (0: the plan is sound).
long long symbolic_run(const Graph& graph, const std::vector<TensorShape>& shapes, const FmapPlan& plan) {
  std::vector<Tag> memory(static_cast<size_t>(plan.depth), Tag{-1, -1});
  long long bad = 0;
  auto check = [&](int node) {
    for (std::int64_t n = 0; n < words_of(shapes[node]); ++n) {
      bad += memory.at(static_cast<size_t>(plan.base[node] + n)) != expected_tag(graph, shapes, plan, node, n);
    }
  };
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    for (int input : graph.nodes[i].inputs) check(input);
    if (plan.view[i]) continue;
    REQUIRE(plan.base[i] >= 0);
    REQUIRE(plan.base[i] + words_of(shapes[i]) <= plan.depth);
    for (std::int64_t n = 0; n < words_of(shapes[i]); ++n) memory[static_cast<size_t>(plan.base[i] + n)] = {static_cast<int>(i), n};
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
