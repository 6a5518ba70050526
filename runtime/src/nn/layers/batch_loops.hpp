// Loops over the batch (the innermost, contiguous axis of every activation). Private.
// Vec4 is GCC's generic vector: SSE on x86-64, NEON on ARM, plain registers where neither
// exists. Left to itself, the compiler turned small float arrays used as accumulators into
// scalar registers; written with Vec4 they stay vectors.
#pragma once

#include <cstddef>
#include <cstring>

namespace edgefl {

typedef float Vec4 __attribute__((vector_size(16)));

// A sum of products over samples, kept as 8 partial sums: one fixed order on every backend and
// thread count, and a reduction the compiler vectorises without reassociating floats itself.
class LaneSum {
 public:
  // += sum over s < n of a[s] * b[s]
  void add_products(const float* a, const float* b, std::size_t n) {
    std::size_t s = 0;
    for (; s + 8 <= n; s += 8) {
      Vec4 a0, a1, b0, b1;
      std::memcpy(&a0, a + s, sizeof a0);
      std::memcpy(&a1, a + s + 4, sizeof a1);
      std::memcpy(&b0, b + s, sizeof b0);
      std::memcpy(&b1, b + s + 4, sizeof b1);
      lo_ += a0 * b0;
      hi_ += a1 * b1;
    }
    for (; s < n; ++s) tail_ += a[s] * b[s];
  }
  // += sum over s < n of a[s]
  void add(const float* a, std::size_t n) {
    std::size_t s = 0;
    for (; s + 8 <= n; s += 8) {
      Vec4 a0, a1;
      std::memcpy(&a0, a + s, sizeof a0);
      std::memcpy(&a1, a + s + 4, sizeof a1);
      lo_ += a0;
      hi_ += a1;
    }
    for (; s < n; ++s) tail_ += a[s];
  }
  float total() const {
    const Vec4 v = lo_ + hi_;
    return ((v[0] + v[1]) + (v[2] + v[3])) + tail_;
  }

 private:
  Vec4 lo_ = {0, 0, 0, 0};
  Vec4 hi_ = {0, 0, 0, 0};
  float tail_ = 0.0f;
};

// y[s] += a * x[s]
inline void batch_axpy(float a, const float* x, float* y, std::size_t n) {
  for (std::size_t s = 0; s < n; ++s) y[s] += a * x[s];
}

}  // namespace edgefl
