// Unit bench of rtl/yq_mac_array.v: every accumulator of every finished sum
// against bias[c] + sum a[r] * w[c] (a_hi[r] in the upper half of the
// columns, c >= COLS/2) formed in 64 bits and wrapped to ACC_W
// bits (two's complement, what the array's adders do; the overflow
// certificate of docs/ARITHMETIC.md keeps real models inside the range).
// Parameters come from the Makefile as -DP_<NAME>=<value>.
// Sums of random length (1 .. 300 terms), back to back or with idle cycles
// inside and between them, codes biased to the edges (min * min is the
// largest product); out_valid must come 2 cycles after the last term.
#include <deque>
#include <memory>
#include <vector>

#include "Vyq_mac_array.h"
#include "tb_common.hpp"

namespace {

constexpr int kRows = P_ROWS, kCols = P_COLS, kAW = P_A_W, kWW = P_W_W, kAccW = P_ACC_W;
constexpr int kLatency = 2;
constexpr long kSums = 3000;

struct Sum {
  std::vector<std::int64_t> acc;  // expected, kRows * kCols, wrapped
  long terms;
  long due;
};

}  // namespace

int main(int argc, char** argv) {
  auto context = std::make_unique<VerilatedContext>();
  context->commandArgs(argc, argv);
  auto top = std::make_unique<Vyq_mac_array>(context.get());
  tb::Rng rng(0x5EED0003u + static_cast<unsigned>(kRows * 100000 + kCols * 1000 + kAW * 64 + kWW * 4 + kAccW));

  top->in_first = 0;
  top->in_last = 0;
  tb::reset(*top);

  std::deque<Sum> pending;
  long started = 0, checked = 0, cycle = 0, total_terms = 0;
  std::vector<std::int64_t> sum(kRows * kCols);
  std::vector<std::int64_t> a(kRows), a_hi(kRows), w(kCols), bias(kCols);
  long terms_left = 0, terms_in_sum = 0;

  auto check_output = [&]() {
    if (top->out_valid) {
      if (pending.empty()) tb::fail("yq_mac_array", "out_valid without a finished sum (cycle %ld)", cycle);
      const Sum s = pending.front();
      pending.pop_front();
      if (s.due != cycle) tb::fail("yq_mac_array", "latency: out_valid at cycle %ld, expected at %ld", cycle, s.due);
      for (int r = 0; r < kRows; ++r) {
        for (int c = 0; c < kCols; ++c) {
          const int i = r * kCols + c;
          const std::int64_t got = tb::sign_extend(tb::get_bits(top->acc_out, i * kAccW, kAccW), kAccW);
          if (got != s.acc[static_cast<std::size_t>(i)]) {
            tb::fail("yq_mac_array",
                     "ROWS=%d COLS=%d A_W=%d W_W=%d ACC_W=%d: sum %ld (%ld terms), acc[%d][%d]: expected %lld, got %lld",
                     kRows, kCols, kAW, kWW, kAccW, checked, s.terms, r, c,
                     static_cast<long long>(s.acc[static_cast<std::size_t>(i)]), static_cast<long long>(got));
          }
        }
      }
      ++checked;
    } else if (!pending.empty() && pending.front().due <= cycle) {
      tb::fail("yq_mac_array", "no out_valid at cycle %ld", cycle);
    }
  };

  int edge_percent = 20;
  while (checked < kSums) {
    const bool can_send = started < kSums || terms_left > 0;
    const bool send = can_send && rng.chance(terms_left > 0 ? 90 : 70);
    top->in_valid = send;
    top->in_first = 0;
    top->in_last = 0;
    // Idle cycles carry garbage (and stray first/last flags) that must be ignored.
    for (int r = 0; r < kRows; ++r) tb::set_bits(top->a_vec, r * kAW, kAW, rng.ucode(kAW));
    for (int r = 0; r < kRows; ++r) tb::set_bits(top->a_hi_vec, r * kAW, kAW, rng.ucode(kAW));
    for (int c = 0; c < kCols; ++c) tb::set_bits(top->w_vec, c * kWW, kWW, rng.ucode(kWW));
    if (!send) {
      top->in_first = rng.chance(10);
      top->in_last = rng.chance(10);
    } else {
      if (terms_left == 0) {  // a new sum
        terms_left = rng.chance(10) ? 1 : (rng.chance(10) ? rng.range(100, 300) : rng.range(2, 40));
        terms_in_sum = terms_left;
        edge_percent = static_cast<int>(rng.range(0, 3)) * 30;
        for (int c = 0; c < kCols; ++c) {
          bias[static_cast<std::size_t>(c)] = rng.chance(30) ? rng.edge_code(kAccW) : rng.range(-1000, 1000);
          tb::set_bits(top->bias_vec, c * kAccW, kAccW, static_cast<std::uint64_t>(bias[static_cast<std::size_t>(c)]));
        }
        for (int r = 0; r < kRows; ++r) {
          for (int c = 0; c < kCols; ++c) sum[static_cast<std::size_t>(r * kCols + c)] = bias[static_cast<std::size_t>(c)];
        }
        top->in_first = 1;
        ++started;
      } else {
        for (int c = 0; c < kCols; ++c) tb::set_bits(top->bias_vec, c * kAccW, kAccW, rng.ucode(kAccW));
      }
      for (int r = 0; r < kRows; ++r) {
        a[static_cast<std::size_t>(r)] = rng.chance(edge_percent) ? rng.edge_code(kAW) : rng.code(kAW);
        tb::set_bits(top->a_vec, r * kAW, kAW, static_cast<std::uint64_t>(a[static_cast<std::size_t>(r)]));
        a_hi[static_cast<std::size_t>(r)] = rng.chance(edge_percent) ? rng.edge_code(kAW) : rng.code(kAW);
        tb::set_bits(top->a_hi_vec, r * kAW, kAW, static_cast<std::uint64_t>(a_hi[static_cast<std::size_t>(r)]));
      }
      for (int c = 0; c < kCols; ++c) {
        w[static_cast<std::size_t>(c)] = rng.chance(edge_percent) ? rng.edge_code(kWW) : rng.code(kWW);
        tb::set_bits(top->w_vec, c * kWW, kWW, static_cast<std::uint64_t>(w[static_cast<std::size_t>(c)]));
      }
      for (int r = 0; r < kRows; ++r) {
        for (int c = 0; c < kCols; ++c) {
          std::int64_t& s = sum[static_cast<std::size_t>(r * kCols + c)];
          const std::int64_t act = (c >= kCols / 2 ? a_hi : a)[static_cast<std::size_t>(r)];
          s = tb::sign_extend(static_cast<std::uint64_t>(s + act * w[static_cast<std::size_t>(c)]), kAccW);
        }
      }
      ++total_terms;
      if (--terms_left == 0) {
        top->in_last = 1;
        pending.push_back({sum, terms_in_sum, cycle + kLatency});
      }
    }
    tb::tick(*top);
    ++cycle;
    check_output();
  }
  top->final();
  std::printf("PASS yq_mac_array ROWS=%d COLS=%d A_W=%d W_W=%d ACC_W=%d: %ld sums, %ld terms, %ld accumulators checked\n",
              kRows, kCols, kAW, kWW, kAccW, checked, total_terms, checked * kRows * kCols);
  return 0;
}
