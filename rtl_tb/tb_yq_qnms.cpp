// Unit bench of rtl/yq_qnms.v against q_NMS's C++ reference,
// yq::int_non_max_suppression (compiler/detect/int_nms.cpp, linked in).
// Parameters from the Makefile as -DP_<NAME>, the same as Verilator's -G.
// Frames of random candidates (one per anchor, as the head emits them, sent
// in random order) clustered so that boxes of one class overlap, with the
// edge cases of docs/ARITHMETIC.md section 8: equal scores (ranked by
// anchor), zero-area boxes, boxes touching at an edge, scores at the
// threshold, an IoU exactly at the threshold (the worked example), more
// candidates than max_det, max_det 0, no candidates, num >= den, and more
// candidates than MAX_CAND (overflow must be reported). The result memory's
// count word and records must equal the reference's list byte for byte; on
// a difference the first divergence (index, field, expected, got) is printed.
#include <algorithm>
#include <memory>
#include <vector>

#include "Vyq_qnms.h"
#include "compiler/detect/int_nms.hpp"
#include "tb_common.hpp"

namespace {

constexpr int kMaxCand = P_MAX_CAND, kMaxDet = P_MAX_DET, kCoordW = P_COORD_W, kIouW = P_IOU_W;
constexpr long kFrames = 3000;
constexpr int kRecordBits = 192;  // yq_format.vh YQ_DET_WORD_BITS: x1 y1 x2 y2 score (32 each), class, anchor (16 each)
// The C++ reference computes in 64 bits, exact for sides below 2^26 (section 8).
constexpr int kCoordRangeBits = kCoordW - 1 < 25 ? kCoordW - 1 : 25;

using yq::IntDetection;

struct Frame {
  std::vector<IntDetection> candidates;
  yq::IntNmsOptions options;
};

IntDetection random_box(tb::Rng& rng, const std::vector<IntDetection>& so_far) {
  const std::int64_t limit = (std::int64_t{1} << kCoordRangeBits) - 1;
  IntDetection d;
  if (!so_far.empty() && rng.chance(60)) {  // near an earlier box: overlaps, touching, duplicates
    const IntDetection& o = so_far[static_cast<size_t>(rng.range(0, static_cast<std::int64_t>(so_far.size()) - 1))];
    d = o;
    switch (rng.range(0, 4)) {
      case 0: break;                                                         // the same box
      case 1: d.x1 = o.x2; d.x2 = static_cast<std::int32_t>(std::min<std::int64_t>(limit, o.x2 + rng.range(0, 200))); break;  // touching
      case 2: d.x2 = d.x1; break;                                            // zero width
      default: {
        const std::int64_t s = rng.range(0, 40);
        d.x1 = static_cast<std::int32_t>(std::clamp<std::int64_t>(o.x1 + rng.range(-s, s), -limit, limit));
        d.y1 = static_cast<std::int32_t>(std::clamp<std::int64_t>(o.y1 + rng.range(-s, s), -limit, limit));
        d.x2 = static_cast<std::int32_t>(std::clamp<std::int64_t>(o.x2 + rng.range(-s, s), -limit, limit));
        d.y2 = static_cast<std::int32_t>(std::clamp<std::int64_t>(o.y2 + rng.range(-s, s), -limit, limit));
      }
    }
  } else {
    const std::int64_t span = rng.chance(80) ? 4000 : limit;
    d.x1 = static_cast<std::int32_t>(rng.range(-span, span));
    d.y1 = static_cast<std::int32_t>(rng.range(-span, span));
    d.x2 = static_cast<std::int32_t>(rng.chance(5) ? rng.range(-span, span) : std::min<std::int64_t>(limit, d.x1 + rng.range(0, span)));
    d.y2 = static_cast<std::int32_t>(std::min<std::int64_t>(limit, d.y1 + rng.range(0, span)));
  }
  return d;
}

Frame random_frame(tb::Rng& rng, long index) {
  Frame f;
  const std::int64_t iou_max = (std::int64_t{1} << kIouW) - 1;
  switch (rng.range(0, 5)) {
    case 0: f.options.iou_numerator = 7; f.options.iou_denominator = 10; break;
    case 1: f.options.iou_numerator = 9; f.options.iou_denominator = 20; break;
    case 2: f.options.iou_numerator = 1; f.options.iou_denominator = 2; break;
    case 3: f.options.iou_numerator = rng.range(0, iou_max); f.options.iou_denominator = f.options.iou_numerator; break;  // num >= den
    default: f.options.iou_denominator = rng.range(1, iou_max); f.options.iou_numerator = rng.range(0, f.options.iou_denominator); break;
  }
  f.options.score_threshold = static_cast<std::int32_t>(rng.chance(50) ? 16384 : rng.range(0, rng.chance(10) ? 65535 : 30000));
  f.options.max_detections = static_cast<int>(rng.chance(10) ? 0 : rng.chance(50) ? kMaxDet : rng.range(1, kMaxDet));
  int count = static_cast<int>(rng.range(0, kMaxCand + kMaxCand / 2));
  if (index % 10 == 1) count = 0;                            // no candidates
  if (index % 10 == 2) count = kMaxCand + 3;                 // beyond the capacity (with scores above the threshold)
  const int classes = static_cast<int>(rng.range(1, 4));
  std::vector<int> anchors(static_cast<size_t>(count) * 3 + 1);
  for (size_t i = 0; i < anchors.size(); ++i) anchors[i] = static_cast<int>(i);
  std::shuffle(anchors.begin(), anchors.end(), rng.gen);
  const std::int32_t score_pool[4] = {f.options.score_threshold, 40000, 52000, 65535};
  for (int i = 0; i < count; ++i) {
    IntDetection d = random_box(rng, f.candidates);
    d.anchor = anchors[static_cast<size_t>(i)] & 0xffff;
    d.class_id = static_cast<int>(rng.range(0, classes - 1));
    d.score = rng.chance(50) ? score_pool[rng.range(0, 3)] : static_cast<std::int32_t>(rng.range(0, 65535));
    if (index % 10 == 2) d.score = std::max(d.score, f.options.score_threshold + 1);
    f.candidates.push_back(d);
  }
  return f;
}

// The worked example of docs/ARITHMETIC.md section 8 (IoU exactly 0.7 kept, ties by anchor).
Frame worked_example() {
  Frame f;
  f.options = {16384, 7, 10, 300 < kMaxDet ? 300 : kMaxDet};
  f.candidates = {{0, 0, 160, 160, 52000, 0, 7},    {16, 0, 176, 160, 52000, 0, 3}, {16, 0, 176, 112, 40000, 0, 5},
                  {16, 0, 176, 160, 30000, 1, 9},   {16, 0, 176, 160, 16384, 0, 2}, {176, 0, 336, 160, 20000, 0, 4},
                  {16, 0, 16, 160, 45000, 0, 6}};
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  auto context = std::make_unique<VerilatedContext>();
  context->commandArgs(argc, argv);
  auto top = std::make_unique<Vyq_qnms>(context.get());
  tb::Rng rng(0x9A350001u + static_cast<unsigned>(kMaxCand * 1024 + kMaxDet * 8 + kCoordW));
  tb::reset(*top);
  top->in_end = 0;

  std::vector<std::vector<std::uint64_t>> memory(kMaxDet + 1, std::vector<std::uint64_t>(kRecordBits / 32, 0));
  long frames = 0, overflows = 0, kept_total = 0, suppressing = 0, capped = 0, cycles_after_end = 0, worst = 0;
  for (long n = 0; n < kFrames; ++n) {
    const Frame f = n == 0 ? worked_example() : random_frame(rng, n);
    for (auto& word : memory) std::fill(word.begin(), word.end(), 0xdeadbeef);
    tb::set_bits(top->score_threshold, 0, 32, static_cast<std::uint64_t>(f.options.score_threshold));
    tb::set_bits(top->iou_num, 0, kIouW, static_cast<std::uint64_t>(f.options.iou_numerator));
    tb::set_bits(top->iou_den, 0, kIouW, static_cast<std::uint64_t>(f.options.iou_denominator));
    tb::set_bits(top->max_det, 0, 32, static_cast<std::uint64_t>(f.options.max_detections));
    for (size_t i = 0; i < f.candidates.size();) {
      const bool send = rng.chance(80);
      top->in_valid = send;
      if (send) {
        const IntDetection& d = f.candidates[i++];
        tb::set_bits(top->in_x1, 0, kCoordW, static_cast<std::uint64_t>(d.x1));
        tb::set_bits(top->in_y1, 0, kCoordW, static_cast<std::uint64_t>(d.y1));
        tb::set_bits(top->in_x2, 0, kCoordW, static_cast<std::uint64_t>(d.x2));
        tb::set_bits(top->in_y2, 0, kCoordW, static_cast<std::uint64_t>(d.y2));
        tb::set_bits(top->in_score, 0, 32, static_cast<std::uint64_t>(d.score));
        tb::set_bits(top->in_class, 0, 16, static_cast<std::uint64_t>(d.class_id));
        tb::set_bits(top->in_anchor, 0, 16, static_cast<std::uint64_t>(d.anchor));
      }
      tb::tick(*top);
    }
    top->in_valid = 0;
    top->in_end = 1;
    tb::tick(*top);
    top->in_end = 0;
    long cycles = 1;
    while (true) {
      if (top->res_we) {
        const auto address = static_cast<size_t>(top->res_addr);
        if (address > static_cast<size_t>(kMaxDet)) tb::fail("yq_qnms", "frame %ld: write to word %zu", n, address);
        for (int w = 0; w < kRecordBits / 32; ++w) memory[address][static_cast<size_t>(w)] = tb::get_bits(top->res_data, 32 * w, 32);
      }
      if (top->done) break;
      if (cycles > 10L * kMaxCand * (kMaxCand + kMaxDet + 8)) tb::fail("yq_qnms", "frame %ld: no done", n);
      tb::tick(*top);
      ++cycles;
    }
    const long above = std::count_if(f.candidates.begin(), f.candidates.end(),
                                     [&](const IntDetection& d) { return d.score > f.options.score_threshold; });
    const bool expect_overflow = above > kMaxCand;
    if ((top->overflow != 0) != expect_overflow) {
      tb::fail("yq_qnms", "frame %ld: %ld candidates above the threshold, capacity %d: overflow %d", n, above, kMaxCand,
               top->overflow);
    }
    ++frames;
    cycles_after_end += cycles;
    worst = std::max(worst, cycles);
    if (expect_overflow) {
      ++overflows;
      continue;
    }
    yq::IntNmsOptions options = f.options;
    const std::vector<IntDetection> expected = yq::int_non_max_suppression(f.candidates, options);
    const std::uint64_t count = memory[0][0];
    if (count != expected.size()) {
      tb::fail("yq_qnms", "frame %ld (%zu candidates, iou %lld/%lld, max_det %d): first divergence at the count: expected %zu, got %llu",
               n, f.candidates.size(), static_cast<long long>(options.iou_numerator),
               static_cast<long long>(options.iou_denominator), options.max_detections, expected.size(),
               static_cast<unsigned long long>(count));
    }
    for (size_t i = 0; i < expected.size(); ++i) {
      const IntDetection& e = expected[i];
      const auto& word = memory[i + 1];
      const std::int64_t want[7] = {e.x1, e.y1, e.x2, e.y2, e.score, e.class_id, e.anchor};
      const std::int64_t got[7] = {tb::sign_extend(word[0], 32), tb::sign_extend(word[1], 32),
                                   tb::sign_extend(word[2], 32), tb::sign_extend(word[3], 32),
                                   static_cast<std::int64_t>(word[4]), static_cast<std::int64_t>(word[5] & 0xffff),
                                   static_cast<std::int64_t>(word[5] >> 16)};
      const char* names[7] = {"x1", "y1", "x2", "y2", "score", "class_id", "anchor"};
      for (int k = 0; k < 7; ++k) {
        if (got[k] != want[k]) {
          tb::fail("yq_qnms", "frame %ld: first divergence at detection %zu, field %s: expected %lld, got %lld", n, i,
                   names[k], static_cast<long long>(want[k]), static_cast<long long>(got[k]));
        }
      }
    }
    kept_total += static_cast<long>(expected.size());
    const long limit = std::min<long>(above, options.max_detections);
    if (static_cast<long>(expected.size()) < limit) ++suppressing;  // some candidate was suppressed
    if (above > options.max_detections) ++capped;                   // more candidates than max_det
  }
  top->final();
  std::printf("PASS yq_qnms MAX_CAND=%d MAX_DET=%d COORD_W=%d IOU_W=%d: %ld frames (%ld overflowing, %ld with suppressions, "
              "%ld with more candidates than max_det), %ld detections, "
              "%ld cycles per frame after in_end on average, %ld at most\n",
              kMaxCand, kMaxDet, kCoordW, kIouW, frames, overflows, suppressing, capped, kept_total, cycles_after_end / frames, worst);
  return 0;
}
