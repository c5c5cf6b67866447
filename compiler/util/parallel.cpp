#include "compiler/util/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <vector>

namespace yq {

namespace {

void share_indices(std::size_t count, int threads, ProgressBar* progress, const std::function<void(std::size_t)>& body) {
  std::atomic<std::size_t> next{0};
  std::mutex progress_mutex;
  auto work = [&] {
    for (std::size_t i = next++; i < count; i = next++) {
      body(i);
      if (!progress) continue;
      const std::lock_guard<std::mutex> lock(progress_mutex);
      progress->advance();
    }
  };
  std::vector<std::future<void>> workers;
  for (int t = 1; t < std::max(1, threads); ++t) workers.push_back(std::async(std::launch::async, work));
  work();
  for (auto& worker : workers) worker.get();
}

}  // namespace

void parallel_for_each_index(std::size_t count, int threads, ProgressBar& progress,
                             const std::function<void(std::size_t)>& body) {
  share_indices(count, threads, &progress, body);
}

void parallel_for_each_index(std::size_t count, int threads, const std::function<void(std::size_t)>& body) {
  share_indices(count, threads, nullptr, body);
}

}  // namespace yq
