// Unit bench of rtl/yq_lut_unit.v against arith::lookup (direct table) and
// arith::interpolated_lookup (KNOT_W < IN_W), docs/ARITHMETIC.md section 6.
// Parameters come from the Makefile as -DP_<NAME>=<value> (the Verilator
// -G values); P_TABLE_FILE is the table file, the same ABSOLUTE path as the
// model's -GTABLE_FILE: the bench writes it before the model starts.
// Vectors: every code in order, then random codes (fixed seed), with random
// idle cycles; the latency (1 direct, 3 interpolated) is checked too.
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "Vyq_lut_unit.h"
#include "tb_common.hpp"

namespace {

constexpr int kInW = P_IN_W, kKnotW = P_KNOT_W, kOutW = P_OUT_W;
constexpr bool kSigned = P_SIGNED != 0;
constexpr bool kInterp = kKnotW < kInW;
constexpr long kDepth = kInterp ? (1L << kKnotW) + 1 : (1L << kInW);
constexpr int kLatency = kInterp ? 3 : 1;
constexpr long kRandomVectors = 100000;

std::int64_t entry_min() { return kSigned ? yq::arith::min_code(kOutW) : 0; }
std::int64_t entry_max() {
  return kSigned ? yq::arith::max_code(kOutW) : static_cast<std::int64_t>(tb::low_mask(kOutW));
}

// The table: a smooth ramp, random stretches, flat runs and adjacent extremes
// (the largest knot differences, both signs).
std::vector<std::int64_t> make_table(tb::Rng& rng) {
  std::vector<std::int64_t> table(static_cast<std::size_t>(kDepth));
  const std::int64_t lo = entry_min(), hi = entry_max();
  for (long i = 0; i < kDepth; ++i) {
    std::int64_t v;
    switch ((i / 32) % 4) {
      case 0: v = lo + (hi - lo) * i / kDepth; break;              // ramp
      case 1: v = rng.range(lo, hi); break;                        // random
      case 2: v = (i % 2) ? hi : lo; break;                        // extremes alternating
      default: v = (i / 8) % 2 ? rng.range(lo, hi) : table[static_cast<std::size_t>(i - 1)]; break;  // flat runs
    }
    table[static_cast<std::size_t>(i)] = v;
  }
  return table;
}

void write_table(const std::string& path, const std::vector<std::int64_t>& table) {
  std::ofstream file(path);
  const int digits = (kOutW + 3) / 4;
  for (std::int64_t v : table) {
    char line[32];
    std::snprintf(line, sizeof line, "%0*llx\n", digits,
                  static_cast<unsigned long long>(static_cast<std::uint64_t>(v) & tb::low_mask(kOutW)));
    file << line;
  }
  if (!file) tb::fail("yq_lut_unit", "cannot write the table file %s", path.c_str());
}

struct Pending {
  std::int64_t code, expected;
  long due;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string table_path = P_TABLE_FILE;
  if (!std::filesystem::path(table_path).is_absolute()) {
    tb::fail("yq_lut_unit", "TABLE_FILE %s is not an absolute path", table_path.c_str());
  }
  std::filesystem::remove(table_path);  // never read a stale table
  tb::Rng rng(0x5EED0002u + static_cast<unsigned>(kInW * 256 + kKnotW * 16 + kOutW + (kSigned ? 0 : 4096)));
  const std::vector<std::int64_t> table = make_table(rng);
  write_table(table_path, table);
  // Verilator only warns about a missing $readmemh file and leaves zeros.
  if (!std::filesystem::exists(table_path)) tb::fail("yq_lut_unit", "table file %s missing", table_path.c_str());

  auto context = std::make_unique<VerilatedContext>();
  context->commandArgs(argc, argv);
  auto top = std::make_unique<Vyq_lut_unit>(context.get());  // $readmemh runs at the first eval

  tb::reset(*top);

  const long exhaustive = 1L << kInW, total = exhaustive + kRandomVectors;
  std::deque<Pending> pending;
  long issued = 0, checked = 0, cycle = 0;
  while (checked < total) {
    const bool send = issued < total && rng.chance(85);
    std::int64_t code = 0;
    if (send) {
      code = issued < exhaustive ? yq::arith::min_code(kInW) + issued
                                 : (rng.chance(20) ? rng.edge_code(kInW) : rng.code(kInW));
      const std::int64_t expected = kInterp ? yq::arith::interpolated_lookup(table, code, kInW, kKnotW)
                                            : yq::arith::lookup(table, code, kInW);
      pending.push_back({code, expected, cycle + kLatency});
      ++issued;
    } else {
      code = rng.code(kInW);  // garbage while idle
    }
    top->in_valid = send;
    tb::set_bits(top->code, 0, kInW, static_cast<std::uint64_t>(code));
    tb::tick(*top);
    ++cycle;
    if (const auto due = tb::take_due(pending, top->out_valid, cycle, "yq_lut_unit")) {
      const Pending& p = *due;
      const std::uint64_t raw = tb::get_bits(top->out, 0, kOutW);
      const std::int64_t got = kSigned ? tb::sign_extend(raw, kOutW) : static_cast<std::int64_t>(raw);
      if (got != p.expected) {
        const std::int64_t offset = p.code - yq::arith::min_code(kInW);
        const int step = kInterp ? kInW - kKnotW : 0;
        const std::size_t knot = static_cast<std::size_t>(offset >> step);
        tb::fail("yq_lut_unit",
                 "IN_W=%d KNOT_W=%d OUT_W=%d SIGNED=%d: code=%lld (table[%zu]=%lld%s): expected %lld, got %lld",
                 kInW, kKnotW, kOutW, kSigned ? 1 : 0, static_cast<long long>(p.code), knot,
                 static_cast<long long>(table[knot]),
                 kInterp ? (", next=" + std::to_string(table[knot + 1]) + ", fraction=" +
                            std::to_string(offset & ((1L << step) - 1)))
                               .c_str()
                         : "",
                 static_cast<long long>(p.expected), static_cast<long long>(got));
      }
      ++checked;
    }
  }
  top->final();
  std::printf("PASS yq_lut_unit IN_W=%d KNOT_W=%d OUT_W=%d SIGNED=%d (%s, %ld entries): %ld vectors (all codes + %ld random)\n",
              kInW, kKnotW, kOutW, kSigned ? 1 : 0, kInterp ? "interpolated" : "direct", kDepth, checked,
              kRandomVectors);
  return 0;
}
