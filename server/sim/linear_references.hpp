// The centralised references of Local-GD runs (local_gd_run.hpp), in double: the minimum-norm
// interpolator, the least-squares solution, the hard-margin SVM direction and plain GD on the
// logistic loss.
//
//   LinearData all = ...;                                  // rows of [x, 1] (the model's bias)
//   auto w_star = min_norm_interpolator(all);              // X^T (X X^T)^-1 y
//   auto w_svm = svm_direction(all_pm);                    // labels +-1
#pragma once

#include <cstddef>
#include <vector>

#include "edgefl/base/status.hpp"

namespace edgefl::sim {

// n rows of d features (row-major) and their targets.
struct LinearData {
  std::size_t n = 0;
  std::size_t d = 0;
  std::vector<double> x;
  std::vector<double> y;
  const double* row(std::size_t i) const { return x.data() + i * d; }
};

double dot(const double* a, const double* b, std::size_t d);
double norm(const std::vector<double>& v);
// ||a - b|| / ||b||
double relative_error(const std::vector<double>& a, const std::vector<double>& b);
double cosine(const std::vector<double>& a, const std::vector<double>& b);

// Largest eigenvalue of X^T X (power iteration on X X^T).
double lambda_max(const LinearData& data);
// X^T (X X^T)^-1 y: what GD from 0 reaches on an interpolable (n < d) least-squares problem.
Result<std::vector<double>> min_norm_interpolator(const LinearData& data);
// (X^T X)^-1 X^T y (n > d).
Result<std::vector<double>> least_squares(const LinearData& data);
// The hard-margin SVM normal through the origin (labels +-1): dual coordinate ascent on
// max sum(a) - |sum a_i y_i x_i|^2 / 2, a >= 0, until no KKT violation exceeds `tolerance`.
Result<std::vector<double>> svm_direction(const LinearData& data, double tolerance = 1e-9);
// The samples on the margin of svm_direction's w (y_i w.x_i = 1 within 1e-6): its support vectors.
std::size_t support_vectors(const LinearData& data, const std::vector<double>& w_svm);
// min_i y_i <w, x_i> / |w| (labels +-1).
double normalised_margin(const LinearData& data, const std::vector<double>& w);
// Mean logistic loss log(1 + exp(-y <w, x>)) (labels +-1) and one GD step on it.
double logistic_loss(const LinearData& data, const std::vector<double>& w);
void logistic_gd_step(const LinearData& data, std::vector<double>& w, double step);
// Mean squared loss <w, x> - y)^2 / 2.
double squared_loss(const LinearData& data, const std::vector<double>& w);

}  // namespace edgefl::sim
