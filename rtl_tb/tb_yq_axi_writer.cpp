// Unit bench of rtl/yq_axi_writer.v against rtl_tb/axi_dram_model.hpp: a
// 64 KB memory of random bytes, random requests (addresses beat-aligned or,
// half the time, mid-beat as a band program's stores start; 0 to 700 beats'
// worth of bytes, often not a whole number of beats, so bursts split at 256
// beats and at 4 KB boundaries and the first and last beats are strobed
// partly) of random data from a source that stalls at random (holding its
// beat until taken), against a slave with random AWREADY/WREADY stalls and a
// write latency; the second half of the requests also under a bandwidth cap
// and an outstanding-burst limit. After each request's done: the memory
// must hold exactly the request's bytes in its range and be unchanged
// elsewhere (the strobes of partial first and last beats respected), the slave must
// have taken exactly the bursts the 256-beat / 4 KB rule gives and counted
// the request's bytes, done must come only after every beat was sent, and
// error must be high exactly for requests that touch the SLVERR range (whose
// bursts the slave does not write). Then queued requests: groups of 1 to 6
// short ones, each started as soon as ready allows (0 to 3 cycles later)
// while the source streams their beats one request after the other: after
// each group the memory must hold every request's bytes (later ones over
// earlier ones), each done must come once every beat taken so far is sent,
// with error exactly when a request since the last done touched the SLVERR
// range, and some requests must be taken while busy. DATA_W comes from the
// Makefile as -DP_DATA_W.
#include <algorithm>
#include <memory>
#include <vector>

#include "Vyq_axi_writer.h"
#include "axi_dram_model.hpp"
#include "tb_common.hpp"

namespace {

constexpr int kDataBits = P_DATA_W, kBeatBytes = kDataBits / 8;
constexpr std::uint64_t kMemoryBytes = 64 * 1024;
constexpr std::uint64_t kPoisonBegin = 40000, kPoisonEnd = 40100;
constexpr int kRequests = 400;
constexpr int kLatency = 12;
constexpr long kTimeoutCycles = 200000;

// Bursts of a request of `beats` beats from `address`: at most 256 beats, none across 4 KB.
long expected_bursts(std::uint64_t address, std::uint64_t beats) {
  long bursts = 0;
  while (beats > 0) {
    const std::uint64_t page_beats = (4096 - address % 4096) / kBeatBytes;
    const std::uint64_t burst = std::min<std::uint64_t>({beats, 256, page_beats});
    address += burst * kBeatBytes;
    beats -= burst;
    ++bursts;
  }
  return bursts;
}

struct Request {
  std::uint64_t aligned = 0, address = 0, bytes = 0, beats = 0;
  std::vector<std::uint8_t> data;  // beats * beat bytes, from `aligned`
  bool poisoned = false;
};

// A random request of 1 .. max_beats beats, starting mid-beat half the time.
Request random_request(tb::Rng& rng, std::int64_t max_beats) {
  const std::uint64_t total_beats = kMemoryBytes / kBeatBytes;
  Request r;
  r.beats = static_cast<std::uint64_t>(rng.range(1, max_beats));
  r.aligned = static_cast<std::uint64_t>(rng.range(0, static_cast<std::int64_t>(total_beats - r.beats))) * kBeatBytes;
  if (rng.chance(5)) r.aligned = kPoisonBegin / kBeatBytes * kBeatBytes;  // now and then one with SLVERR
  const std::uint64_t skip = rng.chance(50) ? static_cast<std::uint64_t>(rng.range(1, kBeatBytes - 1)) : 0;
  r.address = r.aligned + skip;
  r.bytes = std::max<std::uint64_t>(1, r.beats * kBeatBytes - skip - (r.beats > 1 ? static_cast<std::uint64_t>(rng.range(0, kBeatBytes - 1)) : 0));
  r.data.resize(r.beats * kBeatBytes);
  for (auto& byte : r.data) byte = static_cast<std::uint8_t>(rng.range(0, 255));
  r.poisoned = r.aligned < kPoisonEnd && r.aligned + r.beats * kBeatBytes > kPoisonBegin;
  return r;
}

// Queued requests (see the header); `memory` is what the slave holds.
template <typename Top>
tb::QueuedRequests check_queued_requests(Top& top, tb::AxiDramModel& dram, std::vector<std::uint8_t>& memory, tb::Rng& rng,
                                   long& cycle) {
  constexpr int kGroups = 150;
  tb::QueuedRequests queue;
  for (int group = 0; group < kGroups; ++group) {
    std::vector<Request> requests(static_cast<std::size_t>(rng.range(1, 6)));
    for (Request& r : requests) r = random_request(rng, 30);
    std::size_t started = 0, feeding = 0;  // requests taken; the one whose beats the source shows
    std::uint64_t next = 0;                // its beat
    std::uint64_t taken_beats = 0, sent_beats = 0;
    bool showing = false;
    const long begin = cycle;
    while (started < requests.size() || sent_beats < taken_beats || top.busy) {
      const bool start = started < requests.size() && queue.may_start() && top.ready;
      top.start = start;
      if (start) {
        top.addr = static_cast<std::uint32_t>(requests[started].address);
        top.bytes = static_cast<std::uint32_t>(requests[started].bytes);
      }
      if (!showing && feeding < started) showing = rng.chance(75);
      top.in_valid = showing;
      for (int byte = 0; byte < kBeatBytes; ++byte) {
        tb::set_bits(top.in_data, 8 * byte, 8, feeding < started ? requests[feeding].data[next * kBeatBytes + static_cast<std::uint64_t>(byte)] : 0);
      }
      dram.drive(top);
      const bool fire = top.in_valid && top.in_ready;
      queue.count_cycle(start, top.busy, start && requests[started].poisoned, rng);
      if (start) taken_beats += requests[started++].beats;
      tb::tick(top);
      dram.after_edge();
      top.start = 0;
      ++cycle;
      if (fire) {
        showing = false;
        ++sent_beats;
        if (++next == requests[feeding].beats) {
          ++feeding;
          next = 0;
        }
      }
      if (top.done) {
        if (sent_beats != taken_beats) tb::fail("yq_axi_writer", "group %d: done with beats still to send", group);
        queue.check_done("yq_axi_writer", group, top.error);
      }
      if (cycle - begin > kTimeoutCycles) tb::fail("yq_axi_writer", "group %d: stuck", group);
    }
    for (const Request& r : requests) {
      if (r.poisoned) continue;
      std::copy(r.data.begin() + static_cast<std::ptrdiff_t>(r.address - r.aligned),
                r.data.begin() + static_cast<std::ptrdiff_t>(r.address - r.aligned + r.bytes),
                memory.begin() + static_cast<std::ptrdiff_t>(r.address));
    }
    for (const Request& r : requests) {  // a poisoned request's range: whatever the slave kept
      if (!r.poisoned) continue;
      std::copy(dram.bytes().begin() + static_cast<std::ptrdiff_t>(r.address),
                dram.bytes().begin() + static_cast<std::ptrdiff_t>(r.address + r.bytes),
                memory.begin() + static_cast<std::ptrdiff_t>(r.address));
    }
    if (dram.bytes() != memory) tb::fail("yq_axi_writer", "group %d: the memory differs from the requests' bytes", group);
  }
  return queue;
}

}  // namespace

int main(int argc, char** argv) {
  auto context = std::make_unique<VerilatedContext>();
  context->commandArgs(argc, argv);
  auto top = std::make_unique<Vyq_axi_writer>(context.get());
  tb::Rng rng(0x5EED00B7u + kDataBits);
  std::vector<std::uint8_t> memory(kMemoryBytes);
  for (auto& byte : memory) byte = static_cast<std::uint8_t>(rng.range(0, 255));
  tb::AxiDramModel dram(memory, kDataBits, kLatency, 20, 0xD7A5u + kDataBits);
  dram.poison_writes(kPoisonBegin, kPoisonEnd);

  top->clk = 0;
  top->rst = 1;
  top->start = 0;
  top->in_valid = 0;
  top->m_awready = 0;
  top->m_wready = 0;
  top->m_bvalid = 0;
  top->eval();
  tb::tick(*top);
  top->rst = 0;

  long cycle = 0, beats_sent = 0, partial_beats = 0, partial_first = 0;
  int errors_seen = 0;
  for (int request = 0; request < kRequests; ++request) {
    if (request == kRequests / 2) {
      dram.set_bandwidth(kBeatBytes / 3.0);
      dram.set_max_outstanding(2);
    }
    const std::uint64_t total_beats = kMemoryBytes / kBeatBytes;
    const std::uint64_t beats = request == 0 ? 0 : static_cast<std::uint64_t>(rng.range(1, 700)) % total_beats + 1;
    const std::uint64_t first = static_cast<std::uint64_t>(rng.range(0, static_cast<std::int64_t>(total_beats - beats)));
    // The first byte: the beat's, or (half the time) one inside it; bytes: up
    // to the end of the last beat, or (half the time) fewer.
    const std::uint64_t skip = beats > 0 && rng.chance(50) ? static_cast<std::uint64_t>(rng.range(1, kBeatBytes - 1)) : 0;
    const std::uint64_t aligned = first * kBeatBytes, address = aligned + skip;
    const std::uint64_t short_tail = rng.chance(50) ? static_cast<std::uint64_t>(rng.range(1, kBeatBytes - 1)) : 0;
    const std::uint64_t bytes =
        beats == 0 ? 0 : std::max<std::uint64_t>(1, beats * kBeatBytes - skip - (beats > 1 ? short_tail : 0));
    const bool poisoned = bytes > 0 && aligned < kPoisonEnd && aligned + beats * kBeatBytes > kPoisonBegin;
    std::vector<std::uint8_t> data(beats * kBeatBytes);
    for (auto& byte : data) byte = static_cast<std::uint8_t>(rng.range(0, 255));
    const long bursts_before = dram.write_bursts_accepted();
    const long long bytes_before = dram.bytes_written();

    top->addr = static_cast<std::uint32_t>(address);
    top->bytes = static_cast<std::uint32_t>(bytes);
    top->start = 1;
    top->in_valid = 0;
    dram.drive(*top);
    tb::tick(*top);
    dram.after_edge();
    top->start = 0;
    ++cycle;
    if (beats == 0) {
      if (!top->done || top->busy) tb::fail("yq_axi_writer", "a request of 0 bytes must end at once");
      continue;
    }
    std::uint64_t next = 0;  // the beat the source shows or will show
    bool showing = false;
    const long begin = cycle;
    while (true) {
      if (!showing && next < beats) showing = rng.chance(75);
      top->in_valid = showing;
      for (int byte = 0; byte < kBeatBytes; ++byte) {
        tb::set_bits(top->in_data, 8 * byte, 8, next < beats ? data[next * kBeatBytes + byte] : 0);
      }
      dram.drive(*top);
      const bool fire = top->in_valid && top->in_ready;
      tb::tick(*top);
      dram.after_edge();
      ++cycle;
      if (fire) {
        ++next;
        ++beats_sent;
        showing = false;
      }
      if (top->done) {
        if (next != beats) tb::fail("yq_axi_writer", "request %d: done after %llu of %llu beats", request,
                                    static_cast<unsigned long long>(next), static_cast<unsigned long long>(beats));
        if (static_cast<bool>(top->error) != poisoned) {
          tb::fail("yq_axi_writer", "request %d: error %d, the request %s the SLVERR range", request, top->error,
                   poisoned ? "touches" : "misses");
        }
        break;
      }
      if (cycle - begin > kTimeoutCycles) tb::fail("yq_axi_writer", "request %d: stuck", request);
    }
    const long bursts = dram.write_bursts_accepted() - bursts_before;
    if (bursts != expected_bursts(aligned, beats)) {
      tb::fail("yq_axi_writer", "request %d (0x%llx, %llu beats): %ld bursts, the 256-beat / 4 KB rule gives %ld", request,
               static_cast<unsigned long long>(address), static_cast<unsigned long long>(beats), bursts,
               expected_bursts(aligned, beats));
    }
    if (dram.bytes_written() - bytes_before != static_cast<long long>(bytes)) {
      tb::fail("yq_axi_writer", "request %d: the slave took %lld strobed bytes, the request has %llu", request,
               dram.bytes_written() - bytes_before, static_cast<unsigned long long>(bytes));
    }
    partial_beats += bytes % kBeatBytes != 0;
    partial_first += skip != 0;
    // The memory: the request's bytes in its range (poisoned bursts are not
    // written: there only the bytes outside the range are checked), the rest unchanged.
    const std::vector<std::uint8_t>& got = dram.bytes();
    for (std::uint64_t a = 0; a < kMemoryBytes; ++a) {
      const bool inside = a >= address && a < address + bytes;
      if (inside && poisoned) continue;
      const std::uint8_t expected = inside ? data[a - aligned] : memory[a];
      if (got[a] != expected) {
        tb::fail("yq_axi_writer", "DATA_W=%d request %d (0x%llx, %llu bytes): byte 0x%llx is 0x%02x, expected 0x%02x (%s)",
                 kDataBits, request, static_cast<unsigned long long>(address), static_cast<unsigned long long>(bytes),
                 static_cast<unsigned long long>(a), got[a], expected, inside ? "written" : "outside the request");
      }
    }
    memory = got;
    errors_seen += poisoned;
  }
  if (errors_seen == 0) tb::fail("yq_axi_writer", "no request touched the SLVERR range");
  if (partial_beats == 0) tb::fail("yq_axi_writer", "no request ended in a partial beat");
  if (partial_first == 0) tb::fail("yq_axi_writer", "no request started inside a beat");
  const tb::QueuedRequests queued = check_queued_requests(*top, dram, memory, rng, cycle);
  if (queued.taken_while_busy < 50) tb::fail("yq_axi_writer", "only %d requests were taken while busy", queued.taken_while_busy);
  if (queued.poisoned == 0) tb::fail("yq_axi_writer", "no queued request touched the SLVERR range");
  top->final();
  std::printf("PASS yq_axi_writer DATA_W=%d: %d requests, %ld beats in %ld bursts, %ld starting inside a beat, %ld with "
              "a partial last beat, %d with SLVERR, then queued requests (%d taken while busy, %d with SLVERR); %ld cycles\n",
              kDataBits, kRequests, beats_sent, dram.write_bursts_accepted(), partial_first, partial_beats, errors_seen,
              queued.taken_while_busy, queued.poisoned, cycle);
  return 0;
}
