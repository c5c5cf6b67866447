// The float pipeline on the official checkpoint: import, BN fusion and
// detections against the reference detections in shared/models/yolov8n.
#include "testing.hpp"

#include <ATen/ATen.h>

#include <fstream>
#include <sstream>

#include "compiler/float/bn_fusion.hpp"
#include "compiler/detect/head_decode.hpp"
#include "compiler/float/float_detector.hpp"
#include "compiler/io/checkpoint.hpp"
#include "compiler/ir/synthetic_model.hpp"
#include "compiler/ir/yolov8_import.hpp"
#include "compiler/util/error.hpp"
#include "test_support.hpp"

TEST_SUITE_BEGIN("pipeline");

using namespace yq;

namespace {

struct ExpectedDetection {
  int class_id;
  float score;
  Box box;
};

std::vector<ExpectedDetection> read_expected(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<ExpectedDetection> expected;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream row(line);
    ExpectedDetection d{};
    row >> d.class_id >> d.score >> d.box.x1 >> d.box.y1 >> d.box.x2 >> d.box.y2;
    expected.push_back(d);
  }
  return expected;
}

const Model& official_fused_model() {
  static const Model model = fuse_batch_norm(
      import_yolov8(read_checkpoint(test::shared_file("models/yolov8n/yolov8n.pt")), "yolov8n.pt").model);
  return model;
}

// Same classes in the same order, scores within 0.005 and box corners within
// one pixel of the reference.
void check_against_reference(const std::vector<Detection>& got, const std::vector<ExpectedDetection>& expected) {
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i].class_id == expected[i].class_id);
    CHECK(std::abs(got[i].score - expected[i].score) <= 0.005f);
    CHECK(std::abs(got[i].box.x1 - expected[i].box.x1) <= 1.0f);
    CHECK(std::abs(got[i].box.y1 - expected[i].box.y1) <= 1.0f);
    CHECK(std::abs(got[i].box.x2 - expected[i].box.x2) <= 1.0f);
    CHECK(std::abs(got[i].box.y2 - expected[i].box.y2) <= 1.0f);
  }
}

}  // namespace

TEST_CASE("float model: official checkpoint imports as YOLOv8n with every tensor bound") {
  if (!test::have_shared_data()) return;
  const Checkpoint checkpoint = read_checkpoint(test::shared_file("models/yolov8n/yolov8n.pt"));
  const ImportedModel imported = import_yolov8(checkpoint, "yolov8n.pt");
  CHECK(imported.model.info.arch.scale == "n");
  CHECK(imported.model.info.arch.num_classes == 80);
  CHECK(imported.model.info.bn_eps == doctest::Approx(1e-3));
  CHECK(imported.name_map.size() == checkpoint.tensors.size());
  CHECK(imported.model.info.class_names[5] == "bus");
  // Every checkpoint parameter except the constant DFL projection (16 values).
  CHECK(count_parameters(imported.model) == 3157200 - 16);
}

TEST_CASE("float model: fused and unfused agree to 1e-4 relative on the bus canvas") {
  if (!test::have_shared_data()) return;
  const Model unfused =
      import_yolov8(read_checkpoint(test::shared_file("models/yolov8n/yolov8n.pt")), "yolov8n.pt").model;
  const RgbImage canvas = decode_image(test::shared_file("data/samples/bus_letterbox640.png"));
  const auto a = FloatDetector(unfused, {}).head_outputs(canvas);
  const auto b = FloatDetector(official_fused_model(), {}).head_outputs(canvas);
  for (size_t i = 0; i < a.size(); ++i) {
    const double relative = (a[i] - b[i]).abs().max().item<double>() / a[i].abs().max().item<double>();
    CHECK(relative <= 1e-4);
  }
}

TEST_CASE("float model: detections on the letterboxed samples match the reference") {
  if (!test::have_shared_data()) return;
  const FloatDetector detector(official_fused_model(), {});
  for (const auto& [stem, width, height] : {std::tuple{"bus", 810, 1080}, std::tuple{"zidane", 1280, 720}}) {
    CAPTURE(stem);
    const RgbImage canvas = decode_image(test::shared_file(std::string("data/samples/") + stem + "_letterbox640.png"));
    const LetterboxGeometry geometry = letterbox_geometry(width, height, {640, 640});
    std::vector<Detection> detections = detector.detect_canvas(canvas);
    for (Detection& d : detections) d = to_image_coordinates(d, geometry, width, height);
    const auto expected = read_expected(test::shared_file(std::string("models/yolov8n/expected_") + stem + ".txt"));
    check_against_reference(detections, expected);
  }
}

// The JPEGs decode to the reference canvases' exact bytes, so they give the
// same detections as the PNG canvases.
TEST_CASE("float model: detections from the original JPEGs match the reference") {
  if (!test::have_shared_data()) return;
  const FloatDetector detector(official_fused_model(), {});
  for (const char* stem : {"bus", "zidane"}) {
    CAPTURE(stem);
    const auto detections = detector.detect(decode_image(test::shared_file(std::string("data/samples/") + stem + ".jpg")));
    const auto expected = read_expected(test::shared_file(std::string("models/yolov8n/expected_") + stem + ".txt"));
    check_against_reference(detections, expected);
  }
}

// On a 384x640 input zidane.jpg is scaled as on 640x640 (only the padding
// differs): the network finds the reference's objects, with scores and boxes
// moved only by the convolutions that see the padding.
TEST_CASE("float model: a rectangular 384x640 input finds the reference detections on zidane.jpg") {
  if (!test::have_shared_data()) return;
  const FloatDetector detector(official_fused_model(), {{384, 640}, {}});
  const auto detections = detector.detect(decode_image(test::shared_file("data/samples/zidane.jpg")));
  const auto expected = read_expected(test::shared_file("models/yolov8n/expected_zidane.txt"));
  REQUIRE(detections.size() == expected.size());
  for (size_t i = 0; i < detections.size(); ++i) {
    CAPTURE(i);
    CHECK(detections[i].class_id == expected[i].class_id);
    CHECK(std::abs(detections[i].score - expected[i].score) <= 0.02f);
    for (const auto& [got, want] : {std::pair{detections[i].box.x1, expected[i].box.x1}, std::pair{detections[i].box.y1, expected[i].box.y1},
                                    std::pair{detections[i].box.x2, expected[i].box.x2}, std::pair{detections[i].box.y2, expected[i].box.y2}}) {
      CHECK(std::abs(got - want) <= 3.0f);
    }
  }
}

TEST_CASE("float model: the synthetic model is deterministic and runs end to end") {
  const Model model = fuse_batch_norm(import_yolov8(synthetic_yolov8_checkpoint(), "synthetic").model);
  const Model again = fuse_batch_norm(import_yolov8(synthetic_yolov8_checkpoint(), "synthetic").model);
  for (size_t i = 0; i < model.weights.size(); ++i) CHECK(at::equal(model.weights[i].second, again.weights[i].second));
  RgbImage canvas{160, 160, std::vector<std::uint8_t>(160 * 160 * 3, 114)};
  const auto heads = FloatDetector(model, {{160, 160}, {}}).head_outputs(canvas);
  REQUIRE(heads.size() == 6);
  CHECK(heads[0].size(2) == 20);
  CHECK(heads[5].size(1) == 80);
}

TEST_SUITE_END();
