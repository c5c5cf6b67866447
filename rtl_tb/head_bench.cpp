// Head bench of the integer detect head's post-processing (top:
// rtl_tb/yq_head_top.v: yq_score_filter -> yq_dfl_decode -> yq_qnms), run
// by `make head RUN=<run dir>` (and by `make sim`).
//
// Reads the run's emission (stage_7: yq_params.vh, program.hex for each
// head output's level and table, manifest.json for names and tables, the
// tables' luts/<table>.hex) and the golden dumps of the head convolutions'
// outputs (stage_8/golden/<layer>.hex), streams every anchor of every level
// in anchor order (level, row, column) through the chain, with the level's
// logit threshold, stride and tables from the emission, then compares the
// detection list q_NMS writes with stage_8/golden/q_nms.txt, the C++
// reference's (compiler/ref/int_detector.cpp), field for field:
//   MISMATCH detection i field F expected E got G
// (or the count) and exits 1; else prints
//   HEAD PASS: N detections bit-exact (q_nms.txt)
// with the cycles of the anchor stream (filter and DFL decode) and of
// q_NMS after the last anchor.
//
// Usage: Vyq_head_top <absolute run dir> [--golden DIR] (DIR replaces
// <run>/stage_8/golden, absolute). The field positions come from
// the rtl/yq_format.vh the model was built with (-DP_FORMAT_VH).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "Vyq_head_top.h"
#include "tb_common.hpp"

namespace fs = std::filesystem;

namespace {

constexpr long kTimeoutCycles = 200'000'000L;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "HEAD FAIL: %s\n", message.c_str());
  std::exit(2);
}

std::string read_text(const fs::path& file) {
  if (auto text = tb::file_text(file)) return *text;
  die("cannot read " + file.string());
}

std::vector<std::string> read_lines(const fs::path& file) {
  std::istringstream in(read_text(file));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// localparam integer NAME = value; of a Verilog header.
std::map<std::string, long long> read_params(const fs::path& file) {
  return tb::integer_localparams(read_text(file));
}

// A field of a descriptor (one hex line, most significant digit first).
std::uint64_t field(const std::string& hex, int lsb, int width) {
  std::uint64_t value = 0;
  for (int i = 0; i < width; ++i) {
    const int bit = lsb + i, digit = bit / 4;
    if (digit >= static_cast<int>(hex.size())) die("descriptor field past the word's end");
    const char ch = hex[hex.size() - 1 - digit];
    const int nibble = ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10;
    value |= static_cast<std::uint64_t>((nibble >> (bit % 4)) & 1) << i;
  }
  return value;
}

// Hex lines as two's-complement (is_signed) or unsigned values of `bits` bits.
std::vector<std::int64_t> read_values(const fs::path& file, int bits, bool is_signed) {
  std::vector<std::int64_t> values;
  for (const std::string& line : read_lines(file)) {
    if (line.empty()) continue;
    const std::uint64_t raw = std::stoull(line, nullptr, 16);
    values.push_back(is_signed ? tb::sign_extend(raw, bits) : static_cast<std::int64_t>(raw));
  }
  return values;
}

struct Level {
  int stride = 0, height = 0, width = 0, class_bits = 0, box_bits = 0;
  std::int64_t logit_threshold = 0;
  std::vector<std::int64_t> box, cls, exp_table, sigmoid;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && !(argc == 4 && std::string(argv[2]) == "--golden")) {
    die("usage: Vyq_head_top <absolute run dir> [--golden DIR]");
  }
  const fs::path run = argv[1], golden = argc == 4 ? fs::path(argv[3]) : run / "stage_8" / "golden";
  if (!run.is_absolute() || !golden.is_absolute()) die("the run and golden folders must be absolute paths");
  const fs::path stage7 = run / "stage_7";
  for (const fs::path& file : {stage7 / "yq_params.vh", stage7 / "program.hex", stage7 / "manifest.json",
                               golden / "q_nms.txt"}) {
    if (!fs::is_regular_file(file)) die("missing " + file.string());
  }
  auto params = read_params(stage7 / "yq_params.vh");
  params.merge(read_params(P_FORMAT_VH));
  auto param = [&](const std::string& name) {
    const auto it = params.find(name);
    if (it == params.end()) die("yq_params.vh / yq_format.vh has no " + name);
    return it->second;
  };
  if (param("YQ_PARAMS_FORMAT_VERSION") != param("YQ_FORMAT_VERSION")) die("the run's format version is not rtl/'s");
  const int reg_max = static_cast<int>(param("YQ_REG_MAX")), num_classes = static_cast<int>(param("YQ_NUM_CLASSES"));
  const int bin_w = static_cast<int>(param("YQ_ACT_BITS"));

  // The head outputs of each level, from the descriptors (head, head_level, head_lut).
  const nlohmann::json manifest = nlohmann::json::parse(read_text(stage7 / "manifest.json"));
  const auto program = read_lines(stage7 / "program.hex");
  std::vector<Level> levels(static_cast<size_t>(param("YQ_NUM_LEVELS")));
  auto desc = [&](const std::string& hex, const char* name) {
    return static_cast<long long>(field(hex, static_cast<int>(param(std::string("YQ_PROG_") + name + "_LSB")),
                                        static_cast<int>(param(std::string("YQ_PROG_") + name + "_WIDTH"))));
  };
  for (const auto& layer : manifest.at("layers")) {
    const int node = layer.at("node");
    const std::string& hex = program.at(static_cast<size_t>(node));
    const long long head = desc(hex, "HEAD");
    if (head == param("YQ_HEAD_NONE")) continue;
    const auto l = static_cast<size_t>(desc(hex, "HEAD_LEVEL"));
    if (l >= levels.size()) die("head level out of range at node " + std::to_string(node));
    Level& level = levels[l];
    const std::string name = layer.at("layer");
    const auto& table = manifest.at("luts").at(static_cast<size_t>(desc(hex, "HEAD_LUT")));
    const int bits = layer.at("out").at("bits");
    const auto codes = read_values(golden / (name + ".hex"), bits, true);
    level.stride = static_cast<int>(desc(hex, "HEAD_STRIDE"));
    level.height = static_cast<int>(desc(hex, "OUT_H"));
    level.width = static_cast<int>(desc(hex, "OUT_W"));
    if (head == param("YQ_HEAD_BOX")) {
      level.box = codes;
      level.box_bits = bits;
      level.exp_table = read_values(stage7 / table.at("file").get<std::string>(), table.at("value_bits"), false);
    } else {
      level.cls = codes;
      level.class_bits = bits;
      level.sigmoid = read_values(stage7 / table.at("file").get<std::string>(), table.at("value_bits"), false);
    }
  }
  for (size_t l = 0; l < levels.size(); ++l) {
    Level& level = levels[l];
    const std::string prefix = "YQ_LEVEL" + std::to_string(l);
    const size_t plane = static_cast<size_t>(level.height) * level.width;
    if (level.box.size() != 4 * reg_max * plane || level.cls.size() != num_classes * plane) {
      die("level " + std::to_string(l) + ": head outputs missing or of the wrong size");
    }
    if (level.class_bits != param("YQ_LEVEL0_CLASS_BITS") || level.box_bits > bin_w) {
      die("level " + std::to_string(l) + ": class or box code width differs from the top's");
    }
    if (level.stride != param(prefix + "_STRIDE")) die(prefix + ": stride differs from the descriptor's");
    level.logit_threshold = param(prefix + "_LOGIT_THRESHOLD");
  }

  auto context = std::make_unique<VerilatedContext>();
  context->commandArgs(argc, argv);
  auto top = std::make_unique<Vyq_head_top>(context.get());
  const Level* current = &levels[0];
  long cycles = 0, candidates = 0;
  std::vector<std::vector<std::uint64_t>> results(static_cast<size_t>(param("YQ_MAX_DETECTIONS")) + 1);
  const int knot_w = std::min<int>(current->class_bits, static_cast<int>(param("YQ_LUT_DIRECT_MAX_BITS")));
  const int record_bits = static_cast<int>(param("YQ_DET_WORD_BITS"));
  // One clock: the ROMs answer the addresses of before the edge; result writes are captured.
  auto cycle = [&]() {
    const std::uint64_t exp_addr = tb::get_bits(top->exp_addr, 0, bin_w);
    const std::uint64_t sig_addr = tb::get_bits(top->sig_addr, 0, knot_w + 1);
    if (top->res_we) {
      auto& word = results.at(static_cast<size_t>(top->res_addr));
      word.clear();
      for (int b = 0; b < record_bits; b += 32) word.push_back(tb::get_bits(top->res_data, b, 32));
    }
    candidates += top->candidate;
    tb::tick(*top);
    tb::set_bits(top->exp_data, 0, 16, exp_addr < current->exp_table.size() ? current->exp_table[exp_addr] : 0);
    tb::set_bits(top->sig_data, 0, 16, sig_addr < current->sigmoid.size() ? current->sigmoid[sig_addr] : 0);
    top->eval();
    if (++cycles > kTimeoutCycles) die("timeout");
  };
  top->clk = 0;
  top->rst = 1;
  top->eval();
  tb::tick(*top);
  top->rst = 0;
  tb::set_bits(top->score_threshold, 0, 32, static_cast<std::uint64_t>(param("YQ_SCORE_THRESHOLD")));
  tb::set_bits(top->iou_num, 0, 10, static_cast<std::uint64_t>(param("YQ_IOU_NUMERATOR")));
  tb::set_bits(top->iou_den, 0, 10, static_cast<std::uint64_t>(param("YQ_IOU_DENOMINATOR")));
  tb::set_bits(top->max_det, 0, 32, static_cast<std::uint64_t>(param("YQ_MAX_DETECTIONS")));

  int anchor = 0;
  for (const Level& level : levels) {
    while (!top->dfl_ready) cycle();  // the previous level's last candidate still reads its tables
    current = &level;
    const size_t plane = static_cast<size_t>(level.height) * level.width;
    tb::set_bits(top->logit_threshold, 0, level.class_bits + 1, static_cast<std::uint64_t>(level.logit_threshold));
    tb::set_bits(top->stride, 0, 16, static_cast<std::uint64_t>(level.stride));
    tb::set_bits(top->exp_depth, 0, bin_w + 1, level.exp_table.size());
    for (size_t cell = 0; cell < plane; ++cell, ++anchor) {
      while (!top->dfl_ready) cycle();
      for (int i = 0; i < 4 * reg_max; ++i) {
        tb::set_bits(top->dfl_codes, i * bin_w, bin_w, static_cast<std::uint64_t>(level.box[i * plane + cell]));
      }
      tb::set_bits(top->cell_x, 0, 16, cell % level.width);
      tb::set_bits(top->cell_y, 0, 16, cell / level.width);
      tb::set_bits(top->anchor, 0, 16, static_cast<std::uint64_t>(anchor));
      for (int c = 0; c < num_classes; ++c) {
        top->cls_valid = 1;
        top->cls_last = c == num_classes - 1;
        tb::set_bits(top->cls_logit, 0, level.class_bits, static_cast<std::uint64_t>(level.cls[c * plane + cell]));
        cycle();
      }
      top->cls_valid = 0;
      top->cls_last = 0;
      cycle();  // the filter's result: the DFL decode latches the anchor's inputs now
    }
  }
  while (!top->dfl_ready) cycle();
  cycle();  // the last candidate's output into q_NMS
  const long stream_cycles = cycles;
  top->nms_end = 1;
  cycle();
  top->nms_end = 0;
  while (!top->done) cycle();
  cycle();  // capture the count's write
  const long nms_cycles = cycles - stream_cycles;
  if (top->overflow) die("q_NMS overflow: more candidates than its MAX_CAND");
  top->final();

  // golden q_nms.txt: class_id score x1 y1 x2 y2 anchor class_name.
  std::vector<std::vector<long long>> expected;
  for (const std::string& line : read_lines(golden / "q_nms.txt")) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    std::vector<long long> values(7);
    for (long long& v : values) in >> v;
    if (!in) die("bad line in q_nms.txt: " + line);
    expected.push_back(values);
  }
  const auto count = static_cast<size_t>(results.at(0).empty() ? ~0ull : results[0][0]);
  if (count != expected.size()) {
    std::printf("MISMATCH count expected %zu got %zu\n", expected.size(), count);
    return 1;
  }
  const char* names[7] = {"class_id", "score", "x1", "y1", "x2", "y2", "anchor"};
  for (size_t i = 0; i < count; ++i) {
    const auto& word = results.at(i + 1);
    if (word.empty()) die("detection " + std::to_string(i) + " was never written");
    auto get = [&](const char* field_name, bool is_signed) {
      const std::string prefix = std::string("YQ_DET_") + field_name;
      const int lsb = static_cast<int>(param(prefix + "_LSB")), width = static_cast<int>(param(prefix + "_WIDTH"));
      std::uint64_t value = 0;
      for (int b = 0; b < width; ++b) value |= ((word[static_cast<size_t>((lsb + b) / 32)] >> ((lsb + b) % 32)) & 1) << b;
      return is_signed ? tb::sign_extend(value, width) : static_cast<std::int64_t>(value);
    };
    const long long got[7] = {get("CLASS_ID", false), get("SCORE", false), get("X1", true), get("Y1", true),
                              get("X2", true),        get("Y2", true),     get("ANCHOR", false)};
    for (int f = 0; f < 7; ++f) {
      if (got[f] != expected[i][static_cast<size_t>(f)]) {
        std::printf("MISMATCH detection %zu field %s expected %lld got %lld\n", i, names[f], expected[i][static_cast<size_t>(f)], got[f]);
        return 1;
      }
    }
  }
  std::printf("HEAD cycles: anchor stream (score filter, DFL decode) %ld for %d anchors and %ld candidates, q_NMS %ld "
              "after the last\n", stream_cycles, anchor, candidates, nms_cycles);
  std::printf("HEAD PASS: %zu detections bit-exact (q_nms.txt)\n", count);
  return 0;
}
