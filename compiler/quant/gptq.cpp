#include "compiler/quant/gptq.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "compiler/ref/arithmetic.hpp"
#include "compiler/util/error.hpp"

namespace yq {

namespace {

using Matrix = Eigen::MatrixXd;

std::int16_t nearest_code(double value, double scale, std::int64_t max_code) {
  return static_cast<std::int16_t>(std::clamp<std::int64_t>(std::llround(value / scale), -max_code, max_code));
}

// The Cholesky factor of H + damping I: the damping kGptqDamping of H's mean
// diagonal, ten times more at each failure until H + damping I is positive
// definite. Throws yq::Error(failure) when it never is.
Eigen::LLT<Matrix> damped_cholesky(const Matrix& h, const std::string& failure) {
  const double mean_diagonal = h.diagonal().mean();
  double damping = kGptqDamping * (mean_diagonal > 0 ? mean_diagonal : 1.0);
  for (int attempt = 0; attempt < 6; ++attempt, damping *= 10) {
    Matrix damped = h;
    damped.diagonal().array() += damping;
    Eigen::LLT<Matrix> factor(damped);
    if (factor.info() == Eigen::Success) return factor;
  }
  throw Error(failure);
}

// The upper Cholesky factor U of the damped H^-1 (H^-1 = U^T U). With R the
// reversal of rows and columns and R H R = L L^T, U = R L^-1 R: one
// factorization and one triangular inverse.
Matrix inverse_cholesky_upper(const Matrix& h) {
  const Eigen::LLT<Matrix> factor =
      damped_cholesky(h.reverse(), "GPTQ: the input statistics of a layer stay singular after damping");
  Matrix inverse = Matrix::Identity(h.rows(), h.cols());
  factor.matrixL().solveInPlace(inverse);  // L^-1
  return inverse.reverse();
}

// W - s q, [channels][width].
Matrix weight_error(const WeightRows& weights, const std::vector<std::int16_t>& codes, const std::vector<double>& scales) {
  const int d = weights.width, m = weights.channels;
  Matrix delta(m, d);
  for (int c = 0; c < m; ++c) {
    for (int k = 0; k < d; ++k) {
      const size_t at = static_cast<size_t>(c) * d + k;
      delta(c, k) = weights.values[at] - scales[c] * codes[at];
    }
  }
  return delta;
}

// Each channel's scale that minimizes (w - s q) G (w - s q)^T for its codes:
// s = w G q^T / q G q^T (the old scale where that is not positive).
std::vector<double> refit_scales(const WeightRows& weights, const std::vector<std::int16_t>& codes,
                                 const std::vector<double>& scales, const ConvInputStatistics& inputs) {
  const int d = weights.width, m = weights.channels;
  Matrix w(m, d), q(m, d);
  for (int c = 0; c < m; ++c) {
    for (int k = 0; k < d; ++k) {
      const size_t at = static_cast<size_t>(c) * d + k;
      w(c, k) = weights.values[at];
      q(c, k) = codes[at];
    }
  }
  const Eigen::Map<const Matrix> gram(inputs.gram.data(), d, d);
  const Matrix qg = q * gram;
  const Eigen::VectorXd numerator = qg.cwiseProduct(w).rowwise().sum();
  const Eigen::VectorXd denominator = qg.cwiseProduct(q).rowwise().sum();
  std::vector<double> refit = scales;
  for (int c = 0; c < m; ++c) {
    const double s = numerator(c) / denominator(c);
    if (denominator(c) > 0 && std::isfinite(s) && s > 0) refit[c] = s;
  }
  return refit;
}

}  // namespace

std::vector<std::int16_t> nearest_round(const WeightRows& weights, const std::vector<double>& scales, int bits) {
  const std::int64_t max_code = arith::max_code(bits);
  std::vector<std::int16_t> codes(weights.values.size());
  for (int c = 0; c < weights.channels; ++c) {
    for (int k = 0; k < weights.width; ++k) {
      const size_t at = static_cast<size_t>(c) * weights.width + k;
      codes[at] = nearest_code(weights.values[at], scales[c], max_code);
    }
  }
  return codes;
}

GptqFactor gptq_factor(const ConvInputStatistics& inputs) {
  const int d = inputs.width;
  const Eigen::Map<const Matrix> gram(inputs.gram.data(), d, d);
  // Columns by decreasing diagonal (ties by index); dead inputs get a unit diagonal.
  GptqFactor factor;
  factor.width = d;
  factor.order.resize(d);
  std::iota(factor.order.begin(), factor.order.end(), 0);
  std::stable_sort(factor.order.begin(), factor.order.end(), [&](int a, int b) { return gram(a, a) > gram(b, b); });
  Matrix h(d, d);
  for (int j = 0; j < d; ++j) {
    for (int i = 0; i < d; ++i) h(i, j) = gram(factor.order[i], factor.order[j]);
  }
  for (int j = 0; j < d; ++j) {
    if (h(j, j) == 0) h(j, j) = 1;
  }
  const Matrix u = inverse_cholesky_upper(h);
  factor.u.assign(u.data(), u.data() + u.size());
  return factor;
}

std::vector<std::int16_t> gptq_round(const WeightRows& weights, const std::vector<double>& scales, int bits,
                                     const GptqFactor& factor) {
  const int d = weights.width, m = weights.channels;
  if (factor.width != d) throw Error("GPTQ: input statistics do not match the layer's width");
  const std::int64_t max_code = arith::max_code(bits);
  const Eigen::Map<const Matrix> u(factor.u.data(), d, d);
  const std::vector<int>& order = factor.order;
  Matrix w(m, d);
  for (int j = 0; j < d; ++j) {
    for (int c = 0; c < m; ++c) w(c, j) = weights.values[static_cast<size_t>(c) * d + order[j]];
  }
  Eigen::ArrayXd scale(m);
  for (int c = 0; c < m; ++c) scale(c) = scales[c];
  std::vector<std::int16_t> codes(static_cast<size_t>(m) * d);
  for (int begin = 0; begin < d; begin += kGptqBlock) {
    const int end = std::min(d, begin + kGptqBlock);
    Matrix errors(m, end - begin);
    for (int j = begin; j < end; ++j) {
      Eigen::VectorXd error(m);
      for (int c = 0; c < m; ++c) {
        const std::int16_t q = nearest_code(w(c, j), scale(c), max_code);
        codes[static_cast<size_t>(c) * d + order[j]] = q;
        error(c) = (w(c, j) - scale(c) * q) / u(j, j);
      }
      if (j + 1 < end) w.middleCols(j + 1, end - j - 1).noalias() -= error * u.row(j).segment(j + 1, end - j - 1);
      errors.col(j - begin) = error;
    }
    if (end < d) w.rightCols(d - end).noalias() -= errors * u.block(begin, end, end - begin, d - end);
  }
  return codes;
}

WeightRows compensated_weights(const WeightRows& weights, const ConvInputStatistics& inputs) {
  const int d = weights.width, m = weights.channels;
  if (inputs.width != d || inputs.cross.size() != static_cast<size_t>(d) * d) {
    throw Error("asymmetric reconstruction: the layer's input statistics hold no cross moments of its width");
  }
  const Eigen::Map<const Matrix> gram(inputs.gram.data(), d, d), cross(inputs.cross.data(), d, d);
  const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> w(
      weights.values.data(), m, d);
  const Matrix right = cross.transpose() * w.transpose();  // (W C)^T
  const Eigen::LLT<Matrix> factor =
      damped_cholesky(gram, "asymmetric reconstruction: the input statistics of a layer stay singular after damping");
  const Matrix target = factor.solve(right);  // [d][m]: column c is channel c's row
  WeightRows result{m, d, std::vector<double>(static_cast<size_t>(m) * d)};
  for (int c = 0; c < m; ++c) {
    for (int k = 0; k < d; ++k) result.values[static_cast<size_t>(c) * d + k] = target(k, c);
  }
  return result;
}

std::vector<double> channel_output_errors(const WeightRows& weights, const std::vector<std::int16_t>& codes,
                                          const std::vector<double>& scales, const ConvInputStatistics& inputs) {
  const int d = weights.width, m = weights.channels;
  const Matrix delta = weight_error(weights, codes, scales);
  const Eigen::Map<const Matrix> gram(inputs.gram.data(), d, d);
  const Eigen::VectorXd errors = (delta * gram).cwiseProduct(delta).rowwise().sum();
  return {errors.data(), errors.data() + m};
}

RoundedWeights clip_searched_rounding(const WeightRows& weights, const std::vector<double>& max_scales,
                                      const ConvInputStatistics& inputs, const RoundingFunction& round) {
  const int d = weights.width, m = weights.channels;
  if (inputs.width != d) throw Error("weight clip search: input statistics do not match the layer's width");
  RoundedWeights best{max_scales, round(max_scales)};
  std::vector<double> best_error = channel_output_errors(weights, best.codes, best.scales, inputs);
  const auto keep_better = [&](const std::vector<double>& scales, const std::vector<std::int16_t>& codes) {
    const std::vector<double> error = channel_output_errors(weights, codes, scales, inputs);
    for (int c = 0; c < m; ++c) {
      if (!(error[c] < best_error[c])) continue;
      best_error[c] = error[c];
      best.scales[c] = scales[c];
      std::copy_n(codes.begin() + static_cast<std::ptrdiff_t>(c) * d, d,
                  best.codes.begin() + static_cast<std::ptrdiff_t>(c) * d);
    }
  };
  for (int step = 1; step <= kWeightClipSteps; ++step) {
    std::vector<double> scales = max_scales;
    for (double& s : scales) s *= 1.0 - kWeightClipStep * step;
    keep_better(scales, round(scales));
  }
  keep_better(refit_scales(weights, best.codes, best.scales, inputs), best.codes);
  return best;
}

std::vector<double> mean_output_error(const WeightRows& weights, const std::vector<std::int16_t>& codes,
                                      const std::vector<double>& scales, const std::vector<double>& float_mean,
                                      const std::vector<double>& quantized_mean) {
  std::vector<double> error(weights.channels, 0.0);
  for (int c = 0; c < weights.channels; ++c) {
    for (int k = 0; k < weights.width; ++k) {
      const size_t at = static_cast<size_t>(c) * weights.width + k;
      error[c] += weights.values[at] * float_mean[k] - scales[c] * codes[at] * quantized_mean[k];
    }
  }
  return error;
}

double mean_squared_output_error(const WeightRows& weights, const std::vector<std::int16_t>& codes,
                                 const std::vector<double>& scales, const ConvInputStatistics& inputs) {
  const std::vector<double> errors = channel_output_errors(weights, codes, scales, inputs);
  return std::accumulate(errors.begin(), errors.end(), 0.0) / static_cast<double>(std::max<std::int64_t>(1, inputs.rows));
}

}  // namespace yq
