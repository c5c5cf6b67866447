#include "compiler/quant/range_selection.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "compiler/util/error.hpp"

namespace yq {

namespace {

// Prefix sums over bins of n, n*v and n*v^2 (v the bin centre).
struct Moments {
  std::vector<double> count, first, second;

  explicit Moments(const AbsHistogram& h) : count(h.bins.size() + 1), first(h.bins.size() + 1), second(h.bins.size() + 1) {
    for (std::size_t i = 0; i < h.bins.size(); ++i) {
      const double v = (i + 0.5) * h.bin_width();
      count[i + 1] = count[i] + h.bins[i];
      first[i + 1] = first[i] + h.bins[i] * v;
      second[i + 1] = second[i] + h.bins[i] * v * v;
    }
  }
};

double mse_at(const Moments& m, const AbsHistogram& h, int clip_bins, int bits) {
  const double clip = clip_bins * h.bin_width();
  const double step = clip / (std::exp2(bits - 1) - 1);
  const double total = m.count.back();
  const double inside = m.count[clip_bins];
  const double tail_count = total - inside;
  const double tail_first = m.first.back() - m.first[clip_bins];
  const double tail_second = m.second.back() - m.second[clip_bins];
  const double tail_error = tail_second - 2 * clip * tail_first + clip * clip * tail_count;
  return (inside * step * step / 12 + tail_error) / total;
}

double percentile_clip(const AbsHistogram& h, double percentile) {
  const double target = h.count * percentile / 100.0;
  double seen = 0;
  for (int i = 0; i < AbsHistogram::kBins; ++i) {
    if (seen + h.bins[i] >= target && h.bins[i] > 0) {
      const double fraction = (target - seen) / h.bins[i];
      return std::min(h.max_abs(), (i + fraction) * h.bin_width());
    }
    seen += h.bins[i];
  }
  return h.max_abs();
}

}  // namespace

double quantization_mse(const AbsHistogram& histogram, double clip, int bits) {
  const Moments moments(histogram);
  const int clip_bins = std::clamp(static_cast<int>(std::lround(clip / histogram.bin_width())), 1, AbsHistogram::kBins);
  return mse_at(moments, histogram, clip_bins, bits);
}

double select_clip(const AbsHistogram& histogram, int bits, const RangeOptions& options) {
  if (histogram.count == 0 || histogram.max_abs() == 0) return 1.0;  // an all-zero tensor: any scale is exact
  RangeMethod method = options.method;
  if (method == RangeMethod::Auto) method = bits >= kAutoMaxFromBits ? RangeMethod::Max : RangeMethod::Percentile;
  switch (method) {
    case RangeMethod::Max: return histogram.max_abs();
    case RangeMethod::Percentile: return percentile_clip(histogram, options.percentile);
    case RangeMethod::Mse:
    case RangeMethod::Auto: break;
  }
  const Moments moments(histogram);
  const int last = std::min(AbsHistogram::kBins,
                            static_cast<int>(std::ceil(histogram.max_abs() / histogram.bin_width())));
  int best = last;
  double best_error = mse_at(moments, histogram, last, bits);
  for (int clip_bins = 1; clip_bins < last; ++clip_bins) {
    const double error = mse_at(moments, histogram, clip_bins, bits);
    if (error < best_error) {
      best_error = error;
      best = clip_bins;
    }
  }
  return std::min(histogram.max_abs(), best * histogram.bin_width());
}

}  // namespace yq
