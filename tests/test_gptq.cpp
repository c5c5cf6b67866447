// GPTQ rounding and bias correction on constructed layers whose answers are
// known: correlated inputs where the best codes can be enumerated, a small
// convolution over smooth images measured on every output position, a
// systematic rounding error that bias correction must remove, and a mean
// shift of the quantized layer's input that only a correction from that
// input (sequential reconstruction) removes; the weight clip search against
// its objective worked out by hand, with GPTQ never worse per channel, and
// where the default searches.
#include "testing.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "compiler/quant/gptq.hpp"
#include "compiler/quant/layer_inputs.hpp"
#include "compiler/quant/quant_settings.hpp"
#include "compiler/util/error.hpp"

using namespace yq;

namespace {

// Statistics of rows given directly ([rows][width]).
ConvInputStatistics statistics_of(const std::vector<std::vector<double>>& rows) {
  ConvInputStatistics s;
  s.width = static_cast<int>(rows.front().size());
  s.rows = static_cast<std::int64_t>(rows.size());
  s.sum.assign(s.width, 0.0);
  s.gram.assign(static_cast<size_t>(s.width) * s.width, 0.0);
  for (const auto& x : rows) {
    for (int i = 0; i < s.width; ++i) {
      s.sum[i] += x[i];
      for (int j = 0; j < s.width; ++j) s.gram[static_cast<size_t>(i) * s.width + j] += x[i] * x[j];
    }
  }
  return s;
}

// Mean over the rows of the squared output error of one channel.
double channel_error(const WeightRows& w, const std::vector<std::int16_t>& q, const std::vector<double>& scales, int c,
                     const std::vector<std::vector<double>>& rows, double bias_shift = 0) {
  double total = 0;
  for (const auto& x : rows) {
    double e = -bias_shift;
    for (int k = 0; k < w.width; ++k) e += (w.values[c * w.width + k] - scales[c] * q[c * w.width + k]) * x[k];
    total += e * e;
  }
  return total / rows.size();
}

}  // namespace

TEST_CASE("gptq: two identical inputs, the second weight takes the first one's rounding error (the best codes)") {
  std::mt19937 random(7);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<std::vector<double>> rows;
  for (int i = 0; i < 500; ++i) {
    const double x = normal(random);
    rows.push_back({x, x});
  }
  const WeightRows w{1, 2, {0.4, 0.4}};
  const std::vector<double> scales = {1.0};
  const std::vector<std::int16_t> nearest = nearest_round(w, scales, 4);
  const std::vector<std::int16_t> gptq = gptq_round(w, scales, 4, gptq_factor(statistics_of(rows)));
  CHECK(nearest == std::vector<std::int16_t>{0, 0});
  CHECK(gptq[0] + gptq[1] == 1);  // 0.4 + 0.4 = 0.8 of one input: one code in total is the best
  // The best codes by enumeration of every pair of 4-bit codes.
  double best = 1e300;
  for (int a = -7; a <= 7; ++a) {
    for (int b = -7; b <= 7; ++b) {
      best = std::min(best, channel_error(w, {static_cast<std::int16_t>(a), static_cast<std::int16_t>(b)}, scales, 0, rows));
    }
  }
  CHECK(channel_error(w, gptq, scales, 0, rows) == doctest::Approx(best).epsilon(1e-12));
  CHECK(channel_error(w, nearest, scales, 0, rows) > 15 * best);  // 0.8^2 against 0.2^2
}

TEST_CASE("gptq: a 3x3 convolution over smooth images has a fraction of nearest rounding's output error") {
  // Four smooth 24x24 images of 4 channels: neighbouring taps are strongly correlated.
  Node conv;
  conv.op = OpKind::Conv;
  conv.in_channels = 4;
  conv.channels = 8;
  conv.kernel = 3;
  conv.stride = 1;
  conv.pad = 1;
  constexpr int kSize = 24, kImages = 4;
  std::mt19937 random(11);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<std::vector<float>> images;
  for (int n = 0; n < kImages; ++n) {
    std::vector<float> image(conv.in_channels * kSize * kSize);
    for (int c = 0; c < conv.in_channels; ++c) {
      const double fx = 0.1 + 0.2 * std::fabs(uniform(random)), fy = 0.1 + 0.2 * std::fabs(uniform(random));
      const double phase = 3 * uniform(random);
      for (int y = 0; y < kSize; ++y) {
        for (int x = 0; x < kSize; ++x) {
          image[(c * kSize + y) * kSize + x] =
              static_cast<float>(1.0 + std::sin(fx * x + phase) * std::cos(fy * y) + 0.05 * uniform(random));
        }
      }
    }
    images.push_back(image);
  }
  ConvInputStatistics statistics;
  for (int n = 0; n < kImages; ++n) {
    add_conv_input(statistics, conv_input_statistics(conv, images[n].data(), kSize, kSize, n));
  }
  CHECK(statistics.rows == kImages * kSize * kSize);  // 576 positions: every one is sampled at width 36

  // Every output position's taps, measured directly (not through the Gram matrix).
  std::vector<std::vector<double>> rows;
  for (const auto& image : images) {
    for (int oy = 0; oy < kSize; ++oy) {
      for (int ox = 0; ox < kSize; ++ox) {
        std::vector<double> taps;
        for (int c = 0; c < conv.in_channels; ++c) {
          for (int ky = -1; ky <= 1; ++ky) {
            for (int kx = -1; kx <= 1; ++kx) {
              const int y = oy + ky, x = ox + kx;
              taps.push_back(y < 0 || y >= kSize || x < 0 || x >= kSize ? 0.0 : image[(c * kSize + y) * kSize + x]);
            }
          }
        }
        rows.push_back(taps);
      }
    }
  }
  WeightRows w{conv.channels, 36, {}};
  std::vector<double> scales;
  for (int c = 0; c < conv.channels; ++c) {
    double largest = 0;
    for (int k = 0; k < w.width; ++k) {
      w.values.push_back(uniform(random));
      largest = std::max(largest, std::fabs(w.values.back()));
    }
    scales.push_back(largest / 7);
  }
  const std::vector<std::int16_t> nearest = nearest_round(w, scales, 4);
  const std::vector<std::int16_t> gptq = gptq_round(w, scales, 4, gptq_factor(statistics));
  // Each channel is rounded against the damped statistics, so a channel may
  // come out slightly worse; the layer as a whole must gain a lot.
  double nearest_total = 0, gptq_total = 0;
  int channels_lower = 0;
  for (int c = 0; c < conv.channels; ++c) {
    const double e_nearest = channel_error(w, nearest, scales, c, rows), e_gptq = channel_error(w, gptq, scales, c, rows);
    channels_lower += e_gptq < e_nearest;
    nearest_total += e_nearest;
    gptq_total += e_gptq;
  }
  MESSAGE("output error, gptq / nearest: " << gptq_total / nearest_total << ", " << channels_lower << " of 8 channels lower");
  CHECK(channels_lower >= 6);
  CHECK(gptq_total < 0.5 * nearest_total);
  CHECK(mean_squared_output_error(w, gptq, scales, statistics) == doctest::Approx(gptq_total).epsilon(1e-6));
  for (std::int16_t q : gptq) CHECK(std::abs(q) <= 7);
}

TEST_CASE("gptq: bias correction removes a systematic rounding error") {
  // Inputs around 1; every weight is 0.3 of a step, so nearest rounding drops
  // 9 * 0.3 = 2.7 of each channel's mean output.
  std::mt19937 random(3);
  std::uniform_real_distribution<double> noise(-0.5, 0.5);
  std::vector<std::vector<double>> rows;
  for (int i = 0; i < 1000; ++i) {
    std::vector<double> x;
    for (int k = 0; k < 9; ++k) x.push_back(1.0 + noise(random));
    rows.push_back(x);
  }
  const ConvInputStatistics statistics = statistics_of(rows);
  const WeightRows w{2, 9, std::vector<double>(18, 0.3)};
  const std::vector<double> scales = {1.0, 1.0};
  const std::vector<std::int16_t> codes = nearest_round(w, scales, 8);
  const std::vector<double> shift = mean_output_error(w, codes, scales, statistics.mean(), statistics.mean());
  for (int c = 0; c < 2; ++c) {
    double mean_before = 0, mean_after = 0;
    for (const auto& x : rows) {
      double e = 0;
      for (int k = 0; k < 9; ++k) e += (w.values[c * 9 + k] - scales[c] * codes[c * 9 + k]) * x[k];
      mean_before += e / rows.size();
      mean_after += (e - shift[c]) / rows.size();
    }
    CHECK(mean_before == doctest::Approx(2.7).epsilon(0.02));
    CHECK(std::fabs(mean_after) < 1e-12);
    // The corrected bias also lowers the mean squared error.
    CHECK(channel_error(w, codes, scales, c, rows, shift[c]) < 0.05 * channel_error(w, codes, scales, c, rows));
  }
}

TEST_CASE("gptq: bias correction from the quantized input removes the shift its predecessors brought") {
  // The float layer reads x around 1; the quantized one reads x' = x + 0.25 on
  // the first four taps (a shift the quantized layers before it brought).
  // The weights lie on the grid, so rounding itself adds no error: a
  // correction from the float input alone is zero and leaves the whole shift,
  // sum_k W[c,k] * 0.25 over the first four taps.
  std::mt19937 random(5);
  std::uniform_real_distribution<double> noise(-0.5, 0.5);
  std::vector<std::vector<double>> float_rows, quantized_rows;
  for (int i = 0; i < 1000; ++i) {
    std::vector<double> x, shifted;
    for (int k = 0; k < 9; ++k) {
      x.push_back(1.0 + noise(random));
      shifted.push_back(x.back() + (k < 4 ? 0.25 : 0.0) + 0.01 * noise(random));
    }
    float_rows.push_back(x);
    quantized_rows.push_back(shifted);
  }
  const ConvInputStatistics float_inputs = statistics_of(float_rows), quantized_inputs = statistics_of(quantized_rows);
  WeightRows w{2, 9, {}};
  for (int c = 0; c < 2; ++c) {
    for (int k = 0; k < 9; ++k) w.values.push_back(0.5 * ((c + k) % 5) - 1.0);  // on the grid of step 0.5
  }
  const std::vector<double> scales = {0.5, 0.5};
  const std::vector<std::int16_t> codes = nearest_round(w, scales, 8);
  const std::vector<double> float_only = mean_output_error(w, codes, scales, float_inputs.mean(), float_inputs.mean());
  const std::vector<double> sequential = mean_output_error(w, codes, scales, float_inputs.mean(), quantized_inputs.mean());
  for (int c = 0; c < 2; ++c) {
    double expected_shift = 0;
    for (int k = 0; k < 4; ++k) expected_shift += w.values[c * 9 + k] * 0.25;
    // Mean of the float output minus the quantized layer's corrected output.
    const auto remaining = [&](double correction) {
      double total = 0;
      for (size_t i = 0; i < float_rows.size(); ++i) {
        double y_float = 0, y_quantized = correction;
        for (int k = 0; k < 9; ++k) {
          y_float += w.values[c * 9 + k] * float_rows[i][k];
          y_quantized += scales[c] * codes[c * 9 + k] * quantized_rows[i][k];
        }
        total += y_float - y_quantized;
      }
      return total / float_rows.size();
    };
    CAPTURE(c);
    CHECK(std::fabs(float_only[c]) < 1e-12);
    CHECK(std::fabs(expected_shift) > 0.1);
    CHECK(remaining(float_only[c]) == doctest::Approx(-expected_shift).epsilon(0.02));
    CHECK(std::fabs(remaining(sequential[c])) < 1e-9);
  }
}

TEST_CASE("gptq: the sampled input positions cover the whole output, not only its top") {
  // A 3x3 convolution of 41 channels (369 taps: 64 rows per image) over a
  // 10x10 input whose value is its row index: 100 positions for 64 rows. The
  // sampled mean of the centre tap must be the mean row index, 4.5, within
  // the spread of one image's sampling grid (rows 0..6 only would give 3).
  Node conv;
  conv.op = OpKind::Conv;
  conv.in_channels = 41;
  conv.channels = 1;
  conv.kernel = 3;
  conv.stride = 1;
  conv.pad = 1;
  constexpr int kSize = 10;
  std::vector<float> input(static_cast<size_t>(conv.in_channels) * kSize * kSize);
  for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<float>((i / kSize) % kSize);
  const int width = conv.in_channels * 9;
  REQUIRE(sampled_rows(width, kSize * kSize) == kMinRowsPerImage);
  for (int image = 0; image < 5; ++image) {
    ConvInputStatistics statistics;
    add_conv_input(statistics, conv_input_statistics(conv, input.data(), kSize, kSize, image));
    CAPTURE(image);
    CHECK(statistics.rows == kMinRowsPerImage);
    CHECK(statistics.mean()[4] == doctest::Approx(4.5).epsilon(0.05));  // channel 0, centre tap
  }
}

TEST_CASE("weight clip search: Gaussian weights clip their tails at 4 bits, weights on the code grid keep their scale") {
  // Independent unit-variance inputs. Channel 0: 400 Gaussian weights
  // (sigma 0.3), whose largest |weight| is an outlier of the bulk, so at 4
  // bits (codes -7..7) clipping the tails buys finer steps for the rest.
  // Channel 1: weights on the code grid of its max scale, which rounds them
  // exactly.
  std::mt19937 random(11);
  std::normal_distribution<double> normal(0.0, 1.0);
  const int width = 400;
  std::vector<std::vector<double>> rows(200, std::vector<double>(width));
  for (auto& x : rows) {
    for (double& v : x) v = normal(random);
  }
  WeightRows w{2, width, std::vector<double>(2 * width)};
  double largest = 0;
  for (int k = 0; k < width; ++k) {
    w.values[k] = 0.3 * normal(random);
    largest = std::max(largest, std::fabs(w.values[k]));
    w.values[width + k] = 0.25 * static_cast<double>(k % 15 - 7);  // codes -7..7 at scale 0.25
  }
  const std::vector<double> max_scales = {largest / 7, 0.25};
  const ConvInputStatistics inputs = statistics_of(rows);
  const RoundingFunction nearest = [&](const std::vector<double>& scales) { return nearest_round(w, scales, 4); };
  const RoundedWeights chosen = clip_searched_rounding(w, max_scales, inputs, nearest);
  CHECK(chosen.scales[0] < 0.95 * max_scales[0]);
  CHECK(chosen.scales[0] >= 0.4 * max_scales[0]);
  CHECK(chosen.scales[1] == max_scales[1]);
  // Channel 0's codes are nearest rounding on one of the grid's scales (the
  // refit moves the scale, not the codes).
  bool on_grid_scale = false;
  for (int step = 0; step <= kWeightClipSteps; ++step) {
    const double scale = max_scales[0] * (1.0 - kWeightClipStep * step);
    const std::vector<std::int16_t> q = nearest({scale, scale});
    on_grid_scale |= std::equal(q.begin(), q.begin() + width, chosen.codes.begin());
  }
  CHECK(on_grid_scale);
  // The search's objective, measured here on the rows: channel 0's output
  // error is below every grid candidate's (the refit scale can only lower it)
  // and well below max's.
  const double at_max = channel_error(w, nearest(max_scales), max_scales, 0, rows);
  const double at_chosen = channel_error(w, chosen.codes, chosen.scales, 0, rows);
  for (int step = 0; step <= kWeightClipSteps; ++step) {
    const double alpha = 1.0 - kWeightClipStep * step;
    const std::vector<double> scales = {max_scales[0] * alpha, max_scales[1] * alpha};
    CHECK(at_chosen <= channel_error(w, nearest(scales), scales, 0, rows) * (1 + 1e-12));
  }
  CAPTURE(at_max);
  CAPTURE(at_chosen);
  CHECK(at_chosen < 0.8 * at_max);
  CHECK(channel_error(w, chosen.codes, chosen.scales, 1, rows) == 0.0);
}

TEST_CASE("weight clip search: with GPTQ rounding no channel ends worse than GPTQ on its max scale") {
  // Correlated inputs (a shared component in every input), 8 channels of
  // Gaussian weights with one outlier each.
  std::mt19937 random(5);
  std::normal_distribution<double> normal(0.0, 1.0);
  const int width = 64, channels = 8;
  std::vector<std::vector<double>> rows(300, std::vector<double>(width));
  for (auto& x : rows) {
    const double shared = normal(random);
    for (double& v : x) v = 0.6 * shared + normal(random);
  }
  WeightRows w{channels, width, std::vector<double>(channels * width)};
  std::vector<double> max_scales(channels);
  for (int c = 0; c < channels; ++c) {
    double largest = 0;
    for (int k = 0; k < width; ++k) {
      double& v = w.values[c * width + k];
      v = (k == c ? 4.0 : 1.0) * 0.2 * normal(random);
      largest = std::max(largest, std::fabs(v));
    }
    max_scales[c] = largest / 7;
  }
  const ConvInputStatistics inputs = statistics_of(rows);
  const GptqFactor factor = gptq_factor(inputs);
  const RoundingFunction gptq = [&](const std::vector<double>& scales) { return gptq_round(w, scales, 4, factor); };
  const std::vector<std::int16_t> at_max = gptq(max_scales);
  const RoundedWeights chosen = clip_searched_rounding(w, max_scales, inputs, gptq);
  double total_max = 0, total_chosen = 0;
  for (int c = 0; c < channels; ++c) {
    CAPTURE(c);
    const double before = channel_error(w, at_max, max_scales, c, rows);
    const double after = channel_error(w, chosen.codes, chosen.scales, c, rows);
    CHECK(after <= before * (1 + 1e-9));
    total_max += before;
    total_chosen += after;
  }
  CAPTURE(total_max);
  CAPTURE(total_chosen);
  CHECK(total_chosen < 0.9 * total_max);
  const std::vector<double> per_channel = channel_output_errors(w, chosen.codes, chosen.scales, inputs);
  CHECK(per_channel[3] / inputs.rows == doctest::Approx(channel_error(w, chosen.codes, chosen.scales, 3, rows)).epsilon(1e-6));
}

TEST_CASE("weight clip: auto searches where GPTQ rounds weights narrower than 8 bits, mse wherever it can") {
  QuantSettings settings;  // --weight-clip auto, --rounding auto
  CHECK(settings.clip_searches(4));
  CHECK(settings.clip_searches(6));
  CHECK_FALSE(settings.clip_searches(8));
  settings.rounding = WeightRounding::Gptq;
  CHECK_FALSE(settings.clip_searches(8));
  settings.rounding = WeightRounding::Nearest;
  CHECK_FALSE(settings.clip_searches(4));
  settings.weight_clip = WeightClip::Mse;
  CHECK(settings.clip_searches(4));
  CHECK(settings.clip_searches(8));
  settings.per_channel = false;
  CHECK_FALSE(settings.clip_searches(4));
  settings.per_channel = true;
  settings.scale_form = ScaleForm::PowerOfTwo;
  CHECK_FALSE(settings.clip_searches(4));
  settings.scale_form = ScaleForm::Multiplier;
  settings.weight_clip = WeightClip::Max;
  settings.rounding = WeightRounding::Gptq;
  CHECK_FALSE(settings.clip_searches(4));
}

TEST_CASE("asymmetric reconstruction: the compensated weights undo a distortion of the quantized input") {
  // The quantized model's input is the float one with every tap scaled by
  // 0.7-1.3 (what a predecessor's rounding might do to its channels): the
  // compensated weights are W D^-1, up to the damping, and their output on
  // the distorted input is the float layer's on the float input.
  std::mt19937 random(3);
  std::normal_distribution<double> normal(0.0, 1.0);
  const int width = 12, channels = 3;
  std::vector<double> distortion(width);
  for (int k = 0; k < width; ++k) distortion[k] = 0.7 + 0.6 * k / (width - 1);
  std::vector<std::vector<double>> float_rows(400, std::vector<double>(width)), rows = float_rows;
  ConvInputStatistics inputs;
  for (size_t r = 0; r < float_rows.size(); ++r) {
    const double shared = normal(random);
    for (int k = 0; k < width; ++k) {
      float_rows[r][k] = 0.5 * shared + normal(random);
      rows[r][k] = distortion[k] * float_rows[r][k];
    }
  }
  inputs = statistics_of(rows);
  inputs.cross.assign(width * width, 0.0);
  for (size_t r = 0; r < rows.size(); ++r) {
    for (int j = 0; j < width; ++j) {
      for (int i = 0; i < width; ++i) inputs.cross[j * width + i] += float_rows[r][i] * rows[r][j];
    }
  }
  WeightRows w{channels, width, std::vector<double>(channels * width)};
  for (double& v : w.values) v = normal(random);
  const WeightRows compensated = compensated_weights(w, inputs);
  for (int c = 0; c < channels; ++c) {
    for (int k = 0; k < width; ++k) {
      CAPTURE(c);
      CAPTURE(k);
      CHECK(compensated.values[c * width + k] == doctest::Approx(w.values[c * width + k] / distortion[k]).epsilon(0.05));
    }
  }
  // Output error against the float layer on the float input.
  const auto error = [&](const WeightRows& weights) {
    double total = 0;
    for (size_t r = 0; r < rows.size(); ++r) {
      for (int c = 0; c < channels; ++c) {
        double e = 0;
        for (int k = 0; k < width; ++k) e += w.values[c * width + k] * float_rows[r][k] - weights.values[c * width + k] * rows[r][k];
        total += e * e;
      }
    }
    return total;
  };
  CAPTURE(error(w));
  CAPTURE(error(compensated));
  CHECK(error(compensated) < 0.01 * error(w));
  inputs.cross.clear();
  CHECK_THROWS_WITH_AS(compensated_weights(w, inputs),
                       "asymmetric reconstruction: the layer's input statistics hold no cross moments of its width",
                       Error);
}
