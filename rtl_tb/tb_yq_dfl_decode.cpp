// Unit bench of rtl/yq_dfl_decode.v against the integer head's box and score
// (compiler/ref/head_arithmetic.hpp: arith::dfl_distance, anchor_centre and
// table_value, the functions compiler/ref/int_head.cpp runs). Parameters from
// the Makefile as -DP_<NAME>, the same as Verilator's -G.
// The bench owns the two tables (synchronous ROMs: data one cycle after the
// address; reads past a table's end return garbage, which must not matter).
// Tables: as the compiler builds them (EXP[d] = round(2^15 exp(-d scale))
// up to its first 0, the sigmoid in 2^-16 on the knots of section 6) for
// random scales, and random ones (any EXP[0] > 0, any depth, non-monotone
// sigmoid knots) for the arithmetic's corners. Anchors: random bins, all
// bins equal, one dominant bin (the others beyond the exp table), bins at
// both code ends, the largest cell and stride. Each output must come exactly
// at the documented latency; on a difference the first divergence is printed.
#include <cmath>
#include <memory>
#include <vector>

#include "Vyq_dfl_decode.h"
#include "compiler/ref/head_arithmetic.hpp"
#include "tb_common.hpp"

namespace {

constexpr int kBinW = P_BIN_W, kRegMax = P_REG_MAX, kLogitW = P_LOGIT_W, kKnotW = P_KNOT_W, kCellW = P_CELL_W,
              kStrideW = P_STRIDE_W;
constexpr int kValueBits = 16;
constexpr long kAnchors = 6000;
constexpr int kIdxW = [] { int b = 0; while ((1 << b) < kRegMax) ++b; return b; }();
constexpr int kQuotientW = kIdxW + kStrideW + yq::kBoxFractionBits;
constexpr long kLatency = 4L * (kRegMax + kQuotientW + 4) + 6;

struct Tables {
  std::vector<std::int64_t> exp_values;  // 1 .. 2^BIN_W entries
  std::vector<std::int64_t> sigmoid;     // 2^KNOT_W entries (+1 when interpolated)
};

Tables make_tables(tb::Rng& rng) {
  Tables t;
  const bool realistic = rng.chance(60);
  const double scale = std::ldexp(static_cast<double>(rng.range(1, 4000)) / 1000.0, 4 - kBinW);
  for (std::int64_t d = 0; d < (std::int64_t{1} << kBinW); ++d) {
    if (realistic) {
      const long long v = std::llround(std::ldexp(std::exp(-d * scale), 15));
      if (v == 0) break;
      t.exp_values.push_back(v);
    } else {
      t.exp_values.push_back(d == 0 ? rng.range(1, (1 << kValueBits) - 1) : rng.range(0, (1 << kValueBits) - 1));
      if (rng.chance(2)) break;
    }
  }
  const int step = kLogitW - kKnotW;
  const std::int64_t knots = (std::int64_t{1} << kKnotW) + (step > 0 ? 1 : 0);
  const double logit_scale = std::ldexp(static_cast<double>(rng.range(1, 3000)) / 100.0, 1 - kLogitW);
  for (std::int64_t i = 0; i < knots; ++i) {
    const std::int64_t code = yq::arith::min_code(kLogitW) + (i << step);
    if (realistic) {
      const double s = 1.0 / (1.0 + std::exp(-code * logit_scale));
      t.sigmoid.push_back(std::min<long long>(std::llround(std::ldexp(s, 16)), 65535));
    } else {
      t.sigmoid.push_back(rng.range(0, (1 << kValueBits) - 1));
    }
  }
  return t;
}

struct Anchor {
  std::int32_t bins[4 * kRegMax];
  std::int32_t logit;
  int x, y, stride;
};

Anchor random_anchor(tb::Rng& rng) {
  using namespace yq::arith;
  Anchor a;
  const int pattern = static_cast<int>(rng.range(0, 6));
  for (int side = 0; side < 4; ++side) {
    const std::int64_t level = rng.code(kBinW);
    const int peak = static_cast<int>(rng.range(0, kRegMax - 1));
    for (int j = 0; j < kRegMax; ++j) {
      std::int64_t code = rng.code(kBinW);
      if (pattern == 0) code = level;                                                          // all equal
      if (pattern == 1) code = j == peak ? max_code(kBinW) : min_code(kBinW);                  // one dominant bin
      if (pattern == 2) code = rng.edge_code(kBinW);
      if (pattern == 3) code = saturate(level + rng.range(-3, 3), kBinW);                      // a narrow spread
      a.bins[side * kRegMax + j] = static_cast<std::int32_t>(code);
    }
  }
  a.logit = static_cast<std::int32_t>(rng.chance(30) ? rng.edge_code(kLogitW) : rng.code(kLogitW));
  const std::int64_t max_cell = (std::int64_t{1} << (kCellW < 10 ? kCellW : 10)) - 1;
  a.x = static_cast<int>(rng.chance(10) ? max_cell : rng.range(0, max_cell));
  a.y = static_cast<int>(rng.chance(10) ? max_cell : rng.range(0, max_cell));
  a.stride = static_cast<int>(rng.chance(20) ? (1 << kStrideW) - 1 : rng.range(1, (1 << kStrideW) - 1));
  return a;
}

struct Expected {
  std::int64_t x1, y1, x2, y2, score;
};

Expected reference(const Anchor& a, const Tables& t) {
  using namespace yq::arith;
  std::int64_t d[4];
  for (int side = 0; side < 4; ++side) {
    d[side] = dfl_distance(&a.bins[side * kRegMax], kRegMax, 1, t.exp_values,
                           static_cast<std::int64_t>(t.exp_values.size()), a.stride);
  }
  const std::int64_t cx = anchor_centre(a.x, a.stride), cy = anchor_centre(a.y, a.stride);
  return {cx - d[0], cy - d[1], cx + d[2], cy + d[3], table_value(t.sigmoid, a.logit, kLogitW, kKnotW)};
}

}  // namespace

int main(int argc, char** argv) {
  auto context = std::make_unique<VerilatedContext>();
  context->commandArgs(argc, argv);
  auto top = std::make_unique<Vyq_dfl_decode>(context.get());
  tb::Rng rng(0xDF1D0001u + static_cast<unsigned>(kBinW * 4096 + kLogitW * 64 + kKnotW));
  tb::reset(*top);

  Tables tables = make_tables(rng);
  // One cycle with the ROMs: they see the addresses of before the edge.
  auto cycle = [&]() {
    const std::uint64_t exp_addr = tb::get_bits(top->exp_addr, 0, kBinW);
    const std::uint64_t sig_addr = tb::get_bits(top->sig_addr, 0, kKnotW + 1);
    tb::tick(*top);
    tb::set_bits(top->exp_data, 0, kValueBits,
                 static_cast<std::uint64_t>(exp_addr < tables.exp_values.size() ? tables.exp_values[exp_addr]
                                                                                : rng.range(0, 65535)));
    tb::set_bits(top->sig_data, 0, kValueBits,
                 static_cast<std::uint64_t>(sig_addr < tables.sigmoid.size() ? tables.sigmoid[sig_addr]
                                                                             : rng.range(0, 65535)));
    top->eval();
  };

  long checked = 0, busy_cycles = 0;
  for (long n = 0; n < kAnchors; ++n) {
    if (n % 50 == 0) tables = make_tables(rng);
    const Anchor a = random_anchor(rng);
    while (rng.chance(30)) cycle();
    if (!top->in_ready) tb::fail("yq_dfl_decode", "not ready between anchors (anchor %ld)", n);
    for (int i = 0; i < 4 * kRegMax; ++i) {
      tb::set_bits(top->dfl_codes, i * kBinW, kBinW, static_cast<std::uint64_t>(a.bins[i]));
    }
    tb::set_bits(top->best_logit, 0, kLogitW, static_cast<std::uint64_t>(a.logit));
    tb::set_bits(top->cell_x, 0, kCellW, static_cast<std::uint64_t>(a.x));
    tb::set_bits(top->cell_y, 0, kCellW, static_cast<std::uint64_t>(a.y));
    tb::set_bits(top->stride, 0, kStrideW, static_cast<std::uint64_t>(a.stride));
    tb::set_bits(top->exp_depth, 0, kBinW + 1, tables.exp_values.size());
    top->in_valid = 1;
    cycle();
    top->in_valid = 0;
    long latency = 1;
    while (!top->out_valid) {
      if (latency > kLatency) tb::fail("yq_dfl_decode", "anchor %ld: no output after %ld cycles", n, latency);
      tb::set_bits(top->dfl_codes, 0, kBinW, rng.ucode(kBinW));  // inputs are latched: garbage now
      cycle();
      ++latency;
    }
    if (latency != kLatency) tb::fail("yq_dfl_decode", "anchor %ld: latency %ld, documented %ld", n, latency, kLatency);
    busy_cycles += latency;
    const Expected e = reference(a, tables);
    const std::int64_t got[5] = {tb::sign_extend(top->x1, 32), tb::sign_extend(top->y1, 32),
                                 tb::sign_extend(top->x2, 32), tb::sign_extend(top->y2, 32),
                                 static_cast<std::int64_t>(tb::sign_extend(top->score, 32))};
    const std::int64_t want[5] = {e.x1, e.y1, e.x2, e.y2, e.score};
    const char* names[5] = {"x1", "y1", "x2", "y2", "score"};
    for (int f = 0; f < 5; ++f) {
      if (got[f] != want[f]) {
        tb::fail("yq_dfl_decode",
                 "BIN_W=%d LOGIT_W=%d KNOT_W=%d: first divergence at anchor %ld (cell %d,%d stride %d logit %d, exp "
                 "depth %zu), field %s: expected %lld, got %lld",
                 kBinW, kLogitW, kKnotW, n, a.x, a.y, a.stride, a.logit, tables.exp_values.size(), names[f],
                 static_cast<long long>(want[f]), static_cast<long long>(got[f]));
      }
    }
    ++checked;
  }
  top->final();
  std::printf("PASS yq_dfl_decode BIN_W=%d REG_MAX=%d LOGIT_W=%d KNOT_W=%d STRIDE_W=%d: %ld anchors, %ld cycles each\n",
              kBinW, kRegMax, kLogitW, kKnotW, kStrideW, checked, busy_cycles / (checked ? checked : 1));
  return 0;
}
