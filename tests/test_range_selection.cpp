// Calibration histograms and range selection.
#include "testing.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "compiler/quant/calibration.hpp"
#include "compiler/quant/range_selection.hpp"
#include "compiler/util/error.hpp"

using namespace yq;

namespace {

// 10000 values spread evenly over [-1, 1] plus one outlier at 40.
AbsHistogram uniform_with_outlier() {
  std::vector<float> values;
  for (int i = 0; i < 10000; ++i) values.push_back(-1.0f + 2.0f * i / 9999.0f);
  values.push_back(40.0f);
  AbsHistogram h;
  h.add(values.data(), values.size());
  return h;
}

}  // namespace

TEST_CASE("range selection: the histogram grows by doubling and keeps every value") {
  AbsHistogram h;
  const std::vector<float> small = {0.1f, -0.2f, 0.3f};
  h.add(small.data(), small.size());
  CHECK(h.range == 0.5);
  const std::vector<float> large = {-7.0f};
  h.add(large.data(), large.size());
  CHECK(h.range == 8.0);
  CHECK(h.min == -7.0);
  CHECK(h.max == doctest::Approx(0.3));
  double total = 0;
  for (double b : h.bins) total += b;
  CHECK(total == 4);
  CHECK(h.count == 4);
  CHECK(h.bins[1792] == 1);  // |-7| / 8 * 2048
}

// The counting loop handles four values at a time: every value of a length
// that is not a multiple of four lands in the bin |x| * 2048 / range says.
TEST_CASE("range selection: every value of an odd-length tensor is counted in its bin") {
  std::vector<float> values;
  std::uint32_t state = 12345;
  for (int i = 0; i < 10007; ++i) {
    state = state * 1664525u + 1013904223u;
    const float unit = static_cast<float>(state >> 8) / 16777216.0f;                  // [0, 1)
    values.push_back((i % 3 == 0 ? -1.0f : 1.0f) * unit * unit * (i % 7 == 0 ? 9.0f : 1.0f));
  }
  values.push_back(0.0f);
  AbsHistogram h;
  h.add(values.data(), values.size());
  std::vector<double> expected(AbsHistogram::kBins, 0.0);
  for (const float v : values) {
    expected[std::min(AbsHistogram::kBins - 1, static_cast<int>(std::fabs(v) * (AbsHistogram::kBins / h.range)))] += 1.0;
  }
  CHECK(h.count == static_cast<std::int64_t>(values.size()));
  CHECK(h.bins == expected);
}

// stage_4 fills one histogram per worker and merges them: parts added in any
// order and merged must equal the histogram of all values added in order.
TEST_CASE("range selection: merged histograms of parts equal the histogram of the whole, in any order") {
  std::vector<std::vector<float>> parts = {{0.0f, 0.0f}, {0.01f, -0.3f, 0.2f}, {5.5f, -0.001f}, {0.7f}, {-40.25f, 3.0f}};
  AbsHistogram whole;
  for (const auto& part : parts) whole.add(part.data(), part.size());
  const auto histogram_of = [](const std::vector<float>& values) {
    AbsHistogram h;
    h.add(values.data(), values.size());
    return h;
  };
  for (const std::vector<int>& order : {std::vector<int>{4, 2, 0, 3, 1}, std::vector<int>{1, 3, 0, 2, 4}}) {
    AbsHistogram merged;
    for (int k : order) merged.merge(histogram_of(parts[static_cast<size_t>(k)]));
    CHECK(merged.range == whole.range);
    CHECK(merged.min == whole.min);
    CHECK(merged.max == whole.max);
    CHECK(merged.count == whole.count);
    CHECK(merged.bins == whole.bins);
  }
  // A histogram of zeros alone has no range yet; its values stay in bin 0.
  const AbsHistogram zeros = histogram_of(parts[0]);
  CHECK(zeros.range == 0);
  CHECK(zeros.bins[0] == 2);
  AbsHistogram zeros_first = zeros;
  const std::vector<float> small = {0.3f};
  zeros_first.add(small.data(), small.size());
  CHECK(zeros_first.range == 0.5);  // as if the zeros came after 0.3
  CHECK(zeros_first.bins[0] == 2);
  CHECK(whole.range == 64.0);
  CHECK(whole.bins[0] == 4);  // the two zeros, 0.01 and -0.001 (bin width 1/32)
}

TEST_CASE("range selection: max, percentile, mse and auto on a tensor with an outlier") {
  const AbsHistogram h = uniform_with_outlier();
  CHECK(select_clip(h, 8, {RangeMethod::Max, 99.99}) == doctest::Approx(40.0));
  const double p = select_clip(h, 8, {RangeMethod::Percentile, 99.9});
  CHECK(p == doctest::Approx(1.0).epsilon(0.01));
  const double mse = select_clip(h, 8, {RangeMethod::Mse, 99.99});
  // One squared outlier error outweighs the rounding noise of 10000 values: mse keeps it.
  CHECK(mse > 35.0);
  CHECK(quantization_mse(h, mse, 8) <= quantization_mse(h, 40.0, 8));
  CHECK(quantization_mse(h, mse, 8) <= quantization_mse(h, p, 8));
  // At 4 bits the rounding noise of the bulk dominates: mse clips.
  const double mse4 = select_clip(h, 4, {RangeMethod::Mse, 99.99});
  CHECK(mse4 < 35.0);
  CHECK(quantization_mse(h, mse4, 4) <= quantization_mse(h, 40.0, 4));
  CHECK(select_clip(h, 8, {RangeMethod::Auto, 99.9}) == doctest::Approx(mse));
  CHECK(select_clip(h, 4, {RangeMethod::Auto, 99.9}) == doctest::Approx(mse4));
  CHECK(select_clip(h, 12, {RangeMethod::Auto, 99.9}) == doctest::Approx(40.0));
  CHECK(parse_enum<RangeMethod>("auto") == RangeMethod::Auto);
  CHECK_THROWS_AS(parse_enum<RangeMethod>("kl"), Error);
}

namespace {

// A histogram set bin by bin over [0, 2048): bin i holds counts[i].
AbsHistogram histogram_of(const std::vector<double>& counts) {
  AbsHistogram h;
  h.range = AbsHistogram::kBins;
  for (size_t i = 0; i < counts.size(); ++i) {
    h.bins[i] = counts[i];
    h.count += static_cast<std::int64_t>(counts[i]);
    if (counts[i] > 0) h.max = i + 1.0;
  }
  return h;
}

}  // namespace

TEST_CASE("range selection: entropy keeps the range of an evenly filled histogram") {
  // Every quantization level covers bins of equal counts, so Q = P at the full
  // range and any clip adds the tail to the last bin: KL is smallest at max.
  const AbsHistogram even = histogram_of(std::vector<double>(1024, 50.0));
  CHECK(quantization_kl(even, 1024, 8) == doctest::Approx(0.0));
  CHECK(select_clip(even, 8, {RangeMethod::Entropy, 99.99}) == doctest::Approx(1024.0));
  CHECK(quantization_kl(even, 512, 8) > 0.01);
}

TEST_CASE("range selection: entropy clips a long exponential tail at the KL minimum") {
  std::vector<double> counts(AbsHistogram::kBins);
  for (int i = 0; i < AbsHistogram::kBins; ++i) counts[i] = std::floor(1e6 * std::exp(-i / 40.0)) + 1;
  const AbsHistogram h = histogram_of(counts);
  const double clip = select_clip(h, 8, {RangeMethod::Entropy, 99.99});
  CHECK(clip > 128);
  CHECK(clip < 2048);
  // The chosen clip is the minimum over every candidate bin edge.
  const double chosen = quantization_kl(h, clip, 8);
  for (int candidate = 128; candidate <= 2048; candidate += 7) CHECK(chosen <= quantization_kl(h, candidate, 8) + 1e-15);
  // At 12 bits the 2048 bins cannot resolve 2048 levels: entropy falls back to max.
  CHECK(select_clip(h, 12, {RangeMethod::Entropy, 99.99}) == doctest::Approx(2048.0));
  CHECK(parse_enum<RangeMethod>("entropy") == RangeMethod::Entropy);
}

TEST_CASE("range selection: entropy keeps a lone outlier (Q is 0 where the clipped tail lands)") {
  // Bulk |x| <= 1 (bins 0..32 of 2048 over [0, 64)), one value at 40 (bin 1280).
  // Every candidate from 128 bins up to the outlier puts the tail into an empty
  // bin, where Q is 0 and KL infinite; only the full range is finite.
  const AbsHistogram h = uniform_with_outlier();
  CHECK(select_clip(h, 8, {RangeMethod::Entropy, 99.99}) == doctest::Approx(40.0));
  CHECK(std::isinf(quantization_kl(h, 8.0, 8)));
}
