// The integer detect head (docs/ARITHMETIC.md section 7): class scores through
// the sigmoid table, DFL through the exp table, boxes in 1/16 canvas pixel.
#pragma once
#include <cstdint>
#include <vector>

#include "compiler/detect/detection.hpp"
#include "compiler/quant/quant_model.hpp"
#include "compiler/ref/int_kernels.hpp"

namespace yq {

// The value a table gives for one code (direct or interpolated).
std::int64_t lut_value(const Lut& lut, std::int64_t code);

// The logit threshold of a score threshold (docs/ARITHMETIC.md section 7):
// the smallest class-logit code whose table score exceeds score_threshold,
// or max_code(index_bits) + 1 when no code does. The table is
// non-decreasing, so for every code: score(code) > score_threshold exactly
// when code >= the returned value. Throws Error if the table decreases.
std::int64_t logit_threshold_code(const Lut& sigmoid, std::int32_t score_threshold);

// Candidates with score > score_threshold (anchor order: level, row, column).
std::vector<IntDetection> decode_int_head(const QuantModel& model, const std::vector<CodeTensor>& outputs,
                                          std::int32_t score_threshold);

}  // namespace yq
