#include "compiler/quant/quant_model.hpp"

#include <algorithm>

namespace yq {

int widest_accumulator_bits(const QuantModel& model) {
  int widest = 0;
  for (int index : model.graph.conv_nodes()) widest = std::max(widest, model.nodes[index].conv.acc_bits);
  return widest;
}

}  // namespace yq
