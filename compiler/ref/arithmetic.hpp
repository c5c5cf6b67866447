// The integer arithmetic of yq-hw, exactly as docs/ARITHMETIC.md specifies
// it (version 1). Header-only, no floating point, no dependencies: the
// integer reference executor, the unit tests and the RTL test benches all
// include this one file.
#pragma once
#include <cstdint>

namespace yq::arith {

constexpr int kArithmeticVersion = 1;

// Largest and smallest code of a signed two's-complement value of `bits` bits.
constexpr std::int64_t max_code(int bits) { return (std::int64_t{1} << (bits - 1)) - 1; }
constexpr std::int64_t min_code(int bits) { return -(std::int64_t{1} << (bits - 1)); }

// Clamps to the signed range of `bits` bits.
constexpr std::int64_t saturate(std::int64_t value, int bits) {
  const std::int64_t hi = max_code(bits), lo = min_code(bits);
  return value > hi ? hi : (value < lo ? lo : value);
}

// Rounding right shift: (value + 2^(shift-1)) >> shift with an arithmetic
// (flooring) shift, i.e. round half toward +infinity: 5/2 -> 3, -5/2 -> -2,
// -7/2 -> -3. shift 0 returns value unchanged.
constexpr std::int64_t rounding_shift(std::int64_t value, int shift) {
  if (shift == 0) return value;
  return (value + (std::int64_t{1} << (shift - 1))) >> shift;
}

// Requantization of an accumulator: saturate(rounding_shift(acc * multiplier, shift), bits).
// |acc| < 2^acc_bits and multiplier < 2^mult_bits with acc_bits + mult_bits <= 63
// (guaranteed by the overflow certificate), so the product never overflows.
constexpr std::int64_t requantize(std::int64_t acc, std::int64_t multiplier, int shift, int bits) {
  return saturate(rounding_shift(acc * multiplier, shift), bits);
}

// Table lookup of a code of `index_bits` bits in a table of 2^index_bits
// entries stored from the most negative code up: table[code - min_code].
template <typename Table>
constexpr std::int64_t lookup(const Table& table, std::int64_t code, int index_bits) {
  return table[static_cast<std::size_t>(code - min_code(index_bits))];
}

// Interpolated lookup for wide codes: the table holds 2^table_bits + 1 knots
// spaced 2^(code_bits - table_bits) codes apart, from min_code(code_bits);
// the result is knot + rounding_shift((next - knot) * fraction, step_bits).
template <typename Table>
constexpr std::int64_t interpolated_lookup(const Table& table, std::int64_t code, int code_bits, int table_bits) {
  const int step_bits = code_bits - table_bits;
  const std::int64_t offset = code - min_code(code_bits);
  const std::int64_t knot_index = offset >> step_bits;
  const std::int64_t fraction = offset & ((std::int64_t{1} << step_bits) - 1);
  const std::int64_t knot = table[static_cast<std::size_t>(knot_index)];
  const std::int64_t next = table[static_cast<std::size_t>(knot_index + 1)];
  return knot + rounding_shift((next - knot) * fraction, step_bits);
}

}  // namespace yq::arith
