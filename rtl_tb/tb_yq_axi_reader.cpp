// Unit bench of rtl/yq_axi_reader.v against rtl_tb/axi_dram_model.hpp: a
// 64 KB memory of random bytes, random requests (beat-aligned addresses, 1 to
// 700 beats, so bursts split at 256 beats and at 4 KB boundaries), a fixed
// DRAM latency with random ARREADY/RVALID stalls and a consumer that stalls
// at random. Every beat handed out must equal the memory's bytes at its
// address, in order, out_last must mark exactly the request's last beat,
// done must pulse in the cycle after it, and error must be high exactly for
// requests that touch the poisoned (SLVERR) range. Then queued requests:
// groups of 1 to 6, each started as soon as ready allows (0 to 3 cycles
// later), while the consumer drains the stream: the beats must be the
// requests' beats one after the other, each done must come once every beat
// taken so far is out, with error exactly when one of the requests since the
// last done was poisoned, and some requests must be taken while busy. DATA_W
// comes from the Makefile as -DP_DATA_W.
#include <deque>
#include <memory>
#include <vector>

#include "Vyq_axi_reader.h"
#include "axi_dram_model.hpp"
#include "tb_common.hpp"

namespace {

constexpr int kDataBits = P_DATA_W, kBeatBytes = kDataBits / 8;
constexpr std::uint64_t kMemoryBytes = 64 * 1024;
constexpr std::uint64_t kPoisonBegin = 40000, kPoisonEnd = 40100;
constexpr int kRequests = 400;
constexpr int kLatency = 12;
constexpr long kTimeoutCycles = 200000;

// A random beat-aligned request of 1 .. max_beats beats inside the memory.
struct Request {
  std::uint64_t address = 0, beats = 0;
};

Request random_request(tb::Rng& rng, std::int64_t max_beats) {
  const std::uint64_t total_beats = kMemoryBytes / kBeatBytes;
  Request r;
  r.beats = static_cast<std::uint64_t>(rng.range(1, max_beats));
  r.address = static_cast<std::uint64_t>(rng.range(0, static_cast<std::int64_t>(total_beats - r.beats))) * kBeatBytes;
  return r;
}

bool poisoned(const Request& r) {
  return r.address < kPoisonEnd && r.address + r.beats * kBeatBytes > kPoisonBegin;
}

// Queued requests (see the header).
template <typename Top>
tb::QueuedRequests check_queued_requests(Top& top, tb::AxiDramModel& dram, const std::vector<std::uint8_t>& memory, tb::Rng& rng,
                          long& cycle) {
  constexpr int kGroups = 150;
  tb::QueuedRequests queue;
  for (int group = 0; group < kGroups; ++group) {
    std::vector<Request> requests(static_cast<std::size_t>(rng.range(1, 6)));
    for (Request& r : requests) {
      r = random_request(rng, 40);
      if (rng.chance(5)) r.address = kPoisonBegin / kBeatBytes * kBeatBytes;  // now and then one with SLVERR
    }
    std::deque<std::uint64_t> expected;  // byte addresses of the beats still to come
    std::size_t started = 0;
    const long begin = cycle;
    while (started < requests.size() || !expected.empty()) {
      const bool start = started < requests.size() && queue.may_start() && top.ready;
      top.start = start;
      if (start) {
        top.addr = static_cast<std::uint32_t>(requests[started].address);
        top.beats = static_cast<std::uint32_t>(requests[started].beats);
      }
      top.out_ready = rng.chance(75);
      dram.drive(top);
      const bool fire = top.out_valid && top.out_ready;
      if (fire) {
        if (expected.empty()) tb::fail("yq_axi_reader", "group %d: a beat no request asked for", group);
        for (int byte = 0; byte < kBeatBytes; ++byte) {
          if (tb::get_bits(top.out_data, 8 * byte, 8) != memory[expected.front() + static_cast<std::uint64_t>(byte)]) {
            tb::fail("yq_axi_reader", "group %d: the beat of 0x%llx differs at byte %d", group,
                     static_cast<unsigned long long>(expected.front()), byte);
          }
        }
        expected.pop_front();
      }
      queue.count_cycle(start, top.busy, start && poisoned(requests[started]), rng);
      if (start) {
        for (std::uint64_t b = 0; b < requests[started].beats; ++b) expected.push_back(requests[started].address + b * kBeatBytes);
        ++started;
      }
      tb::tick(top);
      dram.after_edge();
      top.start = 0;
      ++cycle;
      if (top.done) {
        if (!expected.empty()) tb::fail("yq_axi_reader", "group %d: done with %zu beats still to come", group, expected.size());
        queue.check_done("yq_axi_reader", group, top.error);
      }
      if (cycle - begin > kTimeoutCycles) tb::fail("yq_axi_reader", "group %d: stuck", group);
    }
    if (top.busy) tb::fail("yq_axi_reader", "group %d: still busy after the last beat's done", group);
  }
  return queue;
}

}  // namespace

int main(int argc, char** argv) {
  auto context = std::make_unique<VerilatedContext>();
  context->commandArgs(argc, argv);
  auto top = std::make_unique<Vyq_axi_reader>(context.get());
  tb::Rng rng(0x5EED00A1u + kDataBits);
  std::vector<std::uint8_t> memory(kMemoryBytes);
  for (auto& byte : memory) byte = static_cast<std::uint8_t>(rng.range(0, 255));
  tb::AxiDramModel dram(memory, kDataBits, kLatency, 20, 0xD7A3u + kDataBits);
  dram.poison(kPoisonBegin, kPoisonEnd);

  top->clk = 0;
  top->rst = 1;
  top->start = 0;
  top->out_ready = 0;
  top->m_arready = 0;
  top->m_rvalid = 0;
  top->eval();
  tb::tick(*top);
  top->rst = 0;

  long cycle = 0, beats_checked = 0;
  int errors_seen = 0;
  for (int request = 0; request < kRequests; ++request) {
    const std::uint64_t total_beats = kMemoryBytes / kBeatBytes;
    const std::uint64_t beats = request == 0 ? 0 : static_cast<std::uint64_t>(rng.range(1, 700)) % total_beats + 1;
    const std::uint64_t first = static_cast<std::uint64_t>(rng.range(0, static_cast<std::int64_t>(total_beats - beats)));
    const std::uint64_t address = first * kBeatBytes;
    const bool poisoned = beats > 0 && address < kPoisonEnd && address + beats * kBeatBytes > kPoisonBegin;
    top->addr = static_cast<std::uint32_t>(address);
    top->beats = static_cast<std::uint32_t>(beats);
    top->start = 1;
    top->out_ready = 0;
    dram.drive(*top);
    tb::tick(*top);
    dram.after_edge();
    top->start = 0;
    ++cycle;
    if (beats == 0) {
      if (!top->done || top->busy) tb::fail("yq_axi_reader", "a request of 0 beats must end at once");
      continue;
    }
    std::uint64_t next = 0;
    const long begin = cycle;
    while (true) {
      top->out_ready = rng.chance(75);
      dram.drive(*top);
      const bool fire = top->out_valid && top->out_ready;
      if (fire) {
        const std::uint64_t beat_address = address + next * kBeatBytes;
        for (int byte = 0; byte < kBeatBytes; ++byte) {
          const auto got = tb::get_bits(top->out_data, 8 * byte, 8);
          if (got != memory[beat_address + byte]) {
            tb::fail("yq_axi_reader", "DATA_W=%d request %d (0x%llx, %llu beats): beat %llu byte %d is 0x%02llx, "
                     "memory holds 0x%02x", kDataBits, request, static_cast<unsigned long long>(address),
                     static_cast<unsigned long long>(beats), static_cast<unsigned long long>(next), byte,
                     static_cast<unsigned long long>(got), memory[beat_address + byte]);
          }
        }
        if (static_cast<bool>(top->out_last) != (next + 1 == beats)) {
          tb::fail("yq_axi_reader", "request %d: out_last %d at beat %llu of %llu", request, top->out_last,
                   static_cast<unsigned long long>(next), static_cast<unsigned long long>(beats));
        }
        ++beats_checked;
      }
      tb::tick(*top);
      dram.after_edge();
      ++cycle;
      if (fire) ++next;
      if (top->done) {
        if (next != beats) tb::fail("yq_axi_reader", "request %d: done after %llu of %llu beats", request,
                                    static_cast<unsigned long long>(next), static_cast<unsigned long long>(beats));
        if (static_cast<bool>(top->error) != poisoned) {
          tb::fail("yq_axi_reader", "request %d: error %d, the request %s the SLVERR range", request, top->error,
                   poisoned ? "touches" : "misses");
        }
        errors_seen += poisoned;
        break;
      }
      if (next == beats) tb::fail("yq_axi_reader", "request %d: no done in the cycle after the last beat", request);
      if (cycle - begin > kTimeoutCycles) tb::fail("yq_axi_reader", "request %d: stuck", request);
    }
  }
  if (errors_seen == 0) tb::fail("yq_axi_reader", "no request touched the SLVERR range");
  const tb::QueuedRequests queued = check_queued_requests(*top, dram, memory, rng, cycle);
  if (queued.taken_while_busy < 50) tb::fail("yq_axi_reader", "only %d requests were taken while busy", queued.taken_while_busy);
  if (queued.poisoned == 0) tb::fail("yq_axi_reader", "no queued request touched the SLVERR range");
  top->final();
  std::printf("PASS yq_axi_reader DATA_W=%d: %d requests, %ld beats in %ld bursts, %d with SLVERR, then queued "
              "requests (%d taken while busy, %d with SLVERR); %ld cycles\n",
              kDataBits, kRequests, beats_checked, dram.bursts_accepted(), errors_seen, queued.taken_while_busy,
              queued.poisoned, cycle);
  return 0;
}
