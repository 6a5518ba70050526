// Loops over the batch (the innermost, contiguous axis of every activation). Private.
// LaneSum keeps 8 partial sums so the compiler vectorises a reduction without reassociating
// floats itself; the result is the same on every backend and thread count (one fixed order).
#pragma once

#include <cstddef>

namespace edgefl {

class LaneSum {
 public:
  // += sum over s < n of a[s] * b[s]
  void add_products(const float* a, const float* b, std::size_t n) {
    std::size_t s = 0;
    for (; s + kLanes <= n; s += kLanes) {
      for (std::size_t l = 0; l < kLanes; ++l) lanes_[l] += a[s + l] * b[s + l];
    }
    for (std::size_t l = 0; s < n; ++s, ++l) lanes_[l] += a[s] * b[s];
  }
  // += sum over s < n of a[s]
  void add(const float* a, std::size_t n) {
    std::size_t s = 0;
    for (; s + kLanes <= n; s += kLanes) {
      for (std::size_t l = 0; l < kLanes; ++l) lanes_[l] += a[s + l];
    }
    for (std::size_t l = 0; s < n; ++s, ++l) lanes_[l] += a[s];
  }
  float total() const {
    float sum = 0.0f;
    for (float v : lanes_) sum += v;
    return sum;
  }

 private:
  static constexpr std::size_t kLanes = 8;
  float lanes_[kLanes] = {};
};

// y[s] += a * x[s]
inline void batch_axpy(float a, const float* x, float* y, std::size_t n) {
  for (std::size_t s = 0; s < n; ++s) y[s] += a * x[s];
}

}  // namespace edgefl
