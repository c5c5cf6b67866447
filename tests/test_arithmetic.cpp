// The arithmetic of docs/ARITHMETIC.md pinned down: its worked examples,
// rounding of negative values, saturation, (M, S) derivation over many orders
// of magnitude, table construction, add/concat alignment, and the overflow
// certificate on a constructed worst case.
#include "testing.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "compiler/ref/arithmetic.hpp"
#include "compiler/quant/lut_builder.hpp"
#include "compiler/ref/int_head.hpp"
#include "compiler/quant/quantizer.hpp"
#include "compiler/quant/requant_derivation.hpp"
#include "compiler/util/error.hpp"

using namespace yq;

TEST_CASE("arithmetic: rounding_shift rounds half toward +infinity (the table of section 2)") {
  CHECK(arith::rounding_shift(5, 1) == 3);
  CHECK(arith::rounding_shift(-5, 1) == -2);
  CHECK(arith::rounding_shift(-7, 1) == -3);
  CHECK(arith::rounding_shift(-6, 2) == -1);
  CHECK(arith::rounding_shift(1000, 4) == 63);
  CHECK(arith::rounding_shift(-1000, 4) == -62);
  CHECK(arith::rounding_shift(-1, 1) == 0);
  CHECK(arith::rounding_shift(-3, 1) == -1);
  CHECK(arith::rounding_shift(12345, 0) == 12345);
  for (std::int64_t v = -300; v <= 300; ++v) {
    for (int s = 1; s <= 5; ++s) {
      const double exact = std::ldexp(static_cast<double>(v), -s);
      CHECK(arith::rounding_shift(v, s) == static_cast<std::int64_t>(std::floor(exact + 0.5)));
    }
  }
}

TEST_CASE("arithmetic: saturation at both ends for 4..16 bits") {
  for (int bits = 4; bits <= 16; ++bits) {
    const std::int64_t hi = (std::int64_t{1} << (bits - 1)) - 1, lo = -(std::int64_t{1} << (bits - 1));
    CHECK(arith::saturate(hi + 1, bits) == hi);
    CHECK(arith::saturate(hi, bits) == hi);
    CHECK(arith::saturate(lo - 1, bits) == lo);
    CHECK(arith::saturate(lo, bits) == lo);
    CHECK(arith::saturate(std::int64_t{1} << 40, bits) == hi);
    CHECK(arith::saturate(-(std::int64_t{1} << 40), bits) == lo);
  }
  CHECK(arith::requantize(1 << 20, 1, 0, 8) == 127);
  CHECK(arith::requantize(-(1 << 20), 1, 0, 8) == -128);
}

TEST_CASE("arithmetic: the worked requantization example of section 3") {
  const Requant r = derive_requant(0.0123, ScaleForm::Multiplier, 16);
  CHECK(r.shift == 22);
  CHECK(r.multiplier == 51590);
  CHECK(arith::requantize(1000, r.multiplier, r.shift, 8) == 12);
}

TEST_CASE("arithmetic: multipliers are normalised and accurate over 30 orders of magnitude") {
  for (int multiplier_bits : {8, 16, 24, 31}) {
    for (double exponent = -40; exponent <= 6; exponent += 0.37) {
      const double ratio = std::exp2(exponent);
      if (ratio >= std::exp2(multiplier_bits - 1)) continue;
      CAPTURE(ratio);
      CAPTURE(multiplier_bits);
      const Requant r = derive_requant(ratio, ScaleForm::Multiplier, multiplier_bits);
      CHECK(r.multiplier < (std::int64_t{1} << multiplier_bits));
      CHECK(r.shift >= 0);
      CHECK(r.shift <= 62);
      if (r.shift < 62) CHECK(r.multiplier >= (std::int64_t{1} << (multiplier_bits - 1)));
      const double exact_multiplier = std::ldexp(ratio, r.shift);
      CHECK(std::abs(static_cast<double>(r.multiplier) - exact_multiplier) <= 0.5);
      if (r.shift < 62) CHECK(std::abs(r.multiplier / exact_multiplier - 1) <= std::ldexp(1.0, -multiplier_bits));
    }
  }
  CHECK_THROWS_AS(derive_requant(std::exp2(20), ScaleForm::Multiplier, 16), Error);
  CHECK_THROWS_AS(derive_requant(1e-30, ScaleForm::Multiplier, 16), Error);
  CHECK_THROWS_AS(derive_requant(0, ScaleForm::Multiplier, 16), Error);
}

TEST_CASE("arithmetic: power-of-two scales give shift-only requantization") {
  CHECK(derive_requant(std::exp2(-9), ScaleForm::PowerOfTwo, 16).multiplier == 1);
  CHECK(derive_requant(std::exp2(-9), ScaleForm::PowerOfTwo, 16).shift == 9);
  CHECK(derive_requant(4.0, ScaleForm::PowerOfTwo, 16).multiplier == 4);
  CHECK(derive_requant(4.0, ScaleForm::PowerOfTwo, 16).shift == 0);
  CHECK_THROWS_AS(derive_requant(0.3, ScaleForm::PowerOfTwo, 16), Error);
  CHECK(power_of_two_at_least(0.3) == 0.5);
  CHECK(power_of_two_at_least(0.25) == 0.25);
}

TEST_CASE("arithmetic: add aligns both inputs with one shift; concat identity is address mapping") {
  // a at scale 0.02, b at scale 0.05, output at 0.04.
  const auto [ma, mb] = derive_shared_requant(0.02 / 0.04, 0.05 / 0.04, ScaleForm::Multiplier, 16);
  CHECK(ma.shift == mb.shift);
  const std::int64_t a = 100, b = -40;  // 2.0 and -2.0: the sum is 0
  CHECK(arith::saturate(arith::rounding_shift(a * ma.multiplier + b * mb.multiplier, ma.shift), 8) == 0);
  const std::int64_t sum = arith::saturate(arith::rounding_shift(60 * ma.multiplier + 20 * mb.multiplier, ma.shift), 8);
  CHECK(sum == 55);  // 1.2 + 1.0 = 2.2 -> 55 at 0.04
  const auto [pa, pb] = derive_shared_requant(0.5, 0.125, ScaleForm::PowerOfTwo, 16);
  CHECK(pa.shift == pb.shift);
  CHECK(pa.multiplier == 4);
  CHECK(pb.multiplier == 1);
  CHECK(pa.shift == 3);
}

TEST_CASE("arithmetic: SiLU, sigmoid and exp tables") {
  const CodeFormat pre{8, 0.05, 0}, out{8, 0.04, 0};
  const Lut silu = build_silu_lut("t", pre, out);
  REQUIRE(silu.values.size() == 256);
  CHECK(silu.knot_bits == 8);
  for (int code = -128; code <= 127; ++code) {
    const double x = code * 0.05;
    const double expected = std::clamp<double>(std::llround(x / (1 + std::exp(-x)) / 0.04), -128, 127);
    CHECK(lut_value(silu, code) == expected);
  }
  const Lut wide = build_silu_lut("w", CodeFormat{16, 1e-3, 0}, CodeFormat{16, 1e-3, 0});
  CHECK(wide.knot_bits == kMaxDirectLutBits);
  CHECK(wide.values.size() == (1u << kMaxDirectLutBits) + 1);
  CHECK(lut_value(wide, 0) == 0);
  CHECK(std::abs(lut_value(wide, 10000) - 10000 / (1 + std::exp(-10.0))) <= 2);
  const Lut sigmoid = build_sigmoid_lut("s", CodeFormat{8, 0.1, 0});
  CHECK(lut_value(sigmoid, 0) == 32768);
  CHECK(lut_value(sigmoid, 127) == std::min<long long>(65535, std::llround(65536 / (1 + std::exp(-12.7)))));
  const Lut exp_table = build_exp_lut("e", CodeFormat{8, 0.1, 0});
  CHECK(exp_table.values.front() == 32768);
  CHECK(exp_table.values.back() > 0);
  // The table ends where 2^15 exp(-0.1 d) first rounds to 0 (d = 111).
  CHECK(exp_table.values.size() == 111);
  CHECK(std::llround(32768 * std::exp(-0.1 * 111)) == 0);
  CHECK(std::llround(32768 * std::exp(-0.1 * 110)) == 1);
}

TEST_CASE("arithmetic: the overflow certificate catches a 32-bit overflow") {
  // 256 input channels x 3x3 taps of the largest 16-bit weight on 16-bit inputs.
  QuantConv conv;
  conv.weights.assign(256 * 9, 32767);
  conv.bias = {0};
  const std::int64_t worst = worst_case_accumulator(conv, 1, 16);
  CHECK(worst == std::int64_t{256} * 9 * 32767 * 32768);
  CHECK(signed_bits_for(worst) == 43);
  CHECK(signed_bits_for(worst) > 32);
  // W8A8 with 2304 taps fits easily; the bias counts too.
  conv.weights.assign(2304, 127);
  conv.bias = {-5000};
  CHECK(worst_case_accumulator(conv, 1, 8) == 2304 * 127 * 128 + 5000);
  CHECK(signed_bits_for(2304 * 127 * 128 + 5000) == 27);
  CHECK(signed_bits_for(127) == 8);
  CHECK(signed_bits_for(128) == 9);
}

// Section 7's score filter without a sigmoid: for every code of every
// activation width 4..16, the table score exceeds the score threshold exactly
// when the code reaches the logit threshold. Scales from flat tables (every
// code rounds to 32768 +- a few) to saturating ones (long runs of 0 and
// 65535); thresholds at 0, the extremes, the spec's 0.25 and 0.001, every
// value a table takes (ties), and values inside flat regions.
TEST_CASE("arithmetic: the logit threshold passes exactly the codes whose sigmoid score exceeds the score threshold") {
  long long checked = 0;
  for (int bits = 4; bits <= 16; ++bits) {
    for (const double range : {0.05, 1.0, 8.0, 40.0, 400.0}) {  // real value of the largest code
      const double scale = range / static_cast<double>(arith::max_code(bits));
      const Lut sigmoid = build_sigmoid_lut("s", CodeFormat{bits, scale, 0});
      std::vector<std::int64_t> scores;
      for (std::int64_t code = arith::min_code(bits); code <= arith::max_code(bits); ++code) {
        scores.push_back(lut_value(sigmoid, code));
      }
      std::vector<std::int32_t> thresholds = {-1, 0, 1, 66, 16384, 32767, 32768, 65534, 65535};
      for (size_t i = 0; i < scores.size(); i += std::max<size_t>(1, scores.size() / 64)) {
        for (int delta : {-1, 0, 1}) thresholds.push_back(static_cast<std::int32_t>(scores[i] + delta));
      }
      for (const std::int32_t threshold : thresholds) {
        const std::int64_t logit_threshold = logit_threshold_code(sigmoid, threshold);
        REQUIRE(logit_threshold >= arith::min_code(bits));
        REQUIRE(logit_threshold <= arith::max_code(bits) + 1);
        for (size_t i = 0; i < scores.size(); ++i) {
          const std::int64_t code = arith::min_code(bits) + static_cast<std::int64_t>(i);
          if ((scores[i] > threshold) != (code >= logit_threshold)) {
            FAIL_CHECK("bits " << bits << " scale " << scale << " threshold " << threshold << " code " << code
                               << ": score " << scores[i] << ", logit threshold " << logit_threshold);
            return;
          }
          ++checked;
        }
      }
    }
  }
  CHECK(checked > 10'000'000);
  // The extremes: every code passes a threshold below every score, none passes 65535.
  const Lut sigmoid = build_sigmoid_lut("s", CodeFormat{8, 0.1, 0});
  CHECK(logit_threshold_code(sigmoid, -1) == -128);
  CHECK(logit_threshold_code(sigmoid, 65535) == 128);
  CHECK(logit_threshold_code(sigmoid, 32767) == 0);   // sigmoid(0) = 32768 > 32767
  CHECK(logit_threshold_code(sigmoid, 32768) == 1);   // 32768 is not > 32768
  Lut decreasing = sigmoid;
  std::swap(decreasing.values[10], decreasing.values[200]);
  CHECK_THROWS_AS(logit_threshold_code(decreasing, 16384), Error);
}
