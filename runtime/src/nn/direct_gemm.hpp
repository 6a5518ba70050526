// Packing-free GEMM for Dense layers: reads both operands where they are, so weights that change
// every step are never copied (XNNPACK 2022 must pack one operand per operator, which cost a fifth
// of a training step). Register-tiled: MR rows of A broadcast against 16 contiguous columns of B.
//
//   C[m][j] = sum_p A(m, p) * B[p][j],   A(m, p) = a[m * a_row + p * a_inner]
//   (or C[m][j] += that sum when `accumulate`: the conv layers sum products over pixel blocks)
//
// Strided A covers both W (a_row = K, a_inner = 1) and W^T (a_row = 1, a_inner = K) without a
// transpose. B and C are row-major with leading dimensions ldb, ldc.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgefl {

// edgefl/nn/compute.hpp, not included: this header is also compiled with -mavx2 / -mavx512f, where
// inline library code from other headers must not be instantiated.
enum class DirectIsa : uint8_t;

struct GemmOperands {
  std::size_t rows = 0, cols = 0, inner = 0;
  const float* a = nullptr;
  std::size_t a_row = 0, a_inner = 0;
  const float* b = nullptr;
  std::size_t ldb = 0;
  float* c = nullptr;
  std::size_t ldc = 0;
  bool accumulate = false;
};

// Computes rows [row_begin, row_end) of C.
using GemmFunction = void (*)(const GemmOperands& g, std::size_t row_begin, std::size_t row_end);

// One kernel of direct_gemm: AVX-512, AVX2+FMA or portable vector code.
struct DirectGemm {
  GemmFunction run = nullptr;
  // Rows of C per register tile: row ranges that are multiples of it run without remainder tiles.
  std::size_t row_tile = 0;
  const char* isa = "";  // "avx512f", "avx2+fma" or "portable"
};

// The widest kernel this CPU runs, but none wider than `cap`.
DirectGemm select_direct_gemm(DirectIsa cap);

}  // namespace edgefl
