// BatchNorm folding: conv(x, W) -> BN(gamma, beta, mean, var, eps) becomes
// conv(x, W') + b' with W' = W * s, b' = beta - mean * s, s = gamma / sqrt(var + eps),
// per output channel, computed in double and stored as float32.
#pragma once
#include "compiler/ir/model.hpp"

namespace yq {

// Returns the model with every Conv+BN pair replaced by a biased conv.
Model fuse_batch_norm(const Model& model);

}  // namespace yq
