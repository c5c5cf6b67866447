// Feature-map planning: the word address of every node's output in the
// accelerator's feature-map memory (NCHW, one code per word).
//
//  1. Views. A slice is a view of its source: NCHW channels [b, b + c) of a
//     C x H x W tensor are its words from b*H*W on. A concat whose inputs all
//     pass unchanged (identity requant, no narrower output) can be a view of
//     its inputs laid end to end, the inputs then being written in place by
//     their producers. Views and their members form groups (union-find with
//     offsets); a concat that would contradict its group (an input already
//     placed at another distance, two written tensors sharing words) stays a
//     copy. A view node needs no work at run time: it only names words that
//     other nodes write.
//  2. Pairs. A computing node whose output only the next node reads, one
//     output row from one input row (an add, a 1x1 convolution of stride
//     1), hands it over band by band: the band program runs the two nodes'
//     bands alternately, the second reading each band of the first on chip,
//     so the first's output never goes to DRAM (a node handed an output
//     hands over none: pairs do not chain). Detect outputs are never handed.
//  3. Foldable upsamples. A 2x nearest upsample whose every reader
//     (directly or through a concat view holding it) reads output row y
//     from input row y (an add, a 1x1 convolution of stride 1, a concat)
//     may be no work of its own in the band program: its readers' loads
//     read its input and write each word twice into two rows
//     (docs/ARTIFACTS.md section 14, upsample_load), its output then never
//     written to DRAM. The band program folds it when two rows of each
//     reader fit its halves; it keeps its output's words either way, and
//     its input stays live until those readers are over.
//  4. Lifetimes. A group is live from its first member's node to the last
//     node reading any member, where a pair's first node reads until its
//     second's (their bands interleave); detect outputs stay live to the
//     program's end; a foldable upsample's input as long as its output.
//  5. Addresses. Groups, in order of their first node, take the lowest range
//     free of every group still live (first fit). The memory's depth is the
//     highest word used: the peak of live data, not the sum of all tensors.
//  6. DRAM bytes. The same first fit, with each group's words in DRAM slots
//     of its own width (its widest member's code_bytes) and every group
//     rounded up to whole slots of the widest width, gives each node's byte
//     offset in the DRAM feature-map region: a tensor of 8-bit codes takes a
//     byte a code beside a 16-bit one's two. With one width throughout the
//     byte plan is the word plan times that width.
#pragma once
#include <cstdint>
#include <vector>

#include "compiler/ir/graph.hpp"

namespace yq {

struct FmapPlan {
  std::vector<std::int64_t> base;         // per node: first word of its output
  std::vector<bool> view;                 // per node: its output is a view of its inputs' words
  std::int64_t depth = 0;                 // words the memory needs
  std::int64_t total_words = 0;           // sum of every node's output (the depth without views and reuse)
  std::vector<std::int64_t> dram_offset;  // per node: first byte of its output in the DRAM region
  std::vector<int> slot_bytes;            // per node: bytes a code of its output takes in DRAM
  std::int64_t dram_bytes = 0;            // bytes the DRAM region needs
  std::vector<int> forwarded_to;          // per node: the node it hands its output to (step 2), or -1
  std::vector<bool> foldable;             // per node: an upsample its readers' loads may perform (step 3)
};

// concat_passes_inputs[i]: node i is a concat whose inputs pass unchanged;
// code_bytes[i]: the DRAM bytes node i's codes need (1 or 2; empty: 1 each).
FmapPlan plan_feature_maps(const Graph& graph, const std::vector<TensorShape>& shapes,
                           const std::vector<bool>& concat_passes_inputs, const std::vector<int>& code_bytes = {});

}  // namespace yq
