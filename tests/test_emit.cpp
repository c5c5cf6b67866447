// stage_7's emission, end to end through the command line on the built-in
// synthetic model at 64 x 64: determinism (a second run of stage_7 and the
// --emit copy give byte-identical trees whose manifest hashes verify), exact
// reconstruction of every quantized weight, bias, requant word and table from
// the `$readmemh` files, the layer program decoding back to the graph, the
// DRAM image (regions aligned and disjoint, every memory's words at its
// region byte for byte, dram.hex the same bytes, the memory map's byte
// addresses those of the descriptors), rtl/yq_format.vh equal to what the
// compiler's format tables give, and yq_format.vh with yq_params.vh accepted
// by verilator -Wall, iverilog and yosys.
#include "testing.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "cli_support.hpp"
#include "compiler/emit/dram_image.hpp"
#include "compiler/emit/layer_program.hpp"
#include "compiler/emit/packed_word.hpp"
#include "compiler/emit/verilog_header.hpp"
#include "compiler/quant/quant_model_io.hpp"
#include "compiler/ref/arithmetic.hpp"
#include "compiler/ref/int_head.hpp"
#include "compiler/util/error.hpp"
#include "compiler/util/files.hpp"

TEST_SUITE_BEGIN("pipeline");

using namespace yq;
namespace fs = std::filesystem;

namespace {

constexpr int kImageSize = 64;

// A fresh pipeline run through stage_7 in its own folder (one per test case:
// CTest may run the cases in parallel); returns the run folder.
fs::path emit_run(const std::string& test_name) {
  const fs::path dir = test::fresh_temp_dir("emit-" + test_name);
  const std::string arguments = "run --imgsz " + std::to_string(kImageSize) + " --through stage_7 --out ";
  const test::CliResult result = test::run_cli(arguments + (dir / "run").string(), dir);
  REQUIRE_MESSAGE(result.exit_code == 0, result.err);
  return dir / "run";
}

// Every file under folder (relative path -> SHA-256), except the runner's summary.json.
std::map<std::string, std::string> tree_hashes(const fs::path& folder) {
  std::map<std::string, std::string> hashes;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    const std::string relative = fs::relative(entry.path(), folder).string();
    if (relative != "summary.json") hashes[relative] = sha256_file(entry.path());
  }
  return hashes;
}

std::vector<std::string> lines_of(const fs::path& file) {
  std::istringstream text(test::read_text(file));
  std::vector<std::string> lines;
  for (std::string line; std::getline(text, line);) lines.push_back(line);
  return lines;
}

std::vector<std::int64_t> read_words(const fs::path& file, int width) {
  std::vector<std::int64_t> words;
  for (const std::string& line : lines_of(file)) words.push_back(parse_hex_word(line, width));
  return words;
}

std::vector<PackedWord> read_packed(const fs::path& file, const WordLayout& layout) {
  std::vector<PackedWord> words;
  for (const std::string& line : lines_of(file)) words.push_back(PackedWord::parse(layout, line));
  return words;
}

int memory_width(const nlohmann::json& manifest, const char* memory) { return manifest["memories"][memory]["width"]; }

// The words of a unified memory image from `base` on equal `expected`.
template <typename T>
bool words_match(const std::vector<std::int64_t>& memory, std::int64_t base, const std::vector<T>& expected) {
  if (base < 0 || base + expected.size() > memory.size()) return false;
  return std::equal(expected.begin(), expected.end(), memory.begin() + base);
}

// A convolution's weights in the weight memory (docs/ARTIFACTS.md section 3):
// weight (o, t) at base + ((o / G) * taps + t) * G + o % G with G =
// kWeightGroup, the rows' columns past the last channel zero, the block ending
// at its last row (next_base: where the next convolution's weights start).
bool weight_rows_match(const std::vector<std::int64_t>& memory, std::int64_t base, const std::vector<std::int16_t>& weights,
                       int out_channels, std::int64_t next_base) {
  const std::int64_t group = kWeightGroup, taps = static_cast<std::int64_t>(weights.size()) / out_channels;
  const std::int64_t rows = (out_channels + group - 1) / group * taps;
  if (base < 0 || base + rows * group > static_cast<std::int64_t>(memory.size()) || next_base != base + rows * group) return false;
  for (std::int64_t row = 0; row < rows; ++row) {
    for (std::int64_t column = 0; column < group; ++column) {
      const std::int64_t o = row / taps * group + column, t = row % taps;
      const std::int64_t expected = o < out_channels ? weights[static_cast<size_t>(o * taps + t)] : 0;
      if (memory[static_cast<size_t>(base + row * group + column)] != expected) return false;
    }
  }
  return true;
}

// A table's words read back: SiLU entries are signed, sigmoid and exp entries unsigned 16-bit.
std::vector<std::int64_t> table_values(std::vector<std::int64_t> words, bool is_signed) {
  if (!is_signed) {
    for (std::int64_t& word : words) word &= 0xffff;
  }
  return words;
}

// The localparam integer NAME = value; lines of a Verilog header.
std::map<std::string, std::int64_t> header_integers(const fs::path& file) {
  std::map<std::string, std::int64_t> values;
  for (const std::string& line : lines_of(file)) {
    const std::string prefix = "localparam integer ";
    if (!line.starts_with(prefix)) continue;
    const size_t equals = line.find(" = ");
    values[line.substr(prefix.size(), equals - prefix.size())] = std::stoll(line.substr(equals + 3));
  }
  return values;
}

DramRegion region_of(const nlohmann::json& entry) {
  return {entry["name"], entry["base"],      entry["bytes"], entry["word_bits"],
          entry["slot_bits"], entry["words"], entry["in_file"]};
}

// Runs a shell command in folder; returns its exit code, output in *output.
int run_in(const fs::path& folder, const std::string& command, std::string* output) {
  const fs::path log = folder / "tool.log";
  const int status = std::system(("cd " + folder.string() + " && " + command + " >" + log.string() + " 2>&1").c_str());
  *output = test::read_text(log);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("emit: packed words put fields from bit 0 up and refuse values that do not fit") {
  const WordLayout layout("test", {{"low", 4}, {"code", 8, true}, {"high", 12}});
  CHECK(layout.width() == 24);
  CHECK(layout.fields()[2].lsb == 12);
  PackedWord word(layout);
  word["low"] = 0xa;
  word["code"] = -2;
  word["high"] = 0x123;
  CHECK(word.hex() == "123fea");
  const PackedWord back = PackedWord::parse(layout, "123fea");
  CHECK(back["low"] == 0xa);
  CHECK(back["code"] == -2);
  CHECK(back["high"] == 0x123);
  word["code"] = 128;
  CHECK_THROWS_WITH_AS(word.hex(), "test.code = 128 does not fit 8 signed bits", Error);
  CHECK_THROWS_AS(PackedWord::parse(layout, "123FEA"), Error);
  CHECK_THROWS_AS(word["missing"], Error);
  CHECK(hex_word(-1, 26) == "3ffffff");
  CHECK(hex_word(5, 6) == "05");
  CHECK(parse_hex_word("3ffffff", 26) == -1);
  CHECK_THROWS_AS(parse_hex_word("7ffffff", 26), Error);
}

TEST_CASE("emit: stage_7 twice gives byte-identical trees, the --emit copy too, and the manifest verifies") {
  const fs::path run = emit_run("determinism"), emitted = run / "stage_7";
  const auto first = tree_hashes(emitted);
  const fs::path copy = run.parent_path() / "copy";
  const std::string arguments = "run --imgsz " + std::to_string(kImageSize) + " --from stage_7 --through stage_7";
  const test::CliResult again =
      test::run_cli(arguments + " --out " + run.string() + " --emit " + copy.string(), run.parent_path());
  REQUIRE_MESSAGE(again.exit_code == 0, again.err);
  // stage_0's input checks (title, two lines of synthetic-model notice, done),
  // stage_7 (title, memories, feature maps, done), then the report's line.
  CHECK(std::count(again.out.begin(), again.out.end(), '\n') == 9);
  CHECK(tree_hashes(emitted) == first);
  CHECK(tree_hashes(copy) == first);

  const nlohmann::json manifest = read_json_file(emitted / "manifest.json");
  CHECK(manifest["model_sha256"] == "synthetic");
  CHECK(manifest["compiler_version"] == YQ_VERSION);
  CHECK(manifest["image_size"] == nlohmann::json::array({kImageSize, kImageSize}));
  CHECK(manifest["files"].size() + 1 == first.size());  // every file but manifest.json is listed
  std::vector<std::string> listed;
  for (const auto& entry : manifest["files"]) listed.push_back(entry["file"]);
  for (const char* file : {"dram.bin", "dram.hex", "memory_map.json", "yq_format.vh", "yq_params.vh"}) {
    CHECK_MESSAGE(std::count(listed.begin(), listed.end(), file) == 1, file);
  }
  for (const auto& entry : manifest["files"]) {
    const fs::path file = emitted / entry["file"].get<std::string>();
    CAPTURE(file);
    CHECK(sha256_file(file) == entry["sha256"]);
    CHECK(fs::file_size(file) == entry["bytes"].get<std::uintmax_t>());
  }
}

TEST_CASE("emit: weights, biases, requant words and tables read back exactly") {
  const fs::path run = emit_run("readback"), emitted = run / "stage_7";
  const QuantModel model = load_quant_model(run / "stage_6");
  const nlohmann::json manifest = read_json_file(emitted / "manifest.json");
  const auto program = read_packed(emitted / "program.hex", program_layout());
  const auto weights = read_words(emitted / "weight_mem.hex", memory_width(manifest, "weight"));
  const auto biases = read_words(emitted / "bias_mem.hex", memory_width(manifest, "bias"));
  const WordLayout requant = requant_layout(manifest["bits"]["multiplier"]);
  const auto requants = read_packed(emitted / "requant_mem.hex", requant);
  REQUIRE(program.size() == model.graph.nodes.size());
  size_t convs = 0;
  for (size_t i = 0; i < model.graph.nodes.size(); ++i) {
    const Node& node = model.graph.nodes[i];
    const QuantNode& q = model.nodes[i];
    const PackedWord& d = program[i];
    const std::string layer = (emitted / "layers" / node.name).string();
    CAPTURE(node.name);
    const std::vector<Requant>& expected = node.op == OpKind::Conv ? q.conv.requant : q.input_requant;
    const std::vector<std::string> layer_requants = expected.empty() ? std::vector<std::string>{}
                                                                     : lines_of(layer + ".requant.hex");
    REQUIRE(layer_requants.size() == expected.size());
    for (size_t k = 0; k < expected.size(); ++k) {
      const PackedWord& word = requants.at(d["requant_base"] + k);
      CHECK(word["multiplier"] == expected[k].multiplier);
      CHECK(word["shift"] == expected[k].shift);
      CHECK(layer_requants[k] == word.hex());
    }
    if (node.op != OpKind::Conv) continue;
    ++convs;
    const auto later_conv = std::find_if(program.begin() + static_cast<std::ptrdiff_t>(i) + 1, program.end(),
                                         [](const PackedWord& w) { return w["op"] == static_cast<std::uint64_t>(ProgramOp::Conv); });
    const std::int64_t next_base = later_conv == program.end() ? static_cast<std::int64_t>(weights.size())
                                                               : static_cast<std::int64_t>((*later_conv)["weight_base"]);
    CHECK(weight_rows_match(weights, d["weight_base"], q.conv.weights, node.channels, next_base));
    CHECK(words_match(biases, d["bias_base"], q.conv.bias));
    CHECK(words_match(read_words(layer + ".weights.hex", static_cast<int>(d["weight_bits"])), 0, q.conv.weights));
    CHECK(words_match(read_words(layer + ".bias.hex", static_cast<int>(d["acc_bits"])), 0, q.conv.bias));
  }
  CHECK(convs == model.graph.conv_nodes().size());
  CHECK(weights.size() == static_cast<size_t>(manifest["memories"]["weight"]["depth"].get<std::int64_t>()));

  const auto directory = read_packed(emitted / "lut_dir.hex", lut_directory_layout());
  const auto lut_words = read_words(emitted / "lut_mem.hex", memory_width(manifest, "lut"));
  REQUIRE(directory.size() == model.luts.size());
  for (size_t l = 0; l < model.luts.size(); ++l) {
    const Lut& lut = model.luts[l];
    const PackedWord& entry = directory[l];
    CAPTURE(lut.name);
    const bool is_signed = entry["kind"] == static_cast<int>(LutKind::Silu);
    CHECK(entry["kind"] == static_cast<int>(lut_kind(lut.kind)));
    CHECK(entry["depth"] == static_cast<std::int64_t>(lut.values.size()));
    const auto unified = table_values(lut_words, is_signed);
    const auto own = read_words(emitted / "luts" / (lut.name + ".hex"), static_cast<int>(entry["value_bits"]));
    CHECK(words_match(unified, entry["base"], lut.values));
    CHECK(words_match(table_values(own, is_signed), 0, lut.values));
  }

  // The head's constants in yq_params.vh: per level the logit threshold
  // passes exactly the codes whose sigmoid score exceeds the score threshold
  // (docs/ARITHMETIC.md section 7), and the q_NMS options of the run.
  const auto params = header_integers(emitted / "yq_params.vh");
  const std::int64_t score_threshold = params.at("YQ_SCORE_THRESHOLD");
  CHECK(score_threshold == score_threshold_code(0.25));
  CHECK(params.at("YQ_IOU_NUMERATOR") == 7);
  CHECK(params.at("YQ_IOU_DENOMINATOR") == 10);
  CHECK(params.at("YQ_MAX_DETECTIONS") == 300);
  REQUIRE(model.graph.levels.size() == 3);
  for (size_t l = 0; l < model.graph.levels.size(); ++l) {
    const std::string prefix = "YQ_LEVEL" + std::to_string(l);
    const Lut& sigmoid = model.luts[model.head[l].sigmoid_lut];
    const int bits = static_cast<int>(params.at(prefix + "_CLASS_BITS"));
    const std::int64_t threshold = params.at(prefix + "_LOGIT_THRESHOLD");
    CAPTURE(prefix);
    CHECK(bits == model.nodes[model.graph.levels[l].class_node].out.bits);
    CHECK(params.at(prefix + "_STRIDE") == model.graph.levels[l].stride);
    CHECK(params.at("YQ_LOGIT_THRESHOLD_BITS") >= bits + 1);
    for (std::int64_t code = arith::min_code(bits); code <= arith::max_code(bits); ++code) {
      if ((lut_value(sigmoid, code) > score_threshold) != (code >= threshold)) FAIL_CHECK("code " << code);
    }
  }
  // The same thresholds packed for the RTL to index by level:
  // YQ_LEVEL_LOGIT_THRESHOLDS[l*W +: W], W = YQ_LOGIT_THRESHOLD_BITS.
  std::string text;
  for (const std::string& line : lines_of(emitted / "yq_params.vh")) text += line + "\n";
  const int width = static_cast<int>(params.at("YQ_LOGIT_THRESHOLD_BITS"));
  std::smatch match;
  REQUIRE(std::regex_search(text, match, std::regex(R"(localparam \[(\d+):0\] YQ_LEVEL_LOGIT_THRESHOLDS = (\d+)'h([0-9a-f]+);)")));
  CHECK(std::stoi(match[1]) == 3 * width - 1);
  CHECK(std::stoi(match[2]) == 3 * width);
  const std::uint64_t packed = std::stoull(match[3], nullptr, 16);
  for (size_t l = 0; l < 3; ++l) {
    const std::uint64_t raw = (packed >> (l * width)) & ((std::uint64_t{1} << width) - 1);
    const std::int64_t value = (raw >> (width - 1)) ? static_cast<std::int64_t>(raw) - (std::int64_t{1} << width)
                                                    : static_cast<std::int64_t>(raw);
    CHECK(value == params.at("YQ_LEVEL" + std::to_string(l) + "_LOGIT_THRESHOLD"));
  }
}

TEST_CASE("emit: the layer program decodes back to the graph's shapes and the planned feature-map layout") {
  const fs::path run = emit_run("program"), emitted = run / "stage_7";
  const QuantModel model = load_quant_model(run / "stage_6");
  const nlohmann::json manifest = read_json_file(emitted / "manifest.json");
  const auto program = read_packed(emitted / "program.hex", program_layout());
  const std::vector<TensorShape> shapes = infer_shapes(model.graph, {kImageSize, kImageSize});
  REQUIRE(program.size() == model.graph.nodes.size());
  std::int64_t next_base = 0;
  for (size_t i = 0; i < program.size(); ++i) {
    const Node& node = model.graph.nodes[i];
    const PackedWord& d = program[i];
    CAPTURE(node.name);
    CHECK(d["node"] == static_cast<std::int64_t>(i));
    CHECK(d["op"] == static_cast<int>(program_op(node.op)));
    CHECK(d["out_c"] == shapes[i].channels);
    CHECK(d["out_h"] == shapes[i].height);
    CHECK(d["out_w"] == shapes[i].width);
    CHECK(d["out_bits"] == model.nodes[i].out.bits);
    const std::int64_t fmap_depth = manifest["memories"]["fmap"]["depth"].get<std::int64_t>();
    CHECK(d["out_base"] + d["out_c"] * d["out_h"] * d["out_w"] <= fmap_depth);
    CHECK(manifest["layers"][i]["fmap_base"] == d["out_base"]);
    CHECK(manifest["layers"][i]["view"] == (d["view"] == 1));
    if (node.op == OpKind::Slice) {  // always a view of its source's channels
      CHECK(d["view"] == 1);
      CHECK(d["out_base"] == d["in_base0"] + node.channel_begin * d["in_h"] * d["in_w"]);
    }
    if (node.op != OpKind::Slice && node.op != OpKind::Concat) CHECK(d["view"] == 0);
    next_base += d["out_c"] * d["out_h"] * d["out_w"];
    REQUIRE(d["num_inputs"] == static_cast<std::int64_t>(node.inputs.size()));
    for (int k = 0; k < kProgramMaxInputs; ++k) {
      const std::string slot = std::to_string(k);
      if (k >= static_cast<int>(node.inputs.size())) {
        CHECK(d["input" + slot] == all_ones(16));
        continue;
      }
      CHECK(d["input" + slot] == node.inputs[k]);
      CHECK(d["in_base" + slot] == program[node.inputs[k]]["out_base"]);
    }
    if (!node.inputs.empty()) {
      const TensorShape& in = shapes[node.inputs[0]];
      CHECK(d["in_c"] == in.channels);
      CHECK(d["in_h"] == in.height);
      CHECK(d["in_w"] == in.width);
    }
    if (node.op == OpKind::Conv || node.op == OpKind::MaxPool) {
      CHECK(d["kernel"] == node.kernel);
      CHECK(d["stride"] == node.stride);
      CHECK(d["pad"] == node.pad);
    }
    if (node.op == OpKind::Conv) {
      CHECK(d["pad_code"] == (node.inputs[0] == 0 ? -128 : 0));
      CHECK(d["act_lut"] == (node.silu ? model.nodes[i].conv.silu_lut : all_ones(16)));
    }
    if (node.op == OpKind::Slice) CHECK(d["channel_begin"] == node.channel_begin);
  }
  CHECK(next_base == manifest["feature_maps"]["sum_of_outputs"].get<std::int64_t>());
  CHECK(manifest["memories"]["fmap"]["depth"].get<std::int64_t>() < next_base);  // regions are reused
  for (size_t l = 0; l < model.graph.levels.size(); ++l) {
    const DetectLevel& level = model.graph.levels[l];
    CHECK(program[level.box_node]["head"] == static_cast<int>(HeadOutput::Box));
    CHECK(program[level.box_node]["head_lut"] == model.head[l].exp_lut);
    CHECK(program[level.class_node]["head"] == static_cast<int>(HeadOutput::Class));
    CHECK(program[level.class_node]["head_lut"] == model.head[l].sigmoid_lut);
    CHECK(program[level.class_node]["head_level"] == static_cast<std::int64_t>(l));
    CHECK(program[level.class_node]["head_stride"] == level.stride);
  }
}

TEST_CASE("emit: yq_format.vh with yq_params.vh passes verilator -Wall, iverilog and yosys") {
  const fs::path run = emit_run("lint"), emitted = run / "stage_7";
  const fs::path dir = run.parent_path() / "hdl";
  fs::create_directories(dir);
  for (const char* file : {"yq_format.vh", "yq_params.vh", "program.hex", "lut_dir.hex", "dram.hex"}) {
    fs::copy_file(emitted / file, dir / file);
  }
  // The headers alone in a module, and a module that reads two memory images through them.
  std::ofstream(dir / "yq_params_lint.v") << "module yq_params_lint;\n"
                                             "  /* verilator lint_off UNUSEDPARAM */\n"
                                             "  `include \"yq_format.vh\"\n"
                                             "  `include \"yq_params.vh\"\n"
                                             "  /* verilator lint_on UNUSEDPARAM */\n"
                                             "endmodule\n";
  std::ofstream(dir / "yq_params_read.v")
      << "module yq_params_read;\n"
         "  `include \"yq_format.vh\"\n"
         "  `include \"yq_params.vh\"\n"
         "  reg [YQ_PROGRAM_WIDTH-1:0] program_mem [0:YQ_PROGRAM_DEPTH-1];\n"
         "  reg [YQ_LUT_DIR_WIDTH-1:0] lut_dir_mem [0:YQ_LUT_DIR_DEPTH-1];\n"
         "  reg [YQ_AXI_DATA_BITS-1:0] dram [0:YQ_DRAM_DEPTH-1];\n"
         "  initial begin\n"
         "    $readmemh(YQ_PROGRAM_FILE, program_mem);\n"
         "    $readmemh(YQ_LUT_DIR_FILE, lut_dir_mem);\n"
         "    $readmemh(YQ_DRAM_FILE, dram);\n"
         "    $display(\"dram_weight %h\", dram[YQ_DRAM_WEIGHT_BASE / YQ_DRAM_ALIGN_BYTES]);\n"
         "    $display(\"out_c %0d\", program_mem[YQ_NUM_LAYERS-1][YQ_PROG_OUT_C_LSB +: YQ_PROG_OUT_C_WIDTH]);\n"
         "    $display(\"pad_code %0d\", $signed(program_mem[1][YQ_PROG_PAD_CODE_LSB +: YQ_PROG_PAD_CODE_WIDTH]));\n"
         "    $display(\"lut_depth %0d\", lut_dir_mem[YQ_NUM_LUTS-1][YQ_LUTDIR_DEPTH_LSB +: YQ_LUTDIR_DEPTH_WIDTH]);\n"
         "  end\n"
         "endmodule\n";
  const auto program = read_packed(dir / "program.hex", program_layout());
  const auto directory = read_packed(dir / "lut_dir.hex", lut_directory_layout());
  std::string output;

  if (yq::test::require_programs({"verilator"}, "the verilator lint")) {
    CHECK_MESSAGE(run_in(dir, "verilator --lint-only -Wall yq_params_lint.v", &output) == 0, output);
    CHECK(output.empty());
  }

  if (yq::test::require_programs({"iverilog", "vvp"}, "the iverilog check")) {
    CHECK_MESSAGE(run_in(dir, "iverilog -Wall -o lint.vvp yq_params_lint.v", &output) == 0, output);
    CHECK(output.empty());
    const std::string simulate = "iverilog -Wall -o read.vvp yq_params_read.v && vvp -n read.vvp";
    REQUIRE_MESSAGE(run_in(dir, simulate, &output) == 0, output);
    CHECK(output.find("out_c " + std::to_string(program.back()["out_c"]) + "\n") != std::string::npos);
    CHECK(output.find("pad_code -128\n") != std::string::npos);
    CHECK(output.find("lut_depth " + std::to_string(directory.back()["depth"]) + "\n") != std::string::npos);
    const auto params = header_integers(dir / "yq_params.vh");
    const std::string weight_beat = lines_of(dir / "dram.hex").at(
        static_cast<size_t>(params.at("YQ_DRAM_WEIGHT_BASE") / params.at("YQ_DRAM_ALIGN_BYTES")));
    CHECK(output.find("dram_weight " + weight_beat + "\n") != std::string::npos);
    CHECK(output.find("arning") == std::string::npos);
  }

  if (yq::test::require_programs({"yosys"}, "the yosys elaboration")) {
    const std::string elaborate = "yosys -q -p 'read_verilog yq_params_lint.v; hierarchy -top yq_params_lint'";
    CHECK_MESSAGE(run_in(dir, elaborate, &output) == 0, output);
    CHECK(output.empty());
  }
}

TEST_CASE("emit: scripts/synth_estimate.sh packs a MAC cell's multiply and accumulate into one DSP on UltraScale+") {
  if (!yq::test::require_programs({"yosys", "python3"}, "the resource estimate")) return;
  const fs::path run = emit_run("synth");
  const std::string script = (fs::path(YQ_SOURCE_DIR) / "scripts" / "synth_estimate.sh").string();
  // yq_mac_array at its defaults: 4 x 4 cells, 8-bit codes, 32-bit accumulators.
  const auto estimate = [&](const std::string& dsp_model) {
    std::string output;
    const std::string command = "MODULES=yq_mac_array YQ_DSP_MODEL=" + dsp_model + " '" + script + "' '" +
                                run.string() + "' 4x4 xcup 2>&1";
    REQUIRE_MESSAGE(yq::test::run_command(command, output) == 0, output);
    std::istringstream lines(output);
    std::string line, module, shape;
    long dsp = -1, luts = -1;
    while (std::getline(lines, line)) {
      if (line.starts_with("yq_mac_array ")) std::istringstream(line) >> module >> shape >> dsp >> luts;
    }
    INFO(output);
    REQUIRE(dsp >= 0);
    return std::pair{dsp, luts};
  };
  const auto [dsp, luts] = estimate("dsp48e1");
  CHECK(dsp == 16);
  CHECK(luts < 16);  // the accumulators, their load multiplexer and the product registers are in the DSPs
  const auto [native_dsp, native_luts] = estimate("native");
  CHECK(native_dsp == 16);
  CHECK(native_luts > 16 * 32);  // yosys 0.23 on DSP48E2: every accumulator in LUTs
}

TEST_CASE("emit: rtl/yq_format.vh is the compiler's format (regenerate: cmake --build build --target yq_format_vh)") {
  const std::string checked_in = test::read_text(fs::path(YQ_SOURCE_DIR) / "rtl" / "yq_format.vh");
  CHECK_MESSAGE(checked_in == format_header(),
                "rtl/yq_format.vh differs from compiler/emit/hw_format.cpp's tables: regenerate it with "
                "`cmake --build build --target yq_format_vh` (or `yq-hw format-header rtl/yq_format.vh`)");
  const auto values = header_integers(fs::path(YQ_SOURCE_DIR) / "rtl" / "yq_format.vh");
  CHECK(values.at("YQ_FORMAT_VERSION") == kArtifactFormatVersion);
  CHECK(values.at("YQ_PROG_WORD_BITS") == program_layout().width());
  for (const WordField& field : program_layout().fields()) {
    CAPTURE(field.name);
    CHECK(values.at("YQ_PROG_" + verilog_identifier(field.name) + "_LSB") == field.lsb);
    CHECK(values.at("YQ_PROG_" + verilog_identifier(field.name) + "_WIDTH") == field.width);
  }
  for (const auto& [name, op] : program_op_codes()) CHECK(values.at("YQ_OP_" + name) == static_cast<int>(op));
}

TEST_CASE("emit: the DRAM image holds every memory at its region's byte address, regions aligned and disjoint") {
  const fs::path run = emit_run("dram"), emitted = run / "stage_7";
  CHECK(test::read_text(emitted / "yq_format.vh") == format_header());
  const nlohmann::json map = read_json_file(emitted / "memory_map.json");
  const std::string image = test::read_text(emitted / "dram.bin");
  const std::int64_t align = map["alignment_bytes"];
  CHECK(map["axi_data_bits"] == kDefaultAxiDataBits);
  CHECK(align == kDefaultAxiDataBits / 8);
  CHECK(static_cast<std::int64_t>(image.size()) == map["file_bytes"].get<std::int64_t>());

  std::int64_t end = 0;
  std::map<std::string, DramRegion> regions;
  for (const auto& entry : map["regions"]) {
    const DramRegion region = region_of(entry);
    CAPTURE(region.name);
    regions[region.name] = region;
    CHECK(region.base % align == 0);
    CHECK(region.bytes % align == 0);
    CHECK(region.base >= end);  // in address order, none overlapping the one before
    CHECK(region.bytes * 8 >= region.words * region.slot_bits);
    CHECK(region.slot_bits >= region.word_bits);
    end = region.base + region.bytes;
    if (region.in_file) CHECK(end <= map["file_bytes"].get<std::int64_t>());
    else CHECK(region.base >= map["file_bytes"].get<std::int64_t>());
    // Every word of its `$readmemh` file, decoded back from dram.bin.
    const std::string file = entry["file"];
    CHECK(file.empty() != region.in_file);
    if (file.empty()) continue;
    const std::vector<std::string> lines = lines_of(emitted / file);
    REQUIRE(static_cast<std::int64_t>(lines.size()) == region.words);
    for (std::int64_t n = 0; n < region.words; ++n) {
      if (word_at(image, region, n) != lines[static_cast<size_t>(n)]) {
        FAIL_CHECK(file << " word " << n << ": dram.bin holds " << word_at(image, region, n) << ", the file "
                        << lines[static_cast<size_t>(n)]);
        break;
      }
    }
  }
  CHECK(end == map["total_bytes"].get<std::int64_t>());
  for (const char* name : {"program", "lut_dir", "weight", "bias", "requant", "lut", "fmap", "detections"}) {
    CHECK_MESSAGE(regions.count(name) == 1, name);
  }

  // dram.hex: the same bytes, one AXI beat per line, byte 0 the least significant.
  const std::vector<std::string> beats = lines_of(emitted / "dram.hex");
  REQUIRE(static_cast<std::int64_t>(beats.size()) * align == static_cast<std::int64_t>(image.size()));
  std::string from_hex;
  for (const std::string& beat : beats) {
    REQUIRE(static_cast<std::int64_t>(beat.size()) == 2 * align);
    for (std::int64_t b = align - 1; b >= 0; --b) {
      from_hex += static_cast<char>(std::stoi(beat.substr(static_cast<size_t>(2 * b), 2), nullptr, 16));
    }
  }
  CHECK(from_hex == image);

  // Byte addresses of the map = region base + the descriptor's word address x slot bytes.
  const auto program = read_packed(emitted / "program.hex", program_layout());
  const auto address = [&](const char* region, std::int64_t word) {
    const DramRegion& r = regions.at(region);
    return word == all_ones(32) ? -1 : r.base + word * r.slot_bits / 8;
  };
  REQUIRE(map["layers"].size() == program.size());
  for (size_t i = 0; i < program.size(); ++i) {
    const nlohmann::json& layer = map["layers"][i];
    CAPTURE(layer["layer"]);
    CHECK(layer["fmap"] == address("fmap", program[i]["out_base"]));
    CHECK(layer["weights"] == address("weight", program[i]["weight_base"]));
    CHECK(layer["bias"] == address("bias", program[i]["bias_base"]));
    CHECK(layer["requant"] == address("requant", program[i]["requant_base"]));
    CHECK(layer["view"] == (program[i]["view"] == 1));
  }
  const DramRegion& fmap = regions.at("fmap");
  CHECK(map["image"]["base"] == map["layers"][0]["fmap"]);
  CHECK(map["image"]["base"].get<std::int64_t>() + map["image"]["bytes"].get<std::int64_t>() <= fmap.base + fmap.bytes);
  CHECK(map["image"]["bytes"] == 3 * kImageSize * kImageSize * fmap.slot_bits / 8);

  // yq_params.vh repeats the map.
  const auto params = header_integers(emitted / "yq_params.vh");
  CHECK(params.at("YQ_AXI_DATA_BITS") == kDefaultAxiDataBits);
  CHECK(params.at("YQ_DRAM_FILE_BYTES") == static_cast<std::int64_t>(image.size()));
  CHECK(params.at("YQ_DRAM_DEPTH") == static_cast<std::int64_t>(beats.size()));
  CHECK(params.at("YQ_DRAM_IMAGE_BASE") == map["image"]["base"].get<std::int64_t>());
  for (const auto& [name, region] : regions) {
    CAPTURE(name);
    CHECK(params.at("YQ_DRAM_" + verilog_identifier(name) + "_BASE") == region.base);
    CHECK(params.at("YQ_DRAM_" + verilog_identifier(name) + "_BYTES") == region.bytes);
    CHECK(params.at("YQ_DRAM_" + verilog_identifier(name) + "_SLOT_BITS") == region.slot_bits);
  }

  // Another AXI width moves the regions to its alignment; the words stay the same.
  const std::string again = "run --imgsz " + std::to_string(kImageSize) + " --from stage_7 --through stage_7 --axi-bits 512";
  const test::CliResult wide = test::run_cli(again + " --out " + run.string(), run.parent_path());
  REQUIRE_MESSAGE(wide.exit_code == 0, wide.err);
  const nlohmann::json wide_map = read_json_file(emitted / "memory_map.json");
  const std::string wide_image = test::read_text(emitted / "dram.bin");
  CHECK(wide_map["alignment_bytes"] == 64);
  for (const auto& entry : wide_map["regions"]) {
    const DramRegion region = region_of(entry);
    CAPTURE(region.name);
    CHECK(region.base % 64 == 0);
    if (!region.in_file || region.words == 0) continue;
    const DramRegion& before = regions.at(region.name);
    CHECK(word_at(wide_image, region, region.words - 1) == word_at(image, before, before.words - 1));
  }
  CHECK(lines_of(emitted / "dram.hex").front().size() == 128);
}

TEST_CASE("emit: yq_top's weight buffer is sized to the largest convolution or to --weight-buffer-bytes, never overrun") {
  const fs::path run = emit_run("weight-buffer"), emitted = run / "stage_7";
  const nlohmann::json manifest = read_json_file(emitted / "manifest.json");
  // The largest convolution: its per-layer weight file's words, its biases and requant words.
  std::int64_t largest = 0, biases = 0, requants = 0;
  std::string largest_layer;
  for (const auto& layer : manifest["layers"]) {
    if (!layer.contains("files")) continue;
    if (layer["files"].contains("weights")) {
      const auto words = static_cast<std::int64_t>(lines_of(emitted / layer["files"]["weights"].get<std::string>()).size());
      if (words > largest) largest = words, largest_layer = layer["layer"].get<std::string>();
      biases = std::max(biases, static_cast<std::int64_t>(lines_of(emitted / layer["files"]["bias"].get<std::string>()).size()));
    }
    if (layer["files"].contains("requant")) {
      requants = std::max(requants, static_cast<std::int64_t>(lines_of(emitted / layer["files"]["requant"].get<std::string>()).size()));
    }
  }
  REQUIRE(largest > 0);
  auto params = [&] { return header_integers(emitted / "yq_params.vh"); };
  CHECK(params().at("YQ_WEIGHT_BUFFER_DEPTH") == largest);
  CHECK(params().at("YQ_BIAS_BUFFER_DEPTH") == biases);
  CHECK(params().at("YQ_REQUANT_BUFFER_DEPTH") == requants);

  // 8-bit weights: one byte a word. Exactly the largest fits; a byte less names it.
  const std::string again = "run --imgsz " + std::to_string(kImageSize) + " --from stage_7 --through stage_7 --out " +
                            run.string() + " --weight-buffer-bytes ";
  const test::CliResult fits = test::run_cli(again + std::to_string(2 * largest), run.parent_path());
  REQUIRE_MESSAGE(fits.exit_code == 0, fits.err);
  CHECK(params().at("YQ_WEIGHT_BUFFER_DEPTH") == 2 * largest);
  const test::CliResult small = test::run_cli(again + std::to_string(largest - 1), run.parent_path());
  CHECK(small.exit_code == 1);
  CHECK(small.err.find("layer " + largest_layer + ": its " + std::to_string(largest) + " weights") != std::string::npos);
  test::check_golden_error("weight_buffer_too_small", small.err, run.parent_path());
}

TEST_CASE("emit: the band program's halves come from --band-buffer-bytes; one row that does not fit names the layer") {
  const fs::path run = emit_run("band-buffer"), emitted = run / "stage_7";
  auto params = [&] { return header_integers(emitted / "yq_params.vh"); };
  auto manifest = [&] { return read_json_file(emitted / "manifest.json"); };
  // 8-bit codes: one byte a word; the default is 256 KiB a half.
  CHECK(params().at("YQ_BAND_INPUT_WORDS") == 262144);
  CHECK(params().at("YQ_BAND_OUTPUT_WORDS") == 262144);
  CHECK(params().at("YQ_SCRATCH_WORDS") == 4 * 262144);
  CHECK(params().at("YQ_BAND_INSTRUCTIONS") == manifest()["band_program"]["instructions"].get<long long>());
  CHECK(lines_of(emitted / "band_program.hex").size() == manifest()["band_program"]["instructions"].get<size_t>());
  CHECK(lines_of(emitted / "band_descriptors.hex").size() == manifest()["band_program"]["runs"].get<size_t>());

  const std::string again = "run --imgsz " + std::to_string(kImageSize) + " --from stage_7 --through stage_7 --out " +
                            run.string() + " --band-buffer-bytes ";
  const test::CliResult small_halves = test::run_cli(again + "4096", run.parent_path());
  REQUIRE_MESSAGE(small_halves.exit_code == 0, small_halves.err);
  CHECK(params().at("YQ_SCRATCH_WORDS") == 4 * 4096);
  const nlohmann::json small_manifest = manifest();
  int multi_band = 0;
  for (const auto& layer : small_manifest["band_program"]["layers"]) multi_band += layer["bands"].get<int>() > 1;
  CHECK(multi_band > 0);
  const test::CliResult too_small = test::run_cli(again + "100", run.parent_path());
  CHECK(too_small.exit_code == 1);
  test::check_golden_error("band_buffer_too_small", too_small.err, run.parent_path());
}

TEST_CASE("emit: DRAM slots are the next power of two of at least a byte, and bad words are refused") {
  CHECK(dram_slot_bits(4) == 8);
  CHECK(dram_slot_bits(8) == 8);
  CHECK(dram_slot_bits(22) == 32);
  CHECK(dram_slot_bits(808) == 1024);
  CHECK_THROWS_WITH_AS(check_axi_data_bits(96), "--axi-bits 96 is not an AXI4 data width (32, 64, ..., 1024)", Error);
  const DramMap dram(32, {{"words", 12, 3, true}, {"later", 8, 5, false}});
  CHECK(dram.region("words").bytes == 8);  // 3 slots of 16 bits, padded to 4-byte beats
  CHECK(dram.region("later").base == 8);
  CHECK(dram.file_bytes() == 8);
  CHECK(dram.total_bytes() == 16);
  std::string image(8, '\0');
  place_words(image, dram.region("words"), "abc\n001\nfff\n");
  CHECK(image == std::string("\xbc\x0a\x01\x00\xff\x0f\x00\x00", 8));
  CHECK(word_at(image, dram.region("words"), 2) == "fff");
  CHECK(dram_beats_hex(image, 32) == "00010abc\n00000fff\n");
  image[1] = static_cast<char>(0x1a);  // bit 12 of word 0: above its 12 bits
  CHECK_THROWS_AS(word_at(image, dram.region("words"), 0), Error);
  CHECK_THROWS_AS(place_words(image, dram.region("words"), "abc\n001\n"), Error);  // two words for three
}

TEST_SUITE_END();
