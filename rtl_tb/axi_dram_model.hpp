// A C++ AXI4 slave standing for the DRAM in the Verilator benches: a byte
// array (loaded, e.g., from stage_7's dram.bin) behind the read channel
// (ports m_ar* / m_r*: rtl/yq_axi_reader.v) and the write channel (m_aw* /
// m_w* / m_b*: rtl/yq_axi_writer.v) of a master; rtl/yq_top.v has both. A
// master without one of the channels (the unit benches) simply lacks its
// ports: the model drives the channels the master's class has.
//
// Timing. "Magic" DRAM (the constructor alone): a fixed latency, no banks
// or refresh: a read burst whose address is accepted in cycle t may return
// its first beat in cycle t + latency, then one beat per cycle; a write
// burst takes a beat per cycle once its address is accepted, and its
// response comes `latency` cycles after its last beat. "Timed" DRAM adds
// set_bandwidth (a cap in bytes per cycle shared by reads and writes, one
// data bus: a read beat goes out, or a write beat is taken, only when the
// credit earned at that rate since the last beats covers it) and
// set_max_outstanding (the limit holds for reads and writes separately:
// ARREADY stays low while that many read bursts are accepted and not
// finished, AWREADY while that many write bursts are accepted and not
// answered). With a stall percentage, ARREADY, RVALID, AWREADY and WREADY
// drop in random cycles (seeded; the write channel has its own random
// source, so adding writes does not move the read stalls), so masters see
// back-pressure and gaps; RVALID and BVALID, once high, stay high with the
// same beat or response until RREADY / BREADY. WREADY is low until a write
// burst's address is accepted (a slave may wait for AWVALID before WREADY).
// Beats of bytes in [poison_begin, poison_end) read back SLVERR; a write
// burst touching [write_poison_begin, write_poison_end) is answered SLVERR
// and its bytes are not written.
//
// Counters: bytes_read (beats served x beat bytes), bytes_written (strobed
// bytes of every write beat taken) and stall_cycles (cycles in which the
// master waited: ARVALID without ARREADY, a read burst outstanding with no
// beat shown, AWVALID without AWREADY, WVALID without WREADY).
//
// Every accepted address is checked against AXI4 (INCR burst, full-width
// beats, aligned, at most 256 beats, no 4 KB crossing, inside the memory);
// ARVALID and AWVALID must hold their address until ready, WVALID its data,
// strobes and WLAST until WREADY; WLAST must mark exactly each burst's last
// beat; BREADY must not be needed for progress beyond the responses (no
// check). A violation ends the bench through tb::fail.
//
// Use per cycle, after the master's inputs are set: drive(top) (sets the
// slave's outputs, evaluates, and notes the handshakes the coming edge
// completes), then tb::tick(top), then after_edge().
#pragma once
#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "tb_common.hpp"

namespace tb {

template <typename Top>
concept AxiReadMaster = requires(Top& top) {
  top.m_arvalid;
  top.m_rready;
};
template <typename Top>
concept AxiWriteMaster = requires(Top& top) {
  top.m_awvalid;
  top.m_wvalid;
  top.m_bready;
};

class AxiDramModel {
 public:
  AxiDramModel(std::vector<std::uint8_t> bytes, int data_bits, int latency, int stall_percent, std::uint64_t seed)
      : bytes_(std::move(bytes)),
        beat_bytes_(data_bits / 8),
        latency_(latency),
        stall_(stall_percent),
        rng_(seed),
        write_rng_(seed ^ 0x57A11ED5ull) {}

  void poison(std::uint64_t begin, std::uint64_t end) { poison_begin_ = begin, poison_end_ = end; }
  void poison_writes(std::uint64_t begin, std::uint64_t end) { write_poison_begin_ = begin, write_poison_end_ = end; }
  void set_bandwidth(double bytes_per_cycle) { bytes_per_cycle_ = bytes_per_cycle; }
  void set_max_outstanding(int bursts) { max_outstanding_ = bursts; }
  std::vector<std::uint8_t>& bytes() { return bytes_; }
  long beats_served() const { return beats_served_; }
  long long bytes_read() const { return static_cast<long long>(beats_served_) * beat_bytes_; }
  long long bytes_written() const { return bytes_written_; }
  long stall_cycles() const { return stall_cycles_; }
  long bursts_accepted() const { return bursts_accepted_; }
  long write_bursts_accepted() const { return write_bursts_accepted_; }

  // Sets the slave's outputs for this cycle and evaluates; notes (and
  // checks) the handshakes that the coming clock edge completes.
  template <typename Top>
  void drive(Top& top) {
    if (bytes_per_cycle_ > 0) credit_ = std::min(credit_ + bytes_per_cycle_, 2.0 * beat_bytes_);
    if constexpr (AxiReadMaster<Top>) drive_read(top);
    if constexpr (AxiWriteMaster<Top>) drive_write(top);
    top.eval();
    if constexpr (AxiReadMaster<Top>) note_read(top);
    if constexpr (AxiWriteMaster<Top>) note_write(top);
  }

  // After the clock edge: the beat taken moves on, the response taken goes.
  void after_edge() {
    if (r_fire_) {
      Burst& b = bursts_.front();
      r_valid_ = false;
      ++beats_served_;
      if (++b.next == b.beats) bursts_.pop_front();
    }
    if (b_fire_) {
      responses_.pop_front();
      b_valid_ = false;
    }
    r_fire_ = b_fire_ = false;
    ++cycle_;
  }

 private:
  struct Burst {
    std::uint64_t address = 0;
    int beats = 0, next = 0;
    long ready = 0;      // reads: first beat's cycle
    bool error = false;  // writes: answered SLVERR, not written
  };
  struct Response {
    long ready = 0;
    bool error = false;
  };

  bool paid() const { return bytes_per_cycle_ <= 0 || credit_ >= beat_bytes_; }
  void pay() {
    if (bytes_per_cycle_ > 0) credit_ -= beat_bytes_;
  }

  template <typename Top>
  void drive_read(Top& top) {
    const bool room = max_outstanding_ <= 0 || static_cast<int>(bursts_.size()) < max_outstanding_;
    top.m_arready = room && !rng_.chance(stall_);
    if (!r_valid_ && !bursts_.empty() && bursts_.front().ready <= cycle_ && paid() && !rng_.chance(stall_)) {
      r_valid_ = true;  // a new beat: once shown, it stays until taken
      pay();
    }
    top.m_rvalid = r_valid_;
    if (r_valid_) {
      const Burst& b = bursts_.front();
      const std::uint64_t address = b.address + static_cast<std::uint64_t>(b.next) * beat_bytes_;
      for (int byte = 0; byte < beat_bytes_; ++byte) set_bits(top.m_rdata, 8 * byte, 8, bytes_[address + byte]);
      top.m_rresp = (address < poison_end_ && address + beat_bytes_ > poison_begin_) ? 2 : 0;  // SLVERR
      top.m_rlast = b.next + 1 == b.beats;
    }
  }

  template <typename Top>
  void note_read(Top& top) {
    const bool ar_fire = top.m_arvalid && top.m_arready;
    r_fire_ = r_valid_ && top.m_rready;
    if ((top.m_arvalid && !top.m_arready) || (!bursts_.empty() && !r_valid_)) ++stall_cycles_;
    if (top.m_arvalid) check_held(ar_, top.m_araddr, top.m_arlen, top.m_arready, "AR");
    if (ar_fire) {
      const std::uint64_t address = top.m_araddr;
      const int beats = top.m_arlen + 1;
      check_burst("AR", address, beats, top.m_arburst, top.m_arsize);
      bursts_.push_back({address, beats, 0, cycle_ + latency_, false});
      ++bursts_accepted_;
    }
  }

  template <typename Top>
  void drive_write(Top& top) {
    const int outstanding = static_cast<int>(write_bursts_.size() + responses_.size());
    top.m_awready = (max_outstanding_ <= 0 || outstanding < max_outstanding_) && !write_rng_.chance(stall_);
    // WREADY: a burst's address accepted, the bus paid for; the payment is
    // taken only if the beat comes (note_write).
    top.m_wready = !write_bursts_.empty() && paid() && !write_rng_.chance(stall_);
    if (!b_valid_ && !responses_.empty() && responses_.front().ready <= cycle_) b_valid_ = true;
    top.m_bvalid = b_valid_;
    top.m_bresp = (b_valid_ && responses_.front().error) ? 2 : 0;  // SLVERR
  }

  template <typename Top>
  void note_write(Top& top) {
    const bool aw_fire = top.m_awvalid && top.m_awready;
    const bool w_fire = top.m_wvalid && top.m_wready;
    b_fire_ = b_valid_ && top.m_bready;
    if ((top.m_awvalid && !top.m_awready) || (top.m_wvalid && !top.m_wready)) ++stall_cycles_;
    if (top.m_awvalid) check_held(aw_, top.m_awaddr, top.m_awlen, top.m_awready, "AW");
    check_w_held(top);
    if (w_fire) take_beat(top);
    if (aw_fire) {
      const std::uint64_t address = top.m_awaddr;
      const int beats = top.m_awlen + 1;
      check_burst("AW", address, beats, top.m_awburst, top.m_awsize);
      const bool error = address < write_poison_end_ &&
                         address + static_cast<std::uint64_t>(beats) * beat_bytes_ > write_poison_begin_;
      write_bursts_.push_back({address, beats, 0, 0, error});
      ++write_bursts_accepted_;
    }
  }

  // One write beat: its strobed bytes into the memory (unless the burst is
  // answered SLVERR); after the burst's last, its response is due.
  template <typename Top>
  void take_beat(Top& top) {
    pay();
    Burst& b = write_bursts_.front();
    const bool last = b.next + 1 == b.beats;
    if (static_cast<bool>(top.m_wlast) != last) {
      fail("axi_dram_model", "WLAST %d at beat %d of a %d-beat burst at 0x%llx (cycle %ld)", static_cast<int>(top.m_wlast),
           b.next, b.beats, static_cast<unsigned long long>(b.address), cycle_);
    }
    const std::uint64_t address = b.address + static_cast<std::uint64_t>(b.next) * beat_bytes_;
    for (int byte = 0; byte < beat_bytes_; ++byte) {
      if (!get_bits(top.m_wstrb, byte, 1)) continue;
      ++bytes_written_;
      if (!b.error) bytes_[address + byte] = static_cast<std::uint8_t>(get_bits(top.m_wdata, 8 * byte, 8));
    }
    if (last) {
      responses_.push_back({cycle_ + latency_, b.error});
      write_bursts_.pop_front();
    } else {
      ++b.next;
    }
  }

  // A VALID waiting for READY keeps its address (AR, AW).
  struct Held {
    bool pending = false;
    std::uint64_t address = 0;
    unsigned len = 0;
  };
  void check_held(Held& held, std::uint64_t address, unsigned len, bool ready, const char* channel) {
    if (held.pending && (address != held.address || len != held.len)) {
      fail("axi_dram_model", "%sADDR/%sLEN changed while %sVALID waited for %sREADY (cycle %ld)", channel, channel, channel,
           channel, cycle_);
    }
    held = {!ready, address, len};
  }

  // WVALID, once high without WREADY, stays high with the same beat.
  template <typename Top>
  void check_w_held(const Top& top) {
    std::vector<std::uint8_t> beat;
    if (top.m_wvalid) {
      for (int byte = 0; byte < beat_bytes_; ++byte) beat.push_back(static_cast<std::uint8_t>(get_bits(top.m_wdata, 8 * byte, 8)));
      for (int byte = 0; byte < beat_bytes_; ++byte) beat.push_back(static_cast<std::uint8_t>(get_bits(top.m_wstrb, byte, 1)));
      beat.push_back(static_cast<std::uint8_t>(top.m_wlast));
    }
    if (w_pending_ && beat != w_held_) {
      fail("axi_dram_model", "WVALID/WDATA/WSTRB/WLAST changed while WVALID waited for WREADY (cycle %ld)", cycle_);
    }
    w_pending_ = top.m_wvalid && !top.m_wready;
    w_held_ = std::move(beat);
  }

  void check_burst(const char* channel, std::uint64_t address, int beats, unsigned burst, unsigned size) const {
    const auto at = static_cast<unsigned long long>(address);
    if (burst != 1) fail("axi_dram_model", "%sBURST %u is not INCR", channel, burst);
    if ((1 << size) != beat_bytes_) fail("axi_dram_model", "%sSIZE %u is not the full data width", channel, size);
    if (address % beat_bytes_ != 0) fail("axi_dram_model", "%sADDR 0x%llx is not beat aligned", channel, at);
    if (address / 4096 != (address + static_cast<std::uint64_t>(beats) * beat_bytes_ - 1) / 4096) {
      fail("axi_dram_model", "%s burst at 0x%llx of %d beats crosses a 4 KB boundary", channel, at, beats);
    }
    if (address + static_cast<std::uint64_t>(beats) * beat_bytes_ > bytes_.size()) {
      fail("axi_dram_model", "%s burst at 0x%llx of %d beats ends past the memory", channel, at, beats);
    }
  }

  std::vector<std::uint8_t> bytes_;
  int beat_bytes_, latency_, stall_;
  double bytes_per_cycle_ = 0, credit_ = 0;
  int max_outstanding_ = 0;
  long stall_cycles_ = 0;
  Rng rng_, write_rng_;
  std::uint64_t poison_begin_ = 0, poison_end_ = 0, write_poison_begin_ = 0, write_poison_end_ = 0;
  std::deque<Burst> bursts_, write_bursts_;
  std::deque<Response> responses_;
  bool r_valid_ = false, r_fire_ = false, b_valid_ = false, b_fire_ = false;
  Held ar_, aw_;
  bool w_pending_ = false;
  std::vector<std::uint8_t> w_held_;
  long cycle_ = 0, beats_served_ = 0, bursts_accepted_ = 0, write_bursts_accepted_ = 0;
  long long bytes_written_ = 0;
};

}  // namespace tb
