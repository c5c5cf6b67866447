// `yq-hw inspect` on a run of the synthetic model and on the official
// checkpoint: every figure is checked against a source the report is not
// built from (the checkpoint's raw tensors, the run's own JSON files, the
// emitted files on disk).
#include "testing.hpp"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "cli_support.hpp"
#include "compiler/emit/hw_format.hpp"
#include "compiler/io/checkpoint.hpp"
#include "compiler/ir/synthetic_model.hpp"

using namespace yq;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Parameter counts straight from a checkpoint's tensors: everything but BN
// running statistics (Ultralytics' count), and the fused model's conv weights
// (4-D tensors) plus one bias per output channel. Both without the DFL projection.
struct TensorCounts {
  std::int64_t parameters = 0;
  std::int64_t fused_weights = 0;
  std::int64_t fused_biases = 0;
  std::int64_t dfl = 0;
};

TensorCounts count_tensors(const NamedTensorList& tensors) {
  TensorCounts counts;
  for (const auto& [name, tensor] : tensors) {
    if (name.find(".dfl.") != std::string::npos) {
      counts.dfl += tensor.numel();
      continue;
    }
    const bool buffer = name.ends_with("running_mean") || name.ends_with("running_var") ||
                        name.ends_with("num_batches_tracked");
    if (!buffer) counts.parameters += tensor.numel();
    if (tensor.dim() == 4) {
      counts.fused_weights += tensor.numel();
      counts.fused_biases += tensor.size(0);
    }
  }
  return counts;
}

void check_parameters(const json& report, const TensorCounts& counts) {
  const json& p = report.at("parameters");
  CHECK(p.at("total").get<std::int64_t>() == counts.parameters);
  CHECK(p.at("fused").at("weights").get<std::int64_t>() == counts.fused_weights);
  CHECK(p.at("fused").at("biases").get<std::int64_t>() == counts.fused_biases);
  CHECK(p.at("fused").at("total").get<std::int64_t>() == counts.fused_weights + counts.fused_biases);
  CHECK(p.at("dfl_projection").get<std::int64_t>() == counts.dfl);
}

json read_json(const fs::path& file) { return json::parse(test::read_text(file)); }

json inspect_json(const std::string& target, const fs::path& dir) {
  const test::CliResult result = test::run_cli("inspect --json " + target, dir);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  return json::parse(result.out);
}

const json& layer_named(const json& report, const std::string& name) {
  for (const json& layer : report.at("layers")) {
    if (layer.at("name") == name) return layer;
  }
  FAIL("no layer " << name);
  throw;
}

std::int64_t emitted_bytes_on_disk(const fs::path& folder) {
  std::int64_t bytes = 0;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name != "manifest.json" && name != "summary.json") bytes += entry.file_size();
  }
  return bytes;
}

}  // namespace

TEST_SUITE_BEGIN("pipeline");  // runs of the yq-hw command

TEST_CASE("inspect: a 160x160 run of the synthetic model through stage_7") {
  const fs::path dir = test::fresh_temp_dir("inspect-run");
  const fs::path run = dir / "run";
  const test::CliResult made = test::run_cli("run --imgsz 160 --through stage_7 --out " + run.string(), dir);
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  const json report = inspect_json(run.string(), dir);

  CHECK(report.at("kind") == "run");
  const json& stages = report.at("stages");
  REQUIRE(stages.size() == 8);
  for (int stage = 0; stage < 8; ++stage) {
    CHECK(stages[stage].at("stage") == "stage_" + std::to_string(stage));
    CHECK(stages[stage].at("status") == (stage == 3 ? "skipped" : "ok"));  // no --data: no float validation
  }
  CHECK(report.at("architecture").at("scale") == "n");
  CHECK(report.at("architecture").at("num_classes") == 80);
  CHECK(report.at("architecture").at("image_size") == nlohmann::json::array({160, 160}));
  check_parameters(report, count_tensors(synthetic_yolov8_checkpoint().tensors));

  // Layers: names and shapes as emitted, bits and accumulators as certified, scales as selected.
  const json manifest = read_json(run / "stage_7/manifest.json");
  const json certificate = read_json(run / "stage_6/certificate.json");
  const json scales = read_json(run / "stage_5/scales.json");
  const json& layers = report.at("layers");
  REQUIRE(layers.size() == manifest.at("layers").size());
  REQUIRE(layers.size() == scales.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    CAPTURE(i);
    CHECK(layers[i].at("name") == manifest.at("layers")[i].at("layer"));
    CHECK(layers[i].at("shape") == manifest.at("layers")[i].at("shape"));
    CHECK(layers[i].at("scale").get<double>() == scales[i].at("out").at("scale").get<double>());
    CHECK(layers[i].at("activation_bits") == scales[i].at("out").at("bits"));
  }
  for (const json& certified : certificate.at("layers")) {
    const json& layer = layer_named(report, certified.at("layer"));
    CHECK(layer.at("accumulator_bits") == certified.at("accumulator_bits"));
    CHECK(layer.at("worst_case_accumulator") == certified.at("worst_case_accumulator"));
    CHECK(layer.at("weight_bits") == certified.at("weight_bits"));
  }
  CHECK(report.at("quantization").at("accumulator_bits") == certificate.at("accumulator_bits"));

  // Sizes: float32 is four bytes a fused parameter; at W8 the run's weights fill the weight memory but for
  // the zero columns of each convolution's rows (its output channels rounded up to whole rows).
  const json& sizes = report.at("model_size");
  REQUIRE(sizes.size() == 6);
  CHECK(sizes[0].at("format") == "float32");
  CHECK(sizes[0].at("bytes").get<std::int64_t>() == 4 * report.at("parameters").at("fused").at("total").get<std::int64_t>());
  CHECK(sizes[2].at("format") == "int8");
  CHECK(sizes[4].at("format") == "int4");
  CHECK(2 * sizes[4].at("weight_bytes").get<std::int64_t>() == sizes[2].at("weight_bytes").get<std::int64_t>());
  CHECK(sizes[5].at("format") == "run");
  const json& weight_memory = manifest.at("memories").at("weight");
  std::int64_t row_words = 0;
  for (const json& layer : report.at("layers")) {
    if (!layer.contains("weights")) continue;
    const std::int64_t channels = layer.at("shape")[0], weights = layer.at("weights");
    row_words += (channels + kWeightGroup - 1) / kWeightGroup * kWeightGroup * (weights / channels);
  }
  CHECK(weight_memory.at("depth").get<std::int64_t>() == row_words);
  CHECK(sizes[5].at("weight_bytes").get<std::int64_t>() ==
        report.at("parameters").at("fused").at("weights").get<std::int64_t>() * weight_memory.at("width").get<std::int64_t>() / 8);

  // Emitted memories and files.
  const json& emitted = report.at("emitted");
  CHECK(emitted.at("memories").size() == manifest.at("memories").size());
  for (const json& memory : emitted.at("memories")) {
    const json& listed = manifest.at("memories").at(memory.at("name").get<std::string>());
    CHECK(memory.at("width") == listed.at("width"));
    CHECK(memory.at("depth") == listed.at("depth"));
    CHECK(memory.at("bits").get<std::int64_t>() == listed.at("width").get<std::int64_t>() * listed.at("depth").get<std::int64_t>());
  }
  CHECK(emitted.at("file_count") == manifest.at("files").size());
  CHECK(emitted.at("file_bytes").get<std::int64_t>() == emitted_bytes_on_disk(run / "stage_7"));

  // The table says the same.
  const test::CliResult table = test::run_cli("inspect " + run.string(), dir);
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("completed stages: stage_0, stage_1, stage_2, stage_3 (skipped), stage_4") != std::string::npos);
  CHECK(table.out.find("widest accumulator " + certificate.at("accumulator_bits").dump() + " bits") != std::string::npos);
  CHECK(table.out.find("\n  conv0            conv     16,80,80       3/2         432   8   8") != std::string::npos);
  CHECK(table.out.find("\n  weight   weight_mem.hex        8    3,254,112") != std::string::npos);
}

TEST_CASE("inspect: a run stopped after stage_2 reports the architecture and no bits") {
  const fs::path dir = test::fresh_temp_dir("inspect-early");
  const fs::path run = dir / "run";
  REQUIRE(test::run_cli("run --imgsz 64 --through stage_2 --out " + run.string(), dir).exit_code == 0);
  const json report = inspect_json(run.string(), dir);
  CHECK(report.at("stages").size() == 3);
  CHECK(report.at("architecture").at("bn_fused") == true);
  CHECK(report.at("model_size").size() == 5);
  CHECK_FALSE(report.contains("quantization"));
  CHECK_FALSE(report.contains("emitted"));
  CHECK_FALSE(layer_named(report, "conv0").contains("weight_bits"));
  CHECK(layer_named(report, "conv0").at("shape") == json::array({16, 32, 32}));
}

TEST_SUITE_END();

TEST_CASE("inspect: the official yolov8n checkpoint") {
  if (!test::have_shared_data()) return;
  const fs::path dir = test::fresh_temp_dir("inspect-checkpoint");
  const fs::path checkpoint = test::shared_file("models/yolov8n/yolov8n.pt");
  const json report = inspect_json(checkpoint.string(), dir);
  CHECK(report.at("kind") == "checkpoint");
  CHECK_FALSE(report.contains("stages"));
  const json& arch = report.at("architecture");
  CHECK(arch.at("scale") == "n");
  CHECK(arch.at("num_classes") == 80);
  CHECK(arch.at("image_size") == nlohmann::json::array({640, 640}));
  CHECK(arch.at("widths") == json::array({16, 32, 64, 128, 256}));
  const TensorCounts counts = count_tensors(read_checkpoint(checkpoint).tensors);
  check_parameters(report, counts);
  // Ultralytics' own counts (they include the 16 DFL weights): 3,157,200 in the
  // checkpoint's model summary, 3,151,904 once fused.
  CHECK(counts.parameters + counts.dfl == 3157200);
  CHECK(counts.fused_weights + counts.fused_biases + counts.dfl == 3151904);
  CHECK(layer_named(report, "conv0").at("shape") == json::array({16, 320, 320}));
  CHECK(layer_named(report, "conv0").at("weights") == 16 * 3 * 3 * 3);
  CHECK(report.at("model_size")[0].at("bytes") == 4 * (counts.fused_weights + counts.fused_biases));
}
