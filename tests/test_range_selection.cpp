// Calibration histograms and range selection.
#include "testing.hpp"

#include <cmath>
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
  CHECK(select_clip(h, 8, {RangeMethod::Auto, 99.9}) == doctest::Approx(p));
  CHECK(select_clip(h, 12, {RangeMethod::Auto, 99.9}) == doctest::Approx(40.0));
  CHECK(parse_enum<RangeMethod>("auto") == RangeMethod::Auto);
  CHECK_THROWS_AS(parse_enum<RangeMethod>("kl"), Error);
}
