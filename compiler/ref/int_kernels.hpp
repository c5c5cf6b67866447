// The integer kernels of the reference executor: convolution with
// requantization, table lookup, residual add, concat rescale, max-pool and
// nearest upsample, each exactly as docs/ARITHMETIC.md defines it (built on
// compiler/ref/arithmetic.hpp). No floating point. Activations are the
// codes of one image, [channels][height][width], held as int32.
//
// conv2d lowers the convolution to dot products of int16 rows: the taps of
// each output pixel are gathered (im2col) into an int16 row, a band of output
// rows at a time, and multiplied by the int16 weight rows with int32
// accumulators when that is provably exact for the given weights and input
// (int64 accumulators otherwise). Every output depends only on its own taps,
// so results are identical for every thread count.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace yq {

// Codes of one image, [channels][height][width].
struct CodeTensor {
  int channels = 0;
  int height = 0;
  int width = 0;
  std::vector<std::int32_t> codes;
};

// One integer convolution (docs/ARITHMETIC.md section 4). The spans are
// views; what they point at must outlive the call. (Plain spans rather than
// QuantConv/Requant: quant_model.hpp pulls in ATen, which these kernels and
// their tests do without.)
struct IntConv {
  int in_channels = 0;
  int out_channels = 0;
  int kernel = 1;
  int stride = 1;
  int pad = 0;
  int pad_code = 0;                           // the code padded taps read: zero(in), -128 for the image
  std::span<const std::int16_t> weights;      // [out][in][kernel][kernel]
  std::span<const std::int64_t> bias;         // [out], accumulator units, input zero folded in
  std::span<const std::int64_t> multipliers;  // [out] M[c]
  std::span<const int> shifts;                // [out] S[c]
  int out_bits = 8;                           // output codes: requantize(acc, M[c], S[c], out_bits)
};

// Output height or width of a convolution (or pool) over `size` input pixels (0 when the window does not fit).
int conv_output_size(int size, int kernel, int stride, int pad);

// True when int32 accumulation is exact for this convolution of this input:
// max over channels of sum_k |W[c,k]| * max|x| < 2^31 (x over the input codes
// and, when pad > 0, the pad code), so no partial sum can overflow. conv2d
// uses int32 accumulators then, int64 accumulators otherwise; both give the
// same (exact) results.
bool int32_accumulation_is_exact(const IntConv& conv, const CodeTensor& input);

// Output codes [out][Ho][Wo] = requantize(bias[c] + sum W*x, M[c], S[c], out_bits).
// Input codes must fit in int16. `threads` <= 0 means one per hardware thread;
// the result never depends on it. Throws yq::Error on inconsistent shapes or
// codes outside int16.
CodeTensor conv2d(const CodeTensor& input, const IntConv& conv, int threads);

// The accumulators bias[c] + sum W*x themselves, [out][Ho][Wo] (diagnostics, tests).
std::vector<std::int64_t> conv2d_accumulators(const CodeTensor& input, const IntConv& conv, int threads);

// The table's value for every code (docs/ARITHMETIC.md section 6): direct
// (arith::lookup, 2^index_bits values) when knot_bits == index_bits,
// interpolated (arith::interpolated_lookup, 2^knot_bits + 1 knots) when
// knot_bits < index_bits. Codes must be codes of index_bits bits; throws
// yq::Error otherwise or when the table has the wrong size.
std::vector<std::int32_t> apply_lut(std::span<const std::int32_t> codes, std::span<const std::int32_t> table,
                                    int index_bits, int knot_bits);

// Residual add: saturate(rounding_shift(a*Ma + b*Mb, shift), bits), elementwise.
std::vector<std::int32_t> add(std::span<const std::int32_t> a, std::span<const std::int32_t> b,
                              std::int64_t multiplier_a, std::int64_t multiplier_b, int shift, int bits);

// Concat input rescale: saturate(rounding_shift(q*M, S), bits), elementwise.
std::vector<std::int32_t> rescale(std::span<const std::int32_t> codes, std::int64_t multiplier, int shift, int bits);

// Max-pool, stride 1: the maximum of the codes of each kernel x kernel window
// inside the image (padding never wins); the output is
// (H + 2 pad - kernel + 1) x (W + 2 pad - kernel + 1). Requires 0 <= pad < kernel.
CodeTensor maxpool(const CodeTensor& input, int kernel, int pad);

// Nearest-neighbour upsample x2: out[c][y][x] = in[c][y/2][x/2].
CodeTensor upsample_nearest2x(const CodeTensor& input);

}  // namespace yq
