// Work sharing for independent items: `threads` threads (the caller's
// among them) each take the next index until none is left.
#pragma once
#include <cstddef>
#include <functional>

#include "compiler/util/progress.hpp"

namespace yq {

// Runs body(i) for every i in [0, count), advancing `progress` once per item.
// An exception of a body is rethrown here after every thread has stopped.
void parallel_for_each_index(std::size_t count, int threads, ProgressBar& progress,
                             const std::function<void(std::size_t)>& body);
// The same without a progress bar.
void parallel_for_each_index(std::size_t count, int threads, const std::function<void(std::size_t)>& body);

}  // namespace yq
