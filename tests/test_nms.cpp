// NMS and IoU: tie order, the IoU threshold boundary, class awareness, the
// detection cap, degenerate boxes, and agreement with a plain
// "suppress everything a kept box overlaps" reference on random candidates.
#include "testing.hpp"

#include <algorithm>
#include <random>
#include <vector>

#include "compiler/detect/detection.hpp"

namespace {

using yq::Box;
using yq::Detection;
using yq::NmsOptions;

Detection make_detection(Box box, float score, int class_id = 0) { return {box, score, class_id}; }

// Disjoint 10x10 boxes along a row.
Box box_number(int i) { return {20.0f * i, 0, 20.0f * i + 10, 10}; }

std::vector<float> scores_of(const std::vector<Detection>& detections) {
  std::vector<float> scores;
  for (const auto& d : detections) scores.push_back(d.score);
  return scores;
}

std::vector<float> x1_of(const std::vector<Detection>& detections) {
  std::vector<float> xs;
  for (const auto& d : detections) xs.push_back(d.box.x1);
  return xs;
}

// Reference: rank, then each kept box suppresses every later overlapping box of its class.
std::vector<Detection> reference_nms(std::vector<Detection> candidates, const NmsOptions& options) {
  std::vector<Detection> ranked;
  for (const auto& c : candidates) {
    if (c.score > options.score_threshold) ranked.push_back(c);
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.score > b.score; });
  std::vector<bool> suppressed(ranked.size(), false);
  std::vector<Detection> kept;
  for (size_t i = 0; i < ranked.size() && static_cast<int>(kept.size()) < options.max_detections; ++i) {
    if (suppressed[i]) continue;
    kept.push_back(ranked[i]);
    for (size_t j = i + 1; j < ranked.size(); ++j) {
      if (ranked[j].class_id == ranked[i].class_id && yq::iou(ranked[i].box, ranked[j].box) > options.iou_threshold) {
        suppressed[j] = true;
      }
    }
  }
  return kept;
}

std::vector<Detection> random_candidates(int count, int classes, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> position(0, 600), size(4, 120), score(0, 1);
  std::uniform_int_distribution<int> class_id(0, classes - 1);
  std::vector<Detection> candidates;
  for (int i = 0; i < count; ++i) {
    const float x = position(rng), y = position(rng);
    candidates.push_back(make_detection({x, y, x + size(rng), y + size(rng)}, score(rng), class_id(rng)));
  }
  return candidates;
}

}  // namespace

TEST_CASE("nms: iou of overlapping, disjoint, touching and zero-area boxes") {
  CHECK(yq::iou({0, 0, 10, 10}, {5, 0, 15, 10}) == doctest::Approx(50.0 / 150.0));
  CHECK(yq::iou({0, 0, 10, 10}, {0, 0, 10, 10}) == 1.0f);
  CHECK(yq::iou({0, 0, 10, 10}, {20, 20, 30, 30}) == 0.0f);
  CHECK(yq::iou({0, 0, 10, 10}, {10, 0, 20, 10}) == 0.0f);
  CHECK(yq::iou({5, 5, 5, 5}, {5, 5, 5, 5}) == 0.0f);
  CHECK(yq::iou({0, 0, 10, 0}, {0, 0, 10, 10}) == 0.0f);
}

TEST_CASE("nms: empty input and scores not above the threshold give nothing") {
  NmsOptions options;
  CHECK(yq::non_max_suppression({}, options).empty());
  options.score_threshold = 0.5f;
  CHECK(yq::non_max_suppression({make_detection(box_number(0), 0.5f), make_detection(box_number(1), 0.2f)}, options)
            .empty());
}

TEST_CASE("nms: output is ranked by score and equal scores keep input order") {
  const std::vector<Detection> candidates = {make_detection(box_number(0), 0.5f), make_detection(box_number(1), 0.9f),
                                             make_detection(box_number(2), 0.5f), make_detection(box_number(3), 0.5f),
                                             make_detection(box_number(4), 0.7f)};
  const auto kept = yq::non_max_suppression(candidates, {0.25f, 0.7f, 300});
  CHECK(scores_of(kept) == std::vector<float>{0.9f, 0.7f, 0.5f, 0.5f, 0.5f});
  CHECK(x1_of(kept) == std::vector<float>{20, 80, 0, 40, 60});
}

TEST_CASE("nms: a box is suppressed only when its IoU exceeds the threshold") {
  const Box reference{0, 0, 100, 100};
  const NmsOptions options{0.25f, 0.7f, 300};
  const auto kept_count = [&](float height) {
    return yq::non_max_suppression({make_detection(reference, 0.9f), make_detection({0, 0, 100, height}, 0.8f)},
                                   options)
        .size();
  };
  CHECK(kept_count(71) == 1);  // IoU 0.71
  CHECK(kept_count(70) == 2);  // IoU exactly 0.7 is not above it
  CHECK(kept_count(69) == 2);  // IoU 0.69
}

TEST_CASE("nms: only kept boxes suppress (greedy)") {
  // B overlaps A and C above 0.7, A and C overlap below it: A suppresses B, so C survives.
  const std::vector<Detection> candidates = {make_detection({0, 0, 100, 100}, 0.9f),
                                             make_detection({10, 0, 110, 100}, 0.8f),
                                             make_detection({20, 0, 120, 100}, 0.7f)};
  REQUIRE(yq::iou(candidates[0].box, candidates[2].box) < 0.7f);
  const auto kept = yq::non_max_suppression(candidates, {0.25f, 0.7f, 300});
  CHECK(scores_of(kept) == std::vector<float>{0.9f, 0.7f});
}

TEST_CASE("nms: boxes of different classes never suppress each other") {
  const Box box{0, 0, 50, 50};
  const auto kept = yq::non_max_suppression({make_detection(box, 0.9f, 0), make_detection(box, 0.8f, 1),
                                             make_detection(box, 0.7f, 0), make_detection(box, 0.6f, 2)},
                                            {0.25f, 0.7f, 300});
  REQUIRE(kept.size() == 3);
  CHECK(kept[0].class_id == 0);
  CHECK(kept[1].class_id == 1);
  CHECK(kept[2].class_id == 2);
}

TEST_CASE("nms: at most max_detections are kept, the best scoring ones") {
  std::vector<Detection> candidates;
  for (int i = 0; i < 10; ++i) candidates.push_back(make_detection(box_number(i), 0.3f + 0.05f * i));
  const auto kept = yq::non_max_suppression(candidates, {0.25f, 0.7f, 3});
  CHECK(x1_of(kept) == std::vector<float>{180, 160, 140});
  CHECK(yq::non_max_suppression(candidates, {0.25f, 0.7f, 0}).empty());
}

TEST_CASE("nms: zero-area boxes overlap nothing, so they are all kept") {
  const Box point{5, 5, 5, 5}, line{0, 5, 10, 5};
  const auto kept = yq::non_max_suppression(
      {make_detection(point, 0.9f), make_detection(point, 0.8f), make_detection(line, 0.7f)}, {0.25f, 0.7f, 300});
  CHECK(kept.size() == 3);
}

TEST_CASE("nms: 8400 low-threshold candidates agree with the reference suppression") {
  const auto candidates = random_candidates(8400, 80, 12345);
  for (const NmsOptions& options : {NmsOptions{0.001f, 0.7f, 300}, NmsOptions{0.001f, 0.3f, 100000}}) {
    const auto kept = yq::non_max_suppression(candidates, options);
    const auto expected = reference_nms(candidates, options);
    REQUIRE(kept.size() == expected.size());
    for (size_t i = 0; i < kept.size(); ++i) {
      CHECK(kept[i].score == expected[i].score);
      CHECK(kept[i].box.x1 == expected[i].box.x1);
      CHECK(kept[i].class_id == expected[i].class_id);
    }
  }
}
