// The built-in synthetic YOLOv8 (n by default; s, m, l, x on request): the
// real architecture of that scale with seeded pseudo-random weights, so every
// stage runs on a machine with no checkpoint. Its detections are
// meaningless; it exists to exercise the pipeline and the hardware.
#pragma once
#include <cstdint>
#include <string>

namespace yq {

struct Checkpoint;  // compiler/io/checkpoint.hpp (LibTorch), included by the callers that build one

constexpr std::uint64_t kSyntheticSeed = 20230110;

// A checkpoint-shaped tensor list (Ultralytics names, float32) for the YOLOv8
// of that scale with 80 classes; the same scale and seed give the same bits
// on every machine. Throws yq::Error for a scale other than n, s, m, l, x.
Checkpoint synthetic_yolov8_checkpoint(char scale = 'n', std::uint64_t seed = kSyntheticSeed);

// "synthetic yolov8<scale>": how settings and the run's config name it.
std::string synthetic_model_name(char scale);

// "synthetic yolov8<scale> (seed <seed>)": what the model's source records.
std::string synthetic_model_source(char scale, std::uint64_t seed = kSyntheticSeed);

}  // namespace yq
