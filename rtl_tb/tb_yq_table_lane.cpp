// Unit bench of rtl/yq_table_lane.v: half 0 loaded with random entries, one
// a cycle; then half 1 loaded while the lane reads half 0 (as yq_top loads
// the next layer's table during a layer); then every entry of both halves
// read in random order. A read of entry a of half h (address h * DEPTH + a)
// gives data0 = entry a one cycle later, and with KNOTS = 1 data1 = entry
// a + 1 of the same half (the knot after it: the lane's even and odd banks).
// A DEPTH of 2^k + 1 keeps the last knot in a register (the 4,097 knots of a
// 16-bit pre-activation's table in banks of 2,048 entries a half); other
// depths, even or odd, keep every entry in the banks.
// Parameters as -DP_<NAME>: DEPTH, W, KNOTS (URAM only picks the memory style).
#include <memory>
#include <vector>

#include "Vyq_table_lane.h"
#include "tb_common.hpp"

namespace {

constexpr int kDepth = P_DEPTH, kW = P_W, kKnots = P_KNOTS;

struct Lane {
  Vyq_table_lane& top;
  std::vector<std::uint64_t> halves[2];

  // One cycle: an optional write, and a read of entry `entry` of half
  // `half`, checked against the tables.
  void cycle(bool write, int write_half, int write_entry, int half, int entry) {
    top.we = write;
    top.whalf = write_half;
    top.waddr = static_cast<std::uint32_t>(write_entry);
    top.wdata = static_cast<std::uint32_t>(write ? halves[write_half][write_entry] : 0);
    top.addr = static_cast<std::uint32_t>(half * kDepth + entry);
    tb::tick(top);
    const std::uint64_t data0 = tb::get_bits(top.data0, 0, kW), data1 = tb::get_bits(top.data1, 0, kW);
    if (data0 != halves[half][entry]) {
      tb::fail("yq_table_lane", "DEPTH=%d KNOTS=%d: half %d entry %d: data0 %llu, expected %llu", kDepth, kKnots, half,
               entry, static_cast<unsigned long long>(data0), static_cast<unsigned long long>(halves[half][entry]));
    }
    if (kKnots != 0 && data1 != halves[half][entry + 1]) {
      tb::fail("yq_table_lane", "DEPTH=%d KNOTS=%d: half %d entry %d: data1 %llu, expected entry %d's %llu", kDepth,
               kKnots, half, entry, static_cast<unsigned long long>(data1), entry + 1,
               static_cast<unsigned long long>(halves[half][entry + 1]));
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  auto context = std::make_unique<VerilatedContext>();
  context->commandArgs(argc, argv);
  auto top = std::make_unique<Vyq_table_lane>(context.get());
  tb::Rng rng(0x5EED0010u + static_cast<unsigned>(kDepth * 4 + kKnots));
  Lane lane{*top, {}};
  for (auto& half : lane.halves) {
    for (int e = 0; e < kDepth; ++e) half.push_back(rng.ucode(kW));
  }
  const int last_read = kKnots != 0 ? kDepth - 2 : kDepth - 1;  // a knot read also reads the next
  top->clk = 0;
  top->we = 0;
  top->addr = 0;
  top->eval();

  // Half 0 (the first reads are of half 1's entry 0, whatever it holds: not checked).
  for (int e = 0; e < kDepth; ++e) {
    top->we = 1;
    top->whalf = 0;
    top->waddr = static_cast<std::uint32_t>(e);
    top->wdata = static_cast<std::uint32_t>(lane.halves[0][e]);
    tb::tick(*top);
  }
  long reads = 0;
  // Half 1 while half 0 is read; then both halves, every entry, in random order.
  for (int e = 0; e < kDepth; ++e, ++reads) lane.cycle(true, 1, e, 0, static_cast<int>(rng.range(0, last_read)));
  std::vector<std::pair<int, int>> entries;
  for (int half = 0; half < 2; ++half) {
    for (int e = 0; e <= last_read; ++e) entries.push_back({half, e});
  }
  for (size_t i = entries.size(); i > 1; --i) std::swap(entries[i - 1], entries[static_cast<size_t>(rng.range(0, static_cast<std::int64_t>(i) - 1))]);
  for (const auto& [half, e] : entries) {
    lane.cycle(false, 0, 0, half, e);
    ++reads;
  }
  top->final();
  std::printf("PASS yq_table_lane DEPTH=%d W=%d KNOTS=%d: %ld reads\n", kDepth, kW, kKnots, reads);
  return 0;
}
