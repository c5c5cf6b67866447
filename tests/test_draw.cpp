// `yq-hw draw RUN`: a detection list in q_nms.txt form goes back through the
// letterbox onto the run's original golden image (a synthetic 64x64 run,
// whose golden image is the 640x480 test pattern 0: ratio 0.1, 8 rows of
// padding above), the default list is the RTL's when the frame bench wrote
// one and stage_8's q_NMS result otherwise, and bad input is refused with
// no picture written.
#include "testing.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "compiler/io/image.hpp"
#include "compiler/io/test_pattern.hpp"
#include "compiler/util/files.hpp"

using namespace yq;
namespace fs = std::filesystem;

namespace {

// One synthetic run through stage_8 per test process (CTest runs each case as its own process).
const fs::path& synthetic_run() {
  static const fs::path run = [] {
    const fs::path dir = test::fresh_temp_dir("draw-" + std::to_string(getpid()));
    const test::CliResult result = test::run_cli("run --imgsz 64 --out " + (dir / "run").string(), dir);
    REQUIRE_MESSAGE(result.exit_code == 0, result.err);
    return dir / "run";
  }();
  return run;
}

fs::path write_list(const fs::path& file, const std::string& lines) {
  std::ofstream(file) << "# class_id score x1 y1 x2 y2 anchor class_name\n" << lines;
  return file;
}

bool same_pixel(const RgbImage& a, const RgbImage& b, int x, int y) {
  return std::equal(a.at(x, y), a.at(x, y) + 3, b.at(x, y));
}

}  // namespace

TEST_SUITE_BEGIN("pipeline");  // runs of the yq-hw command

TEST_CASE("draw: a detection list goes back through the letterbox onto the original image") {
  const fs::path& run = synthetic_run();
  const fs::path dir = run.parent_path();
  const RgbImage pattern = test_pattern_image(640, 480, 0);
  SUBCASE("a box of canvas (10, 18)-(50, 40) is drawn at image (100, 100)-(500, 320)") {
    // 1/16 canvas pixels: 160 288 800 640; score 2^-1.
    const fs::path list = write_list(dir / "one.txt", "0 32768 160 288 800 640 5 person\n");
    const test::CliResult result = test::run_cli("draw " + run.string() + " --detections " + list.string() + " -o " +
                                                     (dir / "one.png").string(), dir);
    INFO(result.out << result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(result.out.find("# 1 detections of " + list.string() + " on built-in test pattern 0 (640x480)") == 0);
    CHECK(result.out.find("\n0 0.500000 100.000 100.000 500.000 320.000 person\n") != std::string::npos);
    const RgbImage drawn = decode_image(dir / "one.png");
    REQUIRE(drawn.width == 640);
    REQUIRE(drawn.height == 480);
    // The outline lies inside the box: rows 100.. and ..319, columns 100.. and ..499.
    CHECK_FALSE(same_pixel(drawn, pattern, 300, 100));  // the top edge
    CHECK_FALSE(same_pixel(drawn, pattern, 300, 319));  // the bottom edge
    CHECK_FALSE(same_pixel(drawn, pattern, 100, 200));  // the left edge
    CHECK_FALSE(same_pixel(drawn, pattern, 499, 200));  // the right edge
    CHECK(same_pixel(drawn, pattern, 300, 321));        // just below
    CHECK(same_pixel(drawn, pattern, 300, 200));        // inside
    CHECK(same_pixel(drawn, pattern, 300, 400));        // below
    CHECK(same_pixel(drawn, pattern, 560, 200));        // to the right
  }
  SUBCASE("an empty list leaves the image as it was") {
    const fs::path list = write_list(dir / "none.txt", "");
    const test::CliResult result = test::run_cli("draw " + run.string() + " --detections " + list.string() + " -o " +
                                                     (dir / "none.png").string(), dir);
    REQUIRE_MESSAGE(result.exit_code == 0, result.err);
    const RgbImage drawn = decode_image(dir / "none.png");
    CHECK(drawn.pixels == pattern.pixels);
  }
  SUBCASE("the default list is the RTL's when there is one, else stage_8's q_NMS result") {
    fs::remove_all(run / "rtl_bench");
    test::CliResult result = test::run_cli("draw " + run.string(), dir);
    REQUIRE_MESSAGE(result.exit_code == 0, result.err);
    CHECK(result.out.find("of " + (run / "stage_8/golden/q_nms.txt").string() + " on") != std::string::npos);
    CHECK(fs::is_regular_file(run / "draw/q_nms.png"));
    fs::create_directories(run / "rtl_bench");
    write_list(run / "rtl_bench/yq_top_detections.txt", "3 40000 320 320 480 480 7 motorcycle\n");
    result = test::run_cli("draw " + run.string(), dir);
    REQUIRE_MESSAGE(result.exit_code == 0, result.err);
    CHECK(result.out.find("# 1 detections of " + (run / "rtl_bench/yq_top_detections.txt").string()) == 0);
    CHECK(result.out.find("# drawn: " + (run / "draw/yq_top_detections.png").string()) != std::string::npos);
    CHECK(fs::is_regular_file(run / "draw/yq_top_detections.png"));
    // A list older than the golden dumps (stage_8 ran again since) is not drawn by default.
    fs::last_write_time(run / "rtl_bench/yq_top_detections.txt",
                        fs::last_write_time(run / "stage_8/golden/q_nms.txt") - std::chrono::seconds(10));
    result = test::run_cli("draw " + run.string(), dir);
    REQUIRE_MESSAGE(result.exit_code == 0, result.err);
    CHECK(result.out.find("of " + (run / "stage_8/golden/q_nms.txt").string() + " on") != std::string::npos);
    CHECK(result.err == "yq-hw: note: " + (run / "rtl_bench/yq_top_detections.txt").string() +
                           " is older than stage_8's golden dumps: drawing q_nms.txt (rerun make -C rtl_tb top for the "
                           "RTL's list)\n");
    fs::remove_all(run / "rtl_bench");
  }
}

TEST_CASE("draw: bad input is refused and no picture is written") {
  const fs::path& run = synthetic_run();
  const fs::path dir = run.parent_path();
  const fs::path output = dir / "refused.png";
  auto refusal = [&](const std::string& arguments) {
    const test::CliResult result = test::run_cli("draw " + arguments + " -o " + output.string(), dir);
    CHECK(result.exit_code == 1);
    CHECK_FALSE(fs::exists(output));
    return result.err;
  };
  SUBCASE("not a run folder") {
    CHECK(refusal(dir.string()) == "yq-hw: error: " + dir.string() + " is not a run folder (no stage_0/config.json)\n");
  }
  SUBCASE("a line that is not a detection, named with its number") {
    const fs::path list = write_list(dir / "bad.txt", "0 32768 160 288 800 640 5 person\n0 32768 160 288 800\n");
    CHECK(refusal(run.string() + " --detections " + list.string()) ==
          "yq-hw: error: " + list.string() +
              " line 3 is not a detection (class_id score x1 y1 x2 y2 anchor [name]): 0 32768 160 288 800\n");
  }
  SUBCASE("a box whose corners are swapped") {
    const fs::path list = write_list(dir / "swapped.txt", "0 32768 800 288 160 640 5 person\n");
    CHECK(refusal(run.string() + " --detections " + list.string()).find(" line 2 is not a detection") != std::string::npos);
  }
  SUBCASE("a run with no detection list") {
    const fs::path early = dir / "early";
    fs::remove_all(early);
    fs::create_directories(early);
    fs::copy(run / "stage_0", early / "stage_0");
    CHECK(refusal(early.string()).find("has no detection list: run it through stage_8") != std::string::npos);
  }
  SUBCASE("a golden image that is not readable from here") {
    const fs::path moved = dir / "moved";
    fs::remove_all(moved);
    fs::create_directories(moved);
    fs::copy(run / "stage_0", moved / "stage_0");
    nlohmann::json config = read_json_file(moved / "stage_0/config.json");
    config["golden_image"] = (dir / "gone.jpg").string();
    write_json_file(moved / "stage_0/config.json", config);
    const fs::path list = write_list(dir / "one.txt", "0 32768 160 288 800 640 5 person\n");
    CHECK(refusal(moved.string() + " --detections " + list.string()).find("is not readable from here: give it with --image") !=
          std::string::npos);
  }
}

TEST_SUITE_END();
