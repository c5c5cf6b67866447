// The layer bench of the RTL: `make -C rtl_tb layers RUN=<run>` runs
// rtl/yq_conv_engine.v (convolutions) and rtl/yq_eltwise_engine.v (slice,
// add, concat, max-pool, upsample) under Verilator on every layer of a
// 96 x 160 run of the built-in synthetic model in mixed precision (weights
// of 4, 6 and 8 bits, 16-bit activations beside 8-bit ones), each from its golden inputs
// and once chained from the image alone through rtl/yq_sequencer.v, and
// compares each output code with the run's golden dumps (stage_8/golden).
// A copy of the golden dumps with one code flipped must make the bench fail
// and name that code as the first divergence, and a descriptor an engine
// refuses must stop the sequencer of the chained run, naming that layer.
// The same run goes through rtl/yq_top.v from its DRAM image (each feature
// map in DRAM slots of its own width). The head bench (`make -C rtl_tb head`) runs rtl/yq_detect_head.v (score
// filter, DFL decode and q_NMS read from a feature-map memory) on that run's
// head outputs against its q_nms.txt; a changed q_nms.txt must be named as
// the first divergence. The official yolov8n at W8A8, W4A4 and W16A16 goes
// through `make sim IMGSZ=160 MODEL=...` (W8A8) or `make layers head top`,
// which make the run themselves (needs ../shared): every layer, the head
// bench (at W16A16 with interpolated sigmoid tables) and the whole frame
// through rtl/yq_top.v from the DRAM image (the band program: feature maps
// in DRAM, also with band buffers small enough for many bands a layer), whose
// detection list, read through its AXI4-Lite window and written to the DRAM
// detection region, must equal q_nms.txt (at W8A8 with magic and timed
// DRAM). `make top` with
// injected errors (SLVERR on a read or on the list's write, a bad op code, a
// layer overrunning the weight buffer) must stop the frame with the status
// register naming the error and the layer, and a changed q_nms.txt must be
// named by the frame bench.
// Skipped when verilator or the shared data is missing, failing instead when
// CI=true.
#include "testing.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

#include "cli_support.hpp"
#include "compiler/emit/hw_format.hpp"
#include "compiler/io/image.hpp"
#include "compiler/quant/quant_model_io.hpp"
#include "compiler/util/files.hpp"
#include "test_support.hpp"

TEST_SUITE_BEGIN("rtl");

namespace fs = std::filesystem;

namespace {

// `make <target>` in rtl_tb with the given variables; a make job server of a
// calling make (ctest under make -j) must not leak in.
int make_rtl_tb(const std::string& target, const std::string& variables, std::string& output) {
  const std::string command = "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C '" +
                              std::string(YQ_SOURCE_DIR) + "/rtl_tb' " + target + " " + variables + " 2>&1";
  output = "command: " + command + "\n";
  return yq::test::run_command(command, output);
}

// Runs `make -C rtl_tb <target> <variables>` and checks that it passes,
// printing `pass` and no MISMATCH.
void check_rtl_pass(const std::string& target, const std::string& variables, const std::string& pass) {
  std::string output;
  const int status = make_rtl_tb(target, variables, output);
  INFO(output);
  CHECK(status == 0);
  CHECK(output.find("MISMATCH") == std::string::npos);
  CHECK(output.find(pass) != std::string::npos);
}

long long sign_extend(unsigned long long value, int bits) {
  const unsigned long long sign = 1ull << (bits - 1), mask = (sign << 1) - 1;
  value &= mask;
  return (value & sign) ? static_cast<long long>(value) - static_cast<long long>(mask) - 1 : static_cast<long long>(value);
}

// A run of the synthetic model on a rectangular 96x160 input (height x
// width, so that a swapped height and width cannot pass) in its own folder
// (tests run in parallel, each in its own folders).
// Mixed precision: the stem at 16-bit activations beside 8-bit ones, some
// convolutions' weights at 4 and 6 bits beside 8, the head's included, and
// 10-bit SiLU pre-activations (direct tables) beside 8-bit outputs.
constexpr const char* kMixedPrecisionConfig = R"(wbits = 8
abits = 8
pre_bits = 10
[[override]]
layers = "conv0|conv1|c2f2\\..*"
abits = 16
[[override]]
layers = "conv7|c2f8\\..*|head\\.p5\\..*"
wbits = 4
[[override]]
layers = "c2f6\\..*|head\\.p4\\.box.*"
wbits = 6
)";

// The synthetic model at 96x160 with kMixedPrecisionConfig; checks that the
// run mixes every width it names.
fs::path make_synthetic_run_96x160(const std::string& folder) {
  const fs::path dir = yq::test::fresh_temp_dir(folder);
  std::ofstream(dir / "mixed.toml") << kMixedPrecisionConfig;
  const yq::test::CliResult cli =
      yq::test::run_cli("run --imgsz 96x160 --config " + (dir / "mixed.toml").string() + " --out " + (dir / "run").string(), dir);
  REQUIRE_MESSAGE(cli.exit_code == 0, cli.err);
  const auto bits = nlohmann::json::parse(yq::test::read_text(dir / "run/stage_5/bits.json"));
  std::set<int> weight_bits(bits["weight"].begin(), bits["weight"].end());
  std::set<int> activation_bits(bits["activation"].begin(), bits["activation"].end());
  REQUIRE(weight_bits == std::set<int>{4, 6, 8});
  REQUIRE(activation_bits == std::set<int>{8, 16});
  std::set<int> pre_bits;
  for (const auto& tensor : nlohmann::json::parse(yq::test::read_text(dir / "run/stage_5/scales.json"))) {
    if (tensor.contains("pre")) pre_bits.insert(tensor["pre"]["bits"].get<int>());
  }
  REQUIRE(pre_bits == std::set<int>{10, 16});
  return dir / "run";
}

// The layer test's run, made once per process: doctest enters the test case
// once per SUBCASE, and every subcase reads this run.
const fs::path& synthetic_run_96x160() {
  static const fs::path run = make_synthetic_run_96x160("rtl-layers");
  return run;
}

bool have_rtl_tools() { return yq::test::require_programs({"verilator", "make"}, "the RTL benches"); }

// A copy of a run's golden dumps whose q_nms.txt differs from the RTL's list
// in one place: the first detection's score one higher, or, without
// detections, one claimed. Returns the MISMATCH line a bench must print.
std::string golden_with_changed_detection(const fs::path& run, const fs::path& golden) {
  fs::remove_all(golden);
  fs::copy(run / "stage_8/golden", golden, fs::copy_options::recursive);
  std::vector<std::string> lines;
  {
    std::ifstream in(golden / "q_nms.txt");
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  REQUIRE(!lines.empty());
  std::string expected;
  if (lines.size() > 1) {  // raise the first detection's score by one
    std::istringstream in(lines[1]);
    long long class_id = 0, score = 0;
    in >> class_id >> score;
    const std::string rest = lines[1].substr(lines[1].find(' ', lines[1].find(' ') + 1));
    lines[1] = std::to_string(class_id) + " " + std::to_string(score + 1) + rest;
    expected = "MISMATCH detection 0 field score expected " + std::to_string(score + 1) + " got " + std::to_string(score);
  } else {  // no detection: claim one
    lines.push_back("0 40000 0 0 16 16 0 person");
    expected = "MISMATCH count expected 1 got 0";
  }
  std::ofstream out(golden / "q_nms.txt", std::ios::trunc);
  for (const auto& line : lines) out << line << '\n';
  return expected;
}

// A run of the synthetic model at 160x160 with `flags` into dir/run; its
// stage_7 manifest.
nlohmann::json synthetic_run_160(const fs::path& dir, const std::string& flags) {
  const yq::test::CliResult cli = yq::test::run_cli("run --imgsz 160 " + flags + " --out " + (dir / "run").string(), dir);
  REQUIRE_MESSAGE(cli.exit_code == 0, cli.err);
  return nlohmann::json::parse(yq::test::read_text(dir / "run/stage_7/manifest.json"));
}

}  // namespace

TEST_CASE("rtl: every layer of a rectangular 96x160 run in mixed precision (weights 4/6/8, 16-bit activations beside 8-bit, 10-bit SiLU pre-activations) is bit-exact on the RTL engines (make -C rtl_tb layers)") {
  if (!have_rtl_tools()) return;
  const fs::path& run = synthetic_run_96x160();
  const fs::path dir = run.parent_path();
  const std::string params = yq::test::read_text(run / "stage_7/yq_params.vh");
  REQUIRE(params.find("localparam integer YQ_IMAGE_HEIGHT = 96;") != std::string::npos);
  REQUIRE(params.find("localparam integer YQ_IMAGE_WIDTH = 160;") != std::string::npos);

  SUBCASE("the golden dumps pass") {
    std::string output;
    const int status = make_rtl_tb("layers", "RUN='" + run.string() + "' ARRAY=8x8", output);
    INFO(output);
    CHECK(status == 0);
    CHECK(output.find("MISMATCH") == std::string::npos);
    const auto pass = output.find("LAYERS PASS: ");
    REQUIRE(pass != std::string::npos);
    const int layers = std::atoi(output.c_str() + pass + 13);
    CHECK(layers >= 63);  // the synthetic YOLOv8n has 63 convolutions
    CHECK(output.find("utilization") != std::string::npos);
  }

  SUBCASE("the whole program runs chained from the image") {
    check_rtl_pass("layers", "RUN='" + run.string() + "' ARRAY=8x8 CHAIN=1", ", chained from the image");
  }

  SUBCASE("the whole frame runs through yq_top from its DRAM image, 16-bit tensors in two-byte slots beside one-byte ones") {
    const auto map = nlohmann::json::parse(yq::test::read_text(run / "stage_7/memory_map.json"));
    std::set<int> slot_bits;
    for (const auto& layer : map["layers"]) slot_bits.insert(layer["fmap_slot_bits"].get<int>());
    CHECK(slot_bits == std::set<int>{8, 16});
    check_rtl_pass("top", "RUN='" + run.string() + "' ARRAY=8x8 TOP_ARGS=--timed", "TOP PASS: whole frame from DRAM bit-exact");
  }

  SUBCASE("a descriptor an engine refuses stops the sequencer, which names it") {
    // A copy of the run whose c2f2.m0.add descriptor claims one input (an add takes two).
    const fs::path bad = dir / "run-bad-program";
    fs::remove_all(bad);
    fs::copy(run, bad, fs::copy_options::recursive);
    const auto manifest = nlohmann::json::parse(yq::test::read_text(bad / "stage_7/manifest.json"));
    int node = -1;
    for (const auto& layer : manifest["layers"]) {
      if (layer["layer"] == "c2f2.m0.add") node = layer["node"].get<int>();
    }
    REQUIRE(node > 0);
    std::vector<std::string> program;
    {
      std::ifstream in(bad / "stage_7/program.hex");
      for (std::string line; std::getline(in, line);) program.push_back(line);
    }
    yq::PackedWord descriptor = yq::PackedWord::parse(yq::program_layout(), program.at(static_cast<size_t>(node)));
    REQUIRE(descriptor["num_inputs"] == 2);
    descriptor["num_inputs"] = 1;
    program.at(static_cast<size_t>(node)) = descriptor.hex();
    {
      std::ofstream out(bad / "stage_7/program.hex", std::ios::trunc);
      for (const auto& line : program) out << line << '\n';
    }
    std::string output;
    const int status = make_rtl_tb("layers", "RUN='" + bad.string() + "' ARRAY=8x8 CHAIN=1", output);
    INFO(output);
    CHECK(status != 0);
    CHECK(output.find("LAYERS PASS") == std::string::npos);
    CHECK(output.find("LAYERS FAIL: layer c2f2.m0.add: the sequencer stopped (engine error at node " +
                      std::to_string(node) + ")") != std::string::npos);
  }

  SUBCASE("a flipped golden code is named as the first divergence") {
    // Copy the golden dumps and flip the lowest bit of one code of c2f2.m0.cv1.
    const fs::path golden = dir / "golden-bad";
    fs::remove_all(golden);
    fs::copy(run / "stage_8/golden", golden, fs::copy_options::recursive);
    const std::string layer = "c2f2.m0.cv1";
    const auto manifest = nlohmann::json::parse(yq::test::read_text(golden / "manifest.json"));
    int bits = 0, channels = 0, height = 0, width = 0;
    for (const auto& file : manifest["files"]) {
      if (file["tensor"] == layer) {
        bits = file["bits"].get<int>();
        channels = file["shape"][1].get<int>();
        height = file["shape"][2].get<int>();
        width = file["shape"][3].get<int>();
      }
    }
    REQUIRE(bits > 0);
    const int c = 1 % channels, y = 17 % height, x = 23 % width;
    const std::size_t index = (std::size_t(c) * height + y) * width + x;
    std::vector<std::string> lines;
    {
      std::ifstream in(golden / (layer + ".hex"));
      for (std::string line; std::getline(in, line);) lines.push_back(line);
    }
    REQUIRE(index < lines.size());
    const unsigned long long original = std::stoull(lines[index], nullptr, 16);
    const unsigned long long flipped = original ^ 1u;
    char hex[32];
    std::snprintf(hex, sizeof hex, "%0*llx", static_cast<int>(lines[index].size()), flipped);
    lines[index] = hex;
    {
      std::ofstream out(golden / (layer + ".hex"), std::ios::trunc);
      for (const auto& line : lines) out << line << '\n';
    }

    std::string output;
    const int status = make_rtl_tb("layers", "RUN='" + run.string() + "' GOLDEN='" + golden.string() + "' ARRAY=8x8", output);
    INFO(output);
    CHECK(status != 0);
    CHECK(output.find("LAYERS PASS") == std::string::npos);
    std::ostringstream expected;
    expected << "MISMATCH layer " << layer << " channel " << c << " y " << y << " x " << x << " expected "
             << sign_extend(flipped, bits) << " got " << sign_extend(original, bits) << "\n";
    CHECK(output.find(expected.str()) != std::string::npos);
    CHECK(output.find("MISMATCH") == output.find(expected.str()));  // the first and only one
  }
}

// The head bench: rtl/yq_detect_head.v (score filter -> DFL decode -> q_NMS
// read from a feature-map memory) on the head convolutions' golden outputs
// of the synthetic run, against its q_nms.txt, with 3 read lanes (80 classes
// and 64 DFL codes in partly filled steps; `make sim` runs 1 lane, yq_top
// ROWS), each level in one band read in place (as yq_top) and in bands of 2
// rows copied to a scratch area (as the band program's head bands); a
// changed q_nms.txt must be named as the first divergence.
TEST_CASE("rtl: the detect head's post-processing of a mixed-precision 96x160 run equals q_nms.txt (make -C rtl_tb head)") {
  if (!have_rtl_tools()) return;
  const fs::path run = make_synthetic_run_96x160("rtl-head");
  std::string output;
  for (const char* band_rows : {"0", "2"}) {
    CAPTURE(band_rows);
    const int status =
        make_rtl_tb("head", "RUN='" + run.string() + "' HEAD_LANES=3 HEAD_BAND_ROWS=" + band_rows, output);
    INFO(output);
    CHECK(status == 0);
    CHECK(output.find("MISMATCH") == std::string::npos);
    CHECK(output.find("HEAD PASS: ") != std::string::npos);
    CHECK(output.find("3 read lanes") != std::string::npos);
  }

  const fs::path golden = run.parent_path() / "golden-head-bad";
  const std::string expected = golden_with_changed_detection(run, golden);
  const int status = make_rtl_tb(
      "head", "RUN='" + run.string() + "' HEAD_LANES=3 HEAD_BAND_ROWS=2 GOLDEN='" + golden.string() + "'", output);
  INFO(output);
  CHECK(status != 0);
  CHECK(output.find("HEAD PASS") == std::string::npos);
  CHECK(output.find(expected) != std::string::npos);
}

TEST_CASE("rtl: the official yolov8n at W8A8, W4A4 and W16A16 is bit-exact at 160x160 (make -C rtl_tb sim IMGSZ=160)") {
  if (!have_rtl_tools() || !yq::test::have_shared_data()) return;
  const fs::path dir = yq::test::fresh_temp_dir("rtl-official");
  const std::string make_run = "IMGSZ=160 MODEL='" + yq::test::shared_file("models/yolov8n/yolov8n.pt").string() +
                               "' CALIB='" + yq::test::shared_file("data/coco8").string() + "' GOLDEN_IMAGE='" +
                               yq::test::shared_file("data/samples/bus.jpg").string() + "' ARRAY=8x8";
  const std::string checkpoint_sha256 = yq::sha256_file(yq::test::shared_file("models/yolov8n/yolov8n.pt"));
  for (const int bits : {8, 4, 16}) {
    CAPTURE(bits);
    const fs::path run = dir / ("w" + std::to_string(bits));
    // W8A8 is the whole acceptance command (lint, unit benches, layers, head,
    // the frame through yq_top on magic and timed DRAM); W4A4 and W16A16 the
    // frame through yq_top (the same engines at other widths).
    std::string output;
    const int status = make_rtl_tb(bits == 8 ? "sim" : "top",
                                   make_run + " BITS=" + std::to_string(bits) + " RUN='" + run.string() + "'", output);
    INFO(output);
    CHECK(status == 0);
    CHECK(output.find("MISMATCH") == std::string::npos);
    if (bits == 8) {
      CHECK(output.find("LAYERS PASS: 103 layers bit-exact") != std::string::npos);
      // Shared concat scales: the 16 slices and the 13 concats are views.
      CHECK(output.find("TOTAL views: 29 layers") != std::string::npos);
      // The head's post-processing gives q_nms.txt's detections.
      CHECK(output.find("HEAD PASS: ") != std::string::npos);
      CHECK(output.find("HEAD PASS: 0 detections") == std::string::npos);
    }
    CHECK(output.find("no --model given") == std::string::npos);
    // The run really is the official checkpoint at these bits.
    const std::string params = yq::test::read_text(run / "stage_7/yq_params.vh");
    CHECK(params.find("localparam integer YQ_IMAGE_HEIGHT = 160;") != std::string::npos);
    CHECK(params.find("localparam integer YQ_WEIGHT_BITS = " + std::to_string(bits) + ";") != std::string::npos);
    const auto manifest = nlohmann::json::parse(yq::test::read_text(run / "stage_7/manifest.json"));
    for (const auto& layer : manifest["layers"]) {
      if (layer["op"] != "input") CHECK(layer["out"]["bits"].get<int>() == bits);  // the image stays 8-bit
    }
    CHECK(params.find("YQ_MODEL_SHA256 = \"" + checkpoint_sha256 + "\"") != std::string::npos);
    // The whole frame through rtl/yq_top.v from the DRAM image: the head
    // outputs and the detection list read through its AXI4-Lite window equal
    // the golden ones (the bench compares the count and every field with
    // q_nms.txt; at W4A4 both counts are 0 on bus.jpg at 160x160).
    const std::string frame_pass = "TOP PASS: whole frame from DRAM bit-exact (6 head outputs, 75600 codes; ";
    const auto first = output.find(frame_pass);
    REQUIRE(first != std::string::npos);
    const int detections = std::atoi(output.c_str() + first + frame_pass.size());
    if (bits != 4) CHECK(detections > 0);
    // The list yq_top wrote to the DRAM detection region equals q_nms.txt's
    // byte for byte (count slot and records, 32-byte slots); its other writes
    // are the band program's stores, every byte of them.
    CHECK(output.find("detections, q_nms.txt; " + std::to_string((detections + 1) * 32) +
                          " bytes of the DRAM detection list; " +
                          std::to_string(manifest["band_program"]["feature_map_bytes_written"].get<long long>()) +
                          " bytes of band stores)",
                      first) != std::string::npos);
    CHECK(output.find("TOP head cycles ") != std::string::npos);
    // The bench writes the RTL's list with the compiler's own writer: a
    // bit-exact list is a byte-identical file.
    CHECK(yq::test::read_text(run / "rtl_bench/yq_top_detections.txt") ==
          yq::test::read_text(run / "stage_8/golden/q_nms.txt"));
    if (bits != 8) continue;
    // `make sim` ran the frame with magic and with timed DRAM (latency,
    // bandwidth cap, random stalls).
    CHECK(output.find(frame_pass, first + 1) != std::string::npos);
    CHECK(output.find("TOP magic dram") != std::string::npos);
    CHECK(output.find("TOP timed dram: latency 100") != std::string::npos);
  }
}

// A larger scale (the synthetic YOLOv8s: 11.2 M parameters, convolutions up
// to 512 channels) through the same RTL: every layer on the engines, then the whole
// frame through yq_top from its DRAM image (at 96x96: its levels 12, 6 and 3
// wide, so stride-2 tiles span up to three output rows of the 8-lane array).
TEST_CASE("rtl: the synthetic YOLOv8s at 96x96 is bit-exact layer by layer and through yq_top (make -C rtl_tb layers top)") {
  if (!have_rtl_tools()) return;
  const fs::path dir = yq::test::fresh_temp_dir("rtl-yolov8s");
  const yq::test::CliResult cli =
      yq::test::run_cli("run --synthetic-scale s --imgsz 96 --out " + (dir / "run").string(), dir);
  REQUIRE_MESSAGE(cli.exit_code == 0, cli.err);
  CHECK(cli.out.find("synthetic: YOLOv8s, 80 classes, 298 tensors bound, 11166544 parameters") != std::string::npos);
  int widest = 0;
  const auto manifest = nlohmann::json::parse(yq::test::read_text(dir / "run/stage_7/manifest.json"));
  for (const auto& layer : manifest["layers"]) {
    widest = std::max(widest, layer["shape"][0].get<int>());
  }
  CHECK(widest == 1024);  // SPPF's concat of four 256-channel maps (YOLOv8n: 512)
  std::string output;
  const int status = make_rtl_tb("layers top", "RUN='" + (dir / "run").string() + "' ARRAY=8x8", output);
  INFO(output);
  CHECK(status == 0);
  CHECK(output.find("MISMATCH") == std::string::npos);
  CHECK(output.find("LAYERS PASS: 103 layers bit-exact (6 add, 13 concat, 63 conv, 3 maxpool, 16 slice, 2 upsample)") !=
        std::string::npos);
  // (12 x 12 + 6 x 6 + 3 x 3) anchors x (64 DFL codes + 80 class logits).
  CHECK(output.find("TOP PASS: whole frame from DRAM bit-exact (6 head outputs, 27216 codes; ") != std::string::npos);
}

// The band program with band buffers small enough to cut most layers into
// several bands (12 KiB halves) through yq_top, with DRAM latency, a
// bandwidth cap and random stalls, and 10-bit SiLU pre-activations beside
// 8-bit codes (the requantizers' output wider than the feature maps, direct
// tables of 1,024 entries in the table lanes): every head output in the DRAM model's
// feature-map region bit-exact, and yq_top's bytes written exactly the band
// program's stores plus the detection list.
TEST_CASE("rtl: the band program in many bands a layer runs bit-exact through yq_top on timed DRAM, its read lanes never colliding on narrow banks (make -C rtl_tb top)") {
  if (!have_rtl_tools()) return;
  const fs::path dir = yq::test::fresh_temp_dir("rtl-bands");
  const nlohmann::json manifest = synthetic_run_160(dir, "--band-buffer-bytes 12288 --pre-bits 10");
  int multi_band = 0;
  for (const auto& layer : manifest["band_program"]["layers"]) multi_band += layer["bands"].get<int>() > 1;
  CHECK(multi_band >= 20);
  std::string output;
  const fs::path census = dir / "census.tsv";
  const int status = make_rtl_tb("top", "RUN='" + (dir / "run").string() + "' ARRAY=8x8 TOP_ARGS='--timed --census " +
                                            census.string() + "'", output);
  INFO(output);
  CHECK(status == 0);
  CHECK(output.find("MISMATCH") == std::string::npos);
  CHECK(output.find("TOP PASS: whole frame from DRAM bit-exact (6 head outputs, 75600 codes; ") != std::string::npos);

  // The bank census: on 2 x ROWS narrow banks no lane set of any node
  // collides (the conv engine issues a stride-2 tap one output row at a
  // time; docs/RESULTS.md), and on rows of 2 x ROWS words the detect
  // head's do (it reads one anchor's classes, a channel apart).
  const yq::QuantModel quant = yq::load_quant_model(dir / "run/stage_6");
  std::ifstream tsv(census);
  std::string line;
  REQUIRE(std::getline(tsv, line));
  CHECK(line.rfind("node\tlayer\tbusy_cycles\tbanks_collisions_a\tbanks_extra_a\tbanks_collisions_b\tbanks_extra_b\t"
                   "rows_collisions_a", 0) == 0);
  int rows = 0;
  long long busy_total = 0, head_row_collisions = 0;
  while (std::getline(tsv, line)) {
    std::istringstream fields(line);
    std::size_t node = 0;
    std::string layer;
    long long busy = 0, banks_a = 0, extra_a = 0, banks_b = 0, extra_b = 0, rows_a = 0;
    fields >> node >> layer;
    const bool head = layer == "detect";
    if (head) fields >> layer;  // "detect head"
    fields >> busy >> banks_a >> extra_a >> banks_b >> extra_b >> rows_a;
    REQUIRE(fields);
    ++rows;
    busy_total += busy;
    INFO(line);
    CHECK(banks_a == 0);
    CHECK(banks_b == 0);
    if (head) head_row_collisions = rows_a;
  }
  CHECK(busy_total > 0);
  CHECK(head_row_collisions > 0);
  CHECK(rows == static_cast<int>(quant.graph.nodes.size()) + 1);

  // The band program copies rows from output halves (a node's first band
  // reading the rows the band before just wrote); a copy whose source runs
  // past the scratch memory stops the frame with code 3 at its node.
  std::string bad;
  const int bad_status = make_rtl_tb("top", "RUN='" + (dir / "run").string() + "' ARRAY=8x8 TOP_ARGS=--bad-copy", bad);
  INFO(bad);
  CHECK(bad_status == 0);
  CHECK(bad.find("TOP ERROR PASS: code 3 at layer ") != std::string::npos);
}

// Folded upsamples in several bands a reader (32 KiB halves): the readers'
// upsample_loads take rows of 5 and 10 words, which end inside the loader's
// 16-byte beats, on timed DRAM with random stalls.
// One run for two features (one model build less): upsamples folded into
// their readers' loads, and conv0's and conv1's 16-bit outputs stored as
// byte planes in one-byte words.
TEST_CASE("rtl: upsamples folded into their readers' loads (several bands a reader) and 16-bit tensors as byte planes run bit-exact layer by layer (twin tiles reading planes) and through yq_top on timed DRAM (make -C rtl_tb layers top)") {
  if (!have_rtl_tools()) return;
  const fs::path dir = yq::test::fresh_temp_dir("rtl-folded-planes");
  std::ofstream(dir / "planes.toml") << "[[override]]\nlayers = \"^conv[01]$\"\nabits = 16\n";
  const nlohmann::json manifest =
      synthetic_run_160(dir, "--band-buffer-bytes 32768 --config '" + (dir / "planes.toml").string() + "'");
  CHECK(manifest["band_program"]["upsample_loads"].get<int>() > 4);  // both upsamples, several bands each
  for (const auto& layer : manifest["band_program"]["layers"]) {
    CHECK(manifest["layers"][layer["node"].get<std::size_t>()]["op"] != "upsample");
  }
  const std::string params = yq::test::read_text(dir / "run/stage_7/yq_params.vh");
  REQUIRE(params.find("localparam integer YQ_FMAP_WIDTH = 8;") != std::string::npos);
  REQUIRE(params.find("localparam integer YQ_FMAP_PLANES = 1;") != std::string::npos);
  int plane_layers = 0;
  for (const auto& layer : manifest["layers"]) plane_layers += layer["planes"].get<int>() == 2;
  CHECK(plane_layers == 2);
  // 10 columns: c2f2.cv1's last tile of 2 of its 32 channels is a twin tile reading conv1's planes.
  check_rtl_pass("layers", "RUN='" + (dir / "run").string() + "' ARRAY=10x10", "LAYERS PASS: 103 layers bit-exact");
  check_rtl_pass("top", "RUN='" + (dir / "run").string() + "' ARRAY=8x8 TOP_ARGS='--timed --stalls 10'",
                 "TOP PASS: whole frame from DRAM bit-exact (6 head outputs, 75600 codes; ");
}

TEST_CASE("rtl: yq_top stops a frame at a DRAM error, a bad descriptor, a buffer overrun, a scratch bank asked for two words or a q_NMS overflow, naming the layer, and its bench names a changed detection") {
  if (!have_rtl_tools() || !yq::test::have_shared_data()) return;
  // The official W8A8 run at 160x160 again (the model build of `make top` is shared with the test above).
  const fs::path dir = yq::test::fresh_temp_dir("rtl-top-errors");
  const std::string make_run = "IMGSZ=160 MODEL='" + yq::test::shared_file("models/yolov8n/yolov8n.pt").string() +
                               "' CALIB='" + yq::test::shared_file("data/coco8").string() + "' GOLDEN_IMAGE='" +
                               yq::test::shared_file("data/samples/bus.jpg").string() + "' ARRAY=8x8 RUN='" +
                               (dir / "w8").string() + "'";
  struct Case {
    std::string args, expected;
  };
  const std::vector<Case> cases = {
      {"--slverr conv1", "TOP ERROR PASS: code 1 at layer conv1 (node 2)"},
      {"--timed --slverr c2f2.cv1", "TOP ERROR PASS: code 1 at layer c2f2.cv1 (node 3)"},
      {"--bad-op c2f2.m0.add", "TOP ERROR PASS: code 2 at layer c2f2.m0.add (node 8)"},
      {"--bad-out-c conv0", "TOP ERROR PASS: code 3 at layer conv0 (node 1)"},
      // A SiLU table deeper than the table lanes' half.
      {"--bad-table conv1", "TOP ERROR PASS: code 3 at layer conv1 (node 2)"},
      // A SiLU table that interpolates, on an engine built for direct tables.
      {"--bad-knots conv1", "TOP ERROR PASS: code 4 at layer conv1 (node 2)"},
      // A requant shift outside the window the requant units are built for.
      {"--bad-shift c2f2.cv2", "TOP ERROR PASS: code 4 at layer c2f2.cv2 (node 10)"},
      // An add's engine refuses its descriptor (code 4); the next
      // convolution's weights, fetched ahead, would read SLVERR: the earlier
      // node's error is the one reported.
      {"--slverr c2f2.cv2 --bad-inputs c2f2.m0.add", "TOP ERROR PASS: code 4 at layer c2f2.m0.add (node 8)"},
      // A convolution's input base past what the conv engine's lanes address.
      {"--bad-base c2f2.cv1", "TOP ERROR PASS: code 4 at layer c2f2.cv1 (node 3)"},
      // A width past the engines' coordinates (YQ_MAX_DIM_BITS).
      {"--bad-width c2f2.cv1", "TOP ERROR PASS: code 4 at layer c2f2.cv1 (node 3)"},
      {"--bad-width c2f2.m0.add", "TOP ERROR PASS: code 4 at layer c2f2.m0.add (node 8)"},
      // Codes wider than the conv engine's operand.
      {"--bad-bits c2f2.cv2", "TOP ERROR PASS: code 4 at layer c2f2.cv2 (node 10)"},
      // A band's store answered with SLVERR, while later bands already run.
      {"--timed --slverr-store conv0", "TOP ERROR PASS: code 6 at layer conv0 (node 1)"},
      // A load that would run past the scratch memory.
      {"--bad-load", "TOP ERROR PASS: code 3 at layer conv0 (node 1)"},
      // A load of DRAM slots of neither width the feature maps use.
      {"--bad-slot", "TOP ERROR PASS: code 2 at layer conv0 (node 1)"},
      // A load let through while a convolution's band runs, moved into the
      // half that band reads: the loader and the engine ask the same banks'
      // port A for different words in one cycle.
      {"--bad-half", "TOP ERROR PASS: code 7 at layer sppf9.cv2 (node 49)"},
      // An upsample_load whose runs end inside a row.
      {"--bad-rows", "TOP ERROR PASS: code 2 at layer c2f12.cv1 (node 52)"},
      {"--timed --slverr-write", "TOP ERROR PASS: code 6 at layer detect head (node 104)"},
  };
  bool first = true;
  for (const Case& c : cases) {
    CAPTURE(c.args);
    std::string output;
    // The first call makes the run; the others reuse it (RUN without IMGSZ).
    const std::string variables = first ? make_run : "ARRAY=8x8 RUN='" + (dir / "w8").string() + "'";
    const int status = make_rtl_tb("top", variables + " TOP_ARGS='" + c.args + "'", output);
    first = false;
    INFO(output);
    CHECK(status == 0);
    CHECK(output.find(c.expected) != std::string::npos);
  }
  // q_NMS holding 2 candidates (a model built with HEAD_MAX_CAND=2) overflows
  // on bus.jpg's: the frame stops with code 5 naming the detect head.
  {
    std::string output;
    const int status = make_rtl_tb("top", "ARRAY=8x8 HEAD_MAX_CAND=2 RUN='" + (dir / "w8").string() +
                                              "' TOP_ARGS=--expect-head-overflow", output);
    INFO(output);
    CHECK(status == 0);
    const auto manifest = nlohmann::json::parse(yq::test::read_text(dir / "w8/stage_7/manifest.json"));
    CHECK(output.find("TOP ERROR PASS: code 5 at layer detect head (node " + std::to_string(manifest["layers"].size()) +
                      ")") != std::string::npos);
  }
  // A q_nms.txt changed in one field: the frame bench names it.
  {
    const fs::path golden = dir / "golden-detection-bad";
    const std::string expected = golden_with_changed_detection(dir / "w8", golden);
    std::string output;
    const int status = make_rtl_tb("top", "ARRAY=8x8 RUN='" + (dir / "w8").string() + "' TOP_ARGS='--golden " +
                                              golden.string() + "'", output);
    INFO(output);
    CHECK(status != 0);
    CHECK(output.find("TOP PASS") == std::string::npos);
    CHECK(output.find(expected) != std::string::npos);
  }
  // IMAGE= prints each detection yq_top found with its class, the same
  // names as q_nms.txt's, and draws the list on bus.jpg (`yq-hw draw`).
  {
    std::string output;
    const fs::path bus = yq::test::shared_file("data/samples/bus.jpg");
    const int status = make_rtl_tb("top", "ARRAY=8x8 RUN='" + (dir / "w8").string() + "' IMAGE='" + bus.string() + "'", output);
    INFO(output);
    CHECK(status == 0);
    CHECK(output.find(" detections of " + (dir / "w8/rtl_bench/yq_top_detections.txt").string() + " on ") != std::string::npos);
    CHECK(output.find("/bus.jpg (810x1080)\n") != std::string::npos);
    CHECK(output.find("# drawn: " + (dir / "w8/draw/yq_top_detections.png").string()) != std::string::npos);
    const yq::ImageSize drawn = yq::probe_image(dir / "w8/draw/yq_top_detections.png");
    CHECK(drawn.width == 810);
    CHECK(drawn.height == 1080);
    std::ifstream in(dir / "w8/stage_8/golden/q_nms.txt");
    int i = 0;
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream fields(line);  // class_id score x1 y1 x2 y2 anchor, then the name (may hold spaces)
      long long value = 0;
      for (int f = 0; f < 7; ++f) fields >> value;
      std::string name;
      std::getline(fields >> std::ws, name);
      CHECK(output.find("DETECTION " + std::to_string(i) + ": " + name + " ") != std::string::npos);
      ++i;
    }
    CHECK(i > 0);
    CHECK(output.find("DETECTIONS of yq_top: " + std::to_string(i) + " ") != std::string::npos);
  }
  // A frame longer than the watchdog fails, naming the layer it is at.
  std::string output;
  const int status = make_rtl_tb("top", "ARRAY=8x8 RUN='" + (dir / "w8").string() + "' TOP_ARGS='--watchdog 300000'", output);
  INFO(output);
  CHECK(status != 0);
  CHECK(output.find("TOP FAIL: watchdog: no interrupt after 300000 cycles, at layer ") != std::string::npos);
  CHECK(output.find("TOP PASS") == std::string::npos);
}

TEST_CASE("rtl: random layer programs are bit-exact on the RTL engines (make -C rtl_tb random-layers)") {
  if (!yq::test::require_programs({"verilator", "make", "python3"}, "the random-layer bench")) return;
  // Kernels 1..7, strides 1..3, 2..16-bit codes, concats of up to 8 inputs, ...
  // (rtl_tb/gen_random_layers.py); an odd array whose 17 columns exceed the
  // taps of the smallest convolutions (the drain must stall them), and an
  // even one whose narrow channel tiles run as twin tiles (the second pixel
  // group on the upper 8 columns and lane set B).
  for (const char* array : {"3x17", "3x16"}) {
    CAPTURE(array);
    std::string output;
    const int status = make_rtl_tb("random-layers", "SEEDS='1 2 3' ARRAY=" + std::string(array), output);
    INFO(output);
    CHECK(status == 0);
    CHECK(output.find("RANDOM LAYERS PASS: 6 programs bit-exact") != std::string::npos);
    CHECK(output.find("MISMATCH") == std::string::npos);
  }
}

TEST_SUITE_END();
