#include "transpose.hpp"

#include <algorithm>
#include <cstring>

namespace edgefl {

namespace {

// Four floats; GCC and Clang lower the shuffles below to SSE or NEON, or to scalar code.
typedef float Float4 __attribute__((vector_size(16)));

Float4 load4(const float* p) {
  Float4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void store4(float* p, Float4 v) { std::memcpy(p, &v, sizeof v); }

// dst[c..c+3][r..r+3] = src[r..r+3][c..c+3]^T, as a 4x4 register transpose.
void transpose4x4(const float* src, float* dst, std::size_t rows, std::size_t cols) {
  const Float4 r0 = load4(src), r1 = load4(src + cols), r2 = load4(src + 2 * cols), r3 = load4(src + 3 * cols);
  const Float4 t0 = __builtin_shufflevector(r0, r1, 0, 4, 1, 5), t1 = __builtin_shufflevector(r0, r1, 2, 6, 3, 7);
  const Float4 t2 = __builtin_shufflevector(r2, r3, 0, 4, 1, 5), t3 = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
  store4(dst, __builtin_shufflevector(t0, t2, 0, 1, 4, 5));
  store4(dst + rows, __builtin_shufflevector(t0, t2, 2, 3, 6, 7));
  store4(dst + 2 * rows, __builtin_shufflevector(t1, t3, 0, 1, 4, 5));
  store4(dst + 3 * rows, __builtin_shufflevector(t1, t3, 2, 3, 6, 7));
}

}  // namespace

void transpose(const float* src, float* dst, std::size_t rows, std::size_t cols) {
  constexpr std::size_t kBlock = 32;
  const std::size_t rows4 = rows / 4 * 4, cols4 = cols / 4 * 4;
  for (std::size_t r0 = 0; r0 < rows4; r0 += kBlock) {
    const std::size_t r1 = std::min(rows4, r0 + kBlock);
    for (std::size_t c0 = 0; c0 < cols4; c0 += kBlock) {
      const std::size_t c1 = std::min(cols4, c0 + kBlock);
      for (std::size_t r = r0; r < r1; r += 4) {
        for (std::size_t c = c0; c < c1; c += 4) transpose4x4(src + r * cols + c, dst + c * rows + r, rows, cols);
      }
    }
  }
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = r < rows4 ? cols4 : 0; c < cols; ++c) dst[c * rows + r] = src[r * cols + c];
  }
}

}  // namespace edgefl
