// Detection metrics on hand-computable cases (101-point AP values worked out
// below), plus, when a python3 with numpy is at hand, one random case checked
// against tests/coco_map_reference.py, a numpy transcription of pycocotools.
#include "testing.hpp"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "compiler/metrics/detection_metrics.hpp"
#include "compiler/util/error.hpp"
#include "test_support.hpp"

namespace {

using yq::Box;
using yq::Detection;
using yq::GroundTruth;
using yq::ImageResult;

Detection detection(Box box, float score, int class_id = 0) { return {box, score, class_id}; }
GroundTruth truth(Box box, int class_id = 0) { return {box, class_id}; }

// Disjoint 10x10 boxes along a row.
Box box_number(int i) { return {20.0f * i, 0, 20.0f * i + 10, 10}; }
const Box kFarAway{1000, 1000, 1010, 1010};

// With 2 truths ranked [TP, FP, TP]: recall 0.5, 0.5, 1; precision 1, 1/2, 2/3,
// made non-increasing 1, 2/3, 2/3. Recall points 0.00..0.50 (51) take 1, the
// 50 points 0.51..1.00 take 2/3: AP = (51 + 50 * 2/3) / 101 = 253/303.
constexpr double kTpFpTpAp = 253.0 / 303.0;

}  // namespace

TEST_CASE("metrics: perfect detections score 1 everywhere") {
  const std::vector<ImageResult> results = {{{detection(box_number(0), 0.9f, 0), detection(box_number(1), 0.8f, 1)},
                                             {truth(box_number(0), 0), truth(box_number(1), 1)}},
                                            {{detection(box_number(2), 0.7f, 1)}, {truth(box_number(2), 1)}}};
  const auto metrics = yq::evaluate_detections(results, 2);
  CHECK(metrics.map50_95 == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(metrics.map50 == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(metrics.precision == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(metrics.recall == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(metrics.images == 2);
  CHECK(metrics.instances == 3);
  CHECK(metrics.classes_with_truth == 2);
}

TEST_CASE("metrics: ranked TP, FP, TP over two truths gives AP 253/303") {
  const std::vector<ImageResult> results = {
      {{detection(box_number(0), 0.9f), detection(kFarAway, 0.8f), detection(box_number(1), 0.7f)},
       {truth(box_number(0)), truth(box_number(1))}}};
  const auto metrics = yq::evaluate_detections(results, 1);
  CHECK(std::abs(metrics.map50 - kTpFpTpAp) < 1e-12);
  CHECK(std::abs(metrics.map50_95 - kTpFpTpAp) < 1e-12);
  // Best mean F1 (0.8) holds below confidence 0.7, where P = 2/3 and R = 1.
  CHECK(std::abs(metrics.precision - 2.0 / 3.0) < 1e-12);
  CHECK(std::abs(metrics.recall - 1.0) < 1e-12);
}

TEST_CASE("metrics: an IoU of 0.72 matches at thresholds 0.50..0.70 only") {
  // Both true positives overlap their truth by 0.72: thresholds 0.50, 0.55,
  // 0.60, 0.65, 0.70 see TP, FP, TP (AP 253/303), 0.75..0.95 see three FPs (AP 0).
  const Box first_truth{0, 0, 100, 100}, second_truth{200, 0, 300, 100};
  const std::vector<ImageResult> results = {
      {{detection({0, 0, 100, 72}, 0.9f), detection(kFarAway, 0.8f), detection({200, 0, 300, 72}, 0.7f)},
       {truth(first_truth), truth(second_truth)}}};
  const auto metrics = yq::evaluate_detections(results, 1);
  CHECK(std::abs(metrics.map50 - kTpFpTpAp) < 1e-12);
  CHECK(std::abs(metrics.map50_95 - 0.5 * kTpFpTpAp) < 1e-12);
}

TEST_CASE("metrics: a second detection of the same truth is a false positive") {
  const std::vector<ImageResult> results = {
      {{detection(box_number(0), 0.9f), detection(box_number(0), 0.8f), detection(box_number(1), 0.7f)},
       {truth(box_number(0)), truth(box_number(1))}}};
  const auto metrics = yq::evaluate_detections(results, 1);
  CHECK(std::abs(metrics.map50_95 - kTpFpTpAp) < 1e-12);
}

TEST_CASE("metrics: a detection equally close to two truths takes the later one (pycocotools >=)") {
  // The first detection overlaps A and B by 95/105 each and takes B; the
  // second overlaps A by 90/110 (B by 80/120), so it still finds A up to
  // threshold 0.80. At 0.85 and 0.90 only the first matches (AP 51/101), at 0.95 none.
  const Box a{0, 0, 10, 10}, b{1, 0, 11, 10};
  const std::vector<ImageResult> results = {
      {{detection({0.5f, 0, 10.5f, 10}, 0.9f), detection({-1, 0, 9, 10}, 0.8f)}, {truth(a), truth(b)}}};
  const auto metrics = yq::evaluate_detections(results, 1);
  CHECK(std::abs(metrics.map50_95 - (7.0 + 2.0 * 51.0 / 101.0) / 10.0) < 1e-12);
}

TEST_CASE("metrics: classes without truth are excluded, classes without detections score 0") {
  const std::vector<ImageResult> results = {{{detection(box_number(0), 0.9f, 0), detection(box_number(3), 0.9f, 1)},
                                             {truth(box_number(0), 0), truth(box_number(5), 2)}}};
  const auto metrics = yq::evaluate_detections(results, 4);
  CHECK(metrics.classes_with_truth == 2);
  REQUIRE(metrics.ap50_95_per_class.size() == 4);
  CHECK(std::abs(metrics.ap50_95_per_class[0] - 1.0) < 1e-12);
  CHECK(metrics.ap50_95_per_class[1] == -1.0);
  CHECK(metrics.ap50_95_per_class[2] == 0.0);
  CHECK(metrics.ap50_95_per_class[3] == -1.0);
  CHECK(std::abs(metrics.map50_95 - 0.5) < 1e-12);
  CHECK(std::abs(metrics.map50 - 0.5) < 1e-12);
  CHECK(std::abs(metrics.precision - 0.5) < 1e-12);  // class 0 at 1, class 2 at 0
}

TEST_CASE("metrics: only the 100 best detections per image and class count") {
  const auto result_with_false_positives = [](int false_positives, int false_positive_class) {
    ImageResult image{{}, {truth(box_number(0), 0)}};
    for (int i = 0; i < false_positives; ++i)
      image.detections.push_back(detection(kFarAway, 0.9f, false_positive_class));
    image.detections.push_back(detection(box_number(0), 0.5f, 0));
    return std::vector<ImageResult>{image};
  };
  // 99 FPs above the TP: it is 100th, so precision is 1/100 at full recall.
  CHECK(std::abs(yq::evaluate_detections(result_with_false_positives(99, 0), 2).map50_95 - 0.01) < 1e-12);
  // 100 FPs above it push it out of the cut: AP 0.
  CHECK(yq::evaluate_detections(result_with_false_positives(100, 0), 2).map50_95 == 0.0);
  // The cut is per class: 100 FPs of class 1 leave class 0 alone.
  CHECK(std::abs(yq::evaluate_detections(result_with_false_positives(100, 1), 2).map50_95 - 1.0) < 1e-12);
}

TEST_CASE("metrics: the cut is per image, not over all images") {
  std::vector<ImageResult> results;
  for (int i = 0; i < 2; ++i) {
    ImageResult image;
    for (int k = 0; k < 60; ++k) image.detections.push_back(detection(kFarAway, 0.9f));
    results.push_back(image);
  }
  results.push_back({{detection(box_number(0), 0.5f)}, {truth(box_number(0))}});
  // The TP ranks 121st of 121: precision 1/121 at full recall.
  CHECK(std::abs(yq::evaluate_detections(results, 1).map50_95 - 1.0 / 121.0) < 1e-12);
}

TEST_CASE("metrics: detections in images without truth are false positives") {
  const ImageResult with_truth{{detection(box_number(0), 0.8f)}, {truth(box_number(0))}};
  const ImageResult without_truth{{detection(box_number(0), 0.9f)}, {}};
  CHECK(std::abs(yq::evaluate_detections({with_truth}, 1).map50_95 - 1.0) < 1e-12);
  // Ranked FP, TP: recall 0, 1; precision 0, 1/2, made 1/2, 1/2: AP 0.5.
  const auto metrics = yq::evaluate_detections({with_truth, without_truth}, 1);
  CHECK(std::abs(metrics.map50_95 - 0.5) < 1e-12);
  CHECK(metrics.images == 2);
  CHECK(metrics.instances == 1);
}

TEST_CASE("metrics: nothing to measure gives zeros") {
  const auto metrics = yq::evaluate_detections({ImageResult{{detection(box_number(0), 0.9f)}, {}}}, 3);
  CHECK(metrics.classes_with_truth == 0);
  CHECK(metrics.map50_95 == 0.0);
  CHECK(metrics.precision == 0.0);
  CHECK(metrics.ap50_95_per_class == std::vector<double>{-1, -1, -1});
}

TEST_CASE("metrics: class ids outside the model's classes are an error") {
  CHECK_THROWS_AS(yq::evaluate_detections({ImageResult{{detection(box_number(0), 0.9f, 3)}, {}}}, 3), yq::Error);
  CHECK_THROWS_AS(yq::evaluate_detections({ImageResult{{}, {truth(box_number(0), -1)}}}, 3), yq::Error);
}

namespace {

// Jittered copies of the truths, duplicates, wrong classes, background boxes,
// scores on a 0.01 grid (ties), one crowded image above the 100 cut, a class
// (3) with truth but no detection and a class (4) with detections only.
std::vector<ImageResult> random_case(unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> position(0, 500), size(8, 150), jitter(-6, 6), unit(0, 1);
  const auto score = [&] { return std::round(unit(rng) * 100) / 100; };
  const auto random_box = [&] {
    const float x = position(rng), y = position(rng);
    return Box{x, y, x + size(rng), y + size(rng)};
  };
  std::vector<ImageResult> results(12);
  for (auto& image : results) {
    const int truths = static_cast<int>(rng() % 7);
    for (int i = 0; i < truths; ++i) image.truths.push_back(truth(random_box(), static_cast<int>(rng() % 4)));
    for (const auto& t : image.truths) {
      const int copies = t.class_id == 3 ? 0 : static_cast<int>(rng() % 3);
      for (int k = 0; k < copies; ++k) {
        const Box b{t.box.x1 + jitter(rng), t.box.y1 + jitter(rng), t.box.x2 + jitter(rng), t.box.y2 + jitter(rng)};
        image.detections.push_back(detection(b, score(), unit(rng) < 0.1f ? 1 : t.class_id));
      }
    }
    const int background = static_cast<int>(rng() % 6);
    for (int i = 0; i < background; ++i)
      image.detections.push_back(detection(random_box(), score(), rng() % 2 ? 4 : 0));
  }
  for (int i = 0; i < 110; ++i) results[0].detections.push_back(detection(random_box(), score(), 0));
  results[0].truths.push_back(truth(results[0].detections.back().box, 0));
  return results;
}

nlohmann::json case_to_json(const std::vector<ImageResult>& results, int num_classes) {
  nlohmann::json images = nlohmann::json::array();
  for (const auto& image : results) {
    nlohmann::json detections = nlohmann::json::array(), truths = nlohmann::json::array();
    for (const auto& d : image.detections)
      detections.push_back({d.box.x1, d.box.y1, d.box.x2, d.box.y2, d.score, d.class_id});
    for (const auto& t : image.truths) truths.push_back({t.box.x1, t.box.y1, t.box.x2, t.box.y2, t.class_id});
    images.push_back({{"detections", detections}, {"truths", truths}});
  }
  return {{"num_classes", num_classes}, {"images", images}};
}

}  // namespace

TEST_CASE("metrics: a random case matches the numpy transcription of pycocotools") {
  const auto python = yq::test::python_with_numpy();
  if (!python) {
    if (yq::test::running_in_ci()) FAIL("no python3 with numpy: required when CI=true (scripts/setup.sh installs python3-numpy)");
    MESSAGE("skipping: no python3 with numpy");
    return;
  }
  const int num_classes = 5;
  const auto results = random_case(2024);
  const auto dir = yq::test::fresh_temp_dir("metrics-crosscheck");
  std::ofstream(dir / "case.json") << case_to_json(results, num_classes).dump();
  const std::string script = std::string(YQ_SOURCE_DIR) + "/tests/coco_map_reference.py";
  const std::string command =
      *python + " '" + script + "' '" + (dir / "case.json").string() + "' '" + (dir / "result.json").string() + "'";
  REQUIRE(std::system(command.c_str()) == 0);
  const auto expected = nlohmann::json::parse(std::ifstream(dir / "result.json"));
  const auto metrics = yq::evaluate_detections(results, num_classes);
  CHECK(metrics.map50_95 == doctest::Approx(expected["map50_95"].get<double>()).epsilon(1e-12));
  CHECK(metrics.map50 == doctest::Approx(expected["map50"].get<double>()).epsilon(1e-12));
  CHECK(metrics.precision == doctest::Approx(expected["precision"].get<double>()).epsilon(1e-12));
  CHECK(metrics.recall == doctest::Approx(expected["recall"].get<double>()).epsilon(1e-12));
  for (int c = 0; c < num_classes; ++c) {
    CHECK(metrics.ap50_95_per_class[c] ==
          doctest::Approx(expected["ap50_95_per_class"][c].get<double>()).epsilon(1e-12));
  }
  CHECK(metrics.classes_with_truth == 4);
  CHECK(metrics.ap50_95_per_class[3] == 0.0);
  CHECK(metrics.ap50_95_per_class[4] == -1.0);
}
