// The built-in synthetic YOLOv8 (n by default; s, m, l, x on request): the
// real architecture of that scale with seeded pseudo-random weights, so every
// stage runs on a machine with no checkpoint. Its detections are
// meaningless; it exists to exercise the pipeline and the hardware.
#pragma once
#include <cstdint>
#include <string>

#include "compiler/io/checkpoint.hpp"

namespace yq {

constexpr std::uint64_t kSyntheticSeed = 20230110;

// A checkpoint-shaped tensor list (Ultralytics names, float32) for the YOLOv8
// of that scale with 80 classes; the same scale and seed give the same bits
// on every machine. Throws yq::Error for a scale other than n, s, m, l, x.
Checkpoint synthetic_yolov8_checkpoint(char scale = 'n', std::uint64_t seed = kSyntheticSeed);

// "synthetic yolov8<scale> (seed <seed>)": what the model's source records.
std::string synthetic_model_source(char scale, std::uint64_t seed = kSyntheticSeed);

}  // namespace yq
