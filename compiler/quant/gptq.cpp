#include "compiler/quant/gptq.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "compiler/ref/arithmetic.hpp"
#include "compiler/util/error.hpp"

namespace yq {

namespace {

using Matrix = Eigen::MatrixXd;

std::int16_t nearest_code(double value, double scale, std::int64_t max_code) {
  return static_cast<std::int16_t>(std::clamp<std::int64_t>(std::llround(value / scale), -max_code, max_code));
}

// The upper Cholesky factor U of H^-1 (H^-1 = U^T U), damping H until it is
// positive definite. With R the reversal of rows and columns and
// R H R = L L^T, U = R L^-1 R: one factorization and one triangular inverse.
Matrix inverse_cholesky_upper(const Matrix& h) {
  const Eigen::Index d = h.rows();
  const Matrix reversed = h.reverse();  // R H R
  const double mean_diagonal = h.diagonal().mean();
  double damping = kGptqDamping * (mean_diagonal > 0 ? mean_diagonal : 1.0);
  for (int attempt = 0; attempt < 6; ++attempt, damping *= 10) {
    Matrix damped = reversed;
    damped.diagonal().array() += damping;
    const Eigen::LLT<Matrix> factor(damped);
    if (factor.info() != Eigen::Success) continue;
    Matrix inverse = Matrix::Identity(d, d);
    factor.matrixL().solveInPlace(inverse);  // L^-1
    return inverse.reverse();
  }
  throw Error("GPTQ: the input statistics of a layer stay singular after damping");
}

}  // namespace

std::vector<double> clip_searched_scales(const WeightRows& weights, const std::vector<double>& max_scales, int bits,
                                         const ConvInputStatistics& inputs) {
  const int d = weights.width;
  if (inputs.width != d) throw Error("weight clip search: input statistics do not match the layer's width");
  const std::int64_t max_code = arith::max_code(bits);
  const Eigen::Map<const Matrix> gram(inputs.gram.data(), d, d);
  std::vector<double> scales = max_scales;
  for (int c = 0; c < weights.channels; ++c) {
    const double* row = weights.values.data() + static_cast<size_t>(c) * d;
    auto error_at = [&](double scale) {
      double error = 0;
      for (int k = 0; k < d; ++k) {
        const double delta = row[k] - scale * nearest_code(row[k], scale, max_code);
        error += gram(k, k) * delta * delta;
      }
      return error;
    };
    double best = error_at(max_scales[c]);
    for (int step = 1; step <= kWeightClipSteps; ++step) {
      const double scale = max_scales[c] * (1.0 - kWeightClipStep * step);
      const double error = error_at(scale);
      if (error < best) {
        best = error;
        scales[c] = scale;
      }
    }
  }
  return scales;
}

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

std::vector<std::int16_t> gptq_round(const WeightRows& weights, const std::vector<double>& scales, int bits,
                                     const ConvInputStatistics& inputs) {
  const int d = weights.width, m = weights.channels;
  if (inputs.width != d) throw Error("GPTQ: input statistics do not match the layer's width");
  const std::int64_t max_code = arith::max_code(bits);
  const Eigen::Map<const Matrix> gram(inputs.gram.data(), d, d);

  // Columns by decreasing diagonal (ties by index); dead inputs get a unit diagonal.
  std::vector<int> order(d);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return gram(a, a) > gram(b, b); });
  Matrix h(d, d);
  Matrix w(m, d);
  for (int j = 0; j < d; ++j) {
    for (int i = 0; i < d; ++i) h(i, j) = gram(order[i], order[j]);
    for (int c = 0; c < m; ++c) w(c, j) = weights.values[static_cast<size_t>(c) * d + order[j]];
  }
  for (int j = 0; j < d; ++j) {
    if (h(j, j) == 0) h(j, j) = 1;
  }
  const Matrix u = inverse_cholesky_upper(h);

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
  const int d = weights.width, m = weights.channels;
  Matrix delta(m, d);
  for (int c = 0; c < m; ++c) {
    for (int k = 0; k < d; ++k) {
      const size_t at = static_cast<size_t>(c) * d + k;
      delta(c, k) = weights.values[at] - scales[c] * codes[at];
    }
  }
  const Eigen::Map<const Matrix> gram(inputs.gram.data(), d, d);
  return (delta * gram).cwiseProduct(delta).sum() / static_cast<double>(std::max<std::int64_t>(1, inputs.rows));
}

}  // namespace yq
