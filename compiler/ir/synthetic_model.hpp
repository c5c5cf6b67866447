// The built-in synthetic YOLOv8n: the real architecture with seeded
// pseudo-random weights, so every stage runs on a machine with no checkpoint.
// Its detections are meaningless; it exists to exercise the pipeline.
#pragma once
#include <cstdint>

#include "compiler/io/checkpoint.hpp"

namespace yq {

constexpr std::uint64_t kSyntheticSeed = 20230110;

// A checkpoint-shaped tensor list (Ultralytics names, float32) for YOLOv8n
// with 80 classes; the same seed gives the same bits on every machine.
Checkpoint synthetic_yolov8n_checkpoint(std::uint64_t seed = kSyntheticSeed);

}  // namespace yq
