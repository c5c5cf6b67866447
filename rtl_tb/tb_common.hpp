// Shared helpers of the yq-hw RTL unit benches (Verilator C++ harnesses):
// bit access to ports of any width, sign extension, a seeded random source,
// the clock, the failure report, and the files a whole-run bench reads. The expected values come from
// compiler/ref/arithmetic.hpp (docs/ARITHMETIC.md), included here.
#pragma once
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>

#include <verilated.h>

#include "compiler/ref/arithmetic.hpp"

namespace tb {

// The whole text of a file, or nothing when it cannot be read.
inline std::optional<std::string> file_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every `localparam integer NAME = value;` of a Verilog header's text.
inline std::map<std::string, long long> integer_localparams(const std::string& text) {
  std::map<std::string, long long> params;
  const std::regex line(R"(localparam\s+integer\s+(\w+)\s*=\s*(-?\d+)\s*;)");
  for (std::sregex_iterator it(text.begin(), text.end(), line), end; it != end; ++it) {
    params[(*it)[1]] = std::stoll((*it)[2]);
  }
  return params;
}

inline std::uint64_t low_mask(int width) {
  return width >= 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << width) - 1);
}

// Interprets the low `width` bits of `value` as a two's-complement number.
inline std::int64_t sign_extend(std::uint64_t value, int width) {
  value &= low_mask(width);
  if (width < 64 && ((value >> (width - 1)) & 1)) value |= ~low_mask(width);
  return static_cast<std::int64_t>(value);
}

// Writes `width` (<= 64) bits of `value` at bit `lsb` of a port. Verilator
// maps ports of <= 8/16/32/64 bits to integers and wider ones to VlWide.
template <typename T>
inline void set_bits(T& port, int lsb, int width, std::uint64_t value) {
  const std::uint64_t mask = low_mask(width) << lsb;
  const std::uint64_t word = (static_cast<std::uint64_t>(port) & ~mask) | ((value << lsb) & mask);
  port = static_cast<T>(word);
}
template <std::size_t N>
inline void set_bits(VlWide<N>& port, int lsb, int width, std::uint64_t value) {
  for (int i = 0; i < width; ++i) {
    const int bit = lsb + i;
    EData& word = port.at(static_cast<std::size_t>(bit / 32));
    const EData one = EData{1} << (bit % 32);
    word = ((value >> i) & 1) ? (word | one) : (word & ~one);
  }
}

// Reads `width` (<= 64) bits at bit `lsb` of a port, unsigned.
template <typename T>
inline std::uint64_t get_bits(const T& port, int lsb, int width) {
  return (static_cast<std::uint64_t>(port) >> lsb) & low_mask(width);
}
template <std::size_t N>
inline std::uint64_t get_bits(const VlWide<N>& port, int lsb, int width) {
  std::uint64_t value = 0;
  for (int i = 0; i < width; ++i) {
    const int bit = lsb + i;
    value |= static_cast<std::uint64_t>((port.at(static_cast<std::size_t>(bit / 32)) >> (bit % 32)) & 1) << i;
  }
  return value;
}

// Seeded random source (std::mt19937_64 is the same on every platform).
struct Rng {
  explicit Rng(std::uint64_t seed) : gen(seed) {}
  std::mt19937_64 gen;
  std::int64_t range(std::int64_t lo, std::int64_t hi) {  // inclusive
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(gen);
  }
  bool chance(int percent) { return range(0, 99) < percent; }
  std::int64_t code(int bits) { return range(yq::arith::min_code(bits), yq::arith::max_code(bits)); }
  std::uint64_t ucode(int bits) { return static_cast<std::uint64_t>(range(0, static_cast<std::int64_t>(low_mask(bits)))); }
  // A signed code biased toward the edges: min, max, -1, 0, 1 or small.
  std::int64_t edge_code(int bits) {
    switch (range(0, 7)) {
      case 0: return yq::arith::min_code(bits);
      case 1: return yq::arith::max_code(bits);
      case 2: return yq::arith::min_code(bits) + range(0, 3);
      case 3: return yq::arith::max_code(bits) - range(0, 3);
      case 4: return range(-3, 3);
      default: return code(bits);
    }
  }
};

// One rising edge: the design samples the inputs set before the call; the
// outputs read after it are the new register values.
template <typename Top>
inline void tick(Top& top) {
  top.clk = 1;
  top.eval();
  top.clk = 0;
  top.eval();
}

// Reset for one rising edge with in_valid low.
template <typename Top>
inline void reset(Top& top) {
  top.clk = 0;
  top.rst = 1;
  top.in_valid = 0;
  top.eval();
  tick(top);
  top.rst = 0;
}

[[noreturn]] inline void fail(const char* unit, const char* format, ...) {
  std::fprintf(stderr, "FAIL %s: ", unit);
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fprintf(stderr, "\n");
  std::exit(1);
}

// Requests queued behind busy ones, for the AXI master benches: a random gap
// of 0-3 cycles before each start, the requests taken while busy, and the
// SLVERR ones taken since the last done (error must be high at a done
// exactly when there was one).
struct QueuedRequests {
  int taken_while_busy = 0, poisoned = 0;
  bool poisoned_since_done = false;
  int gap = 0;

  bool may_start() const { return gap == 0; }
  // A cycle: a request started (with busy as it was, and whether it touches
  // the SLVERR range), or the gap shrinks.
  void count_cycle(bool started, bool busy, bool request_poisoned, Rng& rng) {
    if (!started) {
      if (gap > 0) --gap;
      return;
    }
    taken_while_busy += busy;
    poisoned += request_poisoned;
    poisoned_since_done |= request_poisoned;
    gap = static_cast<int>(rng.range(0, 3));
  }
  void check_done(const char* bench, int group, bool error) {
    if (error != poisoned_since_done) {
      fail(bench, "group %d: error %d, the requests since the last done %s the SLVERR range", group, error,
           poisoned_since_done ? "touch" : "miss");
    }
    poisoned_since_done = false;
  }
};

// The output check of a pipelined unit, after each tick: with out_valid the
// oldest pending input (a struct with a `due` cycle) must be due exactly now
// and is returned; without it, no input may be overdue.
template <typename Pending>
inline std::optional<Pending> take_due(std::deque<Pending>& pending, bool out_valid, long cycle, const char* unit) {
  if (!out_valid) {
    if (!pending.empty() && pending.front().due <= cycle) {
      fail(unit, "no output at cycle %ld for the input due then", cycle);
    }
    return std::nullopt;
  }
  if (pending.empty()) fail(unit, "out_valid without an input (cycle %ld)", cycle);
  const Pending p = pending.front();
  pending.pop_front();
  if (p.due != cycle) fail(unit, "latency: output at cycle %ld, expected at %ld", cycle, p.due);
  return p;
}

}  // namespace tb
