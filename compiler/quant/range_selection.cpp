#include "compiler/quant/range_selection.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
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

// The mse criterion of a grid of the given step whose values clip at |x| = clip_bins bin widths.
double mse_with_step(const Moments& m, const AbsHistogram& h, int clip_bins, double step) {
  const double clip = clip_bins * h.bin_width();
  const double total = m.count.back();
  const double inside = m.count[clip_bins];
  const double tail_count = total - inside;
  const double tail_first = m.first.back() - m.first[clip_bins];
  const double tail_second = m.second.back() - m.second[clip_bins];
  const double tail_error = tail_second - 2 * clip * tail_first + clip * clip * tail_count;
  return (inside * step * step / 12 + tail_error) / total;
}

double mse_at(const Moments& m, const AbsHistogram& h, int clip_bins, int bits) {
  return mse_with_step(m, h, clip_bins, clip_bins * h.bin_width() / (std::exp2(bits - 1) - 1));
}

// Quantization bins on one side of a signed code of `bits` bits (TensorRT's 128 at 8 bits).
double arith_levels(int bits) { return std::exp2(bits - 1); }

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

// Kullback-Leibler divergence sum p log(p / q) of two unnormalised
// distributions; infinite where q is 0 and p is not.
double kl_divergence(const std::vector<double>& p, const std::vector<double>& q) {
  double p_total = 0, q_total = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    p_total += p[i];
    q_total += q[i];
  }
  double divergence = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == 0) continue;
    if (q[i] == 0) return std::numeric_limits<double>::infinity();
    const double pi = p[i] / p_total, qi = q[i] / q_total;
    divergence += pi * std::log(pi / qi);
  }
  return divergence;
}

// TensorRT's entropy calibration on the |x| histogram: for every candidate
// clip of `clip_bins` bins (from `levels` bins up to the last used bin), the
// reference P is the histogram cut there with the clipped tail added to its
// last bin; Q merges the same bins into `levels` quantization bins and
// spreads each back evenly over its non-empty source bins. The candidate
// with the smallest KL(P || Q) wins.
double tail_from(const AbsHistogram& h, int first_bin) {
  double tail = 0;
  for (int i = first_bin; i < AbsHistogram::kBins; ++i) tail += h.bins[i];
  return tail;
}

// KL(P || Q) for a clip of clip_bins bins; tail = the counts beyond it.
double clipped_divergence(const AbsHistogram& h, int levels, int clip_bins, double tail) {
  std::vector<double> reference(h.bins.begin(), h.bins.begin() + clip_bins);
  reference.back() += tail;
  std::vector<double> merged(levels, 0.0);
  std::vector<int> used(levels, 0);
  auto level_of = [&](int bin) {
    return std::min(levels - 1, static_cast<int>(static_cast<std::int64_t>(bin) * levels / clip_bins));
  };
  for (int bin = 0; bin < clip_bins; ++bin) {
    if (h.bins[bin] == 0) continue;
    merged[level_of(bin)] += h.bins[bin];
    ++used[level_of(bin)];
  }
  std::vector<double> expanded(clip_bins, 0.0);
  for (int bin = 0; bin < clip_bins; ++bin) {
    if (h.bins[bin] != 0) expanded[bin] = merged[level_of(bin)] / used[level_of(bin)];
  }
  return kl_divergence(reference, expanded);
}

int entropy_clip_bins(const AbsHistogram& h, int levels, int last) {
  int best = last;
  double best_divergence = std::numeric_limits<double>::infinity();
  double tail = tail_from(h, last);
  for (int clip_bins = last; clip_bins >= levels; --clip_bins) {
    const double divergence = clipped_divergence(h, levels, clip_bins, tail);
    if (divergence < best_divergence) {  // ties keep the wider clip (found first)
      best_divergence = divergence;
      best = clip_bins;
    }
    tail += h.bins[clip_bins - 1];
  }
  return best;
}

}  // namespace

double quantization_kl(const AbsHistogram& histogram, double clip, int bits) {
  const int levels = static_cast<int>(arith_levels(bits));
  const int clip_bins = std::clamp(static_cast<int>(std::lround(clip / histogram.bin_width())), levels, AbsHistogram::kBins);
  return clipped_divergence(histogram, levels, clip_bins, tail_from(histogram, clip_bins));
}

double quantization_mse(const AbsHistogram& histogram, double clip, int bits) {
  const Moments moments(histogram);
  const int clip_bins = std::clamp(static_cast<int>(std::lround(clip / histogram.bin_width())), 1, AbsHistogram::kBins);
  return mse_at(moments, histogram, clip_bins, bits);
}

double select_clip(const AbsHistogram& histogram, int bits, const RangeOptions& options) {
  if (histogram.count == 0 || histogram.max_abs() == 0) return 1.0;  // an all-zero tensor: any scale is exact
  RangeMethod method = options.method;
  if (method == RangeMethod::Auto) method = bits >= kAutoMaxFromBits ? RangeMethod::Max : RangeMethod::Mse;
  switch (method) {
    case RangeMethod::Max: return histogram.max_abs();
    case RangeMethod::Percentile: return percentile_clip(histogram, options.percentile);
    case RangeMethod::Mse:
    case RangeMethod::Entropy:
    case RangeMethod::Auto: break;
  }
  const int last = std::min(AbsHistogram::kBins,
                            static_cast<int>(std::ceil(histogram.max_abs() / histogram.bin_width())));
  if (method == RangeMethod::Entropy) {
    const int levels = static_cast<int>(arith_levels(bits));
    if (levels >= last) return histogram.max_abs();  // the histogram cannot resolve this many levels
    return std::min(histogram.max_abs(), entropy_clip_bins(histogram, levels, last) * histogram.bin_width());
  }
  const Moments moments(histogram);
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

double select_asymmetric_clip(const AbsHistogram& histogram, double lower, int bits) {
  if (lower > 0) throw Error("the lower end of an asymmetric grid must be at most 0");
  if (histogram.count == 0 || histogram.max <= 0) return -lower;
  const int last = std::min(AbsHistogram::kBins, static_cast<int>(std::ceil(histogram.max / histogram.bin_width())));
  const int first = std::min(last, std::max(1, static_cast<int>(std::ceil(-lower / histogram.bin_width()))));
  const Moments moments(histogram);
  const double steps = std::exp2(bits) - 1;
  int best = last;
  double best_error = std::numeric_limits<double>::infinity();
  for (int clip_bins = first; clip_bins <= last; ++clip_bins) {
    const double error = mse_with_step(moments, histogram, clip_bins, (clip_bins * histogram.bin_width() - lower) / steps);
    if (error < best_error) {
      best_error = error;
      best = clip_bins;
    }
  }
  return std::min(histogram.max, best * histogram.bin_width());
}

}  // namespace yq
