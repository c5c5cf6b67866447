// Head bench of rtl/yq_detect_head.v (the detect head and q_NMS as
// rtl/yq_top.v runs them: score filter -> DFL decode -> q_NMS, read from the
// feature-map memory), run by `make head RUN=<run dir>` (and by `make sim`).
//
// Reads the run's emission (stage_7: yq_params.vh, program.hex,
// manifest.json, lut_dir.hex, lut_mem.hex) and the golden dumps of the head
// convolutions' outputs (stage_8/golden/<layer>.hex). A feature-map memory
// of YQ_FMAP_DEPTH words holds each head output at its descriptor's
// out_base; the LUT directory and LUT memory are the emitted ones; all are
// served as synchronous memories. The bench presents each head
// convolution's descriptor on the configuration port, starts the head, hands
// it each level as bands of rows (--band-rows R: each band's rows copied,
// box channels then class channels, R rows a channel, into a scratch area
// past the feature maps, as the band program's loads place them; 0, the
// default: each level in one band read in place, as rtl/yq_top.v does),
// finishes the frame, waits for done, reads the detection list through the
// result port and compares (a lane that reads a word outside the band the
// head works on, or reads while it has none, stops the bench: HEAD FAIL
// lane k reads word A outside the band; in yq_top a load may be filling
// the words around the band meanwhile)
// it with stage_8/golden/q_nms.txt (rtl_tb/detections.hpp), field for field:
//   MISMATCH detection i field F expected E got G   (or MISMATCH count ...)
// and exits 1; else prints
//   HEAD PASS: N detections bit-exact (q_nms.txt)
// after the head's cycles (start to done).
//
// Usage: Vyq_detect_head <absolute run dir> [--golden DIR] [--band-rows R]
// (DIR replaces <run>/stage_8/golden, absolute). The field positions come from
// the rtl/yq_format.vh the model was built with (-DP_FORMAT_VH), the read
// lanes from -DP_LANES (the model's LANES).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "Vyq_detect_head.h"
#include "detections.hpp"
#include "tb_common.hpp"

namespace fs = std::filesystem;

namespace {

constexpr long kTimeoutCycles = 200'000'000L;
constexpr int kLanes = P_LANES;

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
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// A field of a hex word (most significant digit first), up to 64 bits.
std::uint64_t hex_field(const std::string& hex, int lsb, int width) {
  std::uint64_t value = 0;
  for (int i = 0; i < width; ++i) {
    const int bit = lsb + i, digit = bit / 4;
    if (digit >= static_cast<int>(hex.size())) die("field past the end of word " + hex);
    const char ch = hex[hex.size() - 1 - digit];
    const int nibble = ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10;
    value |= static_cast<std::uint64_t>((nibble >> (bit % 4)) & 1) << i;
  }
  return value;
}

// A whole hex word onto a port of `bits` bits.
template <typename Port>
void set_hex(Port& port, const std::string& hex, int bits) {
  for (int b = 0; b < bits; b += 32) tb::set_bits(port, b, std::min(32, bits - b), hex_field(hex, b, std::min(32, bits - b)));
}

}  // namespace

// A level's head outputs in the feature-map memory.
struct LevelOutputs {
  std::size_t box_base = 0, cls_base = 0;
  int box_c = 0, cls_c = 0, height = 0, width = 0;
};

// The words of the band the head works on: its box and class channels,
// each `words` long, `pitch` apart. A lane may read only these (in yq_top a
// load may be filling the words around the band meanwhile).
struct BandExtent {
  std::size_t box = 0, cls = 0, pitch = 0, words = 0;
  int box_c = 0, cls_c = 0;

  bool holds(std::uint64_t address) const {
    auto in = [&](std::size_t base, int channels) {
      return address >= base && address < base + channels * pitch && (address - base) % pitch < words;
    };
    return in(box, box_c) || in(cls, cls_c);
  }
};

int main(int argc, char** argv) {
  if (argc < 2) die("usage: Vyq_detect_head <absolute run dir> [--golden DIR] [--band-rows R]");
  const fs::path run = argv[1];
  fs::path golden = run / "stage_8" / "golden";
  int band_rows = 0;
  for (int a = 2; a < argc; a += 2) {
    const std::string flag = argv[a];
    if (a + 1 >= argc || (flag != "--golden" && flag != "--band-rows")) {
      die("usage: Vyq_detect_head <absolute run dir> [--golden DIR] [--band-rows R]");
    }
    if (flag == "--golden") golden = argv[a + 1];
    else band_rows = std::atoi(argv[a + 1]);
  }
  if (band_rows < 0) die("--band-rows must be 0 (whole levels) or more");
  if (!run.is_absolute() || !golden.is_absolute()) die("the run and golden folders must be absolute paths");
  const fs::path stage7 = run / "stage_7";
  for (const fs::path& file : {stage7 / "yq_params.vh", stage7 / "program.hex", stage7 / "manifest.json",
                               stage7 / "lut_dir.hex", stage7 / "lut_mem.hex", golden / "q_nms.txt"}) {
    if (!fs::is_regular_file(file)) die("missing " + file.string());
  }
  auto params = tb::integer_localparams(read_text(stage7 / "yq_params.vh"));
  params.merge(tb::integer_localparams(read_text(P_FORMAT_VH)));
  auto param = [&](const std::string& name) {
    const auto it = params.find(name);
    if (it == params.end()) die("yq_params.vh / yq_format.vh has no " + name);
    return it->second;
  };
  if (param("YQ_PARAMS_FORMAT_VERSION") != param("YQ_FORMAT_VERSION")) die("the run's format version is not rtl/'s");
  const int fmap_bits = static_cast<int>(param("YQ_FMAP_WIDTH"));

  // The memories: the head outputs at their bases, the LUT directory and words.
  const nlohmann::json manifest = nlohmann::json::parse(read_text(stage7 / "manifest.json"));
  const auto program = read_lines(stage7 / "program.hex");
  auto desc = [&](const std::string& hex, const char* name) {
    return static_cast<long long>(hex_field(hex, static_cast<int>(param(std::string("YQ_PROG_") + name + "_LSB")),
                                            static_cast<int>(param(std::string("YQ_PROG_") + name + "_WIDTH"))));
  };
  std::vector<std::uint64_t> fmap(static_cast<std::size_t>(param("YQ_FMAP_DEPTH")));
  std::vector<std::string> head_descriptors;
  std::map<int, LevelOutputs> levels;
  for (const auto& layer : manifest.at("layers")) {
    const std::string& hex = program.at(static_cast<std::size_t>(layer.at("node").get<int>()));
    if (desc(hex, "HEAD") == param("YQ_HEAD_NONE")) continue;
    head_descriptors.push_back(hex);
    const std::string name = layer.at("layer");
    const int bits = layer.at("out").at("bits");
    const auto base = static_cast<std::size_t>(desc(hex, "OUT_BASE"));
    std::size_t n = 0;
    for (const std::string& line : read_lines(golden / (name + ".hex"))) {
      const std::int64_t code = tb::sign_extend(std::stoull(line, nullptr, 16), bits);
      if (base + n >= fmap.size()) die(name + " lies past the feature-map memory");
      fmap[base + n++] = static_cast<std::uint64_t>(code) & tb::low_mask(fmap_bits);
    }
    const auto size = static_cast<std::size_t>(desc(hex, "OUT_C") * desc(hex, "OUT_H") * desc(hex, "OUT_W"));
    if (n != size) die(name + ": the golden dump does not have the descriptor's shape");
    LevelOutputs& level = levels[static_cast<int>(desc(hex, "HEAD_LEVEL"))];
    const bool box = desc(hex, "HEAD") == param("YQ_HEAD_BOX");
    (box ? level.box_base : level.cls_base) = base;
    (box ? level.box_c : level.cls_c) = static_cast<int>(desc(hex, "OUT_C"));
    level.height = static_cast<int>(desc(hex, "OUT_H"));
    level.width = static_cast<int>(desc(hex, "OUT_W"));
  }
  if (head_descriptors.size() != 2 * static_cast<std::size_t>(param("YQ_NUM_LEVELS"))) {
    die("the program does not have a class and a box convolution per level");
  }
  const auto lutdir = read_lines(stage7 / "lut_dir.hex");
  std::vector<std::uint64_t> luts;
  for (const std::string& line : read_lines(stage7 / "lut_mem.hex")) luts.push_back(std::stoull(line, nullptr, 16));
  const int lutdir_bits = static_cast<int>(param("YQ_LUT_DIR_WIDTH"));

  auto context = std::make_unique<VerilatedContext>();
  context->commandArgs(argc, argv);
  auto top = std::make_unique<Vyq_detect_head>(context.get());
  long cycles = 0;
  std::optional<BandExtent> band;  // the band handed to the head, until it is done
  // One clock: the memories answer the addresses presented before the edge.
  auto cycle = [&]() {
    std::uint64_t fm_addr[kLanes];
    for (int k = 0; k < kLanes; ++k) {
      fm_addr[k] = tb::get_bits(top->fm_addr, 32 * k, 32);
      if (fm_addr[k] != 0xffffffffu && !(band && band->holds(fm_addr[k]))) {
        die("lane " + std::to_string(k) + " reads word " + std::to_string(fm_addr[k]) + " outside the band (cycle " +
            std::to_string(cycles) + ")");
      }
    }
    const std::uint64_t dir_addr = top->lutdir_addr, exp_addr = top->exp_addr, sig_addr = top->sig_addr;
    tb::tick(*top);
    for (int k = 0; k < kLanes; ++k) {
      tb::set_bits(top->fm_data, k * fmap_bits, fmap_bits, fm_addr[k] < fmap.size() ? fmap[fm_addr[k]] : 0);
    }
    if (dir_addr < lutdir.size()) set_hex(top->lutdir_data, lutdir[dir_addr], lutdir_bits);
    top->exp_data = exp_addr < luts.size() ? luts[exp_addr] : 0;
    top->sig_data = sig_addr < luts.size() ? luts[sig_addr] : 0;
    top->eval();
    if (++cycles > kTimeoutCycles) die("timeout");
  };
  top->clk = 0;
  top->rst = 1;
  top->start = 0;
  top->cfg_valid = 0;
  top->eval();
  cycle();
  top->rst = 0;
  for (const std::string& hex : head_descriptors) {
    top->cfg_valid = 1;
    set_hex(top->cfg_desc, hex, static_cast<int>(param("YQ_PROG_WORD_BITS")));
    cycle();
  }
  top->cfg_valid = 0;
  top->band_valid = 0;
  top->finish = 0;
  top->start = 1;
  cycle();
  top->start = 0;
  const long begin = cycles;
  // The bands: in place, or copied into the scratch area past the feature maps.
  const std::size_t scratch = fmap.size();
  for (const auto& [index, level] : levels) {
    const int rows = band_rows == 0 ? level.height : band_rows;
    for (int row0 = 0; row0 < level.height; row0 += rows) {
      const int n = std::min(rows, level.height - row0);
      std::size_t box = level.box_base, cls = level.cls_base;
      std::size_t pitch = static_cast<std::size_t>(level.height) * level.width;  // in place: the level's planes
      if (band_rows != 0) {
        // A copied band's channels sit further apart than its rows (a pitch
        // of a few words more, as the band program pads them).
        const std::size_t plane = static_cast<std::size_t>(n) * level.width;
        pitch = plane + 3;
        box = scratch;
        cls = scratch + level.box_c * pitch;
        fmap.resize(cls + level.cls_c * pitch);
        auto copy_band = [&](std::size_t from, std::size_t to, int channels) {
          for (int c = 0; c < channels; ++c) {
            const std::size_t src = from + (static_cast<std::size_t>(c) * level.height + row0) * level.width;
            std::copy_n(fmap.begin() + static_cast<std::ptrdiff_t>(src), plane,
                        fmap.begin() + static_cast<std::ptrdiff_t>(to + c * pitch));
          }
        };
        copy_band(level.box_base, box, level.box_c);
        copy_band(level.cls_base, cls, level.cls_c);
      }
      while (!top->band_ready) cycle();
      top->band_valid = 1;
      top->band_level = index;
      top->band_row0 = row0;
      top->band_rows = n;
      top->band_plane = static_cast<std::uint32_t>(pitch);
      top->band_box_base = static_cast<std::uint32_t>(box);
      top->band_cls_base = static_cast<std::uint32_t>(cls);
      band = BandExtent{box, cls, pitch, static_cast<std::size_t>(n) * level.width, level.box_c, level.cls_c};
      cycle();
      top->band_valid = 0;
      while (!top->band_done) cycle();
      band.reset();
    }
  }
  while (!top->band_ready) cycle();
  top->finish = 1;
  cycle();
  top->finish = 0;
  while (!top->done) cycle();
  const long head_cycles = cycles - begin + 1;
  if (top->overflow) die("q_NMS overflow: more candidates than its MAX_CAND");
  cycle();

  // The list through the result port (one cycle per word).
  const std::size_t count = top->det_count;
  const auto max_det = static_cast<std::size_t>(param("YQ_MAX_DETECTIONS"));
  if (count > max_det) die("a count of " + std::to_string(count) + " exceeds max_det");
  const int record_bits = static_cast<int>(param("YQ_DET_WORD_BITS"));
  std::vector<tb::DetectionFields> got;
  for (std::size_t i = 0; i < count; ++i) {
    top->res_addr = static_cast<std::uint32_t>(i + 1);
    cycle();
    std::vector<std::uint32_t> words;
    for (int b = 0; b < record_bits; b += 32) words.push_back(static_cast<std::uint32_t>(tb::get_bits(top->res_data, b, 32)));
    got.push_back(tb::decode_detection(words, param));
  }
  top->final();

  std::string bad_line;
  const auto expected = tb::read_q_nms(golden / "q_nms.txt", &bad_line);
  if (!expected) die("cannot read " + (golden / "q_nms.txt").string() + (bad_line.empty() ? "" : ": bad line " + bad_line));
  if (!tb::same_detections(*expected, count, got)) return 1;
  std::printf("HEAD cycles: %ld from start to done (detect head and q_NMS, %d read lanes)\n", head_cycles, kLanes);
  std::printf("HEAD PASS: %zu detections bit-exact (q_nms.txt)\n", count);
  return 0;
}
