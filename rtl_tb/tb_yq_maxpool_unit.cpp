// Unit bench of rtl/yq_maxpool_unit.v: the maximum of the in-image lanes
// (docs/ARITHMETIC.md section 5, Max-pool: padding never wins), or
// arith::min_code(W) when every lane is padding. Parameters come from the
// Makefile as -DP_<NAME>=<value>. Random lanes and masks (fixed seed), edge
// codes, ties, all-padding and all-inside masks; latency 1 checked.
#include <deque>
#include <memory>
#include <vector>

#include "Vyq_maxpool_unit.h"
#include "tb_common.hpp"

namespace {

constexpr int kN = P_N, kW = P_W;
constexpr int kLatency = 1;
constexpr long kVectors = 200000;

struct Pending {
  std::vector<std::int64_t> lanes;
  std::uint64_t mask;
  std::int64_t expected;
  long due;
};

}  // namespace

int main(int argc, char** argv) {
  auto context = std::make_unique<VerilatedContext>();
  context->commandArgs(argc, argv);
  auto top = std::make_unique<Vyq_maxpool_unit>(context.get());
  tb::Rng rng(0x5EED0005u + static_cast<unsigned>(kN * 64 + kW));

  tb::reset(*top);

  std::deque<Pending> pending;
  long issued = 0, checked = 0, cycle = 0;
  while (checked < kVectors) {
    const bool send = issued < kVectors && rng.chance(85);
    std::vector<std::int64_t> lanes(kN);
    const int mode = static_cast<int>(rng.range(0, 3));
    for (auto& lane : lanes) {
      lane = mode == 0 ? rng.edge_code(kW) : (mode == 1 ? rng.range(-2, 2) : rng.code(kW));
    }
    const std::uint64_t all = tb::low_mask(kN);
    const std::uint64_t mask = rng.chance(40) ? all : (rng.chance(5) ? 0 : rng.ucode(kN));
    std::int64_t expected = yq::arith::min_code(kW);
    for (int i = 0; i < kN; ++i) {
      if (((mask >> i) & 1) && lanes[static_cast<std::size_t>(i)] > expected) expected = lanes[static_cast<std::size_t>(i)];
      tb::set_bits(top->in_vec, i * kW, kW, static_cast<std::uint64_t>(lanes[static_cast<std::size_t>(i)]));
    }
    tb::set_bits(top->mask, 0, kN, mask);
    top->in_valid = send;
    if (send) {
      pending.push_back({lanes, mask, expected, cycle + kLatency});
      ++issued;
    }
    tb::tick(*top);
    ++cycle;
    if (const auto due = tb::take_due(pending, top->out_valid, cycle, "yq_maxpool_unit")) {
      const Pending& p = *due;
      const std::int64_t got = tb::sign_extend(tb::get_bits(top->out, 0, kW), kW);
      if (got != p.expected) {
        std::string lanes_text;
        for (std::int64_t lane : p.lanes) lanes_text += " " + std::to_string(lane);
        tb::fail("yq_maxpool_unit", "N=%d W=%d: lanes [%s ] mask 0x%llx: expected %lld, got %lld", kN, kW,
                 lanes_text.c_str(), static_cast<unsigned long long>(p.mask), static_cast<long long>(p.expected),
                 static_cast<long long>(got));
      }
      ++checked;
    }
  }
  top->final();
  std::printf("PASS yq_maxpool_unit N=%d W=%d: %ld vectors\n", kN, kW, checked);
  return 0;
}
