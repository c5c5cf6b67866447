// Unit bench of rtl/yq_add_unit.v against
// saturate(rounding_shift(a * Ma + b * Mb, S), OUT_W) built from the
// functions of arith (docs/ARITHMETIC.md section 5, Add). Parameters come
// from the Makefile as -DP_<NAME>=<value>. Random vectors (fixed seed) mixed
// with edge cases: exact .5 fractions of negative and positive sums,
// saturation at both ends, shift 0 and the maximum shift; latency 3 checked.
#include <deque>
#include <memory>

#include "Vyq_add_unit.h"
#include "tb_common.hpp"

namespace {

constexpr int kAW = P_A_W, kBW = P_B_W, kMultW = P_MULT_W, kShiftW = P_SHIFT_W, kOutW = P_OUT_W;
constexpr int kLatency = 3;
constexpr long kRandomVectors = 200000;
constexpr int kMaxShift = ((1 << kShiftW) - 1) < 62 ? ((1 << kShiftW) - 1) : 62;
static_assert((kAW > kBW ? kAW : kBW) + kMultW + 1 <= 62, "the reference forms the sum in 64 bits");

struct Vector {
  std::int64_t a, b, ma, mb;
  int shift;
};

std::int64_t reference(const Vector& v) {
  using namespace yq::arith;
  return saturate(rounding_shift(v.a * v.ma + v.b * v.mb, v.shift), kOutW);
}

Vector random_vector(tb::Rng& rng) {
  using namespace yq::arith;
  const std::int64_t mult_max = static_cast<std::int64_t>(tb::low_mask(kMultW));
  Vector v{rng.code(kAW), rng.code(kBW), rng.range(0, mult_max), rng.range(0, mult_max),
           static_cast<int>(rng.range(0, kMaxShift))};
  switch (rng.range(0, 9)) {
    case 0: {  // exact .5: a*Ma + b = k * 2^S + 2^(S-1) with Mb = 1
      const int top_shift = kBW - 2 < kMaxShift ? kBW - 2 : kMaxShift;
      if (top_shift < 1) break;
      v.shift = static_cast<int>(rng.range(1, top_shift));
      v.mb = 1;
      const std::int64_t step = std::int64_t{1} << v.shift;
      const std::int64_t low = (v.a * v.ma) & (step - 1);  // (a*Ma) mod 2^S, non-negative
      std::int64_t b = step / 2 - low;                       // in (-2^(S-1), 2^(S-1)]
      b += step * rng.range(-1, 1);
      v.b = b >= min_code(kBW) && b <= max_code(kBW) ? b : step / 2 - low;
      break;
    }
    case 1: {  // saturation at both ends
      const bool high = rng.chance(50);
      v.a = high ? max_code(kAW) : min_code(kAW);
      v.b = high ? max_code(kBW) : min_code(kBW);
      v.ma = mult_max - rng.range(0, 3);
      v.mb = mult_max - rng.range(0, 3);
      v.shift = static_cast<int>(rng.range(0, kMaxShift < kMultW ? kMaxShift : kMultW));
      break;
    }
    case 2: v.shift = 0; break;
    case 3: v.shift = kMaxShift; break;
    case 4: v.a = rng.edge_code(kAW); v.b = rng.edge_code(kBW); break;
    case 5:  // typical residual add: multipliers with the top bit set, shift ~ MULT_W
      v.ma = rng.range(mult_max / 2 + 1, mult_max);
      v.mb = rng.range(mult_max / 2 + 1, mult_max);
      v.shift = kMultW - 1 + static_cast<int>(rng.range(-2, 2));
      if (v.shift < 0) v.shift = 0;
      if (v.shift > kMaxShift) v.shift = kMaxShift;
      break;
    default: break;
  }
  return v;
}

struct Pending {
  Vector in;
  std::int64_t expected;
  long due;
};

}  // namespace

int main(int argc, char** argv) {
  auto context = std::make_unique<VerilatedContext>();
  context->commandArgs(argc, argv);
  auto top = std::make_unique<Vyq_add_unit>(context.get());
  tb::Rng rng(0x5EED0004u + static_cast<unsigned>(kAW * 4096 + kBW * 256 + kMultW * 16 + kOutW));

  tb::reset(*top);

  std::deque<Pending> pending;
  long issued = 0, checked = 0, cycle = 0;
  while (checked < kRandomVectors) {
    const bool send = issued < kRandomVectors && rng.chance(85);
    const Vector v = random_vector(rng);  // garbage when not sent
    top->in_valid = send;
    tb::set_bits(top->a, 0, kAW, static_cast<std::uint64_t>(v.a));
    tb::set_bits(top->b, 0, kBW, static_cast<std::uint64_t>(v.b));
    tb::set_bits(top->mult_a, 0, kMultW, static_cast<std::uint64_t>(v.ma));
    tb::set_bits(top->mult_b, 0, kMultW, static_cast<std::uint64_t>(v.mb));
    tb::set_bits(top->shift, 0, kShiftW, static_cast<std::uint64_t>(v.shift));
    if (send) {
      pending.push_back({v, reference(v), cycle + kLatency});
      ++issued;
    }
    tb::tick(*top);
    ++cycle;
    if (const auto due = tb::take_due(pending, top->out_valid, cycle, "yq_add_unit")) {
      const Pending& p = *due;
      const std::int64_t got = tb::sign_extend(tb::get_bits(top->out, 0, kOutW), kOutW);
      if (got != p.expected) {
        tb::fail("yq_add_unit",
                 "A_W=%d B_W=%d MULT_W=%d SHIFT_W=%d OUT_W=%d: a=%lld Ma=%lld b=%lld Mb=%lld shift=%d: "
                 "expected %lld, got %lld",
                 kAW, kBW, kMultW, kShiftW, kOutW, static_cast<long long>(p.in.a), static_cast<long long>(p.in.ma),
                 static_cast<long long>(p.in.b), static_cast<long long>(p.in.mb), p.in.shift,
                 static_cast<long long>(p.expected), static_cast<long long>(got));
      }
      ++checked;
    }
  }
  top->final();
  std::printf("PASS yq_add_unit A_W=%d B_W=%d MULT_W=%d SHIFT_W=%d OUT_W=%d: %ld vectors\n", kAW, kBW, kMultW,
              kShiftW, kOutW, checked);
  return 0;
}
