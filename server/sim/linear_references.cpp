#include "linear_references.hpp"

#include <algorithm>
#include <cmath>

namespace edgefl::sim {

namespace {

// Solves A z = b for a symmetric positive definite A (k x k, row-major) by Cholesky.
Result<std::vector<double>> solve_spd(std::vector<double> a, std::vector<double> b, std::size_t k) {
  for (std::size_t j = 0; j < k; ++j) {
    double diag = a[j * k + j];
    for (std::size_t p = 0; p < j; ++p) diag -= a[j * k + p] * a[j * k + p];
    if (!(diag > 0))
      return make_status(StatusCode::failed_precondition, "reference: the system is singular");
    a[j * k + j] = std::sqrt(diag);
    for (std::size_t i = j + 1; i < k; ++i) {
      double v = a[i * k + j];
      for (std::size_t p = 0; p < j; ++p) v -= a[i * k + p] * a[j * k + p];
      a[i * k + j] = v / a[j * k + j];
    }
  }
  for (std::size_t i = 0; i < k; ++i) {  // L z' = b
    for (std::size_t p = 0; p < i; ++p) b[i] -= a[i * k + p] * b[p];
    b[i] /= a[i * k + i];
  }
  for (std::size_t i = k; i-- > 0;) {  // L^T z = z'
    for (std::size_t p = i + 1; p < k; ++p) b[i] -= a[p * k + i] * b[p];
    b[i] /= a[i * k + i];
  }
  return b;
}

std::vector<double> gram_rows(const LinearData& data) {  // X X^T
  std::vector<double> g(data.n * data.n);
  for (std::size_t i = 0; i < data.n; ++i) {
    for (std::size_t j = 0; j <= i; ++j)
      g[i * data.n + j] = g[j * data.n + i] = dot(data.row(i), data.row(j), data.d);
  }
  return g;
}

}  // namespace

double dot(const double* a, const double* b, std::size_t d) {
  double s = 0;
  for (std::size_t j = 0; j < d; ++j) s += a[j] * b[j];
  return s;
}

double norm(const std::vector<double>& v) {
  return std::sqrt(dot(v.data(), v.data(), v.size()));
}

double relative_error(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> diff(a.size());
  for (std::size_t j = 0; j < a.size(); ++j) diff[j] = a[j] - b[j];
  return norm(diff) / norm(b);
}

double cosine(const std::vector<double>& a, const std::vector<double>& b) {
  const double na = norm(a), nb = norm(b);
  return na > 0 && nb > 0 ? dot(a.data(), b.data(), a.size()) / (na * nb) : 0.0;
}

double lambda_max(const LinearData& data) {
  const std::vector<double> g = gram_rows(data);
  std::vector<double> v(data.n, 1.0), next(data.n);
  double lambda = 0;
  for (int it = 0; it < 10000; ++it) {
    for (std::size_t i = 0; i < data.n; ++i) next[i] = dot(&g[i * data.n], v.data(), data.n);
    const double length = norm(next);
    for (std::size_t i = 0; i < data.n; ++i) v[i] = next[i] / length;
    if (std::abs(length - lambda) <= 1e-13 * length) return length;
    lambda = length;
  }
  return lambda;
}

Result<std::vector<double>> min_norm_interpolator(const LinearData& data) {
  Result<std::vector<double>> alpha = solve_spd(gram_rows(data), data.y, data.n);
  if (!alpha) return alpha.status();
  std::vector<double> w(data.d, 0.0);
  for (std::size_t i = 0; i < data.n; ++i) {
    for (std::size_t j = 0; j < data.d; ++j) w[j] += (*alpha)[i] * data.row(i)[j];
  }
  return w;
}

Result<std::vector<double>> least_squares(const LinearData& data) {
  std::vector<double> a(data.d * data.d, 0.0), b(data.d, 0.0);
  for (std::size_t i = 0; i < data.n; ++i) {
    const double* x = data.row(i);
    for (std::size_t p = 0; p < data.d; ++p) {
      b[p] += x[p] * data.y[i];
      for (std::size_t q = 0; q < data.d; ++q) a[p * data.d + q] += x[p] * x[q];
    }
  }
  return solve_spd(std::move(a), std::move(b), data.d);
}

Result<std::vector<double>> svm_direction(const LinearData& data, double tolerance) {
  std::vector<double> alpha(data.n, 0.0), w(data.d, 0.0);
  for (int sweep = 0; sweep < 1000000; ++sweep) {
    double worst = 0;
    for (std::size_t i = 0; i < data.n; ++i) {
      const double* x = data.row(i);
      const double gradient = 1.0 - data.y[i] * dot(w.data(), x, data.d);  // d(dual)/d(alpha_i)
      worst = std::max(worst, alpha[i] > 0 ? std::abs(gradient) : std::max(0.0, gradient));
      const double next = std::max(0.0, alpha[i] + gradient / dot(x, x, data.d));
      const double change = next - alpha[i];
      if (change == 0) continue;
      for (std::size_t j = 0; j < data.d; ++j) w[j] += change * data.y[i] * x[j];
      alpha[i] = next;
    }
    if (worst <= tolerance) return w;
  }
  return make_status(StatusCode::failed_precondition,
                     "reference: the SVM dual did not converge (data not separable?)");
}

std::size_t support_vectors(const LinearData& data, const std::vector<double>& w_svm) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < data.n; ++i) count += data.y[i] * dot(w_svm.data(), data.row(i), data.d) <= 1.0 + 1e-6;
  return count;
}

double normalised_margin(const LinearData& data, const std::vector<double>& w) {
  double margin = INFINITY;
  for (std::size_t i = 0; i < data.n; ++i)
    margin = std::min(margin, data.y[i] * dot(w.data(), data.row(i), data.d));
  return margin / norm(w);
}

double logistic_loss(const LinearData& data, const std::vector<double>& w) {
  double sum = 0;
  for (std::size_t i = 0; i < data.n; ++i) {
    const double m = data.y[i] * dot(w.data(), data.row(i), data.d);
    sum += m > 0 ? std::log1p(std::exp(-m)) : -m + std::log1p(std::exp(m));
  }
  return sum / double(data.n);
}

void logistic_gd_step(const LinearData& data, std::vector<double>& w, double step) {
  std::vector<double> grad(data.d, 0.0);
  for (std::size_t i = 0; i < data.n; ++i) {
    const double m = data.y[i] * dot(w.data(), data.row(i), data.d);
    const double weight = -data.y[i] / (1.0 + std::exp(m));  // d/dm log(1 + e^-m) = -1 / (1 + e^m)
    for (std::size_t j = 0; j < data.d; ++j) grad[j] += weight * data.row(i)[j];
  }
  for (std::size_t j = 0; j < data.d; ++j) w[j] -= step * grad[j] / double(data.n);
}

double squared_loss(const LinearData& data, const std::vector<double>& w) {
  double sum = 0;
  for (std::size_t i = 0; i < data.n; ++i) {
    const double r = dot(w.data(), data.row(i), data.d) - data.y[i];
    sum += 0.5 * r * r;
  }
  return sum / double(data.n);
}

}  // namespace edgefl::sim
