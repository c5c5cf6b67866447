// The graph IR: architecture scales, node structure and shapes.
#include "testing.hpp"

#include "compiler/ir/graph.hpp"
#include "compiler/util/error.hpp"

using namespace yq;

TEST_CASE("graph: YOLOv8n expands to 57 Conv+BN, 6 prediction convs and 3 detect levels") {
  const Graph graph = build_yolov8_graph(yolov8_scale('n', 80));
  int bn_convs = 0, prediction_convs = 0;
  for (int i : graph.conv_nodes()) {
    (graph.nodes[i].batch_norm ? bn_convs : prediction_convs)++;
  }
  CHECK(bn_convs == 57);
  CHECK(prediction_convs == 6);
  REQUIRE(graph.levels.size() == 3);
  CHECK(graph.nodes[graph.levels[0].box_node].channels == 64);
  CHECK(graph.nodes[graph.levels[2].class_node].channels == 80);
  CHECK(graph.arch.widths == std::vector<int>{16, 32, 64, 128, 256});
  CHECK(graph.arch.repeats == std::vector<int>{1, 2, 2, 1, 1, 1, 1, 1});
  CHECK(graph.nodes[graph.index_of("c2f2.m0.cv1")].source == "model.2.m.0.cv1");
  CHECK_THROWS_AS(graph.index_of("nope"), Error);
}

TEST_CASE("graph: official scales have the documented widths and depths") {
  CHECK(yolov8_scale('s', 80).widths == std::vector<int>{32, 64, 128, 256, 512});
  CHECK(yolov8_scale('m', 80).widths == std::vector<int>{48, 96, 192, 384, 576});
  CHECK(yolov8_scale('m', 80).repeats == std::vector<int>{2, 4, 4, 2, 2, 2, 2, 2});
  CHECK(yolov8_scale('l', 80).widths == std::vector<int>{64, 128, 256, 512, 512});
  CHECK(yolov8_scale('x', 80).widths == std::vector<int>{80, 160, 320, 640, 640});
  CHECK(yolov8_scale('n', 3).class_channels == 64);
  CHECK(yolov8_scale('n', 120).class_channels == 100);
  CHECK_THROWS_AS(yolov8_scale('q', 80), Error);
}

TEST_CASE("graph: shapes at 640 and 160") {
  const Graph graph = build_yolov8_graph(yolov8_scale('n', 80));
  for (int size : {640, 160}) {
    const auto shapes = infer_shapes(graph, {size, size});
    for (int level = 0; level < 3; ++level) {
      const TensorShape box = shapes[graph.levels[level].box_node];
      CHECK(box.height == size / graph.levels[level].stride);
      CHECK(box.width == size / graph.levels[level].stride);
    }
    const TensorShape sppf = shapes[graph.index_of("sppf9.cat")];
    CHECK(sppf.channels == 512);
    CHECK(sppf.height == size / 32);
  }
  CHECK_THROWS_AS(infer_shapes(graph, {100, 100}), Error);
}
