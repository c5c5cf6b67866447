// q_NMS (docs/ARITHMETIC.md section 8): the worked example of the spec, the
// conversion of the float options, the ranking of equal scores by anchor,
// zero-area and touching boxes, the IoU boundary, the detection cap, class
// awareness, and agreement with the float NMS on random integer boxes.
#include "testing.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "compiler/detect/detection.hpp"
#include "compiler/detect/int_nms.hpp"
#include "compiler/util/error.hpp"

namespace {

using yq::IntDetection;
using yq::IntNmsOptions;

IntDetection make_candidate(std::int32_t x1, std::int32_t y1, std::int32_t x2, std::int32_t y2, std::int32_t score,
                            int anchor, int class_id = 0) {
  return {x1, y1, x2, y2, score, class_id, anchor};
}

// Disjoint 10x10 pixel boxes along a row.
IntDetection disjoint_candidate(int i, std::int32_t score, int anchor) {
  return make_candidate(320 * i, 0, 320 * i + 160, 160, score, anchor);
}

std::vector<int> anchors_of(const std::vector<IntDetection>& detections) {
  std::vector<int> anchors;
  for (const IntDetection& d : detections) anchors.push_back(d.anchor);
  return anchors;
}

const IntNmsOptions kDefaultOptions{16384, 7, 10, 300};

// The candidates of the worked example of docs/ARITHMETIC.md section 8.
std::vector<IntDetection> worked_example_candidates() {
  return {
      make_candidate(0, 0, 160, 160, 52000, 7),      // A
      make_candidate(16, 0, 176, 160, 52000, 3),     // B
      make_candidate(16, 0, 176, 112, 40000, 5),     // C
      make_candidate(16, 0, 176, 160, 30000, 9, 1),  // D
      make_candidate(16, 0, 176, 160, 16384, 2),     // E
      make_candidate(176, 0, 336, 160, 20000, 4),    // F
      make_candidate(16, 0, 16, 160, 45000, 6),      // G
  };
}

// --- the randomized comparison with the float NMS ---

// |IoU - num/den| < 1e-6, decided on the exact integers (all below 2^53, so exact in double).
bool iou_near_threshold(const IntDetection& a, const IntDetection& b, const IntNmsOptions& options) {
  const std::int64_t intersection = yq::intersection_area(a, b);
  const std::int64_t union_area = yq::box_area(a) + yq::box_area(b) - intersection;
  const double distance =
      std::abs(static_cast<double>(intersection * options.iou_denominator - options.iou_numerator * union_area));
  return distance < 1e-6 * static_cast<double>(union_area * options.iou_denominator);
}

bool near_threshold_with_any(const IntDetection& box, const std::vector<IntDetection>& others,
                             const IntNmsOptions& options) {
  return std::any_of(others.begin(), others.end(), [&](const IntDetection& other) {
    return other.class_id == box.class_id && iou_near_threshold(box, other, options);
  });
}

IntDetection free_box(std::mt19937& rng) {
  std::uniform_int_distribution<std::int32_t> position(0, 16 * 200), size(0, 16 * 80), class_id(0, 2);
  const std::int32_t x = position(rng), y = position(rng);
  return make_candidate(x, y, x + size(rng), y + size(rng), 0, 0, class_id(rng));
}

// A copy of the object with every coordinate moved by up to 2.5 pixels.
IntDetection jittered(const IntDetection& object, std::mt19937& rng) {
  std::uniform_int_distribution<std::int32_t> jitter(-40, 40);
  return make_candidate(object.x1 + jitter(rng), object.y1 + jitter(rng), object.x2 + jitter(rng),
                        object.y2 + jitter(rng), 0, 0, object.class_id);
}

// Boxes like a detector's: jittered copies of 30 objects (heavy overlap)
// mixed with free boxes, some of zero area; three classes, distinct scores (a
// quarter at or below the threshold), anchors in insertion order. A box whose
// IoU with an earlier box of its class lies within 1e-6 of the threshold is
// drawn again.
std::vector<IntDetection> random_candidates(int count, unsigned seed, const IntNmsOptions& options) {
  std::mt19937 rng(seed);
  std::vector<IntDetection> objects;
  for (int i = 0; i < 30; ++i) {
    IntDetection object = free_box(rng);
    object.x2 += 160;
    object.y2 += 160;
    objects.push_back(object);
  }
  std::uniform_int_distribution<int> pick(0, 2 * static_cast<int>(objects.size()) - 1);
  std::vector<std::int32_t> scores(count);
  std::iota(scores.begin(), scores.end(), options.score_threshold - count / 4);
  std::shuffle(scores.begin(), scores.end(), rng);
  std::vector<IntDetection> candidates;
  while (static_cast<int>(candidates.size()) < count) {
    const int choice = pick(rng);
    IntDetection box = choice < static_cast<int>(objects.size()) ? jittered(objects[choice], rng) : free_box(rng);
    box.anchor = static_cast<int>(candidates.size());
    box.score = scores[box.anchor];
    if (!near_threshold_with_any(box, candidates, options)) candidates.push_back(box);
  }
  return candidates;
}

yq::Detection expected_float_detection(const IntDetection& d) {
  const float box_unit = 1.0f / 16, score_unit = 1.0f / 65536;
  return {{d.x1 * box_unit, d.y1 * box_unit, d.x2 * box_unit, d.y2 * box_unit}, d.score * score_unit, d.class_id};
}

void check_same_result(const std::vector<IntDetection>& kept, const std::vector<yq::Detection>& float_kept) {
  REQUIRE(kept.size() == float_kept.size());
  for (size_t i = 0; i < kept.size(); ++i) {
    const yq::Detection expected = expected_float_detection(kept[i]);
    CHECK(float_kept[i].score == expected.score);
    CHECK(float_kept[i].class_id == expected.class_id);
    CHECK(float_kept[i].box.x1 == expected.box.x1);
    CHECK(float_kept[i].box.y1 == expected.box.y1);
    CHECK(float_kept[i].box.x2 == expected.box.x2);
    CHECK(float_kept[i].box.y2 == expected.box.y2);
  }
}

}  // namespace

TEST_CASE("int_nms: worked example of docs/ARITHMETIC.md section 8") {
  const std::vector<IntDetection> candidates = worked_example_candidates();
  const IntDetection &a = candidates[0], &b = candidates[1], &c = candidates[2], &f = candidates[5], &g = candidates[6];
  CHECK(yq::box_area(b) == 25600);
  CHECK(yq::intersection_area(a, b) == 23040);
  CHECK(yq::iou_exceeds(b, a, 7, 10));  // 230400 > 197120
  CHECK(yq::box_area(c) == 17920);
  CHECK(yq::intersection_area(b, c) == 17920);
  CHECK_FALSE(yq::iou_exceeds(b, c, 7, 10));  // 179200 = 179200
  CHECK(yq::intersection_area(b, f) == 0);
  CHECK(yq::box_area(g) == 0);
  CHECK(yq::intersection_area(b, g) == 0);

  CHECK(anchors_of(yq::int_non_max_suppression(candidates, kDefaultOptions)) == std::vector<int>{3, 6, 5, 9, 4});
  CHECK(anchors_of(yq::int_non_max_suppression(candidates, {16384, 7, 10, 3})) == std::vector<int>{3, 6, 5});
}

TEST_CASE("int_nms: float options convert to a score code and a reduced IoU fraction") {
  const auto check_options = [](yq::NmsOptions float_options, IntNmsOptions expected) {
    const IntNmsOptions converted = yq::int_nms_options(float_options);
    CHECK(converted.score_threshold == expected.score_threshold);
    CHECK(converted.iou_numerator == expected.iou_numerator);
    CHECK(converted.iou_denominator == expected.iou_denominator);
    CHECK(converted.max_detections == expected.max_detections);
  };
  check_options({0.25f, 0.7f, 300}, {16384, 7, 10, 300});
  check_options({0.001f, 0.45f, 100}, {66, 9, 20, 100});
  check_options({0.5f, 0.5f, 1}, {32768, 1, 2, 1});
  check_options({0.25f, 0.333f, 300}, {16384, 333, 1000, 300});
  check_options({0.25f, 0.0f, 300}, {16384, 0, 1, 300});
  check_options({0.25f, 1.0f, 300}, {16384, 1, 1, 300});
  for (float bad : {-0.1f, 1.5f, std::nanf("")}) {
    CHECK_THROWS_AS(yq::int_nms_options({0.25f, bad, 300}), yq::Error);
  }
}

TEST_CASE("int_nms: equal scores are ranked by anchor, whatever the input order") {
  std::vector<IntDetection> candidates = {disjoint_candidate(0, 30000, 8), disjoint_candidate(1, 50000, 4),
                                          disjoint_candidate(2, 30000, 2), disjoint_candidate(3, 30000, 5),
                                          disjoint_candidate(4, 40000, 9)};
  const std::vector<int> expected = {4, 9, 2, 5, 8};
  std::mt19937 rng(7);
  for (int trial = 0; trial < 10; ++trial) {
    std::shuffle(candidates.begin(), candidates.end(), rng);
    CHECK(anchors_of(yq::int_non_max_suppression(candidates, kDefaultOptions)) == expected);
  }
}

TEST_CASE("int_nms: equal scores and anchors are ranked by class") {
  const IntDetection box = disjoint_candidate(0, 30000, 3);
  IntDetection class_2 = box, class_1 = box;
  class_2.class_id = 2;
  class_1.class_id = 1;
  const auto kept = yq::int_non_max_suppression({class_2, box, class_1}, kDefaultOptions);
  REQUIRE(kept.size() == 3);
  CHECK(kept[0].class_id == 0);
  CHECK(kept[1].class_id == 1);
  CHECK(kept[2].class_id == 2);
}

TEST_CASE("int_nms: zero-area boxes never suppress and are never suppressed") {
  const IntDetection big = make_candidate(0, 0, 160, 160, 60000, 0);
  const IntDetection point = make_candidate(80, 80, 80, 80, 50000, 1);
  const IntDetection line = make_candidate(0, 80, 160, 80, 40000, 2);
  const IntDetection inverted = make_candidate(160, 160, 0, 0, 30000, 3);
  const IntDetection big_again = make_candidate(0, 0, 160, 160, 20000, 4);
  CHECK(yq::box_area(inverted) == 0);
  CHECK(yq::intersection_area(big, inverted) == 0);
  CHECK_FALSE(yq::iou_exceeds(point, point, 0, 1));  // not even with threshold 0
  const auto kept = yq::int_non_max_suppression({point, line, inverted, big, big_again}, kDefaultOptions);
  CHECK(anchors_of(kept) == std::vector<int>{0, 1, 2, 3});  // only the second big box goes
}

TEST_CASE("int_nms: boxes touching at an edge or a corner do not overlap") {
  const IntDetection box = make_candidate(0, 0, 160, 160, 60000, 0);
  const IntDetection right = make_candidate(160, 0, 320, 160, 50000, 1);
  const IntDetection below = make_candidate(0, 160, 160, 320, 40000, 2);
  const IntDetection corner = make_candidate(160, 160, 320, 320, 30000, 3);
  CHECK(yq::intersection_area(box, right) == 0);
  CHECK(yq::intersection_area(box, corner) == 0);
  CHECK_FALSE(yq::iou_exceeds(box, right, 0, 1));
  CHECK(yq::int_non_max_suppression({box, right, below, corner}, {16384, 0, 1, 300}).size() == 4);
}

TEST_CASE("int_nms: IoU exactly at the threshold is kept, one unit above is suppressed") {
  const IntDetection reference = make_candidate(0, 0, 1600, 1600, 60000, 0);
  const auto kept_count = [&](std::int32_t height) {
    return yq::int_non_max_suppression({reference, make_candidate(0, 0, 1600, height, 50000, 1)}, kDefaultOptions)
        .size();
  };
  CHECK(kept_count(1120) == 2);  // IoU = 1120/1600 = 0.7 exactly
  CHECK(kept_count(1121) == 1);  // 0.700625
  CHECK(kept_count(1119) == 2);
  CHECK_FALSE(yq::iou_exceeds(reference, reference, 1, 1));  // IoU 1 is not above 1
}

TEST_CASE("int_nms: only kept boxes suppress (greedy)") {
  // B overlaps A and C above 0.7, A and C overlap below it: A suppresses B, so C survives.
  const IntDetection a = make_candidate(0, 0, 1600, 1600, 60000, 0);
  const IntDetection b = make_candidate(160, 0, 1760, 1600, 50000, 1);
  const IntDetection c = make_candidate(320, 0, 1920, 1600, 40000, 2);
  REQUIRE_FALSE(yq::iou_exceeds(a, c, 7, 10));
  CHECK(anchors_of(yq::int_non_max_suppression({c, b, a}, kDefaultOptions)) == std::vector<int>{0, 2});
}

TEST_CASE("int_nms: no candidates, or none above the threshold, give nothing") {
  CHECK(yq::int_non_max_suppression({}, kDefaultOptions).empty());
  CHECK(yq::int_non_max_suppression({disjoint_candidate(0, 16384, 0), disjoint_candidate(1, 100, 1)}, kDefaultOptions)
            .empty());
}

TEST_CASE("int_nms: at most max_detections are kept, the best ranked ones") {
  std::vector<IntDetection> candidates;
  for (int i = 0; i < 10; ++i) candidates.push_back(disjoint_candidate(i, 20000 + 1000 * (i % 5), i));
  CHECK(anchors_of(yq::int_non_max_suppression(candidates, {16384, 7, 10, 3})) == std::vector<int>{4, 9, 3});
  CHECK(yq::int_non_max_suppression(candidates, {16384, 7, 10, 0}).empty());
  CHECK(yq::int_non_max_suppression(candidates, {16384, 7, 10, 10}).size() == 10);
}

TEST_CASE("int_nms: boxes of different classes never suppress each other") {
  const auto kept = yq::int_non_max_suppression(
      {make_candidate(0, 0, 800, 800, 60000, 0, 0), make_candidate(0, 0, 800, 800, 50000, 1, 1),
       make_candidate(0, 0, 800, 800, 40000, 2, 0), make_candidate(0, 0, 800, 800, 30000, 3, 2)},
      kDefaultOptions);
  CHECK(anchors_of(kept) == std::vector<int>{0, 1, 3});
}

TEST_CASE("int_nms: agrees with the float NMS on random integer boxes") {
  int suppressed_total = 0;  // candidates above the threshold that suppression removed
  for (const yq::NmsOptions& float_options :
       {yq::NmsOptions{0.25f, 0.7f, 1000}, yq::NmsOptions{0.25f, 0.45f, 1000}, yq::NmsOptions{0.25f, 0.5f, 40}}) {
    const IntNmsOptions options = yq::int_nms_options(float_options);
    for (unsigned seed = 1; seed <= 5; ++seed) {
      const std::vector<IntDetection> candidates = random_candidates(800, seed, options);
      std::vector<yq::Detection> float_candidates;
      for (const IntDetection& d : candidates) float_candidates.push_back(expected_float_detection(d));
      const auto kept = yq::int_non_max_suppression(candidates, options);
      check_same_result(kept, yq::non_max_suppression(float_candidates, float_options));
      const auto above_threshold = std::count_if(candidates.begin(), candidates.end(), [&](const IntDetection& d) {
        return d.score > options.score_threshold;
      });
      if (static_cast<int>(kept.size()) < options.max_detections) {
        suppressed_total += static_cast<int>(above_threshold) - static_cast<int>(kept.size());
      }
    }
  }
  CHECK(suppressed_total > 1000);  // the comparison exercised suppression, not just the threshold and the cap
}
