#include "reference_kernels.hpp"

#include <algorithm>

namespace edgefl {

// Loop orders keep the innermost loop contiguous over the batch so the compiler vectorises it.

Status ReferenceKernels::forward(const float* w, const float* xt, float* yt, std::size_t n,
                                 std::size_t k, std::size_t b) {
  for (std::size_t i = 0; i < n; ++i) {
    float* y = yt + i * b;
    std::fill(y, y + b, 0.0f);
    for (std::size_t j = 0; j < k; ++j) {
      const float wij = w[i * k + j];
      const float* x = xt + j * b;
      for (std::size_t s = 0; s < b; ++s) y[s] += wij * x[s];
    }
  }
  return Status();
}

Status ReferenceKernels::weight_grad(const float* dyt, const float* xt, float* dw, std::size_t n,
                                     std::size_t k, std::size_t b, GradientRowsSink* sink) {
  for (std::size_t i = 0; i < n; ++i) {
    const float* dy = dyt + i * b;
    for (std::size_t j = 0; j < k; ++j) {
      const float* x = xt + j * b;
      float sum = 0.0f;
      for (std::size_t s = 0; s < b; ++s) sum += dy[s] * x[s];
      dw[i * k + j] = sum;
    }
  }
  if (sink != nullptr) sink->rows_ready(0, n);
  return Status();
}

Status ReferenceKernels::input_grad(const float* w, const float* dyt, float* dxt, float*,
                                    std::size_t n, std::size_t k, std::size_t b) {
  std::fill(dxt, dxt + k * b, 0.0f);
  for (std::size_t i = 0; i < n; ++i) {
    const float* dy = dyt + i * b;
    for (std::size_t j = 0; j < k; ++j) {
      const float wij = w[i * k + j];
      float* dx = dxt + j * b;
      for (std::size_t s = 0; s < b; ++s) dx[s] += wij * dy[s];
    }
  }
  return Status();
}

}  // namespace edgefl
