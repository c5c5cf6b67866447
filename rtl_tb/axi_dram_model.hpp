// A C++ AXI4 slave standing for the DRAM in the Verilator benches: a byte
// array (loaded, e.g., from stage_7's dram.bin) behind the read channel of a
// master whose ports are named m_ar* / m_r* (rtl/yq_axi_reader.v,
// rtl/yq_top.v). Only the read channel exists so far (yq_top writes nothing
// to DRAM yet).
//
// Timing. "Magic" DRAM (the constructor alone): a fixed latency, no banks
// or refresh: a burst whose address is accepted in cycle t may return its
// first beat in cycle t + latency, then one beat per cycle. "Timed" DRAM adds
// set_bandwidth (a cap in bytes per cycle: a beat goes out only when the
// credit earned at that rate since the last beats covers it) and
// set_max_outstanding (ARREADY stays low while that many bursts are
// accepted and not finished). With a stall percentage, ARREADY and RVALID
// drop in random cycles (seeded), so masters see back-pressure and gaps;
// RVALID, once high, stays high with the same beat until RREADY.
// Beats of bytes in [poison_begin, poison_end) return SLVERR.
//
// Counters: bytes_read (beats served x beat bytes) and stall_cycles (cycles
// in which the master waited: ARVALID without ARREADY, or a burst
// outstanding with no beat shown).
//
// Every accepted address is checked against AXI4 (INCR burst, full-width
// beats, aligned, at most 256 beats, no 4 KB crossing, inside the memory)
// and ARVALID must hold its address until ARREADY; a violation ends the
// bench through tb::fail.
//
// Use per cycle, after the master's inputs are set: drive(top) (sets
// ARREADY, RVALID, RDATA, RRESP, RLAST, evaluates, and notes the handshakes
// the coming edge completes), then tb::tick(top), then after_edge().
#pragma once
#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "tb_common.hpp"

namespace tb {

class AxiDramModel {
 public:
  AxiDramModel(std::vector<std::uint8_t> bytes, int data_bits, int latency, int stall_percent, std::uint64_t seed)
      : bytes_(std::move(bytes)), beat_bytes_(data_bits / 8), latency_(latency), stall_(stall_percent), rng_(seed) {}

  void poison(std::uint64_t begin, std::uint64_t end) { poison_begin_ = begin, poison_end_ = end; }
  void set_bandwidth(double bytes_per_cycle) { bytes_per_cycle_ = bytes_per_cycle; }
  void set_max_outstanding(int bursts) { max_outstanding_ = bursts; }
  std::vector<std::uint8_t>& bytes() { return bytes_; }
  long beats_served() const { return beats_served_; }
  long long bytes_read() const { return static_cast<long long>(beats_served_) * beat_bytes_; }
  long stall_cycles() const { return stall_cycles_; }
  long bursts_accepted() const { return bursts_accepted_; }

  // Sets the slave's outputs for this cycle and evaluates; notes (and
  // checks) the handshakes that the coming clock edge completes.
  template <typename Top>
  void drive(Top& top) {
    const bool room = max_outstanding_ <= 0 || static_cast<int>(bursts_.size()) < max_outstanding_;
    top.m_arready = room && !rng_.chance(stall_);
    if (bytes_per_cycle_ > 0) credit_ = std::min(credit_ + bytes_per_cycle_, 2.0 * beat_bytes_);
    const bool paid = bytes_per_cycle_ <= 0 || credit_ >= beat_bytes_;
    if (!r_valid_ && !bursts_.empty() && bursts_.front().ready <= cycle_ && paid && !rng_.chance(stall_)) {
      r_valid_ = true;  // a new beat: once shown, it stays until taken
      if (bytes_per_cycle_ > 0) credit_ -= beat_bytes_;
    }
    top.m_rvalid = r_valid_;
    if (r_valid_) {
      const Burst& b = bursts_.front();
      const std::uint64_t address = b.address + static_cast<std::uint64_t>(b.next) * beat_bytes_;
      for (int byte = 0; byte < beat_bytes_; ++byte) set_bits(top.m_rdata, 8 * byte, 8, bytes_[address + byte]);
      top.m_rresp = (address < poison_end_ && address + beat_bytes_ > poison_begin_) ? 2 : 0;  // SLVERR
      top.m_rlast = b.next + 1 == b.beats;
    }
    top.eval();
    ar_fire_ = top.m_arvalid && top.m_arready;
    r_fire_ = r_valid_ && top.m_rready;
    if ((top.m_arvalid && !top.m_arready) || (!bursts_.empty() && !r_valid_)) ++stall_cycles_;
    if (top.m_arvalid) check_held(top);
    if (ar_fire_) accept(top);
  }

  // After the clock edge: the beat taken moves on.
  void after_edge() {
    if (r_fire_) {
      Burst& b = bursts_.front();
      r_valid_ = false;
      ++beats_served_;
      if (++b.next == b.beats) bursts_.pop_front();
    }
    ++cycle_;
  }

 private:
  struct Burst {
    std::uint64_t address = 0;
    int beats = 0, next = 0;
    long ready = 0;
  };

  template <typename Top>
  void check_held(const Top& top) {
    const std::uint64_t address = top.m_araddr;
    if (ar_pending_ && (address != held_address_ || top.m_arlen != held_len_)) {
      fail("axi_dram_model", "ARADDR/ARLEN changed while ARVALID waited for ARREADY (cycle %ld)", cycle_);
    }
    ar_pending_ = !top.m_arready;
    held_address_ = address;
    held_len_ = top.m_arlen;
  }

  template <typename Top>
  void accept(const Top& top) {
    const std::uint64_t address = top.m_araddr;
    const int beats = top.m_arlen + 1;
    if (top.m_arburst != 1) fail("axi_dram_model", "ARBURST %d is not INCR", static_cast<int>(top.m_arburst));
    if ((1 << top.m_arsize) != beat_bytes_) fail("axi_dram_model", "ARSIZE %d is not the full data width", top.m_arsize);
    if (address % beat_bytes_ != 0) fail("axi_dram_model", "ARADDR 0x%llx is not beat aligned", static_cast<unsigned long long>(address));
    if (address / 4096 != (address + static_cast<std::uint64_t>(beats) * beat_bytes_ - 1) / 4096) {
      fail("axi_dram_model", "burst at 0x%llx of %d beats crosses a 4 KB boundary", static_cast<unsigned long long>(address), beats);
    }
    if (address + static_cast<std::uint64_t>(beats) * beat_bytes_ > bytes_.size()) {
      fail("axi_dram_model", "burst at 0x%llx of %d beats ends past the memory", static_cast<unsigned long long>(address), beats);
    }
    bursts_.push_back({address, beats, 0, cycle_ + latency_});
    ++bursts_accepted_;
  }

  std::vector<std::uint8_t> bytes_;
  int beat_bytes_, latency_, stall_;
  double bytes_per_cycle_ = 0, credit_ = 0;
  int max_outstanding_ = 0;
  long stall_cycles_ = 0;
  Rng rng_;
  std::uint64_t poison_begin_ = 0, poison_end_ = 0;
  std::deque<Burst> bursts_;
  bool r_valid_ = false, ar_fire_ = false, r_fire_ = false;
  bool ar_pending_ = false;
  std::uint64_t held_address_ = 0;
  unsigned held_len_ = 0;
  long cycle_ = 0, beats_served_ = 0, bursts_accepted_ = 0;
};

}  // namespace tb
