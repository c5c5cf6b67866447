// The band program's reference executor: runs a BandProgram instruction by
// instruction, in program order, on a model of the accelerator's memories
// (DRAM's feature-map words and the on-chip scratch memory), each Run on the
// integer reference's kernels with the band's explicit pad rows, and checks
// what a hardware issuer relies on:
//   - every scratch word an instruction touches lies in a half it declares
//     (reads / writes), and a Run reads only words a Load wrote since that
//     half was last consumed (consumed words are poisoned);
//   - every DRAM word a Load reads was last stored by the node whose output
//     it loads (for a view: a node it names words of), so a Load emitted
//     before the Store of its words, reading what an earlier tensor left
//     there, is caught;
//   - no Load without a barrier reads DRAM words of the last Store before it
//     (stores run one at a time: that is the only one that may still be
//     writing);
//   - each computing node's output in DRAM, once its last band is stored,
//     equals the integer reference's, and the detect head's bands cover every
//     anchor of every level once, in order, with the reference's codes.
// A failure throws yq::Error naming the instruction, or the first divergence
// (layer, channel, y, x, expected, got).
#pragma once
#include <cstdint>
#include <vector>

#include "compiler/emit/band_program.hpp"
#include "compiler/ref/int_kernels.hpp"

namespace yq {

class IntegerModel;

struct BandTraffic {
  std::int64_t loaded_words = 0;  // feature-map words read from DRAM
  std::int64_t stored_words = 0;  // written to DRAM
  std::int64_t loaded_bytes = 0;  // the same in DRAM bytes (each tensor's slots)
  std::int64_t stored_bytes = 0;
  std::int64_t copied_words = 0;  // read from an output half instead of DRAM (Copy)
  std::int64_t constant_loads = 0;
  std::int64_t runs = 0, head_bands = 0;
};

// `reference` holds every node's output (IntegerModel::run_all on the same
// image); node 0's codes are the image the program starts from.
BandTraffic execute_band_program(const IntegerModel& model, const MemoryMap& map, const BandProgram& program,
                                 const std::vector<CodeTensor>& reference);

}  // namespace yq
