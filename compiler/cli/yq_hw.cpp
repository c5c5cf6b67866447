// yq-hw command line: `run` drives the numbered stages, `detect` runs the
// float model on one image, `bench` times the forward passes, `inspect`
// describes a run folder or checkpoint, `report` writes a run's report.html
// (or a bit sweep over several runs), `format-header` writes the hardware
// format header (rtl/yq_format.vh). Every failure prints one line
// "yq-hw: error: ..." and exits with status 1 (2 for usage errors).
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <regex>

#include "compiler/emit/hw_format.hpp"
#include "compiler/float/bn_fusion.hpp"
#include "compiler/float/float_detector.hpp"
#include "compiler/io/checkpoint.hpp"
#include "compiler/io/draw.hpp"
#include "compiler/io/dataset.hpp"
#include "compiler/inspect/model_inspection.hpp"
#include "compiler/io/test_pattern.hpp"
#include "compiler/ir/synthetic_model.hpp"
#include "compiler/ref/int_model.hpp"
#include "compiler/quant/quant_model_io.hpp"
#include "compiler/ir/yolov8_import.hpp"
#include "compiler/quant/quant_config.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"
#include "stages/run_drawing.hpp"
#include "stages/run_inspection.hpp"
#include "stages/run_report.hpp"
#include "stages/stage.hpp"

namespace {

// LibTorch's OpenMP threads spin at each barrier by default (libgomp's ACTIVE
// wait policy): on a machine where other work holds a core, a spinning thread
// starves the one it waits for and the float forward pass slows by up to 10x
// (docs/RESULTS.md, "OpenMP wait policy"). yq-hw asks for PASSIVE (sleep at a
// barrier) unless the user set OMP_WAIT_POLICY. libgomp reads it while it is
// loaded, before main(), so it is set from the executable's .preinit_array,
// which runs before any shared library's initializer.
void default_openmp_wait_policy(int, char**, char**) { setenv("OMP_WAIT_POLICY", "PASSIVE", /*overwrite=*/0); }
__attribute__((section(".preinit_array"), used)) void (*const kSetOpenmpWaitPolicy)(int, char**, char**) =
    &default_openmp_wait_policy;

int parse_stage(const std::string& text) {
  static const std::regex pattern("(?:stage_)?([0-9])");
  std::smatch match;
  if (!std::regex_match(text, match, pattern)) {
    throw yq::Error("'" + text + "' is not a stage (expected stage_0 ... stage_8)");
  }
  return std::stoi(match[1]);
}

yq::Model load_fused_model(const std::optional<std::filesystem::path>& model_path) {
  if (!model_path) {
    std::fprintf(stderr, "yq-hw: no --model given: using the built-in synthetic YOLOv8n (random weights)\n");
  }
  const yq::Checkpoint checkpoint = model_path ? yq::read_checkpoint(*model_path) : yq::synthetic_yolov8_checkpoint();
  return yq::fuse_batch_norm(yq::import_yolov8(checkpoint, model_path ? model_path->string() : "synthetic").model);
}

struct DetectCommand {
  std::optional<std::filesystem::path> model;
  std::filesystem::path image;
  std::optional<std::filesystem::path> output;
  yq::DetectOptions options;
};

void run_detect(const DetectCommand& command) {
  const yq::RgbImage image = yq::decode_image(command.image);
  const yq::Model model = load_fused_model(command.model);
  const yq::FloatDetector detector(model, command.options);
  const std::vector<yq::Detection> detections = detector.detect(image);
  std::printf("# %zu detections in %s (%dx%d)\n# class_id conf x1 y1 x2 y2 class_name\n", detections.size(),
              command.image.string().c_str(), image.width, image.height);
  for (const yq::Detection& d : detections) {
    std::printf("%d %.6f %.3f %.3f %.3f %.3f %s\n", d.class_id, d.score, d.box.x1, d.box.y1, d.box.x2, d.box.y2,
                model.info.class_names[d.class_id].c_str());
  }
  if (command.output) {
    yq::RgbImage drawn = image;
    yq::draw_detections(drawn, detections, model.info.class_names);
    yq::write_png(*command.output, drawn);
    std::printf("# drawn: %s\n", command.output->string().c_str());
  }
}

// The list drawn, in original-image pixels, in `detect`'s format.
void print_drawn(const yq::DrawnDetections& drawn) {
  if (!drawn.note.empty()) std::fprintf(stderr, "yq-hw: note: %s\n", drawn.note.c_str());
  std::printf("# %zu detections of %s on %s\n# class_id conf x1 y1 x2 y2 class_name\n", drawn.detections.size(),
              drawn.list.string().c_str(), drawn.image.c_str());
  for (const yq::Detection& d : drawn.detections) {
    const auto id = static_cast<size_t>(d.class_id);
    const std::string name = id < drawn.class_names.size() ? drawn.class_names[id] : "class" + std::to_string(d.class_id);
    std::printf("%d %.6f %.3f %.3f %.3f %.3f %s\n", d.class_id, d.score, d.box.x1, d.box.y1, d.box.x2, d.box.y2, name.c_str());
  }
  std::printf("# drawn: %s\n", drawn.output.string().c_str());
}

struct BenchCommand {
  std::filesystem::path run;
  std::optional<std::filesystem::path> data;
  int images = 8;
  yq::InputSize image_size;
  int batch = 1;
};

// Seconds per image of forward() over the canvases, `batch` at a time (the
// last batch may be smaller), after one warm-up batch.
template <typename Function>
double seconds_per_image(const std::vector<yq::RgbImage>& canvases, int batch, const Function& forward) {
  std::vector<std::vector<yq::RgbImage>> batches;
  for (size_t first = 0; first < canvases.size(); first += static_cast<size_t>(batch)) {
    batches.emplace_back(canvases.begin() + static_cast<std::ptrdiff_t>(first),
                         canvases.begin() + static_cast<std::ptrdiff_t>(std::min(canvases.size(), first + batch)));
  }
  forward(batches.front());  // warm-up
  const auto start = std::chrono::steady_clock::now();
  for (const auto& images : batches) forward(images);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / canvases.size();
}

// Times the forward pass of the float model (LibTorch) and of the integer
// reference on the same letterboxed canvases, and prints their ratio.
void run_bench(const BenchCommand& command, int threads) {
  const yq::Model fused = yq::load_model(command.run / "stage_2");
  const yq::QuantModel quant = yq::load_quant_model(command.run / "stage_6");
  std::vector<yq::RgbImage> canvases;
  if (command.data) {
    const yq::Dataset dataset = yq::scan_dataset(*command.data);
    for (size_t i = 0; i < dataset.images.size() && static_cast<int>(canvases.size()) < command.images; ++i) {
      canvases.push_back(yq::letterbox(yq::decode_image(dataset.images[i].image), command.image_size).canvas);
    }
  } else {
    for (int i = 0; i < command.images; ++i) {
      canvases.push_back(yq::letterbox(yq::test_pattern_image(640, 480, i), command.image_size).canvas);
    }
  }
  const yq::FloatModel float_model(fused);
  const yq::IntegerModel integer_model(quant, threads > 0 ? threads : at::get_num_threads());
  const double float_seconds = seconds_per_image(
      canvases, command.batch, [&](const std::vector<yq::RgbImage>& batch) { float_model.run_heads(yq::images_to_input(batch)); });
  const double integer_seconds = seconds_per_image(
      canvases, command.batch, [&](const std::vector<yq::RgbImage>& batch) { integer_model.run_heads_batch(batch); });
  std::printf("forward pass at %s, %zu images in batches of %d, %d threads\n", command.image_size.text().c_str(),
              canvases.size(), command.batch, at::get_num_threads());
  std::printf("  float (LibTorch)     %8.1f ms/image  %7.2f images/s\n", 1000 * float_seconds, 1 / float_seconds);
  std::printf("  integer reference    %8.1f ms/image  %7.2f images/s\n", 1000 * integer_seconds, 1 / integer_seconds);
  std::printf("  integer / float      %8.2f\n", integer_seconds / float_seconds);
}

// The quantization flags, each kept as a change to apply over the settings
// of --config (the command line takes precedence over the file).
using QuantFlags = std::vector<std::function<void(yq::QuantSettings&)>>;

template <typename T>
void add_quant_option(CLI::App& run, const std::string& name, const std::string& help, QuantFlags& flags,
                      std::function<void(yq::QuantSettings&, const T&)> set) {
  run.add_option_function<T>(
      name, [&flags, set](const T& value) { flags.push_back([set, value](yq::QuantSettings& s) { set(s, value); }); },
      help);
}

// An enum flag: its names come from the one table of quant_settings.hpp.
template <typename E>
void add_enum_option(CLI::App& run, const std::string& help, QuantFlags& flags, E yq::QuantSettings::*member) {
  const yq::QuantSettings defaults;
  add_quant_option<std::string>(run, yq::EnumNames<E>::option,
                                help + ": " + yq::enum_choices<E>() + " (default " + yq::enum_name(defaults.*member) + ")",
                                flags, [member](yq::QuantSettings& s, const std::string& text) {
                                  s.*member = yq::parse_enum<E>(text);
                                });
}

void add_quant_options(CLI::App& run, QuantFlags& flags) {
  using S = yq::QuantSettings;
  add_quant_option<int>(run, "--bits", "weight and activation bits (4..16), default 8", flags,
                        [](S& s, const int& b) { s.weight_bits = s.activation_bits = b; });
  add_quant_option<int>(run, "--wbits", "weight bits (4..16)", flags, [](S& s, const int& b) { s.weight_bits = b; });
  add_quant_option<int>(run, "--abits", "activation bits (4..16)", flags, [](S& s, const int& b) { s.activation_bits = b; });
  add_quant_option<int>(run, "--pre-bits",
                        "SiLU pre-activation codes at least this wide (4..16; the SiLU table's index, not stored in "
                        "feature maps; default: the activation bits)",
                        flags, [](S& s, const int& b) { s.pre_activation_bits = b; });
  add_enum_option(run, "range selection (auto: mse below 11 bits, max from 11)", flags, &S::range_method);
  add_quant_option<double>(run, "--percentile", "percentile for --calib-method percentile (default 99.99)", flags,
                           [](S& s, const double& p) { s.percentile = p; });
  run.add_flag_callback(
      "--per-tensor", [&flags] { flags.push_back([](S& s) { s.per_channel = false; }); },
      "one weight scale per tensor instead of per output channel");
  add_enum_option(run, "requantization: fixed-point multiplier or shift only", flags, &S::scale_form);
  add_enum_option(run, "shared: a concat and its inputs take one scale (the concat is then a view, no copy)", flags,
                  &S::concat_scales);
  add_quant_option<int>(run, "--mult-bits", "requantization multiplier width (2..31, default 16)", flags,
                        [](S& s, const int& b) { s.multiplier_bits = b; });
  add_enum_option(run, "detect head: int is the hardware path, float a diagnostic", flags, &S::head);
  add_enum_option(run, "weight rounding: gptq (error feedback weighted by the layer's calibration inputs), nearest, "
                       "or auto (gptq for weights narrower than 8 bits, nearest from 8)",
                  flags, &S::rounding);
  run.add_flag_callback(
      "--bias-correction", [&flags] { flags.push_back([](S& s) { s.bias_correction = true; }); },
      "fold each channel's mean output error over the calibration images into its bias");
  add_enum_option(run,
                  "the inputs --rounding gptq and --bias-correction read: the float model's, or sequential (the "
                  "integer model's, built in network order, each layer's predecessors already quantized), or "
                  "asymmetric (sequential, each layer aimed at the float layer's output on the float input)",
                  flags, &S::reconstruction);
  add_enum_option(run,
                  "weight scale per output channel: the largest |weight| (max), or the clip whose codes, by the chosen "
                  "rounding, have the least output error on the calibration inputs, refit to its codes (mse); auto: "
                  "mse where GPTQ rounds weights narrower than 8 bits",
                  flags, &S::weight_clip);
  add_quant_option<std::string>(
      run, "--weight-budget",
      "choose each convolution's weight bits (4, 6, 8, at most --wbits) for the least output error within a budget: "
      "average bits per weight (5, 4.5) or a size of the weight codes (2MB; B, KB, MB, KiB, MiB)",
      flags, [](S& s, const std::string& text) { s.weight_budget = yq::parse_weight_budget(text); });
  add_quant_option<int>(run, "--sensitivity-images", "calibration images the weight sensitivity is measured on (default 8)",
                        flags, [](S& s, const int& n) { s.sensitivity_images = n; });
  add_quant_option<int>(run, "--acc-bits-limit", "largest accumulator the hardware offers (default 48)", flags,
                        [](S& s, const int& b) { s.acc_bits_limit = b; });
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// --imgsz: `640` or `384x640` (height x width), checked as it is parsed.
void add_input_size_option(CLI::App& command, yq::InputSize& size, const std::string& help) {
  command
      .add_option_function<std::string>(
          "--imgsz", [&size](const std::string& text) { size = yq::parse_input_size(text, "--imgsz"); }, help)
      ->default_str(size.text());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"yq-hw: lowers YOLOv8 to a bit-exact integer model for FPGA/ASIC accelerators"};
  app.require_subcommand(1);
  int threads = 0;
  app.add_option("--threads", threads, "CPU threads for the float model (0: default)")->check(CLI::NonNegativeNumber);

  yq::RunConfig config;
  std::string from = "stage_0", through = "stage_8";
  std::optional<std::filesystem::path> quant_config;
  std::optional<yq::NmsMode> nms;
  QuantFlags quant_flags;  // applied over --config's values
  CLI::App* run = app.add_subcommand("run", "run the numbered stages");
  CLI::Option* model_option =
      run->add_option("--model", config.model, "checkpoint (.pt: Ultralytics checkpoint or state dict); default: built-in synthetic YOLOv8n");
  run->add_option("--synthetic-scale", config.synthetic_scale,
                  "without --model: the scale of the built-in synthetic YOLOv8 (n, s, m, l or x; random weights)")
      ->check(CLI::IsMember({'n', 's', 'm', 'l', 'x'}))
      ->excludes(model_option);
  run->add_option("--data", config.data,
                  "labelled image folder (YOLO layout) for validation; repeat --data for several folders, "
                  "measured as one set (image ids, the file stems, must be unique across them)")
      ->allow_extra_args(false);
  run->add_option("--out", config.out, "run folder")->capture_default_str();
  add_input_size_option(*run, config.image_size,
                        "input size: 640 (square) or height x width such as 384x640, multiples of 32");
  run->add_option("--max-images", config.max_images, "validate on the first N images only (0: all)");
  run->add_option("--batch", config.batch,
                  "validation images per forward pass in stage_3 and stage_8 (same results for any batch)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  run->add_option("--from", from, "first stage to run (earlier outputs are reused)")->capture_default_str();
  run->add_option("--through", through, "last stage to run")->capture_default_str();
  run->add_option("--config", quant_config, "TOML file with quantization settings and per-layer [[override]]s");
  run->add_option("--calib", config.calib, "calibration image folder, repeatable (default: --data)")
      ->allow_extra_args(false);
  run->add_option("--calib-images", config.calib_images, "calibrate on the first N images (0: all)");
  add_quant_options(*run, quant_flags);
  run->add_option_function<std::string>(
      "--nms", [&nms](const std::string& text) { nms = yq::parse_enum<yq::NmsMode>(text); },
      "stage_8 headline: int (q_NMS, default with --head int) or float");
  run->add_flag("--attribution", config.attribution,
                "stage_8: also measure mAP with each quantization component alone and with all but one "
                "(a float simulation, 14 configurations)");
  run->add_option("--emit", config.emit_dir, "also write stage_7's emitted files into this folder");
  run->add_option("--axi-bits", config.axi_bits, "AXI4 data width of the DRAM image (32..1024, a power of two)")
      ->capture_default_str();
  run->add_option("--weight-buffer-bytes", config.weight_buffer_bytes,
                  "bytes of one layer's weights in yq_top's on-chip weight buffer (it holds two such halves); a "
                  "convolution whose weights do not fit is an error (0: sized to the largest convolution)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  run->add_option("--band-buffer-bytes", config.band_buffer_bytes,
                  "bytes of one half of the band program's input band buffer and of its output staging buffer "
                  "(feature maps in DRAM), rounded down to whole rows of 64 words of the scratch memory's banks; a "
                  "layer whose single output row does not fit is an error")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  run->add_option("--golden-image", config.golden_image, "image for the golden dumps (default: first of --data)");

  DetectCommand detect;
  CLI::App* detect_cmd = app.add_subcommand("detect", "detect objects in one image with the float model");
  detect_cmd->add_option("--model", detect.model, "checkpoint; default: built-in synthetic YOLOv8n");
  detect_cmd->add_option("image", detect.image, "image file (JPEG, PNG, BMP)")->required();
  detect_cmd->add_option("-o,--output", detect.output, "write the image with boxes drawn (PNG)");
  add_input_size_option(*detect_cmd, detect.options.image_size, "input size: 640 or height x width (384x640)");
  detect_cmd->add_option("--conf", detect.options.nms.score_threshold, "score threshold")->capture_default_str();
  detect_cmd->add_option("--iou", detect.options.nms.iou_threshold, "NMS IoU threshold")->capture_default_str();

  BenchCommand bench;
  CLI::App* bench_cmd = app.add_subcommand("bench", "time the float and integer forward passes of a run on the same images");
  bench_cmd->add_option("--run", bench.run, "run folder with stage_2 and stage_6 outputs")->required();
  bench_cmd->add_option("--data", bench.data, "images (default: built-in test patterns)");
  bench_cmd->add_option("--images", bench.images, "number of images")->capture_default_str();
  add_input_size_option(*bench_cmd, bench.image_size, "input size: 640 or height x width (384x640)");
  bench_cmd->add_option("--batch", bench.batch, "images per forward pass (the integer reference runs them side by side)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);

  std::filesystem::path format_file;
  CLI::App* format_cmd = app.add_subcommand(
      "format-header", "write yq_format.vh, the descriptor fields and codes stage_7 emits (rtl/yq_format.vh)");
  format_cmd->add_option("file", format_file, "output file")->required();

  std::filesystem::path inspect_target;
  bool inspect_json = false;
  yq::InputSize inspect_image_size;
  CLI::App* inspect_cmd = app.add_subcommand("inspect", "architecture, parameters, per-layer bits, sizes and memories of a run or checkpoint");
  inspect_cmd->add_option("path", inspect_target, "run folder (uses every completed stage) or checkpoint file")->required();
  inspect_cmd->add_flag("--json", inspect_json, "print the report as JSON");
  add_input_size_option(*inspect_cmd, inspect_image_size,
                        "input size for a checkpoint's layer shapes, 640 or 384x640 (a run uses its own)");
  std::int64_t inspect_band_buffer = yq::kDefaultBandBufferBytes;
  inspect_cmd
      ->add_option("--band-buffer", inspect_band_buffer,
                   "bytes of one half of the band buffer in the DRAM schedule estimate of a quantized run (default 262144)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));

  yq::DrawRequest draw;
  CLI::App* draw_cmd = app.add_subcommand(
      "draw", "draw a run's detection list (the RTL's, else stage_8's q_NMS result) on the original golden image");
  draw_cmd->add_option("run", draw.run, "run folder")->required();
  draw_cmd->add_option("--detections", draw.detections,
                       "detection list in q_nms.txt form (default: <run>/rtl_bench/yq_top_detections.txt, else "
                       "<run>/stage_8/golden/q_nms.txt)");
  draw_cmd->add_option("--image", draw.image, "the golden image, when its recorded path is not readable from here");
  draw_cmd->add_option("-o,--output", draw.output, "PNG to write (default: <run>/draw/<list name>.png)");

  std::vector<std::filesystem::path> report_runs;
  std::optional<std::filesystem::path> report_file;
  CLI::App* report_cmd = app.add_subcommand(
      "report", "write report.html (settings, accuracy, per-layer fidelity, overflow certificate, golden detections, RTL "
                "cycles); with several runs also the bit sweep");
  report_cmd->add_option("runs", report_runs, "run folders; the report goes into the first")->required();
  report_cmd->add_option("-o,--output", report_file, "write the report here instead of <first run>/report.html");
  try {
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return app.exit(e);
    }
    if (threads > 0) at::set_num_threads(threads);
    if (*run) {
      config.threads = threads;
      config.from_stage = parse_stage(from);
      config.through_stage = parse_stage(through);
      if (quant_config) yq::read_quant_config(*quant_config, config.quant);
      for (const auto& apply : quant_flags) apply(config.quant);
      config.nms = nms.value_or(config.quant.head == yq::HeadMode::Float ? yq::NmsMode::Float : yq::NmsMode::Int);
      yq::run_pipeline(config);
    } else if (*detect_cmd) {
      run_detect(detect);
    } else if (*bench_cmd) {
      run_bench(bench, threads);
    } else if (*format_cmd) {
      yq::write_file_atomic(format_file, yq::format_header());
    } else if (*inspect_cmd) {
      const nlohmann::json report = yq::inspect_path(inspect_target, inspect_image_size, inspect_band_buffer);
      const std::string text = inspect_json ? report.dump(2) + "\n" : yq::inspection_table(report);
      std::fputs(text.c_str(), stdout);
    } else if (*draw_cmd) {
      print_drawn(yq::draw_run_detections(draw));
    } else if (*report_cmd) {
      std::printf("wrote %s\n", yq::write_run_report(report_runs, report_file).c_str());
    }
  } catch (const yq::Error& e) {
    std::fprintf(stderr, "yq-hw: error: %s\n", e.what());
    return 1;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "yq-hw: error: %s\n", first_line(e.what_without_backtrace()).c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "yq-hw: error: %s\n", first_line(e.what()).c_str());
    return 1;
  }
  return 0;
}
