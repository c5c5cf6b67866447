// The integer detect head (docs/ARITHMETIC.md section 7): per anchor, the best
// class logit code is compared with the level's logit threshold (the first
// code whose sigmoid-table score exceeds the score threshold; the table is
// non-decreasing, so this is the same test as on the score); anchors that
// pass get their score from the sigmoid table and their four DFL distances as the rounded
// expectation sum_j j EXP[max - code_j] / sum_j EXP[max - code_j] scaled by the
// stride, and their box as the cell centre minus / plus those distances.
#include "compiler/ref/int_head.hpp"

#include <algorithm>

#include "compiler/ref/head_arithmetic.hpp"
#include "compiler/util/error.hpp"

namespace yq {

std::int64_t lut_value(const Lut& lut, std::int64_t code) {
  return arith::table_value(lut.values, code, lut.index_bits, lut.knot_bits);
}

std::int64_t logit_threshold_code(const Lut& sigmoid, std::int32_t score_threshold) {
  if (!std::is_sorted(sigmoid.values.begin(), sigmoid.values.end())) {
    throw Error("table " + sigmoid.name + " is not non-decreasing: no logit threshold is equivalent to its score threshold");
  }
  // Binary search for the first code whose score exceeds the threshold; the
  // scores are non-decreasing in the code (docs/ARITHMETIC.md section 7).
  std::int64_t low = arith::min_code(sigmoid.index_bits), high = arith::max_code(sigmoid.index_bits) + 1;
  while (low < high) {
    const std::int64_t middle = low + (high - low) / 2;
    if (lut_value(sigmoid, middle) > score_threshold) {
      high = middle;
    } else {
      low = middle + 1;
    }
  }
  return low;
}

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
    const std::int64_t logit_threshold = logit_threshold_code(sigmoid, score_threshold);
    const size_t plane = static_cast<size_t>(cls.height) * cls.width;
    for (int y = 0; y < cls.height; ++y) {
      for (int x = 0; x < cls.width; ++x) {
        const size_t cell = static_cast<size_t>(y) * cls.width + x;
        const int best = arith::best_class(&cls.codes[cell], num_classes, plane);
        const std::int32_t best_logit = cls.codes[best * plane + cell];
        if (best_logit < logit_threshold) continue;  // the same as score <= score_threshold
        const auto score = static_cast<std::int32_t>(lut_value(sigmoid, best_logit));
        std::int64_t d[4];
        for (int side = 0; side < 4; ++side) {
          d[side] = arith::dfl_distance(&box.codes[side * reg_max * plane + cell], reg_max, plane, exp_table.values,
                                        static_cast<std::int64_t>(exp_table.values.size()), level.stride);
        }
        const std::int64_t cx = arith::anchor_centre(x, level.stride), cy = arith::anchor_centre(y, level.stride);
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
