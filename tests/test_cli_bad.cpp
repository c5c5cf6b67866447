// Bad input: every case must end with one line "yq-hw: error: ...", a
// non-zero exit, and no output at all: a failed first run leaves no run folder. The expected error text of
// each case is a golden file in tests/golden_errors/.
#include "testing.hpp"

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <stb_image_write.h>

#include <fstream>

#include "cli_support.hpp"
#include "compiler/io/checkpoint.hpp"
#include "compiler/io/image.hpp"
#include "compiler/io/test_pattern.hpp"
#include "compiler/ir/synthetic_model.hpp"

TEST_SUITE_BEGIN("pipeline");

using namespace yq;

namespace {

namespace fs = std::filesystem;

// A valid state dict of the synthetic model, changed by `edit`.
fs::path write_state_dict(const fs::path& dir, const std::string& name,
                          const std::function<void(NamedTensorList&)>& edit) {
  NamedTensorList tensors = synthetic_yolov8_checkpoint().tensors;
  edit(tensors);
  const fs::path file = dir / name;
  write_tensor_archive(file, tensors);
  return file;
}

void write_bytes(const fs::path& file, const std::string& bytes) { std::ofstream(file, std::ios::binary) << bytes; }

void expect_failure(const std::string& case_name, const std::string& arguments, const fs::path& dir) {
  const test::CliResult result = test::run_cli(arguments, dir);
  CAPTURE(result.err);
  CHECK(result.exit_code == 1);
  CHECK(result.err.starts_with("yq-hw: error: "));
  CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  CHECK_FALSE(fs::exists(dir / "out"));
  test::check_golden_error(case_name, result.err, dir);
}

std::string run_import(const fs::path& model, const fs::path& dir) {
  return "run --model " + model.string() + " --out " + (dir / "out").string() + " --through stage_1";
}

}  // namespace

TEST_CASE("cli_bad: truncated checkpoint") {
  const fs::path dir = test::fresh_temp_dir("bad-truncated");
  const fs::path whole = write_state_dict(dir, "whole.pt", [](NamedTensorList&) {});
  const std::string bytes = test::read_text(whole);
  write_bytes(dir / "truncated.pt", bytes.substr(0, bytes.size() / 2));
  expect_failure("truncated_checkpoint", run_import(dir / "truncated.pt", dir), dir);
}

TEST_CASE("cli_bad: checkpoint with one flipped bit in a weight record") {
  const fs::path dir = test::fresh_temp_dir("bad-bitflip");
  const fs::path whole = write_state_dict(dir, "whole.pt", [](NamedTensorList&) {});
  std::string bytes = test::read_text(whole);
  caffe2::serialize::PyTorchStreamReader reader(whole.string());
  const std::size_t offset = reader.getRecordOffset("data/7");  // found by caffe2, independently of our reader
  bytes.at(offset + 100) = static_cast<char>(bytes.at(offset + 100) ^ 0x10);
  write_bytes(dir / "flipped.pt", bytes);
  expect_failure("corrupt_checkpoint", run_import(dir / "flipped.pt", dir), dir);
}

TEST_CASE("cli_bad: a failed run into a new nested folder leaves none of it") {
  const fs::path dir = test::fresh_temp_dir("bad-nested");
  write_bytes(dir / "truncated.pt", "PK\x03\x04");
  const test::CliResult result =
      test::run_cli("run --model " + (dir / "truncated.pt").string() + " --out " + (dir / "runs/a/b").string(), dir);
  CHECK(result.exit_code == 1);
  CHECK_FALSE(fs::exists(dir / "runs"));
  fs::create_directories(dir / "kept");
  CHECK(test::run_cli("run --model " + (dir / "truncated.pt").string() + " --out " + (dir / "kept/b").string(), dir)
            .exit_code == 1);
  CHECK(fs::is_directory(dir / "kept"));
  CHECK_FALSE(fs::exists(dir / "kept/b"));
}

TEST_CASE("cli_bad: random bytes") {
  const fs::path dir = test::fresh_temp_dir("bad-random");
  std::string bytes(4096, '\0');
  std::uint32_t state = 12345;
  for (char& c : bytes) c = static_cast<char>((state = state * 1664525u + 1013904223u) >> 24);
  write_bytes(dir / "random.pt", bytes);
  expect_failure("random_bytes", run_import(dir / "random.pt", dir), dir);
}

TEST_CASE("cli_bad: zip without data.pkl") {
  const fs::path dir = test::fresh_temp_dir("bad-nopickle");
  {
    caffe2::serialize::PyTorchStreamWriter writer((dir / "nopickle.pt").string());
    const std::string text = "not a pickle";
    writer.writeRecord("notes.txt", text.data(), text.size());
  }
  expect_failure("zip_without_data_pkl", run_import(dir / "nopickle.pt", dir), dir);
}

TEST_CASE("cli_bad: tensor with the wrong shape") {
  const fs::path dir = test::fresh_temp_dir("bad-shape");
  const fs::path file = write_state_dict(dir, "shape.pt", [](NamedTensorList& tensors) {
    for (auto& [name, tensor] : tensors) {
      if (name == "model.4.cv1.conv.weight") tensor = at::zeros({64, 32, 1, 1});
    }
  });
  expect_failure("wrong_shape", run_import(file, dir), dir);
}

TEST_CASE("cli_bad: model without a Detect head") {
  const fs::path dir = test::fresh_temp_dir("bad-nodetect");
  const fs::path file = write_state_dict(dir, "nodetect.pt", [](NamedTensorList& tensors) {
    std::erase_if(tensors, [](const auto& entry) { return entry.first.starts_with("model.22."); });
  });
  expect_failure("no_detect_head", run_import(file, dir), dir);
}

TEST_CASE("cli_bad: NaN in a weight") {
  const fs::path dir = test::fresh_temp_dir("bad-nan");
  const fs::path file = write_state_dict(dir, "nan.pt", [](NamedTensorList& tensors) {
    for (auto& [name, tensor] : tensors) {
      if (name == "model.3.conv.weight") tensor.view(-1)[7] = NAN;
    }
  });
  expect_failure("nan_weight", run_import(file, dir), dir);
}

TEST_CASE("cli_bad: missing model file") {
  const fs::path dir = test::fresh_temp_dir("bad-missing");
  expect_failure("missing_model", run_import(dir / "absent.pt", dir), dir);
}

TEST_CASE("cli_bad: non-image file in the data folder") {
  const fs::path dir = test::fresh_temp_dir("bad-nonimage");
  fs::create_directories(dir / "data/images");
  write_bytes(dir / "data/images/notes.jpg", "this is text, not a JPEG\n");
  expect_failure("non_image_in_data",
                 "run --data " + (dir / "data").string() + " --out " + (dir / "out").string() + " --imgsz 64", dir);
}

TEST_CASE("cli_bad: truncated JPEG") {
  const fs::path dir = test::fresh_temp_dir("bad-truncated-jpeg");
  const RgbImage pattern = test_pattern_image(96, 64, 0);
  REQUIRE(stbi_write_jpg((dir / "whole.jpg").c_str(), 96, 64, 3, pattern.pixels.data(), 80));
  const std::string jpeg = test::read_text(dir / "whole.jpg");
  write_bytes(dir / "cut.jpg", jpeg.substr(0, jpeg.size() / 2));
  expect_failure("truncated_jpeg", "detect " + (dir / "cut.jpg").string(), dir);
}

TEST_CASE("cli_bad: inspect a folder that is neither a run nor a checkpoint") {
  const fs::path dir = test::fresh_temp_dir("bad-inspect");
  fs::create_directories(dir / "notes/stage_0");
  write_bytes(dir / "notes/readme.txt", "not a run\n");
  expect_failure("inspect_not_a_run", "inspect " + (dir / "notes").string(), dir);
  expect_failure("inspect_missing_path", "inspect " + (dir / "absent").string(), dir);
}

TEST_CASE("cli_bad: report on a folder that is not a run writes nothing") {
  const fs::path dir = test::fresh_temp_dir("bad-report");
  fs::create_directories(dir / "notes/stage_3");
  write_bytes(dir / "notes/readme.txt", "not a run\n");
  expect_failure("report_not_a_run", "report " + (dir / "notes").string(), dir);
  CHECK_FALSE(fs::exists(dir / "notes/report.html"));
  // A run followed by a folder that is not one: every folder is read before anything is written.
  REQUIRE(test::run_cli("run --imgsz 64 --through stage_0 --out " + (dir / "run").string(), dir).exit_code == 0);
  const std::string report = test::read_text(dir / "run/report.html");
  REQUIRE(report.find("id=\"settings\"") != std::string::npos);
  expect_failure("report_not_a_run", "report " + (dir / "run").string() + " " + (dir / "notes").string(), dir);
  CHECK(test::read_text(dir / "run/report.html") == report);
  expect_failure("report_not_a_run", "report " + (dir / "run").string() + " " + (dir / "notes").string() + " -o " +
                                         (dir / "sweep.html").string(), dir);
  CHECK_FALSE(fs::exists(dir / "sweep.html"));
}

TEST_CASE("cli_bad: data folder with no images") {
  const fs::path dir = test::fresh_temp_dir("bad-noimages");
  fs::create_directories(dir / "data/labels");
  write_bytes(dir / "data/labels/a.txt", "0 0.5 0.5 0.1 0.1\n");
  expect_failure("data_without_images", "run --data " + (dir / "data").string() + " --out " + (dir / "out").string(),
                 dir);
}

TEST_CASE("cli_bad: the same image id (file stem) in two --data folders") {
  const fs::path dir = test::fresh_temp_dir("bad-duplicate-id");
  const RgbImage canvas = letterbox(RgbImage{1, 1, {0, 0, 0}}, {32, 32}).canvas;
  fs::create_directories(dir / "a/images");
  fs::create_directories(dir / "b/images");
  write_png(dir / "a/images/000000000009.png", canvas);
  write_png(dir / "b/images/000000000009.png", canvas);
  expect_failure("duplicate_image_id",
                 "run --data " + (dir / "a").string() + " --data " + (dir / "b").string() + " --out " +
                     (dir / "out").string() + " --imgsz 64",
                 dir);
}

TEST_CASE("cli_bad: output folder that cannot be written") {
  const fs::path dir = test::fresh_temp_dir("bad-unwritable");
  write_bytes(dir / "file", "a regular file\n");
  const test::CliResult result = test::run_cli("run --out " + (dir / "file" / "out").string(), dir);
  CHECK(result.exit_code == 1);
  CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  test::check_golden_error("unwritable_output", result.err, dir);
}

TEST_CASE("cli_bad: image size that is not a multiple of 32") {
  const fs::path dir = test::fresh_temp_dir("bad-imgsz");
  expect_failure("bad_image_size", "run --imgsz 100 --out " + (dir / "out").string(), dir);
  expect_failure("bad_image_width", "run --imgsz 96x100 --out " + (dir / "out").string(), dir);
  expect_failure("bad_image_size_text", "run --imgsz 96x --out " + (dir / "out").string(), dir);
}

TEST_CASE("cli_bad: an AXI data width that is not a power of two within 32..1024") {
  const fs::path dir = test::fresh_temp_dir("bad-axi-bits");
  expect_failure("axi_bits_96", "run --axi-bits 96 --out " + (dir / "out").string(), dir);
}

TEST_CASE("cli_bad: a weight budget that is neither bits per weight nor a size") {
  const fs::path dir = test::fresh_temp_dir("bad-weight-budget");
  expect_failure("weight_budget_text", "run --weight-budget 5bits --out " + (dir / "out").string(), dir);
}

TEST_CASE("cli_bad: a weight budget below every layer at 4 bits") {
  const fs::path dir = test::fresh_temp_dir("bad-weight-budget-small");
  expect_failure("weight_budget_too_small",
                 "run --imgsz 64 --through stage_5 --weight-budget 3.5 --out " + (dir / "out").string(), dir);
}

TEST_CASE("cli_bad: resuming without earlier outputs") {
  const fs::path dir = test::fresh_temp_dir("bad-resume");
  expect_failure("resume_without_outputs", "run --from stage_2 --out " + (dir / "out").string(), dir);
}

namespace {

// Makes a run with `first`, then resumes it with `resumed`: refused with the
// stage to rerun named, and the earlier outputs left as they were.
void expect_resume_refused(const std::string& case_name, const std::string& first, const std::string& resumed,
                           const fs::path& dir) {
  const std::string out = " --out " + (dir / "out").string();
  const test::CliResult made = test::run_cli(first + out, dir);
  REQUIRE_MESSAGE(made.exit_code == 0, made.err);
  const std::string summary_before = test::read_text(dir / "out/stage_2/summary.json");
  const test::CliResult result = test::run_cli(resumed + out, dir);
  CAPTURE(result.err);
  CHECK(result.exit_code == 1);
  CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  CHECK(result.err.find("; rerun from stage_") != std::string::npos);
  CHECK(test::read_text(dir / "out/stage_2/summary.json") == summary_before);
  test::check_golden_error(case_name, result.err, dir);
}

}  // namespace

TEST_CASE("cli_bad: resuming with another --imgsz") {
  const fs::path dir = test::fresh_temp_dir("bad-resume-imgsz");
  expect_resume_refused("resume_other_imgsz", "run --imgsz 64 --through stage_5",
                        "run --imgsz 96 --from stage_5 --through stage_5", dir);
}

TEST_CASE("cli_bad: resuming with other --bits") {
  const fs::path dir = test::fresh_temp_dir("bad-resume-bits");
  expect_resume_refused("resume_other_bits", "run --imgsz 64 --through stage_6",
                        "run --imgsz 64 --bits 4 --from stage_7 --through stage_7", dir);
}

TEST_CASE("cli_bad: resuming with another checkpoint") {
  const fs::path dir = test::fresh_temp_dir("bad-resume-model");
  const fs::path other = write_state_dict(dir, "other.pt", [](NamedTensorList& tensors) {
    for (auto& [name, tensor] : tensors) {
      if (name == "model.3.conv.weight") tensor.view(-1)[7] = 0.5;
    }
  });
  expect_resume_refused("resume_other_model", "run --imgsz 64 --through stage_2",
                        "run --model " + other.string() + " --imgsz 64 --from stage_3 --through stage_3", dir);
}

TEST_CASE("cli_bad: resuming with another scale of the synthetic model") {
  const fs::path dir = test::fresh_temp_dir("bad-resume-synthetic-scale");
  expect_resume_refused("resume_other_synthetic_scale", "run --imgsz 64 --through stage_2",
                        "run --synthetic-scale s --imgsz 64 --from stage_3 --through stage_3", dir);
}

TEST_CASE("resume: unchanged settings reuse the earlier outputs") {
  const fs::path dir = test::fresh_temp_dir("resume-same");
  const std::string out = " --out " + (dir / "out").string();
  REQUIRE(test::run_cli("run --imgsz 64 --bits 6 --through stage_6" + out, dir).exit_code == 0);
  const std::string quant_model = test::read_text(dir / "out/stage_6/quant_model.json");
  const test::CliResult resumed = test::run_cli("run --imgsz 64 --bits 6 --from stage_7 --through stage_7" + out, dir);
  CAPTURE(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK(resumed.out.find("stage_0") != std::string::npos);  // the input checks run every time
  CHECK(resumed.out.find("stage_6") == std::string::npos);
  CHECK(test::read_text(dir / "out/stage_6/quant_model.json") == quant_model);
  CHECK(test::read_text(dir / "out/stage_7/yq_params.vh").find("YQ_WEIGHT_BITS = 6;") != std::string::npos);
}

TEST_SUITE_END();
