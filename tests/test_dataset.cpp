// Dataset scanning (the shared coco128/coco8 folders and synthetic ones) and
// YOLO label parsing.
#include "testing.hpp"
#include <fstream>
#include <functional>
#include <string>

#include "compiler/io/dataset.hpp"
#include "compiler/io/image.hpp"
#include "compiler/util/error.hpp"
#include "tests/test_support.hpp"

namespace {

std::string error_text(const std::function<void()>& action) {
  try {
    action();
  } catch (const yq::Error& error) {
    return error.what();
  }
  return "";
}

void write_text(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

}  // namespace

TEST_CASE("dataset: coco128 has 128 images, 126 labelled, 2 orphan labels and 929 boxes") {
  if (!yq::test::have_shared_data()) return;
  const auto dataset = yq::scan_dataset(yq::test::shared_file("data/coco128"));
  REQUIRE(dataset.images.size() == 128);
  CHECK(dataset.images.front().image.filename() == "000000000009.jpg");
  CHECK(dataset.images.back().image.filename() == "000000000650.jpg");
  CHECK(dataset.images.front().label.filename() == "000000000009.txt");
  CHECK(dataset.images.front().label.parent_path().filename() == "train2017");
  CHECK(dataset.images.front().label.parent_path().parent_path().filename() == "labels");

  size_t labelled = 0, boxes = 0;
  for (const auto& entry : dataset.images) {
    if (entry.label.empty()) continue;
    ++labelled;
    const auto truths = yq::read_yolo_labels(entry.label, 640, 480);
    boxes += truths.size();
    for (const auto& truth : truths) {
      CHECK(truth.class_id >= 0);
      CHECK(truth.class_id < 80);
    }
  }
  CHECK(labelled == 126);
  CHECK(boxes == 929);
  REQUIRE(dataset.orphan_labels.size() == 2);
  CHECK(dataset.orphan_labels[0].filename() == "000000000656.txt");
  CHECK(dataset.orphan_labels[1].filename() == "000000000659.txt");
}

TEST_CASE("dataset: coco8 has 8 images in two splits, all labelled") {
  if (!yq::test::have_shared_data()) return;
  const auto dataset = yq::scan_dataset(yq::test::shared_file("data/coco8"));
  CHECK(dataset.images.size() == 8);
  CHECK(dataset.orphan_labels.empty());
  for (const auto& entry : dataset.images) CHECK_FALSE(entry.label.empty());

  // One split alone has no orphans from the other split's labels.
  const auto train = yq::scan_dataset(yq::test::shared_file("data/coco8/images/train"));
  CHECK(train.images.size() == 4);
  CHECK(train.orphan_labels.empty());
}

TEST_CASE("dataset: label paths, image extensions and orphans in a synthetic folder") {
  const auto root = yq::test::fresh_temp_dir("dataset-synthetic");
  std::filesystem::create_directories(root / "images" / "a");
  yq::write_png(root / "images" / "a" / "one.PNG", yq::letterbox(yq::RgbImage{1, 1, {0, 0, 0}}, {2, 2}).canvas);
  write_text(root / "images" / "a" / "two.jpeg", "not decoded by the scan");
  write_text(root / "images" / "a" / "notes.txt", "ignored");
  write_text(root / "labels" / "a" / "one.txt", "3 0.5 0.5 1 1\n");
  write_text(root / "labels" / "a" / "three.txt", "");
  write_text(root / "flat" / "x.bmp", "");
  write_text(root / "flat" / "x.txt", "1 0.5 0.5 0.5 0.5\n");

  const auto dataset = yq::scan_dataset(root);
  REQUIRE(dataset.images.size() == 3);
  CHECK(dataset.images[0].image == root / "flat" / "x.bmp");
  CHECK(dataset.images[0].label == root / "flat" / "x.txt");
  CHECK(dataset.images[1].image == root / "images" / "a" / "one.PNG");
  CHECK(dataset.images[1].label == root / "labels" / "a" / "one.txt");
  CHECK(dataset.images[2].label.empty());
  REQUIRE(dataset.orphan_labels.size() == 1);
  CHECK(dataset.orphan_labels[0] == root / "labels" / "a" / "three.txt");

  CHECK(yq::has_image_extension("a/b.JpG"));
  CHECK_FALSE(yq::has_image_extension("a/b.gif"));
  CHECK_FALSE(yq::has_image_extension("a/jpg"));
}

TEST_CASE("dataset: missing, non-folder and image-less roots are errors") {
  const auto root = yq::test::fresh_temp_dir("dataset-errors");
  const auto missing = root / "missing";
  CHECK(error_text([&] { yq::scan_dataset(missing); }) == "data folder " + missing.string() + " does not exist");

  const auto file = root / "file.txt";
  write_text(file, "x");
  CHECK(error_text([&] { yq::scan_dataset(file); }) == "data folder " + file.string() + " is not a folder");

  const auto empty = root / "empty";
  write_text(empty / "labels" / "a.txt", "0 0.5 0.5 0.1 0.1\n");
  CHECK(error_text([&] { yq::scan_dataset(empty); }) ==
        "data folder " + empty.string() + " contains no images (.jpg .jpeg .png .bmp)");
}

TEST_CASE("dataset: YOLO labels become pixel boxes; malformed rows name file and line") {
  const auto root = yq::test::fresh_temp_dir("dataset-labels");
  const auto good = root / "good.txt";
  write_text(good, "0 0.5 0.5 0.5 0.25\n\n  \n17 0.1 0.2 0.2 0.4\n");
  const auto truths = yq::read_yolo_labels(good, 200, 100);
  REQUIRE(truths.size() == 2);
  CHECK(truths[0].class_id == 0);
  CHECK(truths[0].box.x1 == doctest::Approx(50));
  CHECK(truths[0].box.y1 == doctest::Approx(37.5));
  CHECK(truths[0].box.x2 == doctest::Approx(150));
  CHECK(truths[0].box.y2 == doctest::Approx(62.5));
  CHECK(truths[1].class_id == 17);
  CHECK(truths[1].box.x1 == doctest::Approx(0));
  CHECK(truths[1].box.y1 == doctest::Approx(0));
  CHECK(truths[1].box.x2 == doctest::Approx(40));
  CHECK(truths[1].box.y2 == doctest::Approx(40));

  for (const std::string bad_row : {"0 0.5 0.5 0.5", "0 0.5 0.5 0.5 0.5 0.5", "person 0.5 0.5 0.5 0.5",
                                    "1.5 0.5 0.5 0.5 0.5", "-1 0.5 0.5 0.5 0.5", "0 0.5 0.5x 0.5 0.5"}) {
    CAPTURE(bad_row);
    const auto bad = root / "bad.txt";
    write_text(bad, "0 0.5 0.5 0.5 0.5\n\n" + bad_row + "\n");
    CHECK(error_text([&] { yq::read_yolo_labels(bad, 640, 480); }) ==
          bad.string() + ":3: expected 'class cx cy w h'");
  }
  CHECK_THROWS_AS(yq::read_yolo_labels(root / "missing.txt", 640, 480), yq::Error);
}
