// A deterministic synthetic picture (gradients, bars and discs) used when no
// image folder is given: BN-fusion checks and calibration still get inputs
// with structure at every scale.
#pragma once
#include "compiler/io/image.hpp"

namespace yq {

RgbImage test_pattern_image(int width, int height, int variant);

}  // namespace yq
