// Unit bench of rtl/yq_score_filter.v against the integer head's class step
// (compiler/ref/head_arithmetic.hpp arith::best_class and the logit
// threshold test of compiler/ref/int_head.cpp: pass = best >= threshold).
// Parameters from the Makefile as -DP_<NAME>, the same as Verilator's -G.
// Anchors of 1 .. 2^CLASS_W classes (80 among them; with LANES > 1 at most
// the multiple of LANES that fits) stream in, LANES classes per step (the
// lanes past the last class at the minimum code), with random idle cycles; edge cases: every logit equal (class 0 wins), the maximum
// repeated at later classes (the first wins), codes at both ends, the
// threshold at the best logit, one above and below it, at min_code and at
// max_code + 1 (nothing passes). The output must come one cycle after the
// last class; on a difference the first divergence is printed.
#include <memory>
#include <vector>

#include "Vyq_score_filter.h"
#include "compiler/ref/head_arithmetic.hpp"
#include "tb_common.hpp"

namespace {

#ifndef P_LANES
#define P_LANES 1
#endif
constexpr int kLogitW = P_LOGIT_W, kClassW = P_CLASS_W, kLanes = P_LANES;
constexpr long kAnchors = 20000;

struct Anchor {
  std::vector<std::int32_t> logits;
  std::int64_t threshold;
};

Anchor random_anchor(tb::Rng& rng, long index) {
  using namespace yq::arith;
  const int max_classes = (1 << kClassW) / kLanes * kLanes;
  const int classes = index % 4 == 0 ? (max_classes >= 80 ? 80 : max_classes) : static_cast<int>(rng.range(1, max_classes));
  Anchor a;
  const int pattern = static_cast<int>(rng.range(0, 5));
  const std::int64_t base = rng.edge_code(kLogitW);
  for (int c = 0; c < classes; ++c) {
    switch (pattern) {
      case 0: a.logits.push_back(static_cast<std::int32_t>(base)); break;  // all equal
      case 1: a.logits.push_back(static_cast<std::int32_t>(rng.chance(30) ? base : rng.range(min_code(kLogitW), base)));
              break;  // the maximum repeated
      case 2: a.logits.push_back(static_cast<std::int32_t>(rng.edge_code(kLogitW))); break;
      default: a.logits.push_back(static_cast<std::int32_t>(rng.code(kLogitW))); break;
    }
  }
  const std::int32_t best = a.logits[static_cast<size_t>(best_class(a.logits.data(), classes, 1))];
  switch (rng.range(0, 6)) {
    case 0: a.threshold = best; break;
    case 1: a.threshold = best + 1; break;
    case 2: a.threshold = best - 1; break;
    case 3: a.threshold = min_code(kLogitW); break;
    case 4: a.threshold = max_code(kLogitW) + 1; break;
    default: a.threshold = rng.range(min_code(kLogitW), max_code(kLogitW) + 1); break;
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  auto context = std::make_unique<VerilatedContext>();
  context->commandArgs(argc, argv);
  auto top = std::make_unique<Vyq_score_filter>(context.get());
  tb::Rng rng(0x5C0E0001u + static_cast<unsigned>(kLogitW * 64 + kClassW + 4096 * (kLanes - 1)));
  tb::reset(*top);

  long checked = 0, cycles = 0;
  for (long n = 0; n < kAnchors; ++n) {
    const Anchor a = random_anchor(rng, n);
    const int classes = static_cast<int>(a.logits.size());
    for (int c = 0; c < classes;) {
      const bool send = rng.chance(80), last = c + kLanes >= classes;
      top->in_valid = send;
      top->in_last = send && last;
      for (int k = 0; k < kLanes; ++k) {
        const std::int64_t code = !send ? rng.code(kLogitW)
                                  : c + k < classes ? a.logits[static_cast<size_t>(c + k)] : yq::arith::min_code(kLogitW);
        tb::set_bits(top->logit, k * kLogitW, kLogitW, static_cast<std::uint64_t>(code));
      }
      tb::set_bits(top->logit_threshold, 0, kLogitW + 1, static_cast<std::uint64_t>(a.threshold));
      tb::tick(*top);
      ++cycles;
      if (top->out_valid && !(send && last)) tb::fail("yq_score_filter", "out_valid before the anchor's last class (anchor %ld)", n);
      if (send) c += kLanes;
    }
    if (!top->out_valid) tb::fail("yq_score_filter", "anchor %ld: no output one cycle after its last class", n);
    const int expected_class = yq::arith::best_class(a.logits.data(), classes, 1);
    const std::int32_t expected_logit = a.logits[static_cast<size_t>(expected_class)];
    const bool expected_pass = expected_logit >= a.threshold;
    const int got_class = static_cast<int>(tb::get_bits(top->best_class, 0, kClassW));
    const std::int64_t got_logit = tb::sign_extend(tb::get_bits(top->best_logit, 0, kLogitW), kLogitW);
    const bool got_pass = top->pass != 0;
    const char* field = got_class != expected_class ? "best_class" : got_logit != expected_logit ? "best_logit"
                        : got_pass != expected_pass ? "pass" : nullptr;
    if (field) {
      tb::fail("yq_score_filter",
               "LOGIT_W=%d CLASS_W=%d LANES=%d: first divergence at anchor %ld (%d classes, threshold %lld), field %s: "
               "expected class %d logit %d pass %d, got class %d logit %lld pass %d",
               kLogitW, kClassW, kLanes, n, classes, static_cast<long long>(a.threshold), field, expected_class, expected_logit,
               expected_pass, got_class, static_cast<long long>(got_logit), got_pass);
    }
    ++checked;
    top->in_valid = 0;
    top->in_last = 0;
    if (rng.chance(20)) { tb::tick(*top); ++cycles; }
  }
  top->final();
  std::printf("PASS yq_score_filter LOGIT_W=%d CLASS_W=%d LANES=%d: %ld anchors, %ld cycles\n", kLogitW, kClassW, kLanes,
              checked, cycles);
  return 0;
}
