// Unit bench of rtl/yq_scratch.v against a flat array of words: random
// cycles of the traffic yq_top gives it (sets A and B: words on each of the
// four steps of rtl/yq_lane_step.vh, some lanes idle, some past the memory;
// or, on set A with a_any, the detect head's words a pitch apart on lanes
// 0 .. ANY_LANES - 1, 1 modulo 2 * ROWS (stage_7's) or another odd one,
// which a memory rotating the head lanes' rows (ANY_PITCH_MODULUS a
// multiple of 2 * ROWS) flags where a lane is not in the bank its lane
// number after lane 0's;
// the engines' write of ROWS consecutive words in an output half and the
// loader's of PB in an input half (now and then in an output half, which
// must be dropped and flagged), each under a mask; the store unit's read of
// PB words in an output half,
// which must wait exactly when set B reads one of its banks in its half),
// every read word and every store word checked a cycle later, and cycles
// whose set A or set B asks one bank for two words, whose conflict flag
// must rise (and no other cycle's; with CHECK = 0 no cycle's). Parameters
// come from the Makefile as -DP_<NAME>=<value>.
#include <algorithm>
#include <array>
#include <memory>
#include <vector>

#include "Vyq_scratch.h"
#include "tb_common.hpp"

namespace {

constexpr int kRows = P_ROWS, kFW = P_FW, kPB = P_PB, kAnyLanes = P_ANY_LANES;
constexpr bool kCheck = P_CHECK != 0;
constexpr std::uint32_t kIn = P_IN_WORDS, kOut = P_OUT_WORDS;
constexpr std::uint32_t kBanks = 2 * kRows;
constexpr bool kAnyRotate = P_ANY_PITCH_MODULUS % kBanks == 0;  // the head lanes' rows rotated onto the banks
constexpr std::uint32_t kWords = 2 * (kIn + kOut);
constexpr std::uint32_t kNone = 0xffffffffu;
constexpr long kCycles = 200000;
const std::array<std::uint32_t, 4> kHalfBase = {0, kIn, 2 * kIn, 2 * kIn + kOut};
const std::array<std::uint32_t, 4> kHalfWords = {kIn, kIn, kOut, kOut};

int half_of(std::uint32_t word) {
  for (int h = 3; h >= 0; --h) {
    if (word >= kHalfBase[h]) return word < kWords ? h : 4;
  }
  return 4;
}

// A random word of half h, at least `room` words before its end.
std::uint32_t word_in(tb::Rng& rng, int h, std::uint32_t room) {
  return kHalfBase[h] + static_cast<std::uint32_t>(rng.range(0, kHalfWords[h] - room));
}

// The steps of rtl/yq_lane_step.vh: lane k of a set reads base + offset.
constexpr int kStepOne = 0, kStepTwo = 1, kStepPairs = 2, kSteps = 4;
constexpr int kNoStep = -1;  // the head's lanes without a rotation: words anywhere

std::uint32_t lane_offset(int step, int k) {
  switch (step) {
    case kStepOne: return static_cast<std::uint32_t>(k);
    case kStepTwo: return static_cast<std::uint32_t>(2 * k);
    case kStepPairs: return static_cast<std::uint32_t>(k / 2);
    default: return static_cast<std::uint32_t>((k + 1) / 2);
  }
}

// A set of lanes on a step: lane k at base + offset(k), some idle or past
// the memory at random.
std::vector<std::uint32_t> stepped(tb::Rng& rng, int h, int step) {
  std::vector<std::uint32_t> lanes(kRows, kNone);
  const std::uint32_t base = word_in(rng, h, 2 * kRows);
  for (int k = 0; k < kRows; ++k) {
    const int pick = static_cast<int>(rng.range(0, 9));
    if (pick == 0) continue;                                                                  // idle
    if (pick == 1) lanes[k] = kWords + static_cast<std::uint32_t>(rng.range(0, 99));  // past the memory
    else lanes[k] = base + lane_offset(step, k);
  }
  return lanes;
}

// The detect head's lanes: words a pitch apart on lanes 0 .. ANY_LANES - 1
// (lane 0 always reading, others idle at random), the others idle. On banks
// (the pitch stage_7 gives, 1 modulo NB when NB divides its modulus), lane
// k's word is in the bank k after lane 0's; otherwise any odd pitch, whose
// lanes fall in distinct banks, which a rotating memory reads right only
// where they still find their row (any_clashes).
std::vector<std::uint32_t> pitched(tb::Rng& rng, int h, bool on_banks) {
  std::vector<std::uint32_t> lanes(kRows, kNone);
  const std::uint32_t widest = (std::min(kIn, kOut) - 1) / kAnyLanes;  // the pitch whose words fit a half
  const std::uint32_t pitch = on_banks ? 1 + kBanks * static_cast<std::uint32_t>(rng.range(0, (widest - 1) / kBanks))
                                       : 2 * static_cast<std::uint32_t>(rng.range(0, (widest - 1) / 2)) + 1;
  const std::uint32_t base = word_in(rng, h, pitch * kAnyLanes);
  for (int k = 0; k < kAnyLanes; ++k) {
    if (k == 0 || !rng.chance(10)) lanes[k] = base + pitch * static_cast<std::uint32_t>(k);
  }
  return lanes;
}

// Whether a lane set asks a bank for two words: (on a step) a reading lane
// off the step of the set's first reading lane, or two of its lanes on one
// bank and different words.
bool clashes(const std::vector<std::uint32_t>& lanes, int step) {
  if (step != kNoStep) {
    const auto first = std::find_if(lanes.begin(), lanes.end(), [](std::uint32_t w) { return w < kWords; });
    const int k0 = static_cast<int>(first - lanes.begin());
    for (int k = k0; k < kRows; ++k) {
      if (lanes[k] < kWords && lanes[k] != *first + lane_offset(step, k) - lane_offset(step, k0)) return true;
    }
  }
  for (int i = 0; i < kRows; ++i) {
    for (int j = 0; j < i; ++j) {
      if (lanes[i] < kWords && lanes[j] < kWords && lanes[i] % kBanks == lanes[j] % kBanks && lanes[i] != lanes[j]) {
        return true;
      }
    }
  }
  return false;
}

// The head's set (a_any) when rotated: the bank k after lane 0's reads
// lane k's row and gives lane k its word, so a lane in another bank asks
// some bank for two words. Otherwise, as a set of words anywhere.
bool any_clashes(const std::vector<std::uint32_t>& lanes) {
  if (!kAnyRotate) return clashes(lanes, kNoStep);
  for (int k = 0; k < kRows; ++k) {
    if (lanes[k] < kWords && lanes[k] % kBanks != (lanes[0] + static_cast<std::uint32_t>(k)) % kBanks) return true;
  }
  return false;
}

void set_lanes(VlWide<(kRows * 32 + 31) / 32>& port, const std::vector<std::uint32_t>& lanes) {
  for (int k = 0; k < kRows; ++k) tb::set_bits(port, 32 * k, 32, lanes[k]);
}

}  // namespace

int main(int argc, char** argv) {
  Verilated::commandArgs(argc, argv);
  auto top = std::make_unique<Vyq_scratch>();
  tb::Rng rng(11);
  std::vector<std::uint64_t> memory(kWords, 0);
  const std::uint64_t word_mask = tb::low_mask(kFW);
  top->clk = 0;
  top->eval();
  // Fill the memory first, so that every word is known: the input halves
  // through the loader, the output halves through the engines' write.
  const auto fill = [&](auto& en, auto& base, auto& mask, auto& data, int width, std::uint32_t from, std::uint32_t to) {
    for (std::uint32_t w = from; w < to; w += width) {
      en = 1;
      base = w;
      mask = static_cast<std::uint32_t>(tb::low_mask(width));
      for (int k = 0; k < width; ++k) {
        memory[w + k] = rng.ucode(kFW);
        tb::set_bits(data, kFW * k, kFW, memory[w + k]);
      }
      tb::tick(*top);
    }
    en = 0;
  };
  fill(top->ld_en, top->ld_base, top->ld_mask, top->ld_data, kPB, 0, 2 * kIn);
  fill(top->wr_en, top->wr_base, top->wr_mask, top->wr_data, kRows, 2 * kIn, kWords);

  long clash_cycles = 0, waits = 0, stores = 0, reads = 0;
  for (long cycle = 0; cycle < kCycles; ++cycle) {
    // Halves: the loader in an input half, the engines' write in an output
    // half, set A in one of the two others; set B in one of those two (no
    // half written this cycle), the store in the output one.
    const int ld_half = static_cast<int>(rng.range(0, 1)), wr_half = static_cast<int>(rng.range(2, 3));
    const int in_free = 1 - ld_half, out_free = 5 - wr_half;
    const int a_half = rng.chance(50) ? in_free : out_free, b_half = rng.chance(50) ? in_free : out_free;
    const bool clash_cycle = rng.chance(5);
    const bool any = rng.chance(20);
    const int a_step = static_cast<int>(rng.range(0, kSteps - 1)), b_step = static_cast<int>(rng.range(0, kSteps - 1));
    std::vector<std::uint32_t> a = any ? pitched(rng, a_half, rng.chance(75)) : stepped(rng, a_half, a_step);
    std::vector<std::uint32_t> b(kRows, kNone);
    if (rng.chance(60)) b = stepped(rng, b_half, b_step);
    if (clash_cycle) {  // two lanes of one set on one bank, different words
      const bool on_a = rng.chance(50);
      std::vector<std::uint32_t>& set = on_a ? a : b;
      const int lanes = on_a && any ? kAnyLanes : kRows;  // the head reads on its lanes only
      const int i = static_cast<int>(rng.range(0, lanes - 1)), j = (i + 1) % lanes;
      set[i] = word_in(rng, on_a ? a_half : b_half, kBanks);
      set[j] = set[i] + kBanks;
    }
    const bool write = !clash_cycle && rng.chance(50), load = !clash_cycle && rng.chance(50);
    const bool store = !clash_cycle && rng.chance(60);
    // Now and then a load into an output half, which the memory drops and
    // the check flags (the band program never loads there).
    const bool misplaced_load = load && rng.chance(2);
    const std::uint32_t wr_base = word_in(rng, wr_half, kRows);
    const std::uint32_t ld_base = word_in(rng, misplaced_load ? wr_half : ld_half, kPB);
    const std::uint32_t st_base = word_in(rng, out_free, kPB);
    const std::uint32_t wr_mask = static_cast<std::uint32_t>(rng.ucode(kRows));
    const std::uint32_t ld_mask = static_cast<std::uint32_t>(tb::low_mask(static_cast<int>(rng.range(1, kPB))));
    const std::uint32_t st_mask = static_cast<std::uint32_t>(rng.ucode(kPB));
    // `count` random words onto a data bus, returned.
    const auto drive_words = [&](auto& bus, int count) {
      std::vector<std::uint64_t> words(count);
      for (int k = 0; k < count; ++k) {
        words[k] = rng.ucode(kFW);
        tb::set_bits(bus, kFW * k, kFW, words[k]);
      }
      return words;
    };

    top->a_any = any;
    top->a_step = a_step;
    top->b_step = b_step;
    set_lanes(top->a_addr, a);
    set_lanes(top->b_addr, b);
    top->wr_en = write;
    top->wr_base = wr_base;
    top->wr_mask = wr_mask;
    const std::vector<std::uint64_t> wr_words = drive_words(top->wr_data, kRows);
    top->ld_en = load;
    top->ld_base = ld_base;
    top->ld_mask = ld_mask;
    const std::vector<std::uint64_t> ld_words = drive_words(top->ld_data, kPB);
    top->st_en = store;
    top->st_base = st_base;
    top->st_mask = st_mask;
    top->eval();

    // The store waits exactly when set B reads one of its banks in its half.
    bool blocked = false;
    for (int k = 0; k < kPB; ++k) {
      const std::uint32_t w = st_base + k;
      if (((st_mask >> k) & 1) == 0) continue;
      for (std::uint32_t lane : b) {
        if (lane < kWords && lane % kBanks == w % kBanks && half_of(lane) == half_of(w)) blocked = true;
      }
    }
    const bool granted = store && !blocked;
    if (static_cast<bool>(top->st_grant) != granted) {
      tb::fail("yq_scratch", "cycle %ld: st_grant %d, expected %d", cycle, static_cast<int>(top->st_grant), granted);
    }
    waits += store && blocked;
    stores += granted;

    const bool expect_clash = (any ? any_clashes(a) : clashes(a, a_step)) || clashes(b, b_step) || misplaced_load;
    clash_cycles += expect_clash;
    std::vector<std::uint64_t> want_a(kRows), want_b(kRows), want_st(kPB);
    for (int k = 0; k < kRows; ++k) {
      want_a[k] = a[k] < kWords ? memory[a[k]] : 0;
      want_b[k] = b[k] < kWords ? memory[b[k]] : 0;
    }
    for (int k = 0; k < kPB; ++k) want_st[k] = granted && ((st_mask >> k) & 1) ? memory[st_base + k] : 0;
    tb::tick(*top);

    if (static_cast<bool>(top->conflict) != (kCheck && expect_clash)) {
      tb::fail("yq_scratch", "cycle %ld: conflict %d, expected %d", cycle, static_cast<int>(top->conflict),
               kCheck && expect_clash);
    }
    if (!expect_clash) {
      for (int k = 0; k < kRows; ++k) {
        const std::uint64_t got_a = tb::get_bits(top->a_data, kFW * k, kFW), got_b = tb::get_bits(top->b_data, kFW * k, kFW);
        if (got_a != want_a[k]) {
          tb::fail("yq_scratch", "cycle %ld: set A lane %d word %u got %llu expected %llu", cycle, k, a[k],
                   static_cast<unsigned long long>(got_a), static_cast<unsigned long long>(want_a[k]));
        }
        if (got_b != want_b[k]) {
          tb::fail("yq_scratch", "cycle %ld: set B lane %d word %u got %llu expected %llu", cycle, k, b[k],
                   static_cast<unsigned long long>(got_b), static_cast<unsigned long long>(want_b[k]));
        }
        reads += (a[k] < kWords) + (b[k] < kWords);
      }
    }
    for (int k = 0; k < kPB; ++k) {
      const std::uint64_t got = tb::get_bits(top->st_data, kFW * k, kFW);
      if (got != want_st[k]) {
        tb::fail("yq_scratch", "cycle %ld: store word %d (scratch word %u) got %llu expected %llu", cycle, k,
                 st_base + k, static_cast<unsigned long long>(got), static_cast<unsigned long long>(want_st[k]));
      }
    }
    for (int k = 0; k < kRows; ++k) {
      if (write && ((wr_mask >> k) & 1)) memory[wr_base + k] = wr_words[k] & word_mask;
    }
    for (int k = 0; k < kPB; ++k) {
      if (load && !misplaced_load && ((ld_mask >> k) & 1)) memory[ld_base + k] = ld_words[k] & word_mask;
    }
  }
  std::printf("PASS yq_scratch ROWS=%d FW=%d PB=%d IN_WORDS=%u OUT_WORDS=%u CHECK=%d ANY_PITCH_MODULUS=%d: %ld cycles, %ld lane "
              "reads, %ld store beats (%ld waited on set B), %ld cycles with a lane set asking a bank for two words "
              "or a load in an output half %s\n",
              kRows, kFW, kPB, kIn, kOut, static_cast<int>(kCheck), P_ANY_PITCH_MODULUS, kCycles, reads, stores,
              waits, clash_cycles,
              kCheck ? "flagged" : "(not checked)");
  return 0;
}
