// Unit bench of rtl/yq_requant.v against arith::requantize
// (docs/ARITHMETIC.md section 3). Parameters come from the Makefile as
// -DP_<NAME>=<value>, the same values as the Verilator -G<NAME>=<value>.
// Vectors: exhaustive when the input space is small, else random (fixed
// seed) mixed with edge cases: exact .5 fractions of negative and positive
// values, saturation at both ends, shift 0, the maximum shift. One input per
// cycle with random idle cycles; the latency (2) is checked too. A bench with
// a shift window (SHIFT_MIN, SHIFT_MAX) sends shifts inside it only.
#include <algorithm>
#include <deque>
#include <memory>

#include "Vyq_requant.h"
#include "tb_common.hpp"

namespace {

constexpr int kAccW = P_ACC_W, kMultW = P_MULT_W, kShiftW = P_SHIFT_W, kOutW = P_OUT_W;
constexpr int kLatency = 2;
constexpr long kRandomVectors = 200000;
#ifdef P_SHIFT_MIN
constexpr int kMinShift = P_SHIFT_MIN, kWindowMax = P_SHIFT_MAX;
#else
constexpr int kMinShift = 0, kWindowMax = 62;
#endif
// Beyond 62 the C++ reference leaves its domain (docs/ARITHMETIC.md: S <= 62).
constexpr int kMaxShift = std::min({(1 << kShiftW) - 1, 62, kWindowMax});
static_assert(kAccW + kMultW <= 63, "the reference forms acc * mult in 64 bits");

struct Vector {
  std::int64_t acc, mult;
  int shift;
};

struct Pending {
  Vector in;
  std::int64_t expected;
  long due;  // cycle at which out_valid must show it
};

Vector random_vector(tb::Rng& rng) {
  using namespace yq::arith;
  const std::int64_t mult_max = static_cast<std::int64_t>(tb::low_mask(kMultW));
  Vector v{rng.code(kAccW), rng.range(0, mult_max), static_cast<int>(rng.range(0, kMaxShift))};
  switch (rng.range(0, 9)) {
    case 0: {  // exact .5 fraction: acc * mult = k * 2^s + 2^(s-1), k of either sign
      const int j = static_cast<int>(rng.range(0, kMultW - 1));
      const int t = static_cast<int>(rng.range(1, kAccW - 2));
      const std::int64_t k = rng.range(min_code(kAccW - t), max_code(kAccW - t) - 1);
      v.mult = std::int64_t{1} << j;
      v.acc = k * (std::int64_t{1} << t) + (std::int64_t{1} << (t - 1));
      v.shift = j + t <= kMaxShift ? j + t : kMaxShift;
      break;
    }
    case 1:  // saturation at both ends
      v.acc = rng.chance(50) ? max_code(kAccW) - rng.range(0, 3) : min_code(kAccW) + rng.range(0, 3);
      v.mult = mult_max - rng.range(0, 3);
      v.shift = static_cast<int>(rng.range(0, kMaxShift < 8 ? kMaxShift : 8));
      break;
    case 2:  // around the output bounds: acc * mult ~ (bound + d) * 2^s
    {
      v.mult = rng.range(1, mult_max);
      v.shift = static_cast<int>(rng.range(0, kMaxShift < kAccW - kOutW ? kMaxShift : kAccW - kOutW));
      const std::int64_t bound = rng.chance(50) ? max_code(kOutW) : min_code(kOutW);
      const std::int64_t target = (bound + rng.range(-2, 2)) * (std::int64_t{1} << v.shift) + rng.range(-2, 2);
      v.acc = saturate(target / v.mult + rng.range(-1, 1), kAccW);
      break;
    }
    case 3: v.shift = 0; break;
    case 4: v.shift = kMaxShift; break;
    case 5: v.acc = rng.edge_code(kAccW); break;
    case 6: v.acc = rng.range(-1000, 1000); v.shift = static_cast<int>(rng.range(0, 12 < kMaxShift ? 12 : kMaxShift)); break;
    default: break;
  }
  v.shift = std::clamp(v.shift, kMinShift, kMaxShift);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  auto context = std::make_unique<VerilatedContext>();
  context->commandArgs(argc, argv);
  auto top = std::make_unique<Vyq_requant>(context.get());

  // Exhaustive when small enough, else random.
  const int space_bits = kAccW + kMultW + kShiftW;
  const bool exhaustive = space_bits <= 20;
  const long total = exhaustive ? (1L << space_bits) : kRandomVectors;
  tb::Rng rng(0x5EED0001u + static_cast<unsigned>(kAccW * 4096 + kMultW * 64 + kOutW));

  tb::reset(*top);

  std::deque<Pending> pending;
  long issued = 0, checked = 0, cycle = 0;
  while (checked < total) {
    const bool send = issued < total && rng.chance(85);
    if (send) {
      Vector v;
      if (exhaustive) {
        const long i = issued;
        v.acc = tb::sign_extend(static_cast<std::uint64_t>(i), kAccW);
        v.mult = (i >> kAccW) & static_cast<long>(tb::low_mask(kMultW));
        v.shift = std::clamp(static_cast<int>((i >> (kAccW + kMultW)) & static_cast<long>(tb::low_mask(kShiftW))),
                             kMinShift, (1 << kShiftW) - 1 < kWindowMax ? (1 << kShiftW) - 1 : kWindowMax);
      } else {
        v = random_vector(rng);
      }
      top->in_valid = 1;
      tb::set_bits(top->acc, 0, kAccW, static_cast<std::uint64_t>(v.acc));
      tb::set_bits(top->mult, 0, kMultW, static_cast<std::uint64_t>(v.mult));
      tb::set_bits(top->shift, 0, kShiftW, static_cast<std::uint64_t>(v.shift));
      // Exhaustive mode also covers shifts beyond 62 only when SHIFT_W <= 6,
      // where the 64-bit reference is still exact for these widths.
      pending.push_back({v, yq::arith::requantize(v.acc, v.mult, v.shift, kOutW), cycle + kLatency});
      ++issued;
    } else {
      top->in_valid = 0;
      tb::set_bits(top->acc, 0, kAccW, rng.ucode(kAccW));  // garbage while idle
    }
    tb::tick(*top);
    ++cycle;
    if (const auto due = tb::take_due(pending, top->out_valid, cycle, "yq_requant")) {
      const Pending& p = *due;
      const std::int64_t got = tb::sign_extend(tb::get_bits(top->out, 0, kOutW), kOutW);
      if (got != p.expected) {
        tb::fail("yq_requant",
                 "ACC_W=%d MULT_W=%d SHIFT_W=%d OUT_W=%d: acc=%lld mult=%lld shift=%d: expected %lld, got %lld",
                 kAccW, kMultW, kShiftW, kOutW, static_cast<long long>(p.in.acc),
                 static_cast<long long>(p.in.mult), p.in.shift, static_cast<long long>(p.expected),
                 static_cast<long long>(got));
      }
      ++checked;
    }
  }
  top->final();
  std::printf("PASS yq_requant ACC_W=%d MULT_W=%d SHIFT_W=%d OUT_W=%d shifts %d..%d: %ld vectors%s\n", kAccW, kMultW,
              kShiftW, kOutW, kMinShift, kMaxShift, checked, exhaustive ? " (exhaustive)" : "");
  return 0;
}
