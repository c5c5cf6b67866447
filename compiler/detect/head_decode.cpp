#include "compiler/detect/head_decode.hpp"

#include <algorithm>
#include <cmath>

namespace yq {

namespace {

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// Expected bin of a softmax over reg_max logits spaced plane_size apart.
float dfl_distance(const float* logits, int reg_max, int plane_size) {
  float max_logit = logits[0];
  for (int k = 1; k < reg_max; ++k) max_logit = std::max(max_logit, logits[k * plane_size]);
  float sum = 0, weighted = 0;
  for (int k = 0; k < reg_max; ++k) {
    const float e = std::exp(logits[k * plane_size] - max_logit);
    sum += e;
    weighted += e * static_cast<float>(k);
  }
  return weighted / sum;
}

}  // namespace

std::vector<Detection> decode_detect_head(const std::vector<HeadLevelOutput>& levels, int num_classes, int reg_max,
                                          float score_threshold) {
  std::vector<Detection> candidates;
  const float logit_threshold = std::log(score_threshold / (1.0f - score_threshold));
  for (const HeadLevelOutput& level : levels) {
    const int plane = level.height * level.width;
    for (int y = 0; y < level.height; ++y) {
      for (int x = 0; x < level.width; ++x) {
        const int cell = y * level.width + x;
        int best_class = 0;
        for (int c = 1; c < num_classes; ++c) {
          if (level.cls[c * plane + cell] > level.cls[best_class * plane + cell]) best_class = c;
        }
        const float best_logit = level.cls[best_class * plane + cell];
        if (!(best_logit > logit_threshold)) continue;
        const float score = sigmoid(best_logit);
        if (!(score > score_threshold)) continue;
        float distance[4];
        for (int side = 0; side < 4; ++side) {
          distance[side] = dfl_distance(level.box + side * reg_max * plane + cell, reg_max, plane);
        }
        const float cx = x + 0.5f, cy = y + 0.5f, s = static_cast<float>(level.stride);
        Detection d;
        d.box = {(cx - distance[0]) * s, (cy - distance[1]) * s, (cx + distance[2]) * s, (cy + distance[3]) * s};
        d.score = score;
        d.class_id = best_class;
        candidates.push_back(d);
      }
    }
  }
  return candidates;
}

}  // namespace yq
