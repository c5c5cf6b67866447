// A one-line progress bar on stderr (only when stderr is a terminal):
// "label  [#####.....]  37/128  12.3 img/s  ETA 0:07".
#pragma once
#include <chrono>
#include <string>

namespace yq {

class ProgressBar {
 public:
  ProgressBar(std::string label, int total);
  ~ProgressBar();
  void advance();

 private:
  void draw(bool final_line) const;

  std::string label_;
  int total_;
  int done_ = 0;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace yq
