// Byte planes (docs/ARTIFACTS.md section 3.2): a model whose activation codes
// are 8 bits wide but for a few tensors that only convolutions write and
// read keeps one-byte words in every feature-map memory, and stores each of
// those wider tensors as two byte planes a channel: channel c's high bytes
// (code >> 8, signed) in stored channel 2c, its low bytes (code & 255,
// unsigned) in stored channel 2c + 1. A convolution reading them takes the
// high plane's codes times 256 and the low plane's as they are (the conv
// engine's operand is 8 bits wider than a word), so it computes the same
// sums; one writing them writes each output channel's two planes in turn.
// Only the MAC operand grows: the scratch memory, DRAM slots, loader and
// every other engine keep one-byte words.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace yq {

struct QuantModel;

constexpr int kPlaneBits = 8;  // a stored word of a plane tensor

// Per node: 2 when its output is stored as byte planes, else 1. When every
// tensor wider than kPlaneBits (the image never is) is a convolution's
// output of at most 16 bits, zero point 0, no detect output, that only
// convolutions read, every such tensor is 2; otherwise every node is 1.
std::vector<int> byte_planes(const QuantModel& model);

// Why a model's codes wider than kPlaneBits cannot be byte planes, naming
// the first such tensor and what disqualifies it ("" when they can, or when
// there are none).
std::string byte_planes_unfit(const QuantModel& model);

// The word one plane holds of a code (plane 0 high, 1 low), and the code two
// planes' words hold.
std::int32_t plane_word(std::int32_t code, int plane);
std::int32_t code_of_planes(std::int32_t high, std::int32_t low);

// A tensor's codes (channels x plane_size each) as stored: channels * 2
// planes, and back.
std::vector<std::int32_t> to_planes(const std::vector<std::int32_t>& codes, std::int64_t plane_size);
std::vector<std::int32_t> from_planes(const std::vector<std::int32_t>& words, std::int64_t plane_size);

}  // namespace yq
