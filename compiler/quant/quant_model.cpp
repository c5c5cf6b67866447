#include "compiler/quant/quant_model.hpp"

#include <algorithm>

namespace yq {

int widest_accumulator_bits(const QuantModel& model) {
  int widest = 0;
  for (const QuantNode& node : model.nodes) widest = std::max(widest, node.conv.acc_bits);
  return widest;
}

}  // namespace yq
