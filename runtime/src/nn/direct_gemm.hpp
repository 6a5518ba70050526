// Packing-free GEMM for Dense layers: reads both operands where they are, so weights that change
// every step are never copied (XNNPACK 2022 must pack one operand per operator, which cost a fifth
// of a training step). Register-tiled: MR rows of A broadcast against 16 contiguous columns of B.
//
//   C[m][j] = sum_p A(m, p) * B[p][j],   A(m, p) = a[m * a_row + p * a_inner]
//
// Strided A covers both W (a_row = K, a_inner = 1) and W^T (a_row = 1, a_inner = K) without a
// transpose. B and C are row-major with leading dimensions ldb, ldc.
#pragma once

#include <cstddef>

namespace edgefl {

struct GemmOperands {
  std::size_t rows = 0, cols = 0, inner = 0;
  const float* a = nullptr;
  std::size_t a_row = 0, a_inner = 0;
  const float* b = nullptr;
  std::size_t ldb = 0;
  float* c = nullptr;
  std::size_t ldc = 0;
};

// Rows [row_begin, row_end) of C. Uses AVX-512 or AVX2+FMA code when the CPU has them, portable
// vector code otherwise.
void direct_gemm(const GemmOperands& g, std::size_t row_begin, std::size_t row_end);

// Rows of C per register tile of the kernel this CPU runs: row ranges that are multiples of it
// run without remainder tiles.
std::size_t direct_gemm_row_tile();

// "avx512f", "avx2+fma" or "portable": which kernel direct_gemm runs on this CPU.
const char* direct_gemm_isa();

}  // namespace edgefl
