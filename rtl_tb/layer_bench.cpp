// Layer bench of rtl/yq_conv_engine.v and rtl/yq_eltwise_engine.v (top:
// rtl_tb/yq_layer_top.v), run by `make layers RUN=<run dir> ARRAY=RxC`.
//
// For every layer of the run's layer program but the input (stage_7/
// program.hex, names from stage_7/manifest.json), in node order: load the
// golden codes of each of the layer's inputs (stage_8/golden/<input>.hex)
// into the feature-map memory at the descriptor's in_base k, run the layer
// (conv descriptors on the conv engine, slice/add/concat/max-pool/upsample
// on the eltwise engine), read the output region back and compare it with
// stage_8/golden/<layer>.hex code for code (the low `bits` bits of each
// feature-map word, docs/ARTIFACTS.md section 10). Every layer thus starts
// from golden inputs: a difference points at that layer alone. The first
// difference prints
//   MISMATCH layer <name> channel c y x expected E got G
// and the bench exits 1. Each layer prints its cycles (start to done); a
// convolution also its MAC utilization = useful MACs / (cycles * ROWS * COLS).
// A view layer (descriptor field view = 1: a slice, or a concat whose inputs
// were written in place) runs nothing; its region must already hold its
// output once its inputs are there, which checks the compiler's addresses.
// The end prints the totals and
//   LAYERS PASS: N layers bit-exact
// Every file is checked to exist before the simulation starts.
//
// With --chain the layers run as the network does instead, stepped by
// rtl/yq_sequencer.v (paused after each layer for the comparison; its
// cycles include fetching each descriptor): only the image
// (golden input.hex) is loaded, every layer reads what the RTL wrote before
// (so --layer is refused), and each output is still compared with its dump.
//
// Usage: Vyq_layer_top <absolute run dir> [--layer NAME]... [--golden DIR] [--chain]
// (--golden replaces <run>/stage_8/golden). ROWS and COLS come from the build
// (-DP_ROWS, -DP_COLS), the memory sizes from the run's yq_params.vh compiled
// into the model, the descriptor's field positions and codes from the
// rtl/yq_format.vh the model was built with (-DP_FORMAT_VH), whose format
// version the run's yq_params.vh must name.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "Vyq_layer_top.h"
#include "tb_common.hpp"

namespace fs = std::filesystem;

namespace {

constexpr int kRows = P_ROWS, kCols = P_COLS;
constexpr long kTimeoutCycles = 2'000'000'000L;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "LAYERS FAIL: %s\n", message.c_str());
  std::exit(2);
}

std::string read_text(const fs::path& file) {
  if (auto text = tb::file_text(file)) return *text;
  die("cannot read " + file.string());
}

// localparam integer NAME = value; of yq_params.vh.
std::map<std::string, long long> read_params(const fs::path& file) {
  return tb::integer_localparams(read_text(file));
}

// One hex line of a wide word; field(lsb, width) reads its bits (width <= 64).
struct Word {
  std::string hex;  // most significant digit first
  std::uint64_t field(int lsb, int width) const {
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
};

std::vector<std::string> read_lines(const fs::path& file) {
  std::ifstream in(file);
  if (!in) die("cannot read " + file.string());
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Golden codes as two's-complement values of `bits` bits.
std::vector<std::int64_t> read_codes(const fs::path& file, int bits) {
  std::ifstream in(file);
  if (!in) die("cannot read " + file.string());
  std::vector<std::int64_t> codes;
  for (std::string line; std::getline(in, line);) {
    codes.push_back(tb::sign_extend(std::stoull(line, nullptr, 16), bits));
  }
  return codes;
}

struct Layer {
  int node = 0;
  std::string name, op;
  Word desc;
};

struct Tensor {  // a golden file
  fs::path file;
  int bits = 0;
  long long size = 0;
  long long plane_size = 0;  // height * width
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) die("usage: Vyq_layer_top <absolute run dir> [--layer NAME]... [--golden DIR] [--chain]");
  const fs::path run = argv[1];
  fs::path golden_dir = run / "stage_8" / "golden";
  std::set<std::string> only;
  bool chain = false;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--layer" && i + 1 < argc) only.insert(argv[++i]);
    else if (arg == "--golden" && i + 1 < argc) golden_dir = argv[++i];
    else if (arg == "--chain") chain = true;
    else if (arg.rfind("+", 0) == 0) continue;  // plusargs for the model
    else die("unknown argument " + arg);
  }
  if (chain && !only.empty()) die("--chain runs every layer: no --layer");
  if (!run.is_absolute()) die("the run folder must be an absolute path: " + run.string());
  if (!golden_dir.is_absolute()) die("the golden folder must be an absolute path: " + golden_dir.string());
  const fs::path stage7 = run / "stage_7";

  // Every file the model and the bench read, before anything runs.
  for (const char* name : {"yq_params.vh", "program.hex", "manifest.json", "lut_dir.hex", "weight_mem.hex",
                           "bias_mem.hex", "requant_mem.hex", "lut_mem.hex"}) {
    if (!fs::is_regular_file(stage7 / name)) die("missing " + (stage7 / name).string());
  }
  if (!fs::is_regular_file(golden_dir / "manifest.json")) die("missing " + (golden_dir / "manifest.json").string());

  auto params = read_params(stage7 / "yq_params.vh");
  params.merge(read_params(P_FORMAT_VH));
  auto param = [&](const std::string& name) {
    const auto it = params.find(name);
    if (it == params.end()) die("yq_params.vh has no " + name);
    return static_cast<int>(it->second);
  };
  auto field = [&](const Layer& layer, const std::string& name) {
    return static_cast<long long>(layer.desc.field(param("YQ_PROG_" + name + "_LSB"), param("YQ_PROG_" + name + "_WIDTH")));
  };
  if (param("YQ_PARAMS_FORMAT_VERSION") != param("YQ_FORMAT_VERSION")) {
    die("the emission is format version " + std::to_string(param("YQ_PARAMS_FORMAT_VERSION")) + ", the RTL's " +
        std::string(P_FORMAT_VH) + " version " + std::to_string(param("YQ_FORMAT_VERSION")));
  }
  const int fmap_bits = param("YQ_FMAP_WIDTH");

  // Layers: descriptors (program.hex) and names (manifest.json).
  const auto program = read_lines(stage7 / "program.hex");
  const auto manifest = nlohmann::json::parse(read_text(stage7 / "manifest.json"));
  std::vector<Layer> layers;
  for (const auto& entry : manifest.at("layers")) {
    Layer layer;
    layer.node = entry.at("node").get<int>();
    layer.name = entry.at("layer").get<std::string>();
    layer.op = entry.at("op").get<std::string>();
    if (layer.node != static_cast<int>(layers.size()) || layer.node >= static_cast<int>(program.size())) {
      die("manifest layers and program.hex disagree at node " + std::to_string(layer.node));
    }
    layer.desc.hex = program[layer.node];
    if (field(layer, "NODE") != layer.node) die("descriptor " + std::to_string(layer.node) + " names another node");
    layers.push_back(layer);
  }

  // Golden tensors.
  const auto golden_manifest = nlohmann::json::parse(read_text(golden_dir / "manifest.json"));
  std::map<std::string, Tensor> golden;
  for (const auto& file : golden_manifest.at("files")) {
    Tensor t;
    t.file = golden_dir / file.at("file").get<std::string>();
    t.bits = file.at("bits").get<int>();
    t.size = 1;
    for (const auto& d : file.at("shape")) t.size *= d.get<long long>();
    t.plane_size = file.at("shape").at(2).get<long long>() * file.at("shape").at(3).get<long long>();
    golden[file.at("tensor").get<std::string>()] = t;
  }

  // The layers to run and their files.
  auto inputs_of = [&](const Layer& layer) {
    std::vector<const Layer*> inputs;
    const long long count = field(layer, "NUM_INPUTS");
    if (count < 1 || count > param("YQ_MAX_INPUTS")) die("layer " + layer.name + " has " + std::to_string(count) + " inputs");
    for (long long k = 0; k < count; ++k) {
      const long long node =
          static_cast<long long>(layer.desc.field(param("YQ_PROG_INPUT0_LSB") + param("YQ_PROG_INPUT0_WIDTH") * static_cast<int>(k),
                                                  param("YQ_PROG_INPUT0_WIDTH")));
      if (node >= layer.node) die("layer " + layer.name + " reads a later node");
      inputs.push_back(&layers.at(node));
    }
    return inputs;
  };
  std::vector<const Layer*> todo;
  for (const Layer& layer : layers) {
    if (field(layer, "OP") == param("YQ_OP_INPUT")) continue;
    if (!only.empty() && !only.count(layer.name)) continue;
    std::vector<std::string> tensors = {layer.name};
    for (const Layer* input : inputs_of(layer)) tensors.push_back(input->name);
    for (const std::string& tensor : tensors) {
      const auto it = golden.find(tensor);
      if (it == golden.end()) die("golden manifest has no tensor " + tensor);
      if (!fs::is_regular_file(it->second.file)) die("missing " + it->second.file.string());
    }
    todo.push_back(&layer);
  }
  for (const std::string& name : only) {
    bool found = false;
    for (const Layer* layer : todo) found |= layer->name == name;
    if (!found) die("no layer named " + name);
  }
  if (todo.empty()) die("no layers to run");

  // The model; the ROM images come from +yq_stage7.
  auto context = std::make_unique<VerilatedContext>();
  const std::string plusarg = "+yq_stage7=" + stage7.string();
  const char* model_args[] = {argv[0], plusarg.c_str()};
  context->commandArgs(2, model_args);
  auto top = std::make_unique<Vyq_layer_top>(context.get());
  long long cycle = 0;
  auto tick = [&]() {
    top->clk = 1;
    top->eval();
    top->clk = 0;
    top->eval();
    ++cycle;
  };
  top->clk = 0;
  top->rst = 1;
  top->start = 0;
  top->seq_start = 0;
  top->seq_pause = 1;
  top->seq_resume = 0;
  top->host_we = 0;
  top->eval();
  tick();
  tick();
  top->rst = 0;
  tick();

  // A tensor whose codes are wider than a word is stored as byte planes
  // (docs/ARTIFACTS.md section 3.2): code n of channel c in words
  // 2c (its high byte) and 2c + 1 (its low byte) of the channel planes.
  const std::uint64_t fmap_mask = tb::low_mask(fmap_bits);
  auto planes_of = [&](const Tensor& t) { return t.bits > fmap_bits ? 2 : 1; };
  auto word_of = [&](const Tensor& t, long long base, long long n, int plane) {
    if (planes_of(t) == 1) return base + n;
    return base + (2 * (n / t.plane_size) + plane) * t.plane_size + n % t.plane_size;
  };
  auto load = [&](const Tensor& t, long long base) {
    const auto codes = read_codes(t.file, t.bits);
    if (static_cast<long long>(codes.size()) != t.size) die("wrong code count in " + t.file.string());
    top->host_we = 1;
    for (long long n = 0; n < t.size; ++n) {
      for (int plane = 0; plane < planes_of(t); ++plane) {
        const std::uint64_t code = static_cast<std::uint64_t>(codes[n]);
        const std::uint64_t word = planes_of(t) == 1 ? code : plane == 0 ? code >> 8 : code;
        top->host_addr = static_cast<std::uint32_t>(word_of(t, base, n, plane));
        top->host_wdata = static_cast<std::uint32_t>(word & fmap_mask);
        tick();
      }
    }
    top->host_we = 0;
  };
  auto read_code = [&](const Tensor& t, long long base, long long n) {
    std::uint64_t words[2] = {0, 0};
    for (int plane = 0; plane < planes_of(t); ++plane) {
      top->host_addr = static_cast<std::uint32_t>(word_of(t, base, n, plane));
      tick();
      words[plane] = top->host_rdata;
    }
    if (planes_of(t) == 1) return words[0];
    return static_cast<std::uint64_t>(tb::sign_extend(words[0], fmap_bits) * 256 + static_cast<long long>(words[1] & fmap_mask));
  };
  long long begin = cycle;
  if (chain) {  // the image only, at node 0's region; then the sequencer runs the program
    const auto it = golden.find(layers.at(0).name);
    if (it == golden.end() || !fs::is_regular_file(it->second.file)) die("no golden image tensor " + layers.at(0).name);
    load(it->second, field(layers.at(0), "OUT_BASE"));
    top->seq_start = 1;
    tick();
    top->seq_start = 0;
    begin = cycle;
  }
  long long conv_cycles = 0, total_macs = 0, other_cycles = 0, other_codes = 0, views = 0, view_cycles = 0;
  std::map<std::string, int> passed_ops;
  int passed = 0;
  for (const Layer* layer_ptr : todo) {
    const Layer& layer = *layer_ptr;
    const bool is_conv = field(layer, "OP") == param("YQ_OP_CONV");
    const Tensor& out_t = golden.at(layer.name);
    const long long in_c = field(layer, "IN_C"), in_h = field(layer, "IN_H"), in_w = field(layer, "IN_W");
    const long long out_c = field(layer, "OUT_C"), out_h = field(layer, "OUT_H"), out_w = field(layer, "OUT_W");
    const long long kernel = field(layer, "KERNEL"), stride = field(layer, "STRIDE");
    const long long out_base = field(layer, "OUT_BASE");
    const long long out_size = out_c * out_h * out_w;
    if (out_t.size != out_size) die("golden shape differs for " + layer.name);
    const Tensor& in_t = golden.at(layers.at(field(layer, "INPUT0")).name);
    if (in_t.size * planes_of(in_t) != in_c * in_h * in_w) {
      die("golden input shape differs for " + layer.name);
    }

    // Load the inputs at in_base k (unless chained: the RTL's own outputs).
    const auto inputs = inputs_of(layer);
    for (std::size_t k = 0; k < inputs.size() && !chain; ++k) {
      load(golden.at(inputs[k]->name),
           static_cast<long long>(layer.desc.field(param("YQ_PROG_IN_BASE0_LSB") + param("YQ_PROG_IN_BASE0_WIDTH") * static_cast<int>(k),
                                                   param("YQ_PROG_IN_BASE0_WIDTH"))));
    }

    // Run (a view only names words its inputs' producers wrote: nothing to run).
    const bool view = field(layer, "VIEW") != 0;
    long long cycles = 0, written = out_size;
    if (chain) {  // the sequencer is at this layer (paused after the previous one)
      while (!top->seq_layer_done) {
        if (top->seq_done) die("layer " + layer.name + ": the sequencer stopped (engine error at node " +
                               std::to_string(top->seq_node) + ")");
        tick();
        if (cycle - begin > kTimeoutCycles) die("layer " + layer.name + ": no layer_done after " + std::to_string(kTimeoutCycles) + " cycles");
      }
      if (top->seq_node != layer.node) die("the sequencer finished node " + std::to_string(top->seq_node) + ", expected " + layer.name);
      cycles = cycle - begin;
      if (!view) written = top->wr_words;
    } else if (!view) {
      top->node = static_cast<std::uint32_t>(layer.node);
      top->start = 1;
      tick();
      top->start = 0;
      begin = cycle;
      while (!top->done) {
        tick();
        if (cycle - begin > kTimeoutCycles) die("layer " + layer.name + ": no done after " + std::to_string(kTimeoutCycles) + " cycles");
      }
      cycles = cycle - begin + 1;
      if (top->error) die("layer " + layer.name + ": the engine reports a descriptor it cannot execute");
      written = top->wr_words;
    }

    // Compare.
    const auto expected = read_codes(out_t.file, out_t.bits);
    if (static_cast<long long>(expected.size()) != out_size) die("wrong code count in " + out_t.file.string());
    const std::uint64_t out_mask = tb::low_mask(out_t.bits);
    for (long long n = 0; n < out_size; ++n) {
      const std::uint64_t word = read_code(out_t, out_base, n);
      if ((word & out_mask) != (static_cast<std::uint64_t>(expected[n]) & out_mask)) {
        const long long hw = out_h * out_w;
        std::printf("MISMATCH layer %s channel %lld y %lld x %lld expected %lld got %lld\n", layer.name.c_str(),
                    n / hw, (n % hw) / out_w, n % out_w, static_cast<long long>(expected[n]),
                    static_cast<long long>(tb::sign_extend(word, out_t.bits)));
        std::fflush(stdout);
        return 1;
      }
    }
    if (written != out_size * planes_of(out_t)) {
      std::printf("MISMATCH layer %s: the engine wrote %lld words, the layer has %lld\n", layer.name.c_str(), written,
                  out_size * planes_of(out_t));
      return 1;
    }

    if (is_conv) {
      const long long macs = out_size * in_c * kernel * kernel;
      const double util = 100.0 * static_cast<double>(macs) / (static_cast<double>(cycles) * kRows * kCols);
      std::printf("LAYER %-18s %-8s k%lld s%lld %4lldx%-3lldx%-3lld -> %4lldx%-3lldx%-3lld cycles %9lld  MACs %10lld  util %5.1f%%\n",
                  layer.name.c_str(), layer.op.c_str(), kernel, stride, in_c, in_h, in_w, out_c, out_h, out_w, cycles,
                  macs, util);
      conv_cycles += cycles;
      total_macs += macs;
    } else if (view) {
      std::printf("LAYER %-18s %-8s %zu in    %4lldx%-3lldx%-3lld -> %4lldx%-3lldx%-3lld view (no engine cycles)\n",
                  layer.name.c_str(), layer.op.c_str(), inputs.size(), in_c, in_h, in_w, out_c, out_h, out_w);
      ++views;
      view_cycles += cycles;
    } else {
      std::printf("LAYER %-18s %-8s %zu in    %4lldx%-3lldx%-3lld -> %4lldx%-3lldx%-3lld cycles %9lld  codes %9lld\n",
                  layer.name.c_str(), layer.op.c_str(), inputs.size(), in_c, in_h, in_w, out_c, out_h, out_w, cycles,
                  out_size);
      other_cycles += cycles;
      other_codes += out_size;
    }
    std::fflush(stdout);
    ++passed_ops[layer.op];
    ++passed;
    if (chain) {  // on to the next layer
      top->seq_resume = 1;
      tick();
      top->seq_resume = 0;
      begin = cycle;
    }
  }
  if (chain) {
    while (!top->seq_done) {
      tick();
      if (cycle - begin > kTimeoutCycles) die("the sequencer did not finish the program");
    }
    if (top->seq_error) die("the sequencer reports an error after the last layer");
  }
  if (passed_ops.count("conv")) {
    std::printf("TOTAL conv: %d layers, %lld cycles, %lld MACs, array %dx%d, MAC utilization %.1f%%\n",
                passed_ops["conv"], conv_cycles, total_macs, kRows, kCols,
                100.0 * static_cast<double>(total_macs) / (static_cast<double>(conv_cycles) * kRows * kCols));
  }
  if (passed - passed_ops["conv"] - views > 0) {
    std::printf("TOTAL eltwise: %lld layers, %lld cycles, %lld codes\n", passed - passed_ops["conv"] - views,
                other_cycles, other_codes);
  }
  if (views > 0) {
    std::printf("TOTAL views: %lld layers, no engine cycles (their words are written by their inputs)%s\n", views,
                chain ? (", " + std::to_string(view_cycles) + " sequencer cycles").c_str() : "");
  }
  std::string kinds;
  for (const auto& [op, count] : passed_ops) {
    if (count) kinds += (kinds.empty() ? "" : ", ") + std::to_string(count) + " " + op;
  }
  std::printf("TOTAL %lld cycles%s\n", conv_cycles + other_cycles + view_cycles,
              chain ? " (sequencer included)" : "");
  std::printf("LAYERS PASS: %d layers bit-exact (%s)%s\n", passed, kinds.c_str(),
              chain ? ", chained from the image" : "");
  top->final();
  return 0;
}
