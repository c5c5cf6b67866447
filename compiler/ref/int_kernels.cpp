// Integer kernels of the reference executor (see int_kernels.hpp).
//
// Convolution: the output rows are cut into bands small enough that the
// band's gathered taps stay in cache. Per band, each output pixel's taps
// (channel, ky, kx order, padded taps reading pad_code) are gathered into an
// int16 row of `padded_taps` (taps rounded up to whole blocks of 32, with
// zero weights opposite the extra taps). A micro-kernel then forms four
// pixels' dot products with one weight row at a time, in blocks of output
// channels whose weights stay in cache; written as plain loops over int16
// with int32 sums, GCC vectorizes it to pmaddwd, and builds it three times
// (SSE2, AVX2, AVX-512) with the widest the CPU has picked at load time; the
// padded taps fill whole AVX-512 vectors, so no remainder loop runs. Integer
// sums are exact, so every build gives the same results. Bias and
// requantization follow in int64. Bands are handed out to the threads one
// at a time; each output is computed from its own taps only, so the thread
// count and the band size never change a result.
#include "compiler/ref/int_kernels.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <limits>
#include <string>
#include <thread>

#include "compiler/ref/arithmetic.hpp"
#include "compiler/util/error.hpp"

// The dot-product loop must be vectorized even when the library is built
// below -O3 (at -O2 GCC 12 leaves it scalar, ten times slower), and built for
// the x86-64 levels with wider vectors, chosen at load time.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define YQ_VECTORIZE __attribute__((optimize("O3"), target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#elif defined(__GNUC__) && !defined(__clang__)
#define YQ_VECTORIZE __attribute__((optimize("O3")))
#else
#define YQ_VECTORIZE
#endif

namespace yq {
namespace {

constexpr int kPixelsPerKernel = 4;                    // micro-kernel: 4 pixels x 1 channel
constexpr int kTapsPerBlock = 32;                      // int16 lanes of an AVX-512 register
constexpr std::size_t kBandBytes = 128 * 1024;         // gathered taps of one band
constexpr std::size_t kWeightBlockBytes = 128 * 1024;  // weights reused across a band's pixels
constexpr int kBandsPerThread = 4;                     // load balance

int ceil_div(int a, int b) { return (a + b - 1) / b; }
int round_up(int a, int multiple) { return ceil_div(a, multiple) * multiple; }

struct ConvGeometry {
  int in_height = 0;
  int in_width = 0;
  int out_height = 0;
  int out_width = 0;
  int taps = 0;         // in_channels * kernel * kernel
  int padded_taps = 0;  // taps rounded up to whole blocks
};

void require(bool condition, const std::string& message) {
  if (!condition) throw Error("integer kernel: " + message);
}

void check_bits(int bits) { require(bits >= 1 && bits <= 32, "code width " + std::to_string(bits) + " not in 1..32"); }

void check_shift(int shift) { require(shift >= 0 && shift <= 62, "shift " + std::to_string(shift) + " not in 0..62"); }

void check_tensor(const CodeTensor& t) {
  require(t.channels >= 0 && t.height >= 0 && t.width >= 0 &&
              t.codes.size() == std::size_t(t.channels) * t.height * t.width,
          "tensor holds " + std::to_string(t.codes.size()) + " codes, not " + std::to_string(t.channels) + "x" +
              std::to_string(t.height) + "x" + std::to_string(t.width));
}

ConvGeometry checked_geometry(const CodeTensor& input, const IntConv& conv) {
  check_tensor(input);
  require(conv.in_channels == input.channels,
          "convolution of " + std::to_string(conv.in_channels) + " channels given " + std::to_string(input.channels));
  require(conv.out_channels >= 1 && conv.kernel >= 1 && conv.stride >= 1 && conv.pad >= 0, "bad convolution shape");
  const std::size_t out_channels = conv.out_channels;
  require(conv.weights.size() == out_channels * conv.in_channels * conv.kernel * conv.kernel,
          "weight count does not match the convolution shape");
  require(
      conv.bias.size() == out_channels && conv.multipliers.size() == out_channels && conv.shifts.size() == out_channels,
      "bias, multiplier or shift count differs from the output channels");
  require(conv.pad_code >= std::numeric_limits<std::int16_t>::min() &&
              conv.pad_code <= std::numeric_limits<std::int16_t>::max(),
          "pad code outside int16");
  check_bits(conv.out_bits);
  for (int shift : conv.shifts) check_shift(shift);
  ConvGeometry g;
  g.in_height = input.height;
  g.in_width = input.width;
  g.out_height = conv_output_size(input.height, conv.kernel, conv.stride, conv.pad);
  g.out_width = conv_output_size(input.width, conv.kernel, conv.stride, conv.pad);
  require(g.out_height >= 1 && g.out_width >= 1, "convolution output is empty");
  g.taps = conv.in_channels * conv.kernel * conv.kernel;
  g.padded_taps = round_up(g.taps, kTapsPerBlock);
  return g;
}

// The largest |code| a tap can read; throws when an input code does not fit in int16.
std::int64_t max_abs_tap(const IntConv& conv, const CodeTensor& input) {
  std::int32_t lowest = 0, highest = 0;
  for (std::int32_t code : input.codes) {
    lowest = std::min(lowest, code);
    highest = std::max(highest, code);
  }
  require(lowest >= std::numeric_limits<std::int16_t>::min() && highest <= std::numeric_limits<std::int16_t>::max(),
          "convolution input code outside int16");
  std::int64_t max_abs = std::max(-std::int64_t{lowest}, std::int64_t{highest});
  if (conv.pad > 0) max_abs = std::max(max_abs, std::abs(std::int64_t{conv.pad_code}));
  return max_abs;
}

// Weights [out][padded_taps], zeros after each channel's taps.
std::vector<std::int16_t> padded_weights(const IntConv& conv, const ConvGeometry& g) {
  std::vector<std::int16_t> padded(std::size_t(conv.out_channels) * g.padded_taps, 0);
  for (int c = 0; c < conv.out_channels; ++c) {
    const auto row = conv.weights.subspan(std::size_t(c) * g.taps, g.taps);
    std::copy(row.begin(), row.end(), padded.begin() + std::size_t(c) * g.padded_taps);
  }
  return padded;
}

// One tap of every pixel of an output row: column[x * step] =
// line[x * stride + offset] where that lies inside the line, pad_code
// elsewhere (everywhere when line is null: a padding row).
void gather_tap(const std::int32_t* line, int in_width, int offset, int stride, int out_width, std::int16_t pad_code,
                std::int16_t* column, int step) {
  int begin = out_width, end = out_width;
  if (line) {
    const int first_inside = offset >= 0 ? 0 : ceil_div(-offset, stride);
    const int last_inside = in_width - 1 - offset;  // x * stride may not exceed this
    begin = std::min(first_inside, out_width);
    end = last_inside < 0 ? begin : std::max(begin, std::min(out_width, last_inside / stride + 1));
  }
  for (int x = 0; x < begin; ++x) column[std::size_t(x) * step] = pad_code;
  for (int x = begin; x < end; ++x) {
    column[std::size_t(x) * step] = static_cast<std::int16_t>(line[x * stride + offset]);
  }
  for (int x = end; x < out_width; ++x) column[std::size_t(x) * step] = pad_code;
}

// The gathered taps of output rows [row_begin, row_end): one row of
// padded_taps per pixel in (channel, ky, kx) order, the pixel count rounded
// up to whole micro-kernels. The taps past `taps` and the rows past the last
// pixel are left as they are (zero, or taps of an earlier band): they meet
// zero weights, or give sums nobody reads. Written tap by tap across a row of
// pixels: each input line is read in order and the stores stay within one
// cache line per pixel.
void gather_band(const CodeTensor& input, const IntConv& conv, const ConvGeometry& g, int row_begin, int row_end,
                 std::vector<std::int16_t>& columns) {
  const int pixels = (row_end - row_begin) * g.out_width;
  columns.resize(std::size_t(round_up(pixels, kPixelsPerKernel)) * g.padded_taps);
  const auto pad_code = static_cast<std::int16_t>(conv.pad_code);
  for (int y = row_begin; y < row_end; ++y) {
    std::int16_t* column = columns.data() + std::size_t(y - row_begin) * g.out_width * g.padded_taps;
    for (int c = 0; c < conv.in_channels; ++c) {
      for (int ky = 0; ky < conv.kernel; ++ky) {
        const int iy = y * conv.stride + ky - conv.pad;
        const std::int32_t* line = iy >= 0 && iy < g.in_height
                                       ? input.codes.data() + (std::size_t(c) * g.in_height + iy) * g.in_width
                                       : nullptr;
        for (int kx = 0; kx < conv.kernel; ++kx, ++column) {
          gather_tap(line, g.in_width, kx - conv.pad, conv.stride, g.out_width, pad_code, column, g.padded_taps);
        }
      }
    }
  }
}

// sums[c][p] = sum_k weights[c][k] * columns[p][k] for every channel c and
// pixel p < pixels (a multiple of 4); weights [channels][taps], columns
// [pixels][taps], taps a multiple of kTapsPerBlock. Channels go in blocks of channel_block whose weights stay
// in cache while the pixels stream past. Products of int16 codes fit in
// int32; the caller picks an Accumulator wide enough for every sum.
template <typename Accumulator>
YQ_VECTORIZE void dot_products(const std::int16_t* weights, const std::int16_t* columns, int channels,
                               int channel_block, int pixels, int taps, Accumulator* sums) {
  for (int block_begin = 0; block_begin < channels; block_begin += channel_block) {
    const int block_end = block_begin + channel_block < channels ? block_begin + channel_block : channels;
    for (int p = 0; p < pixels; p += kPixelsPerKernel) {
      const std::int16_t* x0 = columns + std::size_t(p) * taps;
      const std::int16_t *x1 = x0 + taps, *x2 = x1 + taps, *x3 = x2 + taps;
      for (int c = block_begin; c < block_end; ++c) {
        const std::int16_t* w = weights + std::size_t(c) * taps;
        Accumulator s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int k = 0; k < taps; ++k) {  // taps % kTapsPerBlock == 0: the vector loop has no remainder
          const std::int32_t wk = w[k];
          s0 += wk * x0[k];
          s1 += wk * x1[k];
          s2 += wk * x2[k];
          s3 += wk * x3[k];
        }
        Accumulator* out = sums + std::size_t(c) * pixels + p;
        out[0] = s0;
        out[1] = s1;
        out[2] = s2;
        out[3] = s3;
      }
    }
  }
}

int resolved_threads(int threads) {
  if (threads > 0) return threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

// Runs `work` on `threads` threads, the calling one included, and waits for all.
template <typename Work>
void run_workers(int threads, const Work& work) {
  std::vector<std::jthread> helpers;
  for (int t = 1; t < threads; ++t) helpers.emplace_back([&work] { work(); });
  work();
}

// Output rows per band: the band's taps fit kBandBytes, and there are
// enough bands to keep every thread busy.
int band_rows(const ConvGeometry& g, int threads) {
  const std::size_t row_bytes = std::size_t(g.out_width) * g.padded_taps * sizeof(std::int16_t);
  const int by_cache = static_cast<int>(std::max<std::size_t>(1, kBandBytes / row_bytes));
  const int by_balance = ceil_div(g.out_height, kBandsPerThread * threads);
  return std::max(1, std::min(by_cache, by_balance));
}

// Computes the raw sums band by band and hands each band to
// store(first_pixel, pixels, sums_stride, sums) with sums [out][sums_stride].
template <typename Accumulator, typename Store>
void convolve(const CodeTensor& input, const IntConv& conv, const ConvGeometry& g, int threads, const Store& store) {
  const std::vector<std::int16_t> weights = padded_weights(conv, g);
  const int channel_block = static_cast<int>(
      std::max<std::size_t>(1, kWeightBlockBytes / (std::size_t(g.padded_taps) * sizeof(std::int16_t))));
  const int workers = resolved_threads(threads);
  const int rows_per_band = band_rows(g, workers);
  const int bands = ceil_div(g.out_height, rows_per_band);
  std::atomic<int> next_band{0};
  run_workers(std::min(workers, bands), [&] {
    std::vector<std::int16_t> columns;
    std::vector<Accumulator> sums;
    for (int band = next_band++; band < bands; band = next_band++) {
      const int row_begin = band * rows_per_band;
      const int row_end = std::min(g.out_height, row_begin + rows_per_band);
      gather_band(input, conv, g, row_begin, row_end, columns);
      const int pixels = (row_end - row_begin) * g.out_width;
      const int padded_pixels = round_up(pixels, kPixelsPerKernel);
      sums.resize(std::size_t(conv.out_channels) * padded_pixels);
      dot_products(weights.data(), columns.data(), conv.out_channels, channel_block, padded_pixels, g.padded_taps,
                   sums.data());
      store(row_begin * g.out_width, pixels, padded_pixels, sums.data());
    }
  });
}

// Whether max_c sum_k |W[c,k]| * max|x| < 2^31 (see int32_accumulation_is_exact).
bool sums_fit_int32(const IntConv& conv, const CodeTensor& input, const ConvGeometry& g) {
  const std::int64_t max_abs = max_abs_tap(conv, input);
  for (int c = 0; c < conv.out_channels; ++c) {
    std::int64_t abs_weights = 0;
    for (std::int16_t w : conv.weights.subspan(std::size_t(c) * g.taps, g.taps)) abs_weights += std::abs(w);
    if (abs_weights * max_abs > std::numeric_limits<std::int32_t>::max()) return false;
  }
  return true;
}

// convolve with int32 accumulators when they are exact, int64 otherwise.
template <typename Store>
void convolve_exactly(const CodeTensor& input, const IntConv& conv, const ConvGeometry& g, int threads,
                      const Store& store) {
  if (sums_fit_int32(conv, input, g)) {
    convolve<std::int32_t>(input, conv, g, threads, store);
  } else {
    convolve<std::int64_t>(input, conv, g, threads, store);
  }
}

// The elementwise kernels: out[i] = op(i).
template <typename Op>
std::vector<std::int32_t> elementwise(std::size_t count, const Op& op) {
  std::vector<std::int32_t> out(count);
  for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<std::int32_t>(op(i));
  return out;
}

// Max over [i - pad, i - pad + kernel) ∩ [0, size) of in[j * step], for one line.
void max_line(const std::int32_t* in, int size, int step, int kernel, int pad, std::int32_t* out, int out_size,
              int out_step) {
  for (int i = 0; i < out_size; ++i) {
    const int begin = std::max(0, i - pad), end = std::min(size, i - pad + kernel);
    std::int32_t best = in[std::size_t(begin) * step];
    for (int j = begin + 1; j < end; ++j) best = std::max(best, in[std::size_t(j) * step]);
    out[std::size_t(i) * out_step] = best;
  }
}

}  // namespace

int conv_output_size(int size, int kernel, int stride, int pad) {
  const int span = size + 2 * pad - kernel;  // how far the window can move
  return span < 0 ? 0 : span / stride + 1;
}

bool int32_accumulation_is_exact(const IntConv& conv, const CodeTensor& input) {
  return sums_fit_int32(conv, input, checked_geometry(input, conv));
}

CodeTensor conv2d(const CodeTensor& input, const IntConv& conv, int threads) {
  CodeTensor out;
  out.channels = conv.out_channels;
  // arith::requantize with its saturation written as min/max, which compiles
  // to conditional moves: whether an output saturates is data dependent, and
  // a mispredicted branch per output would cost more than the arithmetic.
  const auto store = [&](int first_pixel, int pixels, int sums_stride, const auto* sums) {
    const std::size_t plane = std::size_t(out.height) * out.width;
    const std::int64_t lowest = arith::min_code(conv.out_bits), highest = arith::max_code(conv.out_bits);
    for (int c = 0; c < conv.out_channels; ++c) {
      const std::int64_t bias = conv.bias[c], multiplier = conv.multipliers[c];
      const int shift = conv.shifts[c];
      const auto* channel_sums = sums + std::size_t(c) * sums_stride;
      std::int32_t* codes = out.codes.data() + c * plane + first_pixel;
      for (int p = 0; p < pixels; ++p) {
        const std::int64_t scaled = arith::rounding_shift((bias + channel_sums[p]) * multiplier, shift);
        codes[p] = static_cast<std::int32_t>(std::min(std::max(scaled, lowest), highest));
      }
    }
  };
  const ConvGeometry g = checked_geometry(input, conv);
  out.height = g.out_height;
  out.width = g.out_width;
  out.codes.resize(std::size_t(out.channels) * out.height * out.width);
  convolve_exactly(input, conv, g, threads, store);
  return out;
}

std::vector<std::int64_t> conv2d_accumulators(const CodeTensor& input, const IntConv& conv, int threads) {
  const ConvGeometry g = checked_geometry(input, conv);
  const std::size_t plane = std::size_t(g.out_height) * g.out_width;
  std::vector<std::int64_t> accumulators(conv.out_channels * plane);
  convolve_exactly(input, conv, g, threads, [&](int first_pixel, int pixels, int sums_stride, const auto* sums) {
    for (int c = 0; c < conv.out_channels; ++c) {
      const auto* channel_sums = sums + std::size_t(c) * sums_stride;
      std::int64_t* out = accumulators.data() + c * plane + first_pixel;
      for (int p = 0; p < pixels; ++p) out[p] = conv.bias[c] + channel_sums[p];
    }
  });
  return accumulators;
}

std::vector<std::int32_t> apply_lut(std::span<const std::int32_t> codes, std::span<const std::int32_t> table,
                                    int index_bits, int knot_bits) {
  require(index_bits >= 1 && index_bits <= 31 && knot_bits >= 1 && knot_bits <= index_bits,
          "bad table index/knot bits " + std::to_string(index_bits) + "/" + std::to_string(knot_bits));
  const bool direct = knot_bits == index_bits;
  const std::size_t entries = (std::size_t{1} << knot_bits) + (direct ? 0 : 1);
  require(table.size() == entries,
          "table holds " + std::to_string(table.size()) + " values, not " + std::to_string(entries));
  const std::int64_t lowest = arith::min_code(index_bits), highest = arith::max_code(index_bits);
  for (std::int32_t code : codes) {
    if (code < lowest || code > highest) {  // the message is built only on failure: this loop is hot
      throw Error("code " + std::to_string(code) + " outside the " + std::to_string(index_bits) + "-bit table index");
    }
  }
  if (direct)
    return elementwise(codes.size(), [&](std::size_t i) { return arith::lookup(table, codes[i], index_bits); });
  return elementwise(codes.size(),
                     [&](std::size_t i) { return arith::interpolated_lookup(table, codes[i], index_bits, knot_bits); });
}

std::vector<std::int32_t> add(std::span<const std::int32_t> a, std::span<const std::int32_t> b,
                              std::int64_t multiplier_a, std::int64_t multiplier_b, int shift, int bits) {
  require(a.size() == b.size(), "add of tensors of different sizes");
  check_shift(shift);
  check_bits(bits);
  return elementwise(a.size(), [&](std::size_t i) {
    return arith::saturate(arith::rounding_shift(a[i] * multiplier_a + b[i] * multiplier_b, shift), bits);
  });
}

std::vector<std::int32_t> rescale(std::span<const std::int32_t> codes, std::int64_t multiplier, int shift, int bits) {
  check_shift(shift);
  check_bits(bits);
  if (multiplier == 1 && shift == 0) {
    return elementwise(codes.size(), [&](std::size_t i) { return arith::saturate(codes[i], bits); });
  }
  return elementwise(codes.size(), [&](std::size_t i) { return arith::requantize(codes[i], multiplier, shift, bits); });
}

CodeTensor maxpool(const CodeTensor& input, int kernel, int pad) {
  check_tensor(input);
  require(kernel >= 1 && pad >= 0 && pad < kernel, "max-pool needs 0 <= pad < kernel");
  const int out_height = conv_output_size(input.height, kernel, 1, pad);
  const int out_width = conv_output_size(input.width, kernel, 1, pad);
  require(out_height >= 1 && out_width >= 1, "max-pool output is empty");
  // Separable: the max over each row window, then over each column window of those.
  std::vector<std::int32_t> row_max(std::size_t(input.height) * out_width);
  CodeTensor out{input.channels, out_height, out_width,
                 std::vector<std::int32_t>(std::size_t(input.channels) * out_height * out_width)};
  for (int c = 0; c < input.channels; ++c) {
    const std::int32_t* plane = input.codes.data() + std::size_t(c) * input.height * input.width;
    for (int y = 0; y < input.height; ++y) {
      max_line(plane + std::size_t(y) * input.width, input.width, 1, kernel, pad,
               row_max.data() + std::size_t(y) * out_width, out_width, 1);
    }
    std::int32_t* out_plane = out.codes.data() + std::size_t(c) * out_height * out_width;
    for (int x = 0; x < out_width; ++x) {
      max_line(row_max.data() + x, input.height, out_width, kernel, pad, out_plane + x, out_height, out_width);
    }
  }
  return out;
}

CodeTensor upsample_nearest2x(const CodeTensor& input) {
  check_tensor(input);
  CodeTensor out{input.channels, 2 * input.height, 2 * input.width, std::vector<std::int32_t>(input.codes.size() * 4)};
  std::int32_t* dst = out.codes.data();
  for (int c = 0; c < input.channels; ++c) {
    for (int y = 0; y < out.height; ++y) {
      const std::int32_t* src = input.codes.data() + (std::size_t(c) * input.height + y / 2) * input.width;
      for (int x = 0; x < out.width; ++x) *dst++ = src[x / 2];
    }
  }
  return out;
}

}  // namespace yq
