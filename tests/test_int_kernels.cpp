// The integer kernels against naive loops written straight from
// docs/ARITHMETIC.md with the arithmetic header, on random codes (fixed
// seeds): convolutions of every shape the model uses (1x1, 3x3, stride 1
// and 2, padding with code 0 or -128, odd sizes, tap counts that are not a
// whole number of vectors, 4- to 16-bit codes), both accumulator widths,
// thread counts 1, 2, 3 and 16; lookup tables; add and rescale saturation;
// max-pool borders; upsample. (Throughput: tests/bench/bench_int_kernels.cpp.)
#include "testing.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "compiler/ref/arithmetic.hpp"
#include "compiler/ref/int_kernels.hpp"
#include "compiler/util/error.hpp"

namespace {

using yq::CodeTensor;
using yq::IntConv;
namespace arith = yq::arith;

std::int32_t random_code(std::mt19937& rng, int bits) {
  return static_cast<std::int32_t>(
      std::uniform_int_distribution<std::int64_t>(arith::min_code(bits), arith::max_code(bits))(rng));
}

std::vector<std::int32_t> random_codes(std::mt19937& rng, std::size_t count, int bits) {
  std::vector<std::int32_t> codes(count);
  for (auto& code : codes) code = random_code(rng, bits);
  return codes;
}

CodeTensor random_tensor(std::mt19937& rng, int channels, int height, int width, int bits) {
  return {channels, height, width, random_codes(rng, std::size_t(channels) * height * width, bits)};
}

int bit_length(std::uint64_t v) {
  int bits = 0;
  for (; v; v >>= 1) ++bits;
  return bits;
}

struct ConvCase {
  int in_channels, out_channels, height, width, kernel, stride, pad, pad_code;
  int in_bits, weight_bits, out_bits;
};

// A convolution's integers, owned, and the IntConv viewing them.
struct ConvData {
  ConvCase shape;
  CodeTensor input;
  std::vector<std::int16_t> weights;
  std::vector<std::int64_t> bias;
  std::vector<std::int64_t> multipliers;
  std::vector<int> shifts;

  IntConv conv() const {
    IntConv conv{shape.in_channels, shape.out_channels, shape.kernel, shape.stride, shape.pad, shape.pad_code};
    conv.weights = weights;
    conv.bias = bias;
    conv.multipliers = multipliers;
    conv.shifts = shifts;
    conv.out_bits = shape.out_bits;
    return conv;
  }
};

// acc[c][y][x] = bias[c] + sum W[c,k,i,j] * x[k, y*stride + i - pad, x*stride + j - pad], padding reading pad_code.
std::vector<std::int64_t> reference_accumulators(const ConvData& d) {
  const ConvCase& s = d.shape;
  const int out_h = (s.height + 2 * s.pad - s.kernel) / s.stride + 1;
  const int out_w = (s.width + 2 * s.pad - s.kernel) / s.stride + 1;
  std::vector<std::int64_t> acc;
  for (int c = 0; c < s.out_channels; ++c) {
    for (int y = 0; y < out_h; ++y) {
      for (int x = 0; x < out_w; ++x) {
        std::int64_t sum = d.bias[c];
        for (int k = 0; k < s.in_channels; ++k) {
          for (int i = 0; i < s.kernel; ++i) {
            for (int j = 0; j < s.kernel; ++j) {
              const int iy = y * s.stride + i - s.pad, ix = x * s.stride + j - s.pad;
              const bool inside = iy >= 0 && iy < s.height && ix >= 0 && ix < s.width;
              const std::int64_t code = inside ? d.input.codes[(k * s.height + iy) * s.width + ix] : s.pad_code;
              sum += std::int64_t{d.weights[((c * s.in_channels + k) * s.kernel + i) * s.kernel + j]} * code;
            }
          }
        }
        acc.push_back(sum);
      }
    }
  }
  return acc;
}

std::vector<std::int32_t> reference_conv(const ConvData& d) {
  const std::vector<std::int64_t> acc = reference_accumulators(d);
  const std::size_t plane = acc.size() / d.shape.out_channels;
  std::vector<std::int32_t> codes;
  for (std::size_t i = 0; i < acc.size(); ++i) {
    const std::size_t c = i / plane;
    codes.push_back(
        static_cast<std::int32_t>(arith::requantize(acc[i], d.multipliers[c], d.shifts[c], d.shape.out_bits)));
  }
  return codes;
}

// Random codes, weights and bias; per channel a 16-bit multiplier and a
// shift that maps the largest accumulator to one or two times the largest
// output code, so outputs spread over the range and some saturate.
ConvData random_conv(const ConvCase& shape, std::uint32_t seed) {
  std::mt19937 rng(seed);
  ConvData d{shape, random_tensor(rng, shape.in_channels, shape.height, shape.width, shape.in_bits), {}, {}, {}, {}};
  const std::size_t taps = std::size_t(shape.in_channels) * shape.kernel * shape.kernel;
  for (std::size_t i = 0; i < shape.out_channels * taps; ++i) {
    d.weights.push_back(static_cast<std::int16_t>(random_code(rng, shape.weight_bits)));
  }
  const std::int64_t bias_range = std::int64_t{1} << (shape.in_bits + shape.weight_bits);
  for (int c = 0; c < shape.out_channels; ++c) {
    d.bias.push_back(std::uniform_int_distribution<std::int64_t>(-bias_range, bias_range)(rng));
    d.multipliers.push_back(std::uniform_int_distribution<std::int64_t>(1 << 15, (1 << 16) - 1)(rng));
  }
  const std::vector<std::int64_t> acc = reference_accumulators(d);
  const std::size_t plane = acc.size() / shape.out_channels;
  for (int c = 0; c < shape.out_channels; ++c) {
    std::int64_t largest = 1;
    for (std::size_t p = 0; p < plane; ++p) largest = std::max(largest, std::abs(acc[c * plane + p]));
    const int product_bits = bit_length(std::uint64_t(largest * d.multipliers[c]));
    d.shifts.push_back(std::max(0, product_bits - (shape.out_bits - 1) - int(rng() % 2)));
  }
  return d;
}

// conv2d and conv2d_accumulators match the references with 1, 2, 3 threads
// and more threads than there are bands of output rows.
void check_conv(const ConvData& d) {
  const std::vector<std::int32_t> expected = reference_conv(d);
  const std::vector<std::int64_t> expected_acc = reference_accumulators(d);
  for (int threads : {1, 2, 3, 16}) {
    CAPTURE(threads);
    const CodeTensor out = yq::conv2d(d.input, d.conv(), threads);
    CHECK(out.channels == d.shape.out_channels);
    CHECK(std::size_t(out.channels) * out.height * out.width == expected.size());
    CHECK(out.codes == expected);
    CHECK(yq::conv2d_accumulators(d.input, d.conv(), threads) == expected_acc);
  }
}

}  // namespace

TEST_CASE("int_kernels: conv2d matches the naive convolution") {
  // in, out, h, w, k, stride, pad, pad_code, in_bits, weight_bits, out_bits
  const ConvCase cases[] = {
      {5, 7, 7, 5, 1, 1, 0, 0, 8, 8, 8},           // 1x1: taps 5, not a whole vector
      {3, 4, 7, 5, 1, 2, 0, 0, 8, 8, 8},           // 1x1 stride 2
      {3, 16, 7, 5, 3, 1, 1, -128, 8, 8, 8},       // the image layer's padding, 27 taps
      {3, 16, 9, 7, 3, 2, 1, -128, 8, 8, 8},       // stride 2 with the image padding
      {5, 7, 9, 7, 3, 2, 1, 0, 4, 4, 4},           // 4-bit codes, 45 taps
      {9, 5, 7, 5, 3, 1, 1, 0, 12, 12, 12},        // 12-bit codes
      {3, 6, 8, 6, 3, 2, 1, 0, 16, 4, 16},         // 16-bit codes, int32 sums
      {2, 3, 6, 6, 3, 1, 0, 0, 8, 8, 8},           // no padding
      {4, 3, 7, 5, 5, 1, 2, -128, 8, 8, 8},        // 5x5
      {16, 21, 23, 19, 3, 1, 1, 0, 8, 8, 8},       // many bands, 21 channels
      {256, 40, 9, 11, 3, 1, 1, 0, 8, 8, 8},       // 2304 taps: several weight blocks
      {64, 6, 7, 5, 3, 1, 1, -32768, 16, 16, 16},  // 16-bit weights and codes: int64 sums
      {64, 5, 7, 5, 3, 2, 1, 0, 16, 16, 8},        // int64 sums, stride 2
  };
  std::uint32_t seed = 1;
  for (const ConvCase& shape : cases) {
    CAPTURE(shape.in_channels);
    CAPTURE(shape.kernel);
    CAPTURE(shape.stride);
    CAPTURE(shape.in_bits);
    check_conv(random_conv(shape, seed++));
  }
}

TEST_CASE("int_kernels: conv2d takes both accumulator paths") {
  const ConvData narrow = random_conv({16, 8, 7, 5, 3, 1, 1, 0, 8, 8, 8}, 20);
  CHECK(yq::int32_accumulation_is_exact(narrow.conv(), narrow.input));
  const ConvData wide = random_conv({64, 6, 7, 5, 3, 1, 1, 0, 16, 16, 16}, 21);
  CHECK_FALSE(yq::int32_accumulation_is_exact(wide.conv(), wide.input));
  const std::vector<std::int64_t> acc = reference_accumulators(wide);
  CHECK(*std::max_element(acc.begin(), acc.end()) > (std::int64_t{1} << 31));
  CHECK(*std::min_element(acc.begin(), acc.end()) < -(std::int64_t{1} << 31));
}

TEST_CASE("int_kernels: conv2d at the int32 boundary and with extreme codes") {
  // One pixel, 65536 taps of weight -32768 (sum |W| = 2^31) reading -1: acc = 2^31, needs int64.
  ConvData d;
  d.shape = {65536, 1, 1, 1, 1, 1, 0, 0, 8, 16, 16};
  d.input = {65536, 1, 1, std::vector<std::int32_t>(65536, -1)};
  d.weights.assign(65536, -32768);
  d.bias = {0};
  d.multipliers = {1};
  d.shifts = {16};
  CHECK_FALSE(yq::int32_accumulation_is_exact(d.conv(), d.input));
  CHECK(yq::conv2d_accumulators(d.input, d.conv(), 1) == std::vector<std::int64_t>{std::int64_t{1} << 31});
  CHECK(yq::conv2d(d.input, d.conv(), 1).codes == std::vector<std::int32_t>{32767});
  // One weight -32767: sum |W| = 2^31 - 1, int32 is exact and acc = 2^31 - 1.
  d.weights[0] = -32767;
  CHECK(yq::int32_accumulation_is_exact(d.conv(), d.input));
  CHECK(yq::conv2d_accumulators(d.input, d.conv(), 1) == std::vector<std::int64_t>{(std::int64_t{1} << 31) - 1});

  // Every weight, code and the pad code -32768 (the pairwise product sum 2^31 overflows int32 multiply-add).
  ConvData extreme = random_conv({64, 3, 5, 4, 3, 1, 1, -32768, 16, 16, 16}, 30);
  std::fill(extreme.input.codes.begin(), extreme.input.codes.end(), -32768);
  std::fill(extreme.weights.begin(), extreme.weights.end(), std::int16_t{-32768});
  check_conv(extreme);
}

TEST_CASE("int_kernels: conv2d rejects inconsistent arguments") {
  ConvData d = random_conv({3, 4, 5, 5, 3, 1, 1, 0, 8, 8, 8}, 40);
  d.input.codes[7] = 40000;
  CHECK_THROWS_AS(yq::conv2d(d.input, d.conv(), 1), yq::Error);
  d.input.codes[7] = 0;
  IntConv conv = d.conv();
  conv.weights = conv.weights.first(conv.weights.size() - 1);
  CHECK_THROWS_AS(yq::conv2d(d.input, conv, 1), yq::Error);
  conv = d.conv();
  conv.in_channels = 2;
  CHECK_THROWS_AS(yq::conv2d(d.input, conv, 1), yq::Error);
  // A 3x3 window with no padding does not fit a 2x2 input.
  CHECK(yq::conv_output_size(2, 3, 2, 0) == 0);
  const ConvData small = random_conv({3, 4, 5, 5, 3, 1, 1, 0, 8, 8, 8}, 41);
  conv = small.conv();
  conv.pad = 0;
  CHECK_THROWS_AS(yq::conv2d({3, 2, 2, std::vector<std::int32_t>(12, 0)}, conv, 1), yq::Error);
}

TEST_CASE("int_kernels: direct and interpolated lookup tables") {
  std::mt19937 rng(50);
  std::vector<std::int32_t> direct = random_codes(rng, 256, 16);
  std::vector<std::int32_t> codes;
  for (int code = -128; code < 128; ++code) codes.push_back(code);
  const std::vector<std::int32_t> looked_up = yq::apply_lut(codes, direct, 8, 8);
  for (std::size_t i = 0; i < codes.size(); ++i) CHECK(looked_up[i] == direct[i]);

  // 16-bit codes, 2^12 + 1 knots 16 codes apart: out = LUT[i] + rounding_shift((LUT[i+1] - LUT[i]) * f, 4).
  const std::vector<std::int32_t> knots = random_codes(rng, 4097, 16);
  codes = random_codes(rng, 5000, 16);
  codes.insert(codes.end(), {-32768, -32767, -32753, -1, 0, 15, 32766, 32767});
  const std::vector<std::int32_t> interpolated = yq::apply_lut(codes, knots, 16, 12);
  for (std::size_t n = 0; n < codes.size(); ++n) {
    const std::int64_t offset = std::int64_t{codes[n]} + 32768;
    const std::int64_t knot = knots[offset / 16], next = knots[offset / 16 + 1];
    CHECK(interpolated[n] == knot + arith::rounding_shift((next - knot) * (offset % 16), 4));
  }
  // Knots 0 and 10: fraction 8/16 of 10 is 5, 9/16 rounds 5.625 to 6, 7/16 rounds 4.375 to 4.
  std::vector<std::int32_t> ramp(4097, 0);
  ramp[1] = 10;
  CHECK(yq::apply_lut(std::vector<std::int32_t>{-32768 + 8, -32768 + 9, -32768 + 7}, ramp, 16, 12) ==
        std::vector<std::int32_t>{5, 6, 4});

  CHECK_THROWS_AS(yq::apply_lut(std::vector<std::int32_t>{128}, direct, 8, 8), yq::Error);
  CHECK_THROWS_AS(yq::apply_lut(std::vector<std::int32_t>{0}, direct, 8, 7), yq::Error);
}

TEST_CASE("int_kernels: add and rescale saturate at both ends") {
  // 8 bits: (600 + 2) >> 2 = 150 -> 127; (-600 + 2) >> 2 = -150 -> -128; (15 + 2) >> 2 = 4; (-15 + 2) >> 2 = -4.
  CHECK(yq::add(std::vector<std::int32_t>{100, -100, 5, -5}, std::vector<std::int32_t>{100, -100, 0, 0}, 3, 3, 2, 8) ==
        std::vector<std::int32_t>{127, -128, 4, -4});
  CHECK(yq::rescale(std::vector<std::int32_t>{127, -128, 5, -5}, 3, 1, 8) ==
        std::vector<std::int32_t>{127, -128, 8, -7});
  // Identity rescale to a narrower width still saturates.
  CHECK(yq::rescale(std::vector<std::int32_t>{2047, -2048, 7, -8}, 1, 0, 4) == std::vector<std::int32_t>{7, -8, 7, -8});

  std::mt19937 rng(60);
  for (int bits : {4, 8, 12, 16}) {
    const std::vector<std::int32_t> a = random_codes(rng, 2000, bits), b = random_codes(rng, 2000, bits);
    const std::int64_t ma = 40000 + rng() % 20000, mb = 30000 + rng() % 20000;
    const int shift = 15;
    const std::vector<std::int32_t> sum = yq::add(a, b, ma, mb, shift, bits);
    const std::vector<std::int32_t> scaled = yq::rescale(a, ma, shift, bits);
    bool saturated_high = false, saturated_low = false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::int64_t exact = (a[i] * ma + b[i] * mb + (std::int64_t{1} << (shift - 1))) >> shift;
      CHECK(sum[i] == std::clamp(exact, arith::min_code(bits), arith::max_code(bits)));
      CHECK(scaled[i] == arith::saturate(arith::rounding_shift(a[i] * ma, shift), bits));
      saturated_high |= sum[i] == arith::max_code(bits);
      saturated_low |= sum[i] == arith::min_code(bits);
    }
    CHECK(saturated_high);
    CHECK(saturated_low);
  }
  CHECK_THROWS_AS(yq::add(std::vector<std::int32_t>{1}, std::vector<std::int32_t>{1, 2}, 1, 1, 0, 8), yq::Error);
}

TEST_CASE("int_kernels: maxpool ignores padding at the borders") {
  std::mt19937 rng(70);
  for (auto [kernel, pad] : {std::pair{5, 2}, {3, 1}, {2, 0}, {5, 4}}) {
    CAPTURE(kernel);
    CAPTURE(pad);
    // All codes negative: a pad read as 0 would win at every border.
    CodeTensor in = random_tensor(rng, 3, 7, 5, 8);
    for (auto& code : in.codes) code = -1 - std::abs(code);
    const CodeTensor out = yq::maxpool(in, kernel, pad);
    const int out_h = 7 + 2 * pad - kernel + 1, out_w = 5 + 2 * pad - kernel + 1;
    REQUIRE(out.height == out_h);
    REQUIRE(out.width == out_w);
    for (int c = 0; c < 3; ++c) {
      for (int y = 0; y < out_h; ++y) {
        for (int x = 0; x < out_w; ++x) {
          std::int32_t best = std::numeric_limits<std::int32_t>::min();
          for (int iy = y - pad; iy < y - pad + kernel; ++iy) {
            for (int ix = x - pad; ix < x - pad + kernel; ++ix) {
              if (iy >= 0 && iy < 7 && ix >= 0 && ix < 5) best = std::max(best, in.codes[(c * 7 + iy) * 5 + ix]);
            }
          }
          CHECK(out.codes[(c * out_h + y) * out_w + x] == best);
        }
      }
    }
  }
  CHECK_THROWS_AS(yq::maxpool(random_tensor(rng, 1, 4, 4, 8), 3, 3), yq::Error);
}

TEST_CASE("int_kernels: upsample repeats each code 2x2") {
  std::mt19937 rng(80);
  const CodeTensor in = random_tensor(rng, 3, 5, 7, 8);
  const CodeTensor out = yq::upsample_nearest2x(in);
  REQUIRE(out.channels == 3);
  REQUIRE(out.height == 10);
  REQUIRE(out.width == 14);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 10; ++y) {
      for (int x = 0; x < 14; ++x) CHECK(out.codes[(c * 10 + y) * 14 + x] == in.codes[(c * 5 + y / 2) * 7 + x / 2]);
    }
  }
}
