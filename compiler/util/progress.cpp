#include "compiler/util/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace yq {

ProgressBar::ProgressBar(std::string label, int total)
    : label_(std::move(label)), total_(total), enabled_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() {
  if (enabled_ && done_ > 0) draw(true);
}

void ProgressBar::advance() {
  ++done_;
  if (enabled_) draw(done_ == total_);
  if (done_ == total_) enabled_ = false;
}

void ProgressBar::draw(bool final_line) const {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? done_ / seconds : 0.0;
  const int remaining = rate > 0 ? static_cast<int>((total_ - done_) / rate + 0.5) : 0;
  constexpr int kWidth = 30;
  const int filled = total_ > 0 ? kWidth * done_ / total_ : kWidth;
  std::string bar(filled, '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r%s [%s] %d/%d  %.1f img/s  ETA %d:%02d%s", label_.c_str(), bar.c_str(), done_, total_, rate,
               remaining / 60, remaining % 60, final_line ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace yq
