// The integer detect head (docs/ARITHMETIC.md section 7): per anchor, the best
// class logit code goes through the sigmoid table to a score code; anchors whose
// score passes the threshold get their four DFL distances as the rounded
// expectation sum_j j EXP[max - code_j] / sum_j EXP[max - code_j] scaled by the
// stride, and their box as the cell centre minus / plus those distances.
#include "compiler/ref/int_head.hpp"

#include <algorithm>

#include "compiler/ref/arithmetic.hpp"

namespace yq {

std::int64_t lut_value(const Lut& lut, std::int64_t code) {
  if (lut.knot_bits == lut.index_bits) return arith::lookup(lut.values, code, lut.index_bits);
  return arith::interpolated_lookup(lut.values, code, lut.index_bits, lut.knot_bits);
}

namespace {

// DFL distance of one side in 1/16 pixel: sum_j j e_j * stride * 16 / sum_j e_j, rounded.
std::int64_t dfl_distance(const std::int32_t* bins, int reg_max, size_t plane, const Lut& exp_table, int stride) {
  std::int32_t max_code = bins[0];
  for (int j = 1; j < reg_max; ++j) max_code = std::max(max_code, bins[j * plane]);
  std::int64_t numerator = 0, denominator = 0;
  for (int j = 0; j < reg_max; ++j) {
    const std::int64_t distance = max_code - bins[j * plane];
    const std::int64_t e = distance < static_cast<std::int64_t>(exp_table.values.size()) ? exp_table.values[distance] : 0;
    numerator += j * e;
    denominator += e;
  }
  const std::int64_t scaled = numerator * stride * (1 << kBoxFractionBits);
  return (scaled + denominator / 2) / denominator;
}

}  // namespace

std::vector<IntDetection> decode_int_head(const QuantModel& model, const std::vector<CodeTensor>& outputs,
                                          std::int32_t score_threshold) {
  std::vector<IntDetection> candidates;
  int anchor_base = 0;
  const int num_classes = model.info.arch.num_classes, reg_max = model.info.arch.reg_max;
  for (size_t l = 0; l < model.graph.levels.size(); ++l) {
    const DetectLevel& level = model.graph.levels[l];
    const CodeTensor& box = outputs[level.box_node];
    const CodeTensor& cls = outputs[level.class_node];
    const Lut& sigmoid = model.luts[model.head[l].sigmoid_lut];
    const Lut& exp_table = model.luts[model.head[l].exp_lut];
    const size_t plane = static_cast<size_t>(cls.height) * cls.width;
    for (int y = 0; y < cls.height; ++y) {
      for (int x = 0; x < cls.width; ++x) {
        const size_t cell = static_cast<size_t>(y) * cls.width + x;
        int best = 0;
        for (int c = 1; c < num_classes; ++c) {
          if (cls.codes[c * plane + cell] > cls.codes[best * plane + cell]) best = c;
        }
        const std::int32_t score = static_cast<std::int32_t>(lut_value(sigmoid, cls.codes[best * plane + cell]));
        if (score <= score_threshold) continue;
        std::int64_t d[4];
        for (int side = 0; side < 4; ++side) {
          d[side] = dfl_distance(&box.codes[side * reg_max * plane + cell], reg_max, plane, exp_table, level.stride);
        }
        const std::int64_t half = 1 << (kBoxFractionBits - 1);
        const std::int64_t cx = (2 * x + 1) * level.stride * half, cy = (2 * y + 1) * level.stride * half;
        candidates.push_back({static_cast<std::int32_t>(cx - d[0]), static_cast<std::int32_t>(cy - d[1]),
                              static_cast<std::int32_t>(cx + d[2]), static_cast<std::int32_t>(cy + d[3]), score, best,
                              anchor_base + static_cast<int>(cell)});
      }
    }
    anchor_base += static_cast<int>(plane);
  }
  return candidates;
}

}  // namespace yq
